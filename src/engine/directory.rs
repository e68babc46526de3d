//! Who is who: the roles known (listed agents and admins, users looked up live), names, and
//! organizations, as the store last saved them. Refreshing them from Zendesk is `refresh.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::sla::clock::Role;
use crate::store::{OrganizationRecord, Store, StoreError};

/// Who is who: the roles known (every listed agent and admin, and users looked up live), names,
/// and organizations by id. Each part is shared, so a copy is cheap and a refresh swaps it whole.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    pub roles: Arc<HashMap<u64, Role>>,
    pub names: Arc<HashMap<u64, String>>,
    /// Agents' e-mail addresses (lower case), for `[people]`.
    pub emails: Arc<HashMap<u64, String>>,
    pub organizations: Arc<HashMap<u64, OrganizationRecord>>,
}

impl Directory {
    /// A user's role when known: listed as an agent, or looked up.
    pub fn known_role(&self, user: u64) -> Option<Role> {
        self.roles.get(&user).copied()
    }

    /// A user's role, taking one neither listed nor looked up for a customer (the agent listing
    /// names every agent; an agent added since it was read is looked up before an alert).
    pub fn role(&self, user: u64) -> Role {
        self.known_role(user).unwrap_or(Role::EndUser)
    }

    pub fn is_agent(&self, user: u64) -> bool {
        self.known_role(user).is_some_and(Role::is_agent)
    }
}

pub fn role_of(role: &str) -> Role {
    match role {
        "admin" => Role::Admin,
        "agent" => Role::Agent,
        "end-user" => Role::EndUser,
        _ => Role::Other,
    }
}

/// The agents, looked-up users and organizations last saved in the store.
pub fn load_directory(store: &Store) -> Result<Directory, StoreError> {
    let mut roles = HashMap::new();
    let mut names = HashMap::new();
    let mut emails = HashMap::new();
    // Looked-up users first: the agent listing is the newer word on who is an agent.
    for user in store.users()? {
        roles.insert(user.id, role_of(&user.role));
        names.insert(user.id, user.name);
    }
    for agent in store.agents()? {
        roles.insert(agent.id, role_of(&agent.role));
        if !agent.email.is_empty() {
            emails.insert(agent.id, agent.email);
        }
        names.insert(agent.id, agent.name);
    }
    let organizations = store.organizations()?.into_iter().map(|o| (o.id, o)).collect();
    Ok(Directory {
        roles: Arc::new(roles),
        names: Arc::new(names),
        emails: Arc::new(emails),
        organizations: Arc::new(organizations),
    })
}

/// An organization as Zendesk lists it, as the directory keeps it.
pub fn organization_record(o: crate::zendesk::models::Organization) -> OrganizationRecord {
    OrganizationRecord {
        id: o.id,
        name: o.name.unwrap_or_default(),
        tags: o.tags,
        fields: o.organization_fields,
    }
}
