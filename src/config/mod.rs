//! The TOML configuration: parsed into typed, validated values. Unknown keys
//! are rejected, and every error names the file, the line, the key and the
//! problem, e.g. `config.toml:14: schedules.pacific.hours.mon: "9-17" is not HH:MM-HH:MM`.
//!
//! Sections left out of a file take the defaults below, which reproduce the
//! support policy of SPEC §2: they are `config.example.toml` itself. Keys are
//! taken from the defaults one by one (setting `alerts.reminder_every` keeps the
//! default `alerts.thresholds`); `[schedules.X]` and `[tiers.X]` are merged by
//! name (a file's `X` replaces the default `X`, the others stay); `[[goals]]` is
//! a list, replaced as a whole. A problem in a value taken from the defaults
//! (say, a default tier naming a severity the file renamed) has no line in the
//! file: it is reported as a built-in default, with what to set to change it.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use chrono_tz::Tz;
use regex::RegexSet;
use serde::Deserialize;
use toml::Spanned;

use crate::sla::calendar::{BusinessHours, DayInterval, Holidays, Schedule, ScheduleError, WeeklyHours, WEEKDAYS};
use crate::sla::policy::{
    Contract, FirstResponseRules, Goal, Metric, MetricTargets, NamedSchedule, Policy, ScheduleId, TargetSpec, Threshold, Tier,
};
use crate::sla::time::{days_from_civil, days_in_month, Duration};
use crate::sla::zones::iana_name_for_rails_zone;

pub mod describe;
mod escalation;
mod ingest;
pub mod locate;
mod notify;
mod people;
mod report;
mod webhook;
pub use escalation::{EscalationConfig, EscalationRule, Repository, RequestKind};
pub use ingest::{AdminConfig, CustomerMapping, LogConfig, SeverityMapping, StoreConfig, ZendeskConfig};
pub use notify::{
    ChannelConfig, ChannelKind, NoteMode, NotifyConfig, PagerConfig, PagerService, PagerSeverity, PointFilter, Route, OPSGENIE_URL,
    PAGERDUTY_URL,
};
pub use people::{PeopleConfig, SlackLookup};
pub use report::{DigestConfig, KpiTargets, ReportConfig};
pub use webhook::{WebhookConfig, WebhookMode, DEFAULT_WEBHOOK_PATH};

/// The always-present calendar clock.
pub const CALENDAR_SCHEDULE: &str = "24x7";

/// The defaults, in the configuration's own language (SPEC §2). The example
/// file is the defaults, so the documentation cannot drift from the code.
pub const DEFAULTS: &str = include_str!("../../config.example.toml");

/// The longest target, goal target, threshold lead or reminder interval: 520w (ten years).
pub const MAX_DURATION: Duration = Duration(520 * 7 * 24 * 3600);

/// The Zendesk statuses during which a clock can be paused; `solved`/`closed` end a
/// clock and `deleted` stops every clock, so they cannot be pause statuses.
pub const PAUSABLE_STATUSES: [&str; 4] = ["new", "open", "pending", "hold"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub key: String,
    pub problem: String,
    /// Set when the value comes from the built-in defaults rather than the file
    /// (`line` is then None): what to set in the file to change it.
    pub default_hint: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: ", self.file, line)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if !self.key.is_empty() {
            f.write_str(&self.key)?;
            if self.default_hint.is_some() {
                f.write_str(" (built-in default)")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.problem)?;
        if let Some(hint) = &self.default_hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[derive(Debug, Clone)]
pub struct Config {
    pub policy: Policy,
    /// Absent when the file has no `[zendesk]`: enough for the calculator, not for `run`.
    pub zendesk: Option<ZendeskConfig>,
    pub severity: SeverityMapping,
    pub customers: CustomerMapping,
    pub store: StoreConfig,
    pub admin: AdminConfig,
    pub notify: NotifyConfig,
    /// Absent when the file has no `[escalation]`: no GitHub issues are filed.
    pub escalation: Option<EscalationConfig>,
    /// Who Slack alerts mention.
    pub people: PeopleConfig,
    pub report: ReportConfig,
    pub log: LogConfig,
    /// The file's name and text, so that what is found about a key later (a preflight against
    /// the account) can name its line.
    pub source: ConfigSource,
}

/// Where a configuration was read from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    pub file: String,
    pub text: String,
}

impl ConfigSource {
    /// Whether the file itself sets `path` (rather than leaving it to the defaults).
    pub fn sets(&self, path: &[locate::Step]) -> bool {
        locate::line(&self.text, path).is_some()
    }

    /// `file:line` of `path` when the file sets it, else `file (default)`.
    pub fn at(&self, path: &[locate::Step]) -> String {
        match locate::line(&self.text, path) {
            Some(line) => format!("{}:{line}", self.file),
            None => format!("{} (default)", self.file),
        }
    }
}

