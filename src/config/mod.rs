//! The TOML configuration: parsed into typed, validated values. Unknown keys
//! are rejected, and every error names the file, the line, the key and the
//! problem, e.g. `config.toml:14: schedules.pacific.hours.mon: "9-17" is not HH:MM-HH:MM`.
//!
//! Sections left out of a file take the defaults below, which reproduce the
//! support policy of SPEC §2: they are `config.example.toml` itself.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use chrono_tz::Tz;
use regex::RegexSet;
use serde::Deserialize;
use toml::Spanned;

use crate::sla::calendar::{day_number, BusinessHours, DayInterval, Holidays, Schedule, WeeklyHours, WEEKDAYS};
use crate::sla::policy::{
    Contract, FirstResponseRules, Goal, Metric, MetricTargets, NamedSchedule, Policy, ScheduleId, TargetSpec, Threshold, Tier,
};
use crate::sla::time::{days_in_month, Duration};
use crate::sla::zones::iana_name_for_rails_zone;

mod ingest;
pub use ingest::{CustomerMapping, SeverityMapping, StoreConfig, ZendeskConfig};

/// The always-present calendar clock.
pub const CALENDAR_SCHEDULE: &str = "24x7";

/// The defaults, in the configuration's own language (SPEC §2). The example
/// file is the defaults, so the documentation cannot drift from the code.
pub const DEFAULTS: &str = include_str!("../../config.example.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub key: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: ", self.file, line)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.problem)
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
}

