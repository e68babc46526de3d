//! The preflight: the configuration checked against the live account, so that a wrong field
//! id or key is named before it silently puts every ticket on the default targets.
//!
//! `check` is pure: it takes the config and what the account holds (`Account`, read by
//! `gather`) and returns one finding per mismatch, naming the config line, the key and what
//! the account has instead.

mod gather;
mod organizations;
mod people;
pub mod starter;
mod suggest;
mod ticket_fields;

pub use gather::{gather, gather_github};

use crate::config::locate::Step;
use crate::config::Config;
use crate::store::OrganizationRecord;
use crate::zendesk::account::{Group, Me, OrganizationField, TicketField};

/// What the account holds, as far as the config refers to it.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// The account's URL, for messages.
    pub url: String,
    pub me: Option<Me>,
    pub ticket_fields: Vec<TicketField>,
    pub organization_fields: Vec<OrganizationField>,
    pub organizations: Vec<OrganizationRecord>,
    pub groups: Vec<Group>,
    /// The `bot_user_ids` Zendesk knows.
    pub users_found: Vec<u64>,
    /// GitHub, when the config files issues.
    pub github: Option<GithubAccount>,
}

/// What the GitHub token can do.
#[derive(Debug, Clone, Default)]
pub struct GithubAccount {
    pub login: Login,
    /// Each rule's repository (owner/name) and what the token may do there.
    pub repositories: Vec<(String, RepositoryCheck)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The login the token files as.
    As(String),
    /// GitHub refused the token (401, 403).
    Refused(String),
    /// GitHub did not answer: checked again at the next refresh.
    Unreachable(String),
}

impl Default for Login {
    fn default() -> Self {
        Login::Unreachable("not asked".to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoryCheck {
    /// Issues can be filed with labels and assignees.
    Files,
    /// Not found, or not visible to the token.
    Missing,
    /// Why it cannot file there (archived, issues off, read-only).
    Cannot(String),
    /// GitHub did not answer.
    Unreachable(String),
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A reference to nothing: tickets would silently get defaults. `run` refuses it unless
    /// `--allow-mismatch`.
    Mismatch,
    /// Something in the account the config does not cover (a new option), or does not use.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    /// `file:line` of the key (or `file (default)`).
    pub at: String,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Mismatch => "mismatch",
            Level::Warning => "warning",
        };
        write!(f, "{level}: {}: {}: {}", self.at, self.key, self.message)
    }
}

/// Every mismatch between the config and the account, mismatches first.
pub fn check(config: &Config, account: &Account) -> Vec<Finding> {
    let mut out = Findings {
        config,
        account,
        found: Vec::new(),
    };
    ticket_fields::check(&mut out);
    organizations::check(&mut out);
    people::check(&mut out);
    out.found.sort_by_key(|f| f.level);
    out.found
}

/// Whether `findings` hold a mismatch.
pub fn has_mismatch(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.level == Level::Mismatch)
}

impl Finding {
    /// Whether `run` refuses to start on it (without `--allow-mismatch`): a mismatch that puts
    /// tickets on wrong targets or alerts in the wrong place. One about escalation (GitHub) or
    /// the reports' fields is shown by `check-config --online` and `/readyz`, but keeps no
    /// breach alert from going out.
    pub fn blocks_start(&self) -> bool {
        self.level == Level::Mismatch && !self.key.starts_with("escalation") && !self.key.starts_with("report")
    }
}

/// The findings being collected, with what they are about.
struct Findings<'a> {
    config: &'a Config,
    account: &'a Account,
    found: Vec<Finding>,
}