impl Config {
    /// The built-in defaults alone.
    pub fn defaults() -> Config {
        match Config::parse("defaults", "") {
            Ok(config) => config,
            Err(e) => unreachable!("the built-in defaults are valid (tested): {e}"),
        }
    }

    /// How long a loop may make no progress before it counts as stalled: `[admin] stall_after`,
    /// else five poll intervals (as the export budget paces them), at least two minutes.
    pub fn stall_after(&self) -> std::time::Duration {
        self.admin.stall_after.unwrap_or_else(|| {
            let interval = self
                .zendesk
                .as_ref()
                .map_or(std::time::Duration::from_secs(30), |z| z.effective_poll_interval());
            (interval * 5).max(std::time::Duration::from_secs(120))
        })
    }

    /// What is valid but will not work as written, for `check-config` and the daemon's log.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(z) = &self.zendesk {
            let effective = z.effective_poll_interval();
            if effective > z.poll_interval {
                out.push(format!(
                    "zendesk.poll_interval: {}s is shorter than the exports allow: each poll costs two export requests, \
                     and at {} a minute (zendesk.export_requests_per_minute{}) polls start at most every {}s; \
                     /readyz judges the polls against {}s",
                    z.poll_interval.as_secs(),
                    z.export_requests_per_minute.min(z.requests_per_minute),
                    if z.requests_per_minute < z.export_requests_per_minute {
                        ", capped by zendesk.requests_per_minute"
                    } else {
                        ""
                    },
                    effective.as_secs(),
                    effective.as_secs()
                ));
            }
            if let Some(webhook) = z.webhook.as_ref().filter(|_| self.admin.listen.ip().is_loopback()) {
                out.push(format!(
                    "zendesk.webhook: the admin listener ({}) takes connections from this host only: Zendesk reaches {}                      only through a proxy here (or set admin.listen to an outside address)",
                    self.admin.listen, webhook.path
                ));
            }
        }
        out
    }

    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: name.clone(),
                line: None,
                key: String::new(),
                problem: format!("cannot read: {e}"),
                default_hint: None,
            }])
        })?;
        Config::parse(&name, &text)
    }

    /// Parses `text` (read from `file`, named in errors), filling absent sections from the defaults.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigErrors> {
        let user = deserialize(file, text)?;
        let defaults = deserialize("defaults", DEFAULTS)?;
        let mut check = Checker {
            file,
            text,
            default_hint: None,
            invalid_schedules: Vec::new(),
            errors: Vec::new(),
        };
        let (mut user, mut defaults) = (user, defaults);
        // The example's [zendesk] is an example, not a default: it is taken from the file only.
        let zendesk = user.zendesk.take();
        // Default mappings name the default tiers and severities; where a file renames those,
        // entries that no longer match are dropped rather than blamed on the file.
        let severity = user
            .severity
            .take()
            .map(|s| (s, true))
            .or(defaults.severity.take().map(|s| (s, false)))
            .unwrap_or_default();
        let customers = user
            .customers
            .take()
            .map(|c| (c, true))
            .or(defaults.customers.take().map(|c| (c, false)))
            .unwrap_or_default();
        let store = user.store.take().or(defaults.store.take());
        let admin = user.admin.take().or(defaults.admin.take());
        let log = user.log.take().or(defaults.log.take());
        let notify = user.notify.take().or(defaults.notify.take());
        let escalation = user.escalation.take();
        let people = user.people.take();
        let slack = user.slack.take();
        // Keys a file's [report] leaves out come from the defaults one by one.
        let report = match (user.report.take(), defaults.report.take()) {
            (Some(mut user), Some(defaults)) => {
                user.fill_from(defaults);
                Some((user, true))
            }
            (Some(user), None) => Some((user, true)),
            (None, defaults) => defaults.map(|d| (d, false)),
        };
        let policy = check.policy(user, defaults);
        let zendesk = zendesk.and_then(|z| check.zendesk(z));
        let severity = check.severity(severity.0, &policy.severities, severity.1);
        let tiers: Vec<&String> = policy.tiers.keys().collect();
        let contracts: Vec<&String> = policy.contracts.keys().collect();
        let customers = check.customers(customers.0, &tiers, &contracts, customers.1);
        let store = check.store(store);
        let admin = check.admin(admin);
        let log = check.log(log);
        let notify = check.notify(notify, &policy, &tiers);
        let channels: Vec<&String> = notify.channels.keys().collect();
        let escalation = escalation.map(|raw| check.escalation(raw, &policy.severities, &channels));
        let report = check.report(report, &policy, &policy.schedules, &channels);
        let people = check.people(people, slack);
        if people.lookup.is_none() {
            for (i, _) in notify.routes.iter().enumerate().filter(|(_, r)| r.direct) {
                check.error(
                    0..0,
                    format!("notify.routes[{i}].direct"),
                    "a direct message needs Slack's Web API: set [slack] bot_token_env",
                );
            }
        }
        check.errors.sort_by_key(|e| e.line);
        if check.errors.is_empty() {
            Ok(Config {
                policy,
                zendesk,
                severity,
                customers,
                store,
                admin,
                notify,
                escalation,
                people,
                report,
                log,
                source: ConfigSource {
                    file: file.to_string(),
                    text: text.to_string(),
                },
            })
        } else {
            Err(ConfigErrors(check.errors))
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn deserialize(file: &str, text: &str) -> Result<RawConfig, ConfigErrors> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        // Spanned<T> shows up in serde's path as a private field name: leave it out.
        let key = e
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "")
            .replace("$__serde_spanned_private_value.", "");
        let inner = e.into_inner();
        let line = inner.span().map(|s| line_of(text, s.start));
        let key = if key == "." { String::new() } else { key };
        let problem = match (inner.message().trim(), inner.span()) {
            ("", Some(span)) => unexpected(text, span.start),
            ("", None) => "invalid TOML".to_string(),
            (message, _) => message.to_string(),
        };
        ConfigErrors(vec![ConfigError {
            file: file.to_string(),
            line,
            key,
            problem,
            default_hint: None,
        }])
    })
}

