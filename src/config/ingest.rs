//! The sections that connect slawatch to Zendesk and to its store:
//! `[zendesk]`, `[severity]`, `[customers]` and `[store]`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration as StdDuration;

use serde::Deserialize;
use toml::Spanned;

use super::Checker;
use crate::sla::time::{parse_rfc3339, Timestamp};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZendesk {
    url: Option<Spanned<String>>,
    subdomain: Option<Spanned<String>>,
    email: Option<String>,
    token_env: Option<String>,
    oauth_token_env: Option<String>,
    requests_per_minute: Option<u32>,
    export_requests_per_minute: Option<u32>,
    poll_interval: Option<Spanned<String>>,
    start_time: Option<Spanned<String>>,
    page_size: Option<Spanned<usize>>,
    timeout: Option<Spanned<String>>,
    directory_refresh: Option<Spanned<String>>,
    webhook: Option<super::webhook::RawWebhook>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeverity {
    field_id: Option<u64>,
    #[serde(default)]
    field_values: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    tags: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    priorities: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCustomers {
    tier_field: Option<String>,
    #[serde(default)]
    tier_values: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    tier_tags: BTreeMap<String, Spanned<String>>,
    contract_field: Option<String>,
    #[serde(default)]
    contract_tags: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    path: Option<String>,
    cache_mb: Option<Spanned<u64>>,
    retain_closed: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    listen: Option<Spanned<String>>,
    token_env: Option<String>,
    outbox_stuck_after: Option<Spanned<String>>,
    stall_after: Option<Spanned<String>>,
    fallback_max: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    format: Option<Spanned<String>>,
    level: Option<Spanned<String>>,
}

/// How the daemon logs: human-readable text or JSON lines, and which levels (`RUST_LOG`, when
/// set, wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub json: bool,
    /// An `EnvFilter` directive: `info`, `warn,slawatch=debug`.
    pub level: String,
}

/// The admin HTTP server, and where `slawatch status` and `report` ask a running daemon.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminConfig {
    pub listen: std::net::SocketAddr,
    /// The environment variable holding the bearer token every endpoint but `/healthz` asks
    /// for; None: no token (loopback only).
    pub token_env: Option<String>,
    /// `/readyz` fails while an alert has waited longer than this for delivery.
    pub outbox_stuck_after: std::time::Duration,
    /// A loop that makes no progress this long has stalled (`/healthz` fails, the process
    /// exits to be restarted); None: `Config::stall_after`'s default.
    pub stall_after: Option<std::time::Duration>,
    /// `/readyz` degrades while more than this share of the last day's tickets fell back to
    /// the default severity or tier (a field or value the config names that the account lacks).
    pub fallback_max: f64,
}

/// How to reach Zendesk. Secrets are named environment variables, read at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZendeskConfig {
    pub base_url: String,
    pub email: Option<String>,
    pub token_env: Option<String>,
    pub oauth_token_env: Option<String>,
    pub requests_per_minute: u32,
    /// Zendesk's own limit on the incremental exports: 10 a minute, 30 with High Volume.
    pub export_requests_per_minute: u32,
    pub poll_interval: StdDuration,
    /// Where a fresh store starts reading the exports.
    pub start_time: Timestamp,
    pub page_size: usize,
    pub timeout: StdDuration,
    /// How often agents and organizations are listed again.
    pub directory_refresh: StdDuration,
    /// Push mode: Zendesk's webhook posts each ticket change.
    pub webhook: Option<super::WebhookConfig>,
}

impl ZendeskConfig {
    /// How often polls can really start: each costs two export requests, so no more often than
    /// the export budget (and the account's) allows, whatever `poll_interval` asks for.
    pub fn effective_poll_interval(&self) -> StdDuration {
        let per_minute = self.export_requests_per_minute.min(self.requests_per_minute).max(1);
        let paced = StdDuration::from_secs(120_u64.div_ceil(u64::from(per_minute)));
        self.poll_interval.max(paced)
    }
}

/// A ticket's severity: the dropdown field's option tag, else a tag, else the priority.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeverityMapping {
    pub field_id: Option<u64>,
    pub field_values: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub priorities: BTreeMap<String, String>,
}

/// A customer's tier and contract, from its organization's field or tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerMapping {
    pub tier_field: Option<String>,
    pub tier_values: BTreeMap<String, String>,
    pub tier_tags: BTreeMap<String, String>,
    /// An organization field whose value names a `[contracts.NAME]`.
    pub contract_field: Option<String>,
    pub contract_tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub cache_bytes: u64,
    /// Closed (and deleted) tickets not changed for this long are compacted away, with their
    /// KPI rows, alerts and escalation records.
    pub retain_closed: StdDuration,
}

/// The shortest retention allowed: a month's report must never lose its tickets.
pub const MIN_RETAIN_CLOSED: StdDuration = StdDuration::from_secs(32 * 86_400);