impl Config {
    /// The built-in defaults alone.
    pub fn defaults() -> Config {
        match Config::parse("defaults", "") {
            Ok(config) => config,
            Err(e) => unreachable!("the built-in defaults are valid (tested): {e}"),
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: name.clone(),
                line: None,
                key: String::new(),
                problem: format!("cannot read: {e}"),
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
        let policy = check.policy(user, defaults);
        let zendesk = zendesk.and_then(|z| check.zendesk(z));
        let severity = check.severity(severity.0, &policy.severities, severity.1);
        let tiers: Vec<&String> = policy.tiers.keys().collect();
        let contracts: Vec<&String> = policy.contracts.keys().collect();
        let customers = check.customers(customers.0, &tiers, &contracts, customers.1);
        let store = check.store(store);
        check.errors.sort_by_key(|e| e.line);
        if check.errors.is_empty() {
            Ok(Config {
                policy,
                zendesk,
                severity,
                customers,
                store,
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
        ConfigErrors(vec![ConfigError {
            file: file.to_string(),
            line,
            key,
            problem: inner.message().trim().to_string(),
        }])
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    schedules: BTreeMap<String, Spanned<RawSchedule>>,
    policy: Option<RawPolicy>,
    tiers: Option<BTreeMap<String, RawTier>>,
    #[serde(default)]
    contracts: BTreeMap<String, RawContract>,
    first_response: Option<RawFirstResponse>,
    alerts: Option<RawAlerts>,
    goals: Option<Vec<RawGoal>>,
    zendesk: Option<ingest::RawZendesk>,
    severity: Option<ingest::RawSeverity>,
    customers: Option<ingest::RawCustomers>,
    store: Option<ingest::RawStore>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    severities: Option<Vec<Spanned<String>>>,
    default_severity: Option<Spanned<String>>,
    default_tier: Option<Spanned<String>>,
    pause_statuses: Option<RawPause>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPause {
    #[serde(default)]
    first_response: Vec<String>,
    #[serde(default)]
    resolution: Vec<String>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFirstResponse {
    min_length: Option<usize>,
    bot_user_ids: Option<Vec<u64>>,
    acknowledgement_patterns: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
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

/// Collects every validation problem with its location.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, key: impl Into<String>, problem: impl Into<String>) {
        let line = Some(line_of(self.text, span.start)).filter(|_| !span.is_empty());
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            key: key.into(),
            problem: problem.into(),
        });
    }

    fn duration(&mut self, value: &Spanned<String>, key: &str) -> Option<Duration> {
        match Duration::parse(value.get_ref()) {
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
            Some(t) => Some(t),
            None => {
                self.error(span, key, format!("{text:?} is not a threshold such as \"75%\" or \"2h before\""));
                None
            }
        }
    }

    fn schedule_ref(&mut self, value: &Spanned<String>, key: &str, schedules: &[NamedSchedule]) -> Option<ScheduleId> {
        let found = schedules.iter().position(|s| &s.name == value.get_ref()).map(ScheduleId);
        if found.is_none() {
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
        let mut raw_schedules = defaults.schedules;
        raw_schedules.extend(user.schedules);
        let mut schedules = vec![NamedSchedule {
            name: CALENDAR_SCHEDULE.to_string(),
            schedule: Schedule::Calendar,
        }];
        for (name, raw) in &raw_schedules {
            if name == CALENDAR_SCHEDULE {
                self.error(
                    raw.span(),
                    format!("schedules.{name}"),
                    "24x7 is the built-in calendar clock and cannot be redefined",
                );
                continue;
            }
            if let Some(hours) = self.schedule(name, raw.get_ref()) {
                schedules.push(NamedSchedule {
                    name: name.clone(),
                    schedule: Schedule::business(hours),
                });
            }
        }

        let default_policy = defaults.policy.unwrap_or_else(|| unreachable!("defaults have [policy]"));
        let user_policy = user.policy;
        let pick = |f: fn(&RawPolicy) -> Option<&Spanned<String>>| user_policy.as_ref().and_then(f).or_else(|| f(&default_policy)).cloned();
        let default_severity = pick(|p| p.default_severity.as_ref()).unwrap_or_else(|| Spanned::new(0..0, String::new()));
        let default_tier = pick(|p| p.default_tier.as_ref()).unwrap_or_else(|| Spanned::new(0..0, String::new()));
        let severities: Vec<String> = user_policy
            .as_ref()
            .and_then(|p| p.severities.as_ref())
            .or(default_policy.severities.as_ref())
            .map(|v| v.iter().map(|s| s.get_ref().clone()).collect())
            .unwrap_or_default();
        if !severities.contains(default_severity.get_ref()) {
            self.error(
                default_severity.span(),
                "policy.default_severity",
                format!(
                    "{:?} is not one of policy.severities ({})",
                    default_severity.get_ref(),
                    severities.join(", ")
                ),
            );
        }
        let pause = user_policy
            .and_then(|p| p.pause_statuses)
            .or(default_policy.pause_statuses)
            .unwrap_or(RawPause {
                first_response: vec![],
                resolution: vec![],
            });
        let lower = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_lowercase()).collect::<Vec<_>>();

        let mut tiers = BTreeMap::new();
        for (name, raw) in user.tiers.or(defaults.tiers).unwrap_or_default() {
            let key = format!("tiers.{name}");
            let schedule = self.schedule_ref(&raw.schedule, &format!("{key}.schedule"), &schedules);
            let targets = self.targets(&raw.targets, &key, &severities);
            if let Some(schedule) = schedule {
                tiers.insert(name, Tier { schedule, targets });
            }
        }
        if !tiers.contains_key(default_tier.get_ref()) && !self.errors.iter().any(|e| e.key.starts_with("tiers.")) {
            let known: Vec<&str> = tiers.keys().map(String::as_str).collect();
            self.error(
                default_tier.span(),
                "policy.default_tier",
                format!("{:?} is not a tier (tiers: {})", default_tier.get_ref(), known.join(", ")),
            );
        }

        let mut contracts = BTreeMap::new();
        for (name, raw) in user.contracts {
            let key = format!("contracts.{name}");
            if !tiers.contains_key(raw.tier.get_ref()) {
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
        let user_fr = user.first_response;
        let min_length = user_fr.as_ref().and_then(|f| f.min_length).or(default_fr.min_length).unwrap_or(0);
        let bot_user_ids = user_fr
            .as_ref()
            .and_then(|f| f.bot_user_ids.clone())
            .or(default_fr.bot_user_ids)
            .unwrap_or_default();
        let patterns = user_fr
            .and_then(|f| f.acknowledgement_patterns)
            .or(default_fr.acknowledgement_patterns)
            .unwrap_or_default();
        for p in &patterns {
            if let Err(e) = regex::Regex::new(p.get_ref()) {
                let detail = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_string();
                self.error(
                    p.span(),
                    "first_response.acknowledgement_patterns",
                    format!("{:?} is not a regular expression: {detail}", p.get_ref()),
                );
            }
        }
        let acknowledgements = RegexSet::new(patterns.iter().map(|p| p.get_ref())).unwrap_or_else(|_| RegexSet::empty());

        let default_alerts = defaults.alerts.unwrap_or_else(|| unreachable!("defaults have [alerts]"));
        let user_alerts = user.alerts;
        let raw_thresholds = user_alerts
            .as_ref()
            .and_then(|a| a.thresholds.clone())
            .or(default_alerts.thresholds)
            .unwrap_or_default();
        let thresholds = self.thresholds(&raw_thresholds, "alerts.thresholds");
        let reminder_every = user_alerts
            .and_then(|a| a.reminder_every)
            .and_then(|r| self.duration(&r, "alerts.reminder_every"));

        let mut goals = Vec::new();
        for (index, raw) in user.goals.or(defaults.goals).unwrap_or_default().into_iter().enumerate() {
            let key = format!("goals[{index}]");
            if let Some(goal) = self.goal(raw, &key, &schedules, &severities, &tiers) {
                goals.push(goal);
            }
        }

        Policy {
            schedules,
            severities,
            default_severity: default_severity.into_inner(),
            default_tier: default_tier.into_inner(),
            tiers,
            contracts,
            goals,
            pause_first_response: lower(pause.first_response),
            pause_resolution: lower(pause.resolution),
            thresholds,
            reminder_every,
            first_response: FirstResponseRules {
                min_length,
                bot_user_ids,
                acknowledgements,
            },
        }
    }

    fn schedule(&mut self, name: &str, raw: &RawSchedule) -> Option<BusinessHours> {
        let key = format!("schedules.{name}");
        let zone_name = raw.time_zone.get_ref();
        let zone = zone_name
            .parse::<Tz>()
            .ok()
            .or_else(|| iana_name_for_rails_zone(zone_name).and_then(|n| n.parse::<Tz>().ok()));
        if zone.is_none() {
            self.error(raw.time_zone.span(), format!("{key}.time_zone"), format!("{zone_name:?} is not a known time zone (an IANA name such as \"America/Los_Angeles\", or a Zendesk name such as \"Pacific Time (US & Canada)\")"));
        }
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
            match WeeklyHours::new(parsed) {
                Ok(h) => Some(h),
                Err(e) => {
                    let at = match &e {
                        crate::sla::calendar::ScheduleError::EmptyWeek => None,
                        crate::sla::calendar::ScheduleError::EndNotAfterStart { day, .. }
                        | crate::sla::calendar::ScheduleError::Overlap { day, .. }
                        | crate::sla::calendar::ScheduleError::PastMidnight { day, .. } => WEEKDAYS.iter().position(|d| d == day),
                    };
                    let (span, day_key) = match at.and_then(|i| days[i].first()) {
                        Some(first) => (first.span(), format!("{key}.hours.{}", WEEKDAYS[at.unwrap_or(0)])),
                        None => (raw.time_zone.span(), format!("{key}.hours")),
                    };
                    let problem = e.to_string();
                    let problem = problem
                        .split_once(": ")
                        .filter(|_| at.is_some())
                        .map_or(problem.clone(), |(_, rest)| rest.to_string());
                    self.error(span, day_key, problem);
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
            let mut one = |metric: Metric, value: &Option<Spanned<RawTarget>>| -> Option<TargetSpec> {
                let value = value.as_ref()?;
                let metric_key = format!("{sev_key}.{}", metric.key());
                let (text, thresholds) = match value.get_ref() {
                    toml::Value::String(text) => (text.clone(), None),
                    toml::Value::Table(table) if table.keys().all(|k| k == "target" || k == "thresholds") => {
                        let text = table.get("target").and_then(toml::Value::as_str).map(str::to_string);
                        let thresholds = table.get("thresholds").map(|t| {
                            t.as_array()
                                .map(|a| a.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect())
                                .unwrap_or_default()
                        });
                        match text {
                            Some(text) => (text, thresholds),
                            None => {
                                self.error(value.span(), &metric_key, "the table needs target = \"<duration>\"");
                                return None;
                            }
                        }
                    }
                    _ => {
                        self.error(
                            value.span(),
                            &metric_key,
                            "expected a duration such as \"24h\", or a table such as { target = \"24h\", thresholds = [\"75%\", \"2h before\"] }",
                        );
                        return None;
                    }
                };
                let duration = self.duration(&Spanned::new(value.span(), text), &metric_key);
                let thresholds = thresholds.map(|list: Vec<String>| {
                    list.iter()
                        .filter_map(|t| self.threshold(t, value.span(), &format!("{metric_key}.thresholds")))
                        .collect()
                });
                Some(TargetSpec {
                    duration: duration?,
                    thresholds,
                })
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

    fn goal(
        &mut self,
        raw: RawGoal,
        key: &str,
        schedules: &[NamedSchedule],
        severities: &[String],
        tiers: &BTreeMap<String, Tier>,
    ) -> Option<Goal> {
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
                    format!("{:?} is not one of policy.severities", s.get_ref()),
                );
            }
        }
        for t in &raw.tiers {
            if !tiers.contains_key(t.get_ref()) {
                self.error(t.span(), format!("{key}.tiers"), format!("{:?} is not a tier", t.get_ref()));
            }
        }
        let duration = self.duration(&raw.target, &format!("{key}.target"));
        let schedule = self.schedule_ref(&raw.schedule, &format!("{key}.schedule"), schedules);
        let attainment_percent = match &raw.attainment {
            None => Some(100.0),
            Some(a) => match a
                .get_ref()
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<f64>().ok())
                .filter(|p| (0.0..=100.0).contains(p))
            {
                Some(p) => Some(p),
                None => {
                    self.error(
                        a.span(),
                        format!("{key}.attainment"),
                        format!("{:?} is not a percentage such as \"95%\"", a.get_ref()),
                    );
                    None
                }
            },
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
            ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then(|| Holiday::Once(day_number(y, m, d)))
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
