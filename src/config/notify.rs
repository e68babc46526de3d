//! `[notify]`: where alerts go. Channels are Slack incoming webhooks or
//! generic JSON webhooks whose URLs come from environment variables; routes
//! pick channels by severity, tier, group and kind (contract or goal).

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::Checker;
use crate::sla::calendar::Schedule;
use crate::sla::policy::Policy;

/// Where calendar-clock deadlines are shown when `notify.time_zone` is left out: the zone of
/// the default tier's schedule, or UTC when that is the calendar itself.
fn default_zone(policy: &Policy) -> Tz {
    let schedule = policy.tiers.get(&policy.default_tier).map(|tier| policy.schedule(tier.schedule));
    match schedule {
        Some(Schedule::Business(business)) => business.hours.zone,
        _ => Tz::UTC,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    backfill_window: Option<Spanned<String>>,
    internal_notes: Option<Spanned<String>>,
    max_backoff: Option<Spanned<String>>,
    time_zone: Option<Spanned<String>>,
    #[serde(default)]
    channels: BTreeMap<String, RawChannel>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    drift_channels: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    kind: Spanned<String>,
    url_env: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    severities: Vec<String>,
    #[serde(default)]
    tiers: Vec<String>,
    #[serde(default)]
    groups: Vec<u64>,
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
    channels: Vec<Spanned<String>>,
    /// Also a direct message to the ticket's assignee (needs `[slack] bot_token_env`).
    direct: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Slack,
    Webhook,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    pub kind: ChannelKind,
    /// The environment variable holding the webhook URL (a secret).
    pub url_env: String,
}

/// Which alerts go where; empty lists match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    pub severities: Vec<String>,
    pub tiers: Vec<String>,
    pub groups: Vec<u64>,
    /// `contract`, `goal`.
    pub kinds: Vec<String>,
    pub channels: Vec<String>,
    /// Also a Slack direct message to the ticket's assignee.
    pub direct: bool,
}