impl Checker<'_> {
    pub(super) fn std_duration(&mut self, value: Option<&Spanned<String>>, key: &str, default: StdDuration) -> StdDuration {
        match value {
            None => default,
            Some(v) => self.duration(v, key).map_or(default, |d| StdDuration::from_secs(d.0 as u64)),
        }
    }

    pub(super) fn zendesk(&mut self, raw: RawZendesk) -> Option<ZendeskConfig> {
        let base_url = match (&raw.url, &raw.subdomain) {
            (Some(url), None) => {
                let text = url.get_ref().trim_end_matches('/');
                if !(text.starts_with("https://") || text.starts_with("http://")) {
                    self.error(
                        url.span(),
                        "zendesk.url",
                        format!("{text:?} is not an http(s) URL such as \"https://acme.zendesk.com\""),
                    );
                }
                text.to_string()
            }
            (None, Some(sub)) => {
                let s = sub.get_ref();
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    self.error(
                        sub.span(),
                        "zendesk.subdomain",
                        format!("{s:?} is not a subdomain such as \"acme\""),
                    );
                }
                format!("https://{s}.zendesk.com")
            }
            (Some(url), Some(_)) => {
                self.error(url.span(), "zendesk", "set url or subdomain, not both");
                return None;
            }
            (None, None) => {
                self.error(0..0, "zendesk", "needs url (\"https://acme.zendesk.com\") or subdomain (\"acme\")");
                return None;
            }
        };
        if raw.token_env.is_some() == raw.oauth_token_env.is_some() {
            self.error(
                0..0,
                "zendesk",
                "set exactly one of token_env (API token, with email) or oauth_token_env (OAuth bearer token)",
            );
        }
        if raw.token_env.is_some() && raw.email.is_none() {
            self.error(0..0, "zendesk.email", "an API token needs the email of the user it belongs to");
        }
        let start_time = match &raw.start_time {
            None => 0,
            Some(t) => parse_rfc3339(t.get_ref()).unwrap_or_else(|e| {
                self.error(t.span(), "zendesk.start_time", e.to_string());
                0
            }),
        };
        let page_size = raw.page_size.as_ref().map_or(1000, |p| *p.get_ref());
        if !(1..=1000).contains(&page_size) {
            let span = raw.page_size.as_ref().map_or(0..0, Spanned::span);
            self.error(span, "zendesk.page_size", format!("{page_size} is not between 1 and 1000"));
        }
        Some(ZendeskConfig {
            base_url,
            email: raw.email,
            token_env: raw.token_env,
            oauth_token_env: raw.oauth_token_env,
            requests_per_minute: raw.requests_per_minute.unwrap_or(200).max(1),
            export_requests_per_minute: raw.export_requests_per_minute.unwrap_or(10).max(1),
            poll_interval: self.std_duration(raw.poll_interval.as_ref(), "zendesk.poll_interval", StdDuration::from_secs(30)),
            start_time,
            page_size,
            timeout: self.std_duration(raw.timeout.as_ref(), "zendesk.timeout", StdDuration::from_secs(30)),
            directory_refresh: self.std_duration(
                raw.directory_refresh.as_ref(),
                "zendesk.directory_refresh",
                StdDuration::from_secs(600),
            ),
            webhook: raw.webhook.map(|webhook| self.webhook(webhook)),
        })
    }

    fn severity_map(
        &mut self,
        raw: BTreeMap<String, Spanned<String>>,
        key: &str,
        severities: &[String],
        strict: bool,
    ) -> BTreeMap<String, String> {
        raw.into_iter()
            .filter_map(|(from, to)| {
                if severities.contains(to.get_ref()) {
                    Some((from, to.into_inner()))
                } else if !strict {
                    None
                } else {
                    self.error(
                        to.span(),
                        format!("{key}.{from}"),
                        format!("{:?} is not one of policy.severities ({})", to.get_ref(), severities.join(", ")),
                    );
                    None
                }
            })
            .collect()
    }

    pub(super) fn severity(&mut self, raw: RawSeverity, severities: &[String], strict: bool) -> SeverityMapping {
        SeverityMapping {
            field_id: raw.field_id,
            field_values: self.severity_map(raw.field_values, "severity.field_values", severities, strict),
            tags: self.severity_map(raw.tags, "severity.tags", severities, strict),
            priorities: self.severity_map(raw.priorities, "severity.priorities", severities, strict),
        }
    }

    fn name_map(
        &mut self,
        raw: BTreeMap<String, Spanned<String>>,
        key: &str,
        known: &[&String],
        what: &str,
        strict: bool,
    ) -> BTreeMap<String, String> {
        raw.into_iter()
            .filter_map(|(from, to)| {
                if known.contains(&to.get_ref()) {
                    Some((from, to.into_inner()))
                } else if !strict {
                    None
                } else {
                    self.error(to.span(), format!("{key}.{from}"), format!("{:?} is not a {what}", to.get_ref()));
                    None
                }
            })
            .collect()
    }

    pub(super) fn customers(&mut self, raw: RawCustomers, tiers: &[&String], contracts: &[&String], strict: bool) -> CustomerMapping {
        CustomerMapping {
            tier_field: raw.tier_field,
            tier_values: self.name_map(raw.tier_values, "customers.tier_values", tiers, "tier", strict),
            tier_tags: self.name_map(raw.tier_tags, "customers.tier_tags", tiers, "tier", strict),
            contract_field: raw.contract_field,
            contract_tags: self.name_map(raw.contract_tags, "customers.contract_tags", contracts, "contract", strict),
        }
    }

    pub(super) fn admin(&mut self, raw: Option<RawAdmin>) -> AdminConfig {
        let default = std::net::SocketAddr::from(([127, 0, 0, 1], 9187));
        let raw = raw.unwrap_or(RawAdmin {
            listen: None,
            token_env: None,
            outbox_stuck_after: None,
            stall_after: None,
            fallback_max: None,
        });
        let listen = match &raw.listen {
            None => default,
            Some(text) => text.get_ref().parse().unwrap_or_else(|_| {
                self.error(
                    text.span(),
                    "admin.listen",
                    format!("{:?} is not an address such as \"127.0.0.1:9187\"", text.get_ref()),
                );
                default
            }),
        };
        let token_env = raw.token_env.filter(|v| !v.trim().is_empty());
        if !listen.ip().is_loopback() && token_env.is_none() {
            // Tickets, customers and KPIs must not be open to the network.
            let span = raw.listen.as_ref().map_or(0..0, |l| l.span());
            self.error(
                span,
                "admin.listen",
                format!("{listen} is reachable beyond this machine: set admin.token_env (a bearer token) or listen on 127.0.0.1"),
            );
        }
        let outbox_stuck_after = self.std_duration(
            raw.outbox_stuck_after.as_ref(),
            "admin.outbox_stuck_after",
            std::time::Duration::from_secs(900),
        );
        let stall_after = raw.stall_after.as_ref().and_then(|text| {
            let d = self.duration(text, "admin.stall_after")?;
            if d.0 < 30 {
                self.error(
                    text.span(),
                    "admin.stall_after",
                    format!(
                        "{:?} is too short: a loop waiting on a slow request must not be taken for stalled (at least 30s)",
                        text.get_ref()
                    ),
                );
                return None;
            }
            Some(std::time::Duration::from_secs(d.0 as u64))
        });
        let fallback_max = raw
            .fallback_max
            .as_ref()
            .and_then(|share| self.percent(share, "admin.fallback_max"))
            .unwrap_or(0.2);
        AdminConfig {
            listen,
            token_env,
            outbox_stuck_after,
            stall_after,
            fallback_max,
        }
    }

    pub(super) fn log(&mut self, raw: Option<RawLog>) -> LogConfig {
        let raw = raw.unwrap_or(RawLog { format: None, level: None });
        let json = match raw.format.as_ref().map(|f| (f.get_ref().as_str(), f.span())) {
            None | Some(("text", _)) => false,
            Some(("json", _)) => true,
            Some((other, span)) => {
                self.error(span, "log.format", format!("{other:?} is not one of \"text\", \"json\""));
                false
            }
        };
        let level = match &raw.level {
            None => "info".to_string(),
            Some(level) => {
                if let Err(e) = tracing_subscriber::EnvFilter::try_new(level.get_ref()) {
                    self.error(
                        level.span(),
                        "log.level",
                        format!(
                            "{:?} is not a level such as \"info\" or \"warn,slawatch=debug\": {e}",
                            level.get_ref()
                        ),
                    );
                }
                level.get_ref().clone()
            }
        };
        LogConfig { json, level }
    }

    pub(super) fn store(&mut self, raw: Option<RawStore>) -> StoreConfig {
        let raw = raw.unwrap_or(RawStore {
            path: None,
            cache_mb: None,
            retain_closed: None,
        });
        let default_retention = StdDuration::from_secs(400 * 86_400);
        let mut retain_closed = self.std_duration(raw.retain_closed.as_ref(), "store.retain_closed", default_retention);
        if let Some(value) = raw.retain_closed.as_ref().filter(|_| retain_closed < MIN_RETAIN_CLOSED) {
            self.error(
                value.span(),
                "store.retain_closed",
                format!("{:?} is shorter than 32d: a month's report would lose tickets", value.get_ref()),
            );
            retain_closed = default_retention;
        }
        let cache_mb = raw.cache_mb.as_ref().map_or(16, |mb| *mb.get_ref()).max(1);
        let cache_bytes = cache_mb.checked_mul(1024 * 1024).unwrap_or_else(|| {
            let span = raw.cache_mb.as_ref().map_or(0..0, Spanned::span);
            self.error(
                span,
                "store.cache_mb",
                format!("{cache_mb} MiB is too large (at most {})", u64::MAX >> 20),
            );
            16 * 1024 * 1024
        });
        StoreConfig {
            path: PathBuf::from(raw.path.unwrap_or_else(|| "slawatch.sled".to_string())),
            cache_bytes,
            retain_closed,
        }
    }
}
