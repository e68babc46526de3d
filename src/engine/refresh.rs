//! Refreshing who is who from Zendesk: agents and organizations listed (each list saved as it
//! completes), users looked up live when an alert depends on their role, and the tickets a
//! change in either re-evaluates.

use std::collections::HashSet;
use std::sync::Arc;

use super::apply::customer_of_organization;
use super::directory::{role_of, Directory};
use super::engine::{Engine, EngineError};
use crate::sla::clock::{Event, Role};
use crate::sla::policy::Customer;
use crate::store::{AgentRecord, OrganizationRecord, StoreError, UserRecord};
use crate::sync::{blocking, lock};
use crate::zendesk::client::{Pacing, ZendeskError};
use crate::zendesk::models::User;

fn agent_record(user: &User) -> AgentRecord {
    AgentRecord {
        id: user.id,
        name: user.name.clone().unwrap_or_default(),
        role: user.role.clone().unwrap_or_default(),
        email: user.email.as_deref().unwrap_or_default().to_ascii_lowercase(),
    }
}

/// Whether a stored ticket's facts name `user` as an author or its submitter.
fn involves(record: &crate::store::TicketRecord, users: &HashSet<u64>) -> bool {
    record.submitter_id.is_some_and(|s| users.contains(&s))
        || record
            .events
            .iter()
            .any(|e| matches!(&e.event, Event::Comment { author_id, .. } if users.contains(author_id)))
}

impl Engine {
    /// Lists agents and organizations again when the last listing is older than the refresh
    /// interval (or when `force`d). Each list is saved as it completes; a new agent, or an
    /// organization whose tier or contract changed, re-evaluates the tickets it touches.
    pub async fn refresh_directory(&self, force: bool) -> Result<(), EngineError> {
        let now = self.clock.now_ms();
        let refresh_ms = self
            .config
            .zendesk
            .as_ref()
            .map_or(600_000, |z| z.directory_refresh.as_millis() as i64);
        let stale = lock(&self.directory_fetched_ms).is_none_or(|at| now - at >= refresh_ms);
        if !force && !stale {
            return Ok(());
        }

        let agents: Vec<AgentRecord> = self.client.agents().await?.iter().map(agent_record).collect();
        blocking(|| self.take_agents(&agents))?;
        let organizations: Vec<OrganizationRecord> = self
            .client
            .organizations()
            .await?
            .into_iter()
            .map(super::directory::organization_record)
            .collect();
        blocking(|| self.take_organizations(organizations.clone()))?;
        *lock(&self.directory_fetched_ms) = Some(now);
        // The config is checked against the account again: a field deleted or an option added
        // since the last refresh shows in the log, /readyz and /metrics. Not being able to check
        // stops nothing.
        if let Err(error) = self.check_account(organizations).await {
            if matches!(error, ZendeskError::Cancelled) {
                return Err(error.into());
            }
            tracing::warn!(%error, "could not check the config against the account; will try at the next refresh");
        }
        Ok(())
    }

    /// Saves the agents listed and re-evaluates the tickets of those new or changed.
    fn take_agents(&self, agents: &[AgentRecord]) -> Result<(), StoreError> {
        self.store.save_agents(agents)?;
        let changed_roles: HashSet<u64> = {
            // Under the write lock: a ticket evaluated on the old directory is saved before the
            // swap, so the re-evaluation below finds it (a pushed read runs beside the poll).
            let _writing = self.write_lock();
            let mut directory = lock(&self.directory);
            let mut roles = (*directory.roles).clone();
            let mut names = (*directory.names).clone();
            let mut emails = (*directory.emails).clone();
            let mut changed = HashSet::new();
            for agent in agents {
                let role = role_of(&agent.role);
                if roles.insert(agent.id, role) != Some(role) {
                    changed.insert(agent.id);
                }
                names.insert(agent.id, agent.name.clone());
                if !agent.email.is_empty() {
                    emails.insert(agent.id, agent.email.clone());
                }
            }
            directory.roles = Arc::new(roles);
            directory.names = Arc::new(names);
            directory.emails = Arc::new(emails);
            changed
        };
        if !changed_roles.is_empty() {
            self.reevaluate_involving(&changed_roles)?;
        }
        Ok(())
    }