impl Route {
    pub fn matches(&self, severity: &str, tier: &str, group: Option<u64>, kind: &str) -> bool {
        (self.severities.is_empty() || self.severities.iter().any(|s| s == severity))
            && (self.tiers.is_empty() || self.tiers.iter().any(|t| t == tier))
            && (self.groups.is_empty() || group.is_some_and(|g| self.groups.contains(&g)))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteMode {
    Off,
    Breaches,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// At first sight, an alert point crossed longer ago than this is recorded, not sent.
    pub backfill_window: StdDuration,
    /// Also write alerts as internal notes on the ticket.
    pub internal_notes: NoteMode,
    /// The longest wait between delivery attempts.
    pub max_backoff: StdDuration,
    /// Where deadlines on the calendar (24x7) clock are shown; a business clock's are shown in
    /// its schedule's own zone.
    pub time_zone: Tz,
    pub channels: BTreeMap<String, ChannelConfig>,
    pub routes: Vec<Route>,
    /// Told once each time the share of tickets falling back to default targets crosses
    /// `[admin] fallback_max`, either way; None: the catch-all route's channels.
    pub drift_channels: Option<Vec<String>>,
}

impl NotifyConfig {
    /// The channels of the first route that matches.
    pub fn route(&self, severity: &str, tier: &str, group: Option<u64>, kind: &str) -> Vec<String> {
        self.routes
            .iter()
            .find(|r| r.matches(severity, tier, group, kind))
            .map(|r| r.channels.clone())
            .unwrap_or_default()
    }

    /// Whether the route an alert takes also messages the assignee directly.
    pub fn route_direct(&self, severity: &str, tier: &str, group: Option<u64>, kind: &str) -> bool {
        self.routes
            .iter()
            .find(|r| r.matches(severity, tier, group, kind))
            .is_some_and(|r| r.direct)
    }

    /// Where a change in config drift is told: `drift_channels`, else the channels of the last
    /// route that matches every alert (the support channel), else nowhere (logged only).
    pub fn drift_channels(&self) -> Vec<String> {
        self.drift_channels.clone().unwrap_or_else(|| {
            self.routes
                .iter()
                .rev()
                .find(|r| r.severities.is_empty() && r.tiers.is_empty() && r.groups.is_empty() && r.kinds.is_empty())
                .map(|r| r.channels.clone())
                .unwrap_or_default()
        })
    }
}

impl Checker<'_> {
    pub(super) fn notify(&mut self, raw: Option<RawNotify>, policy: &Policy, tiers: &[&String]) -> NotifyConfig {
        let severities = &policy.severities;
        let Some(raw) = raw else {
            return NotifyConfig {
                backfill_window: StdDuration::from_secs(86_400),
                internal_notes: NoteMode::Off,
                max_backoff: StdDuration::from_secs(300),
                time_zone: default_zone(policy),
                channels: BTreeMap::new(),
                routes: Vec::new(),
                drift_channels: None,
            };
        };
        let time_zone = match &raw.time_zone {
            Some(name) => self.zone(name, "notify.time_zone").unwrap_or(Tz::UTC),
            None => default_zone(policy),
        };
        let backfill_window = self.std_duration(
            raw.backfill_window.as_ref(),
            "notify.backfill_window",
            StdDuration::from_secs(86_400),
        );
        let max_backoff = self.std_duration(raw.max_backoff.as_ref(), "notify.max_backoff", StdDuration::from_secs(300));
        let internal_notes = match raw.internal_notes.as_ref().map(|n| (n.get_ref().as_str(), n.span())) {
            None | Some(("off", _)) => NoteMode::Off,
            Some(("breaches", _)) => NoteMode::Breaches,
            Some(("all", _)) => NoteMode::All,
            Some((other, span)) => {
                self.error(
                    span,
                    "notify.internal_notes",
                    format!("{other:?} is not one of \"off\", \"breaches\", \"all\""),
                );
                NoteMode::Off
            }
        };
        let mut channels = BTreeMap::new();
        for (name, channel) in raw.channels {
            if name == "zendesk-note" {
                self.error(
                    channel.kind.span(),
                    format!("notify.channels.{name}"),
                    "zendesk-note names the internal notes (notify.internal_notes); choose another name",
                );
                continue;
            }
            let kind = match channel.kind.get_ref().as_str() {
                "slack" => ChannelKind::Slack,
                "webhook" => ChannelKind::Webhook,
                other => {
                    self.error(
                        channel.kind.span(),
                        format!("notify.channels.{name}.kind"),
                        format!("{other:?} is not \"slack\" or \"webhook\""),
                    );
                    continue;
                }
            };
            channels.insert(
                name,
                ChannelConfig {
                    kind,
                    url_env: channel.url_env,
                },
            );
        }
        let mut routes = Vec::new();
        for (index, raw) in raw.routes.into_iter().enumerate() {
            let key = format!("notify.routes[{index}]");
            for channel in &raw.channels {
                if !channels.contains_key(channel.get_ref()) {
                    self.error(
                        channel.span(),
                        format!("{key}.channels"),
                        format!("{:?} is not a channel in [notify.channels]", channel.get_ref()),
                    );
                }
            }
            for kind in &raw.kinds {
                if !matches!(kind.get_ref().as_str(), "contract" | "goal") {
                    self.error(
                        kind.span(),
                        format!("{key}.kinds"),
                        format!("{:?} is not \"contract\" or \"goal\"", kind.get_ref()),
                    );
                }
            }
            for severity in raw.severities.iter().filter(|s| !severities.contains(s)) {
                self.error(
                    0..0,
                    format!("{key}.severities"),
                    format!("{severity:?} is not one of policy.severities"),
                );
            }
            for tier in raw.tiers.iter().filter(|t| !tiers.contains(t)) {
                self.error(0..0, format!("{key}.tiers"), format!("{tier:?} is not a tier"));
            }
            routes.push(Route {
                severities: raw.severities,
                tiers: raw.tiers,
                groups: raw.groups,
                kinds: raw.kinds.into_iter().map(Spanned::into_inner).collect(),
                channels: raw.channels.into_iter().map(Spanned::into_inner).collect(),
                direct: raw.direct.is_some_and(|d| *d.get_ref()),
            });
        }
        let drift_channels = raw.drift_channels.map(|names| {
            names
                .into_iter()
                .filter(|name| {
                    let known = channels.contains_key(name.get_ref());
                    if !known {
                        self.error(
                            name.span(),
                            "notify.drift_channels",
                            format!("{:?} is not a channel in [notify.channels]", name.get_ref()),
                        );
                    }
                    known
                })
                .map(Spanned::into_inner)
                .collect()
        });
        NotifyConfig {
            backfill_window,
            internal_notes,
            max_backoff,
            time_zone,
            channels,
            routes,
            drift_channels,
        }
    }
}
