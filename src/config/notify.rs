//! `[notify]`: where alerts go. Channels are Slack incoming webhooks or
//! generic JSON webhooks whose URLs come from environment variables, or pagers
//! (PagerDuty, Opsgenie) whose keys do; routes pick channels by severity, tier,
//! group, kind (contract or goal) and alert point.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::Checker;
use crate::sla::calendar::Schedule;
use crate::sla::clock::AlertPoint;
use crate::sla::policy::{Policy, Threshold};

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
    /// Slack and webhook channels: the variable holding the URL.
    url_env: Option<Spanned<String>>,
    /// PagerDuty: the variable holding the integration's routing key.
    routing_key_env: Option<Spanned<String>>,
    /// Opsgenie: the variable holding the API integration's key.
    api_key_env: Option<Spanned<String>>,
    /// Pagers: the service's base URL (not a secret).
    url: Option<Spanned<String>>,
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
    /// Which alert points the route takes: `breach`, `reminder`, `warning`, or a threshold
    /// as the targets write it (`90%`, `2h before`); empty: every point.
    #[serde(default)]
    points: Vec<Spanned<String>>,
    /// The severity of the pages the route raises.
    pager_severity: Option<Spanned<String>>,
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

/// The paging services a channel can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagerService {
    /// PagerDuty's Events API v2: `POST {url}` (the full enqueue URL).
    PagerDuty,
    /// Opsgenie's Alert API: `POST {url}/v2/alerts`, closed by alias.
    Opsgenie,
}

impl PagerService {
    pub fn name(self) -> &'static str {
        match self {
            PagerService::PagerDuty => "PagerDuty",
            PagerService::Opsgenie => "Opsgenie",
        }
    }
}

/// A paging channel: pages are triggered (and resolved once the clock is met or stops), never
/// posted as messages; digests, drift and escalation news never go to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagerConfig {
    pub service: PagerService,
    /// The environment variable holding the routing key (PagerDuty) or API key (Opsgenie).
    pub key_env: String,
    /// The config key that names it, for the error when it is not set.
    pub key_name: &'static str,
    /// PagerDuty: the enqueue URL; Opsgenie: the API's base URL.
    pub url: String,
}

pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";
pub const OPSGENIE_URL: &str = "https://api.opsgenie.com";

/// How urgent a page is: PagerDuty's severities; Opsgenie's priorities P1, P2, P3, P5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PagerSeverity {
    #[default]
    Critical,
    Error,
    Warning,
    Info,
}

impl PagerSeverity {
    pub fn parse(text: &str) -> Option<PagerSeverity> {
        Some(match text {
            "critical" => PagerSeverity::Critical,
            "error" => PagerSeverity::Error,
            "warning" => PagerSeverity::Warning,
            "info" => PagerSeverity::Info,
            _ => return None,
        })
    }

    /// PagerDuty's word for it.
    pub fn key(self) -> &'static str {
        match self {
            PagerSeverity::Critical => "critical",
            PagerSeverity::Error => "error",
            PagerSeverity::Warning => "warning",
            PagerSeverity::Info => "info",
        }
    }

    /// Opsgenie's priority for it.
    pub fn opsgenie_priority(self) -> &'static str {
        match self {
            PagerSeverity::Critical => "P1",
            PagerSeverity::Error => "P2",
            PagerSeverity::Warning => "P3",
            PagerSeverity::Info => "P5",
        }
    }
}

/// An alert point a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointFilter {
    Breach,
    /// Any reminder after a breach.
    Reminder,
    /// Any warning, or the one at this threshold.
    Warning(Option<Threshold>),
}

impl PointFilter {
    fn parse(text: &str) -> Option<PointFilter> {
        match text.trim() {
            "breach" => Some(PointFilter::Breach),
            "reminder" => Some(PointFilter::Reminder),
            "warning" => Some(PointFilter::Warning(None)),
            other => super::parse_threshold(other).map(|t| PointFilter::Warning(Some(t))),
        }
    }

    pub fn takes(self, point: AlertPoint) -> bool {
        match (self, point) {
            (PointFilter::Breach, AlertPoint::Breach) | (PointFilter::Reminder, AlertPoint::Reminder(_)) => true,
            (PointFilter::Warning(None), AlertPoint::Warning(_)) => true,
            (PointFilter::Warning(Some(want)), AlertPoint::Warning(crossed)) => want == crossed,
            _ => false,
        }
    }
}