    /// Saves the organizations listed and re-evaluates the tickets of those whose tier or
    /// contract changed.
    fn take_organizations(&self, organizations: Vec<OrganizationRecord>) -> Result<(), StoreError> {
        self.store.save_organizations(&organizations)?;
        let moved: Vec<u64> = {
            // As for the agents: no ticket evaluated on the old organizations is saved after
            // the tickets to re-evaluate are looked up.
            let _writing = self.write_lock();
            let mut directory = lock(&self.directory);
            let customer = |o: &OrganizationRecord| -> Customer { customer_of_organization(o, &self.config.customers) };
            let moved = organizations
                .iter()
                .filter(|o| directory.organizations.get(&o.id).is_none_or(|old| customer(old) != customer(o)))
                .map(|o| o.id)
                .collect();
            directory.organizations = Arc::new(organizations.into_iter().map(|o| (o.id, o)).collect());
            moved
        };
        for org in moved {
            let ids = self.store.tickets_of_organization(org)?;
            if !ids.is_empty() {
                tracing::info!(
                    organization = org,
                    tickets = ids.len(),
                    "organization's tier or contract changed: its tickets re-evaluated"
                );
                self.reevaluate(&ids)?;
            }
        }
        Ok(())
    }

    /// Re-evaluates the tickets whose comments or submitter are by `users`: those with an alert
    /// still to come or awaiting facts, and the solved ones whose KPI row is not final yet (an
    /// answer by someone now known as an agent meets their first response).
    fn reevaluate_involving(&self, users: &HashSet<u64>) -> Result<(), StoreError> {
        let mut ids = Vec::new();
        for (read, record) in self.store.tickets().enumerate() {
            if read % 1000 == 999 {
                crate::liveness::beat();
            }
            let record = record?;
            let row_live = !record.kpi_frozen && matches!(record.status.as_str(), "solved" | "closed");
            if (record.next_alert.is_some() || record.awaiting_events.is_some() || row_live) && involves(&record, users) {
                ids.push(record.id);
            }
        }
        if !ids.is_empty() {
            tracing::info!(
                users = users.len(),
                tickets = ids.len(),
                "new or changed agents: their tickets re-evaluated"
            );
            self.reevaluate(&ids)?;
        }
        Ok(())
    }

    /// Asks Zendesk for users whose role is not known (an agent added since the last listing, a
    /// customer not yet looked up), saves them and merges them into the directory. An alert waits
    /// for them (ahead of routine requests) rather than assume a role.
    pub(super) async fn look_up_users(&self, ids: &[u64]) -> Result<Directory, ZendeskError> {
        if ids.is_empty() {
            return Ok(self.directory());
        }
        let users = self.client.users_by_id(ids, Pacing::Urgent).await?;
        let now = self.clock.now();
        let records: Vec<UserRecord> = users
            .iter()
            .map(|u| UserRecord {
                id: u.id,
                name: u.name.clone().unwrap_or_default(),
                role: u.role.clone().unwrap_or_default(),
                looked_up_at: now,
            })
            .collect();
        if let Err(error) = blocking(|| self.store.save_users(&records)) {
            tracing::warn!(%error, "could not save looked-up users; they are kept in memory");
        }
        let mut directory = lock(&self.directory);
        let mut roles = (*directory.roles).clone();
        let mut names = (*directory.names).clone();
        for user in &records {
            roles.insert(user.id, role_of(&user.role));
            names.insert(user.id, user.name.clone());
        }
        // A user Zendesk no longer knows (deleted) cannot be an agent now: a customer, for this run.
        for id in ids {
            roles.entry(*id).or_insert(Role::EndUser);
        }
        directory.roles = Arc::new(roles);
        directory.names = Arc::new(names);
        Ok(directory.clone())
    }
}