/// What the parser stopped at, for the syntax errors toml leaves without a message (a control
/// character such as a lone carriage return, or the end of the file where a value is expected).
fn unexpected(text: &str, at: usize) -> String {
    let control = |c: &char| c.is_control() && !matches!(c, '\n' | '\t');
    let before = text.get(..at).and_then(|t| t.chars().next_back()).filter(control);
    match before.or_else(|| text.get(at..).and_then(|t| t.chars().next())) {
        None => "invalid TOML: the file ends where a value, or the end of a string, array or table, is expected".to_string(),
        Some(c) if control(&c) => format!("invalid TOML: the control character {c:?} is not allowed here"),
        Some(c) => format!("invalid TOML at {c:?}"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    schedules: BTreeMap<String, Spanned<RawSchedule>>,
    policy: Option<RawPolicy>,
    #[serde(default)]
    tiers: BTreeMap<String, RawTier>,
    #[serde(default)]
    contracts: BTreeMap<String, RawContract>,
    first_response: Option<RawFirstResponse>,
    alerts: Option<RawAlerts>,
    /// A list: a file's `[[goals]]` replace the default goals as a whole.
    goals: Option<Vec<RawGoal>>,
    zendesk: Option<ingest::RawZendesk>,
    severity: Option<ingest::RawSeverity>,
    customers: Option<ingest::RawCustomers>,
    store: Option<ingest::RawStore>,
    admin: Option<ingest::RawAdmin>,
    notify: Option<notify::RawNotify>,
    escalation: Option<escalation::RawEscalation>,
    people: Option<people::RawPeople>,
    slack: Option<people::RawSlack>,
    report: Option<report::RawReport>,
    log: Option<ingest::RawLog>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    time_zone: Spanned<String>,
    #[serde(default)]
    hours: RawWeek,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWeek {
    #[serde(default)]
    mon: Vec<Spanned<String>>,
    #[serde(default)]
    tue: Vec<Spanned<String>>,
    #[serde(default)]
    wed: Vec<Spanned<String>>,
    #[serde(default)]
    thu: Vec<Spanned<String>>,
    #[serde(default)]
    fri: Vec<Spanned<String>>,
    #[serde(default)]
    sat: Vec<Spanned<String>>,
    #[serde(default)]
    sun: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    severities: Option<Vec<Spanned<String>>>,
    default_severity: Option<Spanned<String>>,
    default_tier: Option<Spanned<String>>,
    pause_statuses: Option<RawPause>,
}

/// Each list left out is taken from the defaults.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPause {
    first_response: Option<Vec<Spanned<String>>>,
    resolution: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    schedule: Spanned<String>,
    #[serde(default)]
    targets: BTreeMap<String, Spanned<RawMetricTargets>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    tier: Spanned<String>,
    schedule: Option<Spanned<String>>,
    #[serde(default)]
    targets: BTreeMap<String, Spanned<RawMetricTargets>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetricTargets {
    first_response: Option<Spanned<RawTarget>>,
    resolution: Option<Spanned<RawTarget>>,
}

/// `"24h"`, or `{ target = "24h", thresholds = ["75%", "2h before"] }`; read by hand
/// so that a wrong shape gets a message naming both forms.
type RawTarget = toml::Value;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFirstResponse {
    min_length: Option<usize>,
    bot_user_ids: Option<Vec<u64>>,
    acknowledgement_patterns: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    thresholds: Option<Vec<Spanned<String>>>,
    reminder_every: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGoal {
    name: Spanned<String>,
    metric: Spanned<String>,
    #[serde(default)]
    severities: Vec<Spanned<String>>,
    #[serde(default)]
    tiers: Vec<Spanned<String>>,
    target: Spanned<String>,
    schedule: Spanned<String>,
    attainment: Option<Spanned<String>>,
    #[serde(default)]
    thresholds: Vec<Spanned<String>>,
}

/// A key's value from the file, else from the defaults; the flag is true when it is the file's.
fn pick<T>(user: Option<T>, default: Option<T>) -> Option<(T, bool)> {
    user.map(|v| (v, true)).or(default.map(|v| (v, false)))
}

/// Named tables merged by name: the file's replace the defaults' of the same name, the
/// others stay. The flag is true for the file's.
fn merge_by_name<T>(defaults: BTreeMap<String, T>, user: BTreeMap<String, T>) -> BTreeMap<String, (T, bool)> {
    let mut merged: BTreeMap<String, (T, bool)> = defaults.into_iter().map(|(name, v)| (name, (v, false))).collect();
    merged.extend(user.into_iter().map(|(name, v)| (name, (v, true))));
    merged
}

/// Collects every validation problem with its location.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    /// Set while validating a value taken from the built-in defaults: its spans are in
    /// `DEFAULTS`, not in `text`, so its errors carry this hint instead of a line.
    default_hint: Option<String>,
    /// Schedules defined with errors of their own: references to them are not blamed again.
    invalid_schedules: Vec<String>,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, key: impl Into<String>, problem: impl Into<String>) {
        let line = match self.default_hint {
            Some(_) => None,
            None => Some(line_of(self.text, span.start)).filter(|_| !span.is_empty()),
        };
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            key: key.into(),
            problem: problem.into(),
            default_hint: self.default_hint.clone(),
        });
    }

    /// Runs `check` on a value from the file (`from_user`), or else from the built-in
    /// defaults, whose errors then say so and suggest `hint` (given the file's name).
    fn origin<R>(&mut self, from_user: bool, hint: impl FnOnce(&str) -> String, check: impl FnOnce(&mut Self) -> R) -> R {
        let hint = (!from_user).then(|| hint(self.file));
        let outer = std::mem::replace(&mut self.default_hint, hint);
        let result = check(self);
        self.default_hint = outer;
        result
    }

    fn duration(&mut self, value: &Spanned<String>, key: &str) -> Option<Duration> {
        match Duration::parse(value.get_ref()) {
            Ok(d) if d > MAX_DURATION => {
                self.error(
                    value.span(),
                    key,
                    format!("{:?} is longer than 520w (ten years), the longest allowed", value.get_ref()),
                );
                None
            }
            Ok(d) if d.0 > 0 => Some(d),
            Ok(_) => {
                self.error(value.span(), key, "must be longer than zero");
                None
            }
            Err(e) => {
                self.error(value.span(), key, e.to_string());
                None
            }
        }
    }

    fn thresholds(&mut self, values: &[Spanned<String>], key: &str) -> Vec<Threshold> {
        values.iter().filter_map(|v| self.threshold(v.get_ref(), v.span(), key)).collect()
    }

    fn threshold(&mut self, text: &str, span: Range<usize>, key: &str) -> Option<Threshold> {
        match parse_threshold(text) {
            Some(Threshold::Before(lead)) if lead > MAX_DURATION => {
                self.error(span, key, format!("{text:?} is longer than 520w (ten years), the longest allowed"));
                None
            }
            Some(t) => Some(t),
            None => {
                self.error(span, key, format!("{text:?} is not a threshold such as \"75%\" or \"2h before\""));
                None
            }
        }
    }

    fn schedule_ref(&mut self, value: &Spanned<String>, key: &str, schedules: &[NamedSchedule]) -> Option<ScheduleId> {
        let found = schedules.iter().position(|s| &s.name == value.get_ref()).map(ScheduleId);
        if found.is_none() && !self.invalid_schedules.contains(value.get_ref()) {
            let known: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
            self.error(
                value.span(),
                key,
                format!("schedule {:?} is not defined (defined: {})", value.get_ref(), known.join(", ")),
            );
        }
        found
    }

    fn policy(&mut self, user: RawConfig, defaults: RawConfig) -> Policy {
        let mut schedules = vec![NamedSchedule {
            name: CALENDAR_SCHEDULE.to_string(),
            schedule: Schedule::Calendar,
        }];
        for (name, (raw, from_user)) in merge_by_name(defaults.schedules, user.schedules) {
            let hint = |file: &str| format!("define [schedules.{name}] in {file} to replace this default schedule");
            let hours = self.origin(from_user, hint, |check| {
                if name == CALENDAR_SCHEDULE {
                    check.error(
                        raw.span(),
                        format!("schedules.{name}"),
                        "24x7 is the built-in calendar clock and cannot be redefined",
                    );
                    return None;
                }
                check.schedule(&name, raw.get_ref())
            });
            match hours {
                Some(hours) => schedules.push(NamedSchedule {
                    name,
                    schedule: Schedule::business(hours),
                }),
                None => self.invalid_schedules.push(name),
            }
        }

        let default_policy = defaults.policy.unwrap_or_else(|| unreachable!("defaults have [policy]"));
        let user_policy = user.policy.unwrap_or_default();
        let severities: Vec<String> = pick(user_policy.severities, default_policy.severities)
            .map(|(v, _)| v.into_iter().map(Spanned::into_inner).collect())
            .unwrap_or_default();
        let (default_severity, from_user) = pick(user_policy.default_severity, default_policy.default_severity)
            .unwrap_or_else(|| (Spanned::new(0..0, String::new()), false));
        if !severities.contains(default_severity.get_ref()) {
            self.origin(
                from_user,
                |file| format!("set policy.default_severity in {file}"),
                |check| {
                    check.error(
                        default_severity.span(),
                        "policy.default_severity",
                        format!(
                            "{:?} is not one of policy.severities ({})",
                            default_severity.get_ref(),
                            severities.join(", ")
                        ),
                    );
                },
            );
        }
        let user_pause = user_policy.pause_statuses.unwrap_or_default();
        let default_pause = default_policy.pause_statuses.unwrap_or_default();
        let pause_first_response = self.pause_statuses(pick(user_pause.first_response, default_pause.first_response), "first_response");
        let pause_resolution = self.pause_statuses(pick(user_pause.resolution, default_pause.resolution), "resolution");

        let raw_tiers = merge_by_name(defaults.tiers, user.tiers);
        // Every tier defined, valid or not: a reference to a tier that has its own error is not blamed again.
        let tier_names: Vec<String> = raw_tiers.keys().cloned().collect();
        let mut tiers = BTreeMap::new();
        for (name, (raw, from_user)) in raw_tiers {
            let key = format!("tiers.{name}");
            let hint = |file: &str| format!("define [tiers.{name}] in {file} to replace this default tier");
            let tier = self.origin(from_user, hint, |check| {
                let schedule = check.schedule_ref(&raw.schedule, &format!("{key}.schedule"), &schedules);
                let targets = check.targets(&raw.targets, &key, &severities);
                schedule.map(|schedule| Tier { schedule, targets })
            });
            if let Some(tier) = tier {
                tiers.insert(name, tier);
            }
        }
        let (default_tier, from_user) =
            pick(user_policy.default_tier, default_policy.default_tier).unwrap_or_else(|| (Spanned::new(0..0, String::new()), false));
        if !tier_names.contains(default_tier.get_ref()) {
            self.origin(
                from_user,
                |file| format!("set policy.default_tier in {file}"),
                |check| {
                    check.error(
                        default_tier.span(),
                        "policy.default_tier",
                        format!("{:?} is not a tier (tiers: {})", default_tier.get_ref(), tier_names.join(", ")),
                    );
                },
            );
        }

        // None by default: contracts come from the file only.
        let mut contracts = BTreeMap::new();
        for (name, raw) in user.contracts {
            let key = format!("contracts.{name}");
            if !tier_names.contains(raw.tier.get_ref()) {
                self.error(
                    raw.tier.span(),
                    format!("{key}.tier"),
                    format!("{:?} is not a tier", raw.tier.get_ref()),
                );
            }
            let schedule = raw
                .schedule
                .as_ref()
                .and_then(|s| self.schedule_ref(s, &format!("{key}.schedule"), &schedules));
            let targets = self.targets(&raw.targets, &key, &severities);
            contracts.insert(
                name,
                Contract {
                    tier: raw.tier.into_inner(),
                    schedule,
                    targets,
                },
            );
        }

        let default_fr = defaults
            .first_response
            .unwrap_or_else(|| unreachable!("defaults have [first_response]"));
        let user_fr = user.first_response.unwrap_or_default();
        let min_length = user_fr.min_length.or(default_fr.min_length).unwrap_or(0);
        let bot_user_ids = user_fr.bot_user_ids.or(default_fr.bot_user_ids).unwrap_or_default();
        let (patterns, from_user) =
            pick(user_fr.acknowledgement_patterns, default_fr.acknowledgement_patterns).unwrap_or((Vec::new(), true));
        let hint = |file: &str| format!("set first_response.acknowledgement_patterns in {file}");
        self.origin(from_user, hint, |check| {
            for p in &patterns {
                if let Err(e) = regex::Regex::new(p.get_ref()) {
                    let detail = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim_start_matches("error: ")
                        .to_string();
                    check.error(
                        p.span(),
                        "first_response.acknowledgement_patterns",
                        format!("{:?} is not a regular expression: {detail}", p.get_ref()),
                    );
                }
            }
        });
        let acknowledgements = RegexSet::new(patterns.iter().map(|p| p.get_ref())).unwrap_or_else(|_| RegexSet::empty());

        let default_alerts = defaults.alerts.unwrap_or_else(|| unreachable!("defaults have [alerts]"));
        let user_alerts = user.alerts.unwrap_or_default();
        let thresholds = match pick(user_alerts.thresholds, default_alerts.thresholds) {
            Some((raw, from_user)) => self.origin(
                from_user,
                |file| format!("set alerts.thresholds in {file}"),
                |check| check.thresholds(&raw, "alerts.thresholds"),
            ),
            None => Vec::new(),
        };
        let reminder_every = pick(user_alerts.reminder_every, default_alerts.reminder_every).and_then(|(raw, from_user)| {
            self.origin(
                from_user,
                |file| format!("set alerts.reminder_every in {file}"),
                |check| check.duration(&raw, "alerts.reminder_every"),
            )
        });

        let goals = match pick(user.goals, defaults.goals) {
            Some((raw, from_user)) => self.origin(
                from_user,
                |file| format!("define [[goals]] in {file} to replace the default goals"),
                |check| check.goals(raw, &schedules, &severities, &tier_names),
            ),
            None => Vec::new(),
        };

        Policy {
            schedules,
            severities,
            default_severity: default_severity.into_inner(),
            default_tier: default_tier.into_inner(),
            tiers,
            contracts,
            goals,
            pause_first_response,
            pause_resolution,
            thresholds,
            reminder_every,
            first_response: FirstResponseRules {
                min_length,
                bot_user_ids,
                acknowledgements,
            },
        }
    }

    /// `policy.pause_statuses.<metric>`: statuses in lower case, each one that can pause a clock.
    fn pause_statuses(&mut self, list: Option<(Vec<Spanned<String>>, bool)>, metric: &str) -> Vec<String> {
        let Some((list, from_user)) = list else {
            return Vec::new();
        };
        let key = format!("policy.pause_statuses.{metric}");
        self.origin(
            from_user,
            |file| format!("set {key} in {file}"),
            |check| {
                let mut statuses = Vec::new();
                for value in &list {
                    let status = value.get_ref().to_ascii_lowercase();
                    let why = match status.as_str() {
                        s if PAUSABLE_STATUSES.contains(&s) => {
                            statuses.push(status);
                            continue;
                        }
                        "solved" | "closed" => "ends the clock rather than pausing it",
                        "deleted" => "stops every clock rather than pausing it",
                        _ => "is not a Zendesk ticket status",
                    };
                    check.error(
                        value.span(),
                        &key,
                        format!(
                            "{:?} {why} (statuses that can pause a clock: {})",
                            value.get_ref(),
                            PAUSABLE_STATUSES.join(", ")
                        ),
                    );
                }
                statuses
            },
        )
    }

    /// A time zone by IANA name or Zendesk (Rails) name; an error naming `key` otherwise.
    pub(super) fn zone(&mut self, name: &Spanned<String>, key: &str) -> Option<Tz> {
        let zone_name = name.get_ref();
        let zone = zone_name
            .parse::<Tz>()
            .ok()
            .or_else(|| iana_name_for_rails_zone(zone_name).and_then(|n| n.parse::<Tz>().ok()));
        if zone.is_none() {
            self.error(name.span(), key, format!("{zone_name:?} is not a known time zone (an IANA name such as \"America/Los_Angeles\", or a Zendesk name such as \"Pacific Time (US & Canada)\")"));
        }
        zone
    }

    fn schedule(&mut self, name: &str, raw: &RawSchedule) -> Option<BusinessHours> {
        let key = format!("schedules.{name}");
        let zone = self.zone(&raw.time_zone, &format!("{key}.time_zone"));
        let week = &raw.hours;
        let days = [&week.mon, &week.tue, &week.wed, &week.thu, &week.fri, &week.sat, &week.sun];
        let mut parsed: [Vec<DayInterval>; 7] = Default::default();
        let mut ok = true;
        for (index, values) in days.iter().enumerate() {
            let day_key = format!("{key}.hours.{}", WEEKDAYS[index]);
            for value in values.iter() {
                match parse_interval(value.get_ref()) {
                    Some(iv) => parsed[index].push(iv),
                    None => {
                        ok = false;
                        self.error(value.span(), &day_key, format!("{:?} is not HH:MM-HH:MM", value.get_ref()));
                    }
                }
            }
        }
        let hours = if ok {
            match WeeklyHours::new(parsed.clone()) {
                Ok(h) => Some(h),
                Err(e) => {
                    self.hours_error(&key, e, &days, &parsed, raw.time_zone.span());
                    None
                }
            }
        } else {
            None
        };
        let mut holidays = Holidays::default();
        for value in &raw.holidays {
            match parse_holiday(value.get_ref()) {
                Some(Holiday::Yearly(m, d)) => holidays.yearly.push((m, d)),
                Some(Holiday::Once(n)) => holidays.once.push(n),
                None => self.error(
                    value.span(),
                    format!("{key}.holidays"),
                    format!("{:?} is not a date (MM-DD for every year, YYYY-MM-DD for one day)", value.get_ref()),
                ),
            }
        }
        Some(BusinessHours {
            zone: zone?,
            hours: hours?,
            holidays,
        })
    }

    /// Reports a problem `WeeklyHours::new` found at the interval it is about. `days` are the
    /// values as written and `parsed` the intervals they were read as, in the same order.
    fn hours_error(
        &mut self,
        key: &str,
        error: ScheduleError,
        days: &[&Vec<Spanned<String>>; 7],
        parsed: &[Vec<DayInterval>; 7],
        week_span: Range<usize>,
    ) {
        let weekday = |day: &str| WEEKDAYS.iter().position(|d| *d == day).unwrap_or(0);
        let (index, at, problem) = match error {
            ScheduleError::EmptyWeek => {
                self.error(week_span, format!("{key}.hours"), "the week has no open hours");
                return;
            }
            ScheduleError::EndNotAfterStart { day, start, end } => {
                let index = weekday(day);
                let at = parsed[index].iter().position(|iv| iv.end <= iv.start);
                (
                    index,
                    at,
                    format!("the interval ends at {end} which is not after its start {start}"),
                )
            }
            ScheduleError::PastMidnight { day, value } => {
                let index = weekday(day);
                let at = parsed[index].iter().position(|iv| iv.end > 86_400);
                (index, at, format!("{value} is past 24:00"))
            }
            ScheduleError::Overlap { day, first, second } => {
                // The two intervals, found by their text; the later of them in the file is the one that overlaps.
                let index = weekday(day);
                let intervals = &parsed[index];
                let a = intervals.iter().position(|iv| iv.to_string() == first);
                let b = (0..intervals.len()).find(|&j| Some(j) != a && intervals[j].to_string() == second);
                (index, a.max(b), format!("intervals {first} and {second} overlap"))
            }
        };
        let values = days[index];
        let span = at.and_then(|j| values.get(j)).or(values.first()).map_or(week_span, Spanned::span);
        self.error(span, format!("{key}.hours.{}", WEEKDAYS[index]), problem);
    }

    fn targets(
        &mut self,
        raw: &BTreeMap<String, Spanned<RawMetricTargets>>,
        key: &str,
        severities: &[String],
    ) -> BTreeMap<String, MetricTargets> {
        let mut out = BTreeMap::new();
        for (severity, targets) in raw {
            let sev_key = format!("{key}.targets.{severity}");
            if !severities.contains(severity) {
                self.error(
                    targets.span(),
                    &sev_key,
                    format!("{severity:?} is not one of policy.severities ({})", severities.join(", ")),
                );
                continue;
            }
            let targets = targets.get_ref();
            let mut one = |metric: Metric, value: &Option<Spanned<RawTarget>>| {
                value
                    .as_ref()
                    .and_then(|value| self.target(value, &format!("{sev_key}.{}", metric.key())))
            };
            let first_response = one(Metric::FirstResponse, &targets.first_response);
            let resolution = one(Metric::Resolution, &targets.resolution);
            out.insert(
                severity.clone(),
                MetricTargets {
                    first_response,
                    resolution,
                },
            );
        }
        out
    }

    /// `"24h"`, or `{ target = "24h", thresholds = ["75%", "2h before"] }`. The parts of a
    /// table have no spans of their own: their errors are at the table's line.
    fn target(&mut self, value: &Spanned<RawTarget>, key: &str) -> Option<TargetSpec> {
        const FORMS: &str = "a duration such as \"24h\", or a table such as { target = \"24h\", thresholds = [\"75%\", \"2h before\"] }";
        let span = value.span();
        let table = match value.get_ref() {
            toml::Value::String(text) => {
                return self.duration(&Spanned::new(span, text.clone()), key).map(|duration| TargetSpec {
                    duration,
                    thresholds: None,
                })
            }
            toml::Value::Table(table) => table,
            other => {
                self.error(span, key, format!("expected {FORMS}, not {other}"));
                return None;
            }
        };
        if let Some(unknown) = table.keys().find(|k| *k != "target" && *k != "thresholds") {
            self.error(span, key, format!("unknown key {unknown:?}: expected {FORMS}"));
            return None;
        }
        let duration = match table.get("target") {
            Some(toml::Value::String(text)) => self.duration(&Spanned::new(span.clone(), text.clone()), &format!("{key}.target")),
            Some(other) => {
                self.error(
                    span.clone(),
                    format!("{key}.target"),
                    format!("expected a duration such as \"24h\", not {other}"),
                );
                None
            }
            None => {
                self.error(span.clone(), key, "the table needs target = \"<duration>\"");
                None
            }
        };
        let thresholds_key = format!("{key}.thresholds");
        let thresholds = match table.get("thresholds") {
            None => Some(None),
            Some(toml::Value::Array(items)) => {
                let mut ok = true;
                let mut thresholds = Vec::new();
                for item in items {
                    let threshold = match item {
                        toml::Value::String(text) => self.threshold(text, span.clone(), &thresholds_key),
                        other => {
                            self.error(
                                span.clone(),
                                &thresholds_key,
                                format!("{other} is not a threshold: write each as a string such as \"75%\" or \"2h before\""),
                            );
                            None
                        }
                    };
                    ok &= threshold.is_some();
                    thresholds.extend(threshold);
                }
                ok.then_some(Some(thresholds))
            }
            Some(other) => {
                self.error(
                    span.clone(),
                    &thresholds_key,
                    format!("expected a list of thresholds such as [\"75%\", \"2h before\"], not {other}"),
                );
                None
            }
        };
        Some(TargetSpec {
            duration: duration?,
            thresholds: thresholds?,
        })
    }

    /// `[[goals]]`: each checked, and their names unique and not `contract`.
    fn goals(&mut self, raw: Vec<RawGoal>, schedules: &[NamedSchedule], severities: &[String], tiers: &[String]) -> Vec<Goal> {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut goals = Vec::new();
        for (index, raw) in raw.into_iter().enumerate() {
            let key = format!("goals[{index}]");
            let name = raw.name.get_ref();
            if name == "contract" {
                self.error(
                    raw.name.span(),
                    format!("{key}.name"),
                    "\"contract\" names the contractual target; choose another name for the goal",
                );
            } else if let Some(first) = names.get(name) {
                self.error(
                    raw.name.span(),
                    format!("{key}.name"),
                    format!("{name:?} is already the name of {first}; goal names must be unique"),
                );
            } else {
                names.insert(name.clone(), key.clone());
            }
            if let Some(goal) = self.goal(raw, &key, schedules, severities, tiers) {
                goals.push(goal);
            }
        }
        goals
    }

    fn goal(&mut self, raw: RawGoal, key: &str, schedules: &[NamedSchedule], severities: &[String], tiers: &[String]) -> Option<Goal> {
        let metric = match raw.metric.get_ref().as_str() {
            "first_response" => Some(Metric::FirstResponse),
            "resolution" => Some(Metric::Resolution),
            other => {
                self.error(
                    raw.metric.span(),
                    format!("{key}.metric"),
                    format!("{other:?} is not a metric (first_response or resolution)"),
                );
                None
            }
        };
        for s in &raw.severities {
            if !severities.contains(s.get_ref()) {
                self.error(
                    s.span(),
                    format!("{key}.severities"),
                    format!("{:?} is not one of policy.severities ({})", s.get_ref(), severities.join(", ")),
                );
            }
        }
        for t in &raw.tiers {
            if !tiers.contains(t.get_ref()) {
                self.error(t.span(), format!("{key}.tiers"), format!("{:?} is not a tier", t.get_ref()));
            }
        }
        let duration = self.duration(&raw.target, &format!("{key}.target"));
        let schedule = self.schedule_ref(&raw.schedule, &format!("{key}.schedule"), schedules);
        let attainment_percent = match &raw.attainment {
            None => Some(100.0),
            Some(a) => self.percent(a, &format!("{key}.attainment")).map(|share| share * 100.0),
        };
        let thresholds = self.thresholds(&raw.thresholds, &format!("{key}.thresholds"));
        Some(Goal {
            name: raw.name.into_inner(),
            metric: metric?,
            severities: raw.severities.into_iter().map(Spanned::into_inner).collect(),
            tiers: raw.tiers.into_iter().map(Spanned::into_inner).collect(),
            duration: duration?,
            schedule: schedule?,
            attainment_percent: attainment_percent?,
            thresholds,
        })
    }
}