/// Which alerts go where; empty lists match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    pub severities: Vec<String>,
    pub tiers: Vec<String>,
    pub groups: Vec<u64>,
    /// `contract`, `goal`.
    pub kinds: Vec<String>,
    /// The alert points it takes; a route that names any takes no message that is not an
    /// alert (escalation news).
    pub points: Vec<PointFilter>,
    pub channels: Vec<String>,
    /// Also a Slack direct message to the ticket's assignee.
    pub direct: bool,
    /// The severity of the pages its pager channels raise.
    pub pager_severity: PagerSeverity,
}

impl Route {
    /// Whether the route takes an alert at `point` (None: a message that is not an alert).
    pub fn matches(&self, severity: &str, tier: &str, group: Option<u64>, kind: &str, point: Option<AlertPoint>) -> bool {
        (self.severities.is_empty() || self.severities.iter().any(|s| s == severity))
            && (self.tiers.is_empty() || self.tiers.iter().any(|t| t == tier))
            && (self.groups.is_empty() || group.is_some_and(|g| self.groups.contains(&g)))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
            && (self.points.is_empty() || point.is_some_and(|p| self.points.iter().any(|f| f.takes(p))))
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
    /// Slack and webhook channels.
    pub channels: BTreeMap<String, ChannelConfig>,
    /// Paging channels (`kind = "pagerduty"` or `"opsgenie"`); routes name them like channels.
    pub pagers: BTreeMap<String, PagerConfig>,
    pub routes: Vec<Route>,
    /// Told once each time the share of tickets falling back to default targets crosses
    /// `[admin] fallback_max`, either way; None: the catch-all route's channels.
    pub drift_channels: Option<Vec<String>>,
}

impl NotifyConfig {
    /// The first route that matches (`point` None: a message that is not an alert).
    pub fn route(&self, severity: &str, tier: &str, group: Option<u64>, kind: &str, point: Option<AlertPoint>) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(severity, tier, group, kind, point))
    }

    /// The chat channels (no pagers) a message that is not an alert takes by the routes.
    pub fn chat_route(&self, severity: &str, tier: &str, group: Option<u64>, kind: &str) -> Vec<String> {
        self.route(severity, tier, group, kind, None)
            .map(|r| r.channels.iter().filter(|c| !self.pagers.contains_key(*c)).cloned().collect())
            .unwrap_or_default()
    }

    /// Where a change in config drift is told: `drift_channels`, else the channels of the last
    /// route that matches every alert (the support channel), else nowhere (logged only).
    pub fn drift_channels(&self) -> Vec<String> {
        self.drift_channels.clone().unwrap_or_else(|| {
            self.routes
                .iter()
                .rev()
                .find(|r| r.severities.is_empty() && r.tiers.is_empty() && r.groups.is_empty() && r.kinds.is_empty() && r.points.is_empty())
                .map(|r| r.channels.iter().filter(|c| !self.pagers.contains_key(*c)).cloned().collect())
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
                pagers: BTreeMap::new(),
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
        let mut pagers = BTreeMap::new();
        // Channels with errors of their own: routes naming them are not blamed again.
        let mut broken = Vec::new();
        for (name, channel) in raw.channels {
            if name == "zendesk-note" || name == "slack-direct" {
                self.error(
                    channel.kind.span(),
                    format!("notify.channels.{name}"),
                    format!("{name} names slawatch's own deliveries (internal notes, direct messages); choose another name"),
                );
                continue;
            }
            if !self.channel(name.clone(), channel, &mut channels, &mut pagers) {
                broken.push(name);
            }
        }
        let known = |name: &String| channels.contains_key(name) || pagers.contains_key(name) || broken.contains(name);
        let mut routes = Vec::new();
        for (index, raw) in raw.routes.into_iter().enumerate() {
            let key = format!("notify.routes[{index}]");
            for channel in &raw.channels {
                if !known(channel.get_ref()) {
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
            let points = raw
                .points
                .iter()
                .filter_map(|point| {
                    let parsed = PointFilter::parse(point.get_ref());
                    if parsed.is_none() {
                        self.error(
                            point.span(),
                            format!("{key}.points"),
                            format!(
                                "{:?} is not \"breach\", \"reminder\", \"warning\" or a threshold such as \"90%\" or \"2h before\"",
                                point.get_ref()
                            ),
                        );
                    }
                    parsed
                })
                .collect();
            let pager_severity = match &raw.pager_severity {
                None => PagerSeverity::default(),
                Some(value) => PagerSeverity::parse(value.get_ref()).unwrap_or_else(|| {
                    self.error(
                        value.span(),
                        format!("{key}.pager_severity"),
                        format!("{:?} is not one of \"critical\", \"error\", \"warning\", \"info\"", value.get_ref()),
                    );
                    PagerSeverity::default()
                }),
            };
            if let Some(value) = &raw.pager_severity {
                if !raw.channels.iter().any(|c| pagers.contains_key(c.get_ref())) {
                    self.error(
                        value.span(),
                        format!("{key}.pager_severity"),
                        "the route names no pagerduty or opsgenie channel to page",
                    );
                }
            }
            routes.push(Route {
                severities: raw.severities,
                tiers: raw.tiers,
                groups: raw.groups,
                kinds: raw.kinds.into_iter().map(Spanned::into_inner).collect(),
                points,
                channels: raw.channels.into_iter().map(Spanned::into_inner).collect(),
                direct: raw.direct.is_some_and(|d| *d.get_ref()),
                pager_severity,
            });
        }
        let drift_channels = raw.drift_channels.map(|names| {
            names
                .into_iter()
                .filter(|name| {
                    let chat = channels.contains_key(name.get_ref());
                    if !chat {
                        let problem = if pagers.contains_key(name.get_ref()) {
                            format!("{:?} is a pager: drift is told to Slack or webhook channels", name.get_ref())
                        } else {
                            format!("{:?} is not a channel in [notify.channels]", name.get_ref())
                        };
                        self.error(name.span(), "notify.drift_channels", problem);
                    }
                    chat
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
            pagers,
            routes,
            drift_channels,
        }
    }

    /// One `[notify.channels.NAME]`: a chat channel (its URL's variable) or a pager (its key's
    /// variable and the service's URL); a key that belongs to another kind is an error. False
    /// when it has errors.
    fn channel(
        &mut self,
        name: String,
        raw: RawChannel,
        channels: &mut BTreeMap<String, ChannelConfig>,
        pagers: &mut BTreeMap<String, PagerConfig>,
    ) -> bool {
        let prefix = format!("notify.channels.{name}");
        let kind = raw.kind.get_ref().as_str();
        let (service, key_name, default_url) = match kind {
            "slack" | "webhook" => (None, "url_env", ""),
            "pagerduty" => (Some(PagerService::PagerDuty), "routing_key_env", PAGERDUTY_URL),
            "opsgenie" => (Some(PagerService::Opsgenie), "api_key_env", OPSGENIE_URL),
            other => {
                self.error(
                    raw.kind.span(),
                    format!("{prefix}.kind"),
                    format!("{other:?} is not \"slack\", \"webhook\", \"pagerduty\" or \"opsgenie\""),
                );
                return false;
            }
        };
        let given = [
            ("url_env", &raw.url_env),
            ("routing_key_env", &raw.routing_key_env),
            ("api_key_env", &raw.api_key_env),
            ("url", &raw.url),
        ];
        let mut variable = None;
        for (key, value) in given {
            let Some(value) = value else { continue };
            if key == key_name {
                variable = Some(value.get_ref().trim().to_string()).filter(|v| !v.is_empty());
                if variable.is_none() {
                    self.error(value.span(), format!("{prefix}.{key}"), "names no environment variable");
                    return false;
                }
            } else if !(key == "url" && service.is_some()) {
                self.error(
                    value.span(),
                    format!("{prefix}.{key}"),
                    format!(
                        "is not a key of a {kind} channel (it takes {key_name}{})",
                        if service.is_some() { " and url" } else { "" }
                    ),
                );
                return false;
            }
        }
        let Some(variable) = variable else {
            self.error(
                raw.kind.span(),
                format!("{prefix}.{key_name}"),
                format!("a {kind} channel needs {key_name}: the environment variable that holds its secret"),
            );
            return false;
        };
        let Some(service) = service else {
            let kind = if kind == "slack" {
                ChannelKind::Slack
            } else {
                ChannelKind::Webhook
            };
            channels.insert(name, ChannelConfig { kind, url_env: variable });
            return true;
        };
        let url = match &raw.url {
            None => default_url.to_string(),
            Some(url) => {
                let text = url.get_ref().trim().trim_end_matches('/').to_string();
                if !(text.starts_with("https://") || text.starts_with("http://")) {
                    self.error(url.span(), format!("{prefix}.url"), format!("{text:?} is not an http(s) URL"));
                    return false;
                }
                text
            }
        };
        pagers.insert(
            name,
            PagerConfig {
                service,
                key_env: variable,
                key_name,
                url,
            },
        );
        true
    }
}