impl Findings<'_> {
    fn add(&mut self, level: Level, path: &[Step], message: String) {
        let key = path
            .iter()
            .map(|step| match step {
                Step::Key(k) if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => format!(".{k}"),
                Step::Key(k) => format!(".{k:?}"),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect::<String>();
        self.found.push(Finding {
            level,
            at: self.config.source.at(path),
            key: key.trim_start_matches('.').to_string(),
            message,
        });
    }

    fn mismatch(&mut self, path: &[Step], message: String) {
        self.add(Level::Mismatch, path, message);
    }

    fn warning(&mut self, path: &[Step], message: String) {
        self.add(Level::Warning, path, message);
    }
}

#[cfg(test)]
mod tests {
    use super::{check, Account, Level};
    use crate::config::Config;
    use crate::store::OrganizationRecord;
    use crate::zendesk::account::{FieldOption, OrganizationField, TicketField};

    fn org(id: u64, fields: serde_json::Value, tags: &[&str]) -> OrganizationRecord {
        OrganizationRecord {
            id,
            name: format!("Org {id}"),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            fields: fields.as_object().cloned().unwrap_or_default(),
        }
    }

    fn account() -> Account {
        Account {
            url: "https://acme.zendesk.com".into(),
            ticket_fields: vec![TicketField {
                id: 360_001,
                title: "Team".into(),
                field_type: "tagger".into(),
                active: false,
                options: vec![FieldOption {
                    name: "Search".into(),
                    value: "search".into(),
                }],
            }],
            organization_fields: vec![
                OrganizationField {
                    id: 1,
                    key: "plan".into(),
                    title: "Plan".into(),
                    field_type: "text".into(),
                    active: true,
                    options: Vec::new(),
                },
                OrganizationField {
                    id: 2,
                    key: "contract".into(),
                    title: "Contract".into(),
                    field_type: "text".into(),
                    active: true,
                    options: Vec::new(),
                },
            ],
            organizations: vec![
                org(1, serde_json::json!({"plan": "cloud", "contract": "acme-elite"}), &["vip"]),
                org(2, serde_json::json!({"plan": "cloud", "contract": "globex-gold"}), &[]),
                org(3, serde_json::json!({"plan": "server", "contract": null}), &[]),
            ],
            ..Account::default()
        }
    }

    const CONFIG: &str = r#"
[contracts.acme-elite]
tier = "managed"
[customers]
tier_field = "plan"
tier_values = { cloud = "managed", onprem = "self-hosted" }
tier_tags = { premium = "managed" }
contract_field = "contract"
[report]
type_field = 360001
"#;

    #[test]
    fn text_fields_are_judged_by_the_values_organizations_hold_and_contracts_by_their_names() {
        let config = Config::parse("c.toml", CONFIG).unwrap();
        let found: Vec<String> = check(&config, &account()).iter().map(ToString::to_string).collect();
        let expected = [
            r#"mismatch: c.toml:10: report.type_field: ticket field 360001 "Team" is inactive in https://acme.zendesk.com: Zendesk no longer sets it on tickets"#,
            r#"warning: c.toml:6: customers.tier_values.onprem: no organization has plan = "onprem": the values in use are "cloud" (2), "server" (1)"#,
            r#"warning: c.toml:6: customers.tier_values: 1 organization(s) have plan = "server", which is not mapped: they get the default tier, self-hosted"#,
            r#"warning: c.toml:8: customers.contract_field: 1 organization(s) have contract = "globex-gold", which names no [contracts.globex-gold]: they get their tier's targets"#,
            r#"warning: c.toml:7: customers.tier_tags.premium: no organization in https://acme.zendesk.com has the tag "premium""#,
        ];
        assert_eq!(found, expected);
        assert!(check(&config, &account()).iter().any(|f| f.level == Level::Mismatch));
    }
}

#[cfg(test)]
mod defaults {
    use super::{check, Account, Level};
    use crate::config::Config;

    #[test]
    fn a_default_the_admin_never_wrote_is_a_warning_not_a_refusal() {
        let config = Config::parse("c.toml", "").unwrap();
        let account = Account {
            url: "https://acme.zendesk.com".into(),
            ..Account::default()
        };
        let found = check(&config, &account);
        let tier = found
            .iter()
            .find(|f| f.key == "customers.tier_field")
            .expect("the default tier_field is checked");
        assert_eq!(tier.level, Level::Warning, "{tier}");
        assert!(tier.message.contains("slawatch's default"), "{tier}");
        assert!(!found.iter().any(|f| f.blocks_start()), "{found:#?}");
    }
}