/// `HH:MM-HH:MM`, the end may be `24:00`.
fn parse_interval(text: &str) -> Option<DayInterval> {
    let (start, end) = text.split_once('-')?;
    let start = parse_clock(start.trim())?;
    let end = parse_clock(end.trim())?;
    (start < 86_400).then_some(DayInterval { start, end })
}

fn parse_clock(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    if b.len() != 5 || b[2] != b':' || !b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit()) {
        return None;
    }
    let hours = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let minutes = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    if minutes > 59 || hours > 24 || (hours == 24 && minutes > 0) {
        return None;
    }
    Some(hours * 3600 + minutes * 60)
}

enum Holiday {
    Yearly(u32, u32),
    Once(i64),
}

fn parse_holiday(text: &str) -> Option<Holiday> {
    let parts: Vec<&str> = text.split('-').collect();
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [m, d] => {
            let (m, d) = (num(m, 2)?, num(d, 2)?);
            // 2000 is a leap year: 02-29 is a valid yearly holiday, kept in leap years only.
            ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(2000, m)).then_some(Holiday::Yearly(m, d))
        }
        [y, m, d] => {
            let (y, m, d) = (i64::from(num(y, 4)?), num(m, 2)?, num(d, 2)?);
            ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then(|| Holiday::Once(days_from_civil(y, m, d)))
        }
        _ => None,
    }
}

/// `75%` (a share of the target used) or `2h before` (time left).
pub fn parse_threshold(text: &str) -> Option<Threshold> {
    let text = text.trim();
    if let Some(percent) = text.strip_suffix('%') {
        let p: u8 = percent.trim().parse().ok()?;
        return (1..=99).contains(&p).then_some(Threshold::Percent(p));
    }
    let lead = text.strip_suffix("before")?.trim();
    Duration::parse(lead).ok().filter(|d| d.0 > 0).map(Threshold::Before)
}
