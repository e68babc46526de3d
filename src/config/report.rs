//! `[report]`: how the KPIs are read (the zone of report dates, the ticket fields for type
//! and product area, the regions' hours, the targets) and `[report.digest]`, the weekly digest
//! posted to Slack.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::Checker;
use crate::sla::calendar::Schedule;
use crate::sla::policy::{NamedSchedule, Policy, ScheduleId};
use crate::sla::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReport {
    time_zone: Option<Spanned<String>>,
    type_field: Option<u64>,
    product_area_field: Option<u64>,
    within_week_severity: Option<Spanned<String>>,
    /// Set when `within_week_severity` is the default's: a file that renames the severities
    /// simply has no such severity then, which is not the file's mistake.
    #[serde(skip)]
    within_week_from_defaults: bool,
    #[serde(default)]
    targets: RawTargets,
    regions: Option<BTreeMap<String, Spanned<String>>>,
    docs_url_prefixes: Option<Vec<Spanned<String>>>,
    question_types: Option<Vec<String>>,
    fiscal_year_start: Option<Spanned<String>>,
    freeze_after: Option<Spanned<String>>,
    digest: Option<RawDigest>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    first_response: Option<Spanned<String>>,
    resolution: Option<Spanned<String>>,
    sev2_resolved_within_week: Option<Spanned<String>>,
    engineering_help_max: Option<Spanned<String>>,
    csat: Option<Spanned<String>>,
    documentation: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    cron: Option<Spanned<String>>,
    time_zone: Option<Spanned<String>>,
    #[serde(default)]
    route: Vec<Spanned<String>>,
}

impl RawReport {
    /// The keys the file left out, taken from the defaults (the digest is the file's alone).
    pub(super) fn fill_from(&mut self, defaults: RawReport) {
        self.time_zone = self.time_zone.take().or(defaults.time_zone);
        if self.within_week_severity.is_none() {
            self.within_week_from_defaults = true;
            self.within_week_severity = defaults.within_week_severity;
        }
        self.regions = self.regions.take().or(defaults.regions);
        self.docs_url_prefixes = self.docs_url_prefixes.take().or(defaults.docs_url_prefixes);
        self.question_types = self.question_types.take().or(defaults.question_types);
        self.fiscal_year_start = self.fiscal_year_start.take().or(defaults.fiscal_year_start);
        self.freeze_after = self.freeze_after.take().or(defaults.freeze_after);
        let (t, d) = (&mut self.targets, defaults.targets);
        t.first_response = t.first_response.take().or(d.first_response);
        t.resolution = t.resolution.take().or(d.resolution);
        t.sev2_resolved_within_week = t.sev2_resolved_within_week.take().or(d.sev2_resolved_within_week);
        t.engineering_help_max = t.engineering_help_max.take().or(d.engineering_help_max);
        t.csat = t.csat.take().or(d.csat);
        t.documentation = t.documentation.take().or(d.documentation);
    }
}

/// The KPI targets, as shares (0.95 is 95%).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiTargets {
    pub first_response: f64,
    pub resolution: f64,
    pub sev2_resolved_within_week: f64,
    /// The largest acceptable share of tickets needing engineering help.
    pub engineering_help_max: f64,
    pub csat: f64,
    /// Solved questions answered with a link to the documentation.
    pub documentation: f64,
}

impl Default for KpiTargets {
    fn default() -> KpiTargets {
        KpiTargets {
            first_response: 1.0,
            resolution: 0.95,
            sev2_resolved_within_week: 0.95,
            engineering_help_max: 0.10,
            csat: 0.95,
            documentation: 0.90,
        }
    }
}

/// The weekly digest: when it fires, in which zone, and where it goes.
#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub cron: cron::Schedule,
    pub time_zone: Tz,
    /// `[notify.channels]` names.
    pub channels: Vec<String>,
}

impl PartialEq for DigestConfig {
    fn eq(&self, other: &DigestConfig) -> bool {
        self.cron.source() == other.cron.source() && self.time_zone == other.time_zone && self.channels == other.channels
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportConfig {
    /// Where report dates (`--month 2026-11`, `--from 2026-11-01`) are read.
    pub time_zone: Tz,
    /// Zendesk ticket field ids whose values give the ticket's type and product area.
    pub type_field: Option<u64>,
    pub product_area_field: Option<u64>,
    /// The severity whose tickets are meant to be resolved within a week.
    pub within_week_severity: String,
    pub targets: KpiTargets,
    /// Region name → the schedule of its working hours, in name order.
    pub regions: Vec<(String, ScheduleId)>,
    /// Where the documentation lives: a public agent comment linking under one of these counts
    /// as answering with the documentation.
    pub docs_url_prefixes: Vec<String>,
    /// Values of `type_field` whose tickets are usage and support questions (the documentation
    /// share's tickets).
    pub question_types: Vec<String>,
    /// The first day of the fiscal year (month, day): `--quarter` counts from it.
    pub fiscal_year_start: (u32, u32),
    /// A solved ticket unchanged this long has its KPI row frozen (a closed one at once).
    pub freeze_after: Duration,
    /// None when no route is set: no digest is posted.
    pub digest: Option<DigestConfig>,
}

/// Seven days: how long a solved ticket stays unchanged before its figures are final.
pub const FREEZE_AFTER: Duration = Duration(7 * 86_400);

impl ReportConfig {
    /// The ticket fields whose values the reports read.
    pub fn fields(&self) -> impl Iterator<Item = u64> {
        self.type_field.into_iter().chain(self.product_area_field)
    }
}

/// The zone of the default tier's schedule (UTC for the calendar).
fn default_zone(policy: &Policy) -> Tz {
    let schedule = policy.tiers.get(&policy.default_tier).map(|tier| policy.schedule(tier.schedule));
    match schedule {
        Some(Schedule::Business(business)) => business.hours.zone,
        _ => Tz::UTC,
    }
}

impl Checker<'_> {
    /// A share written as a percentage ("95%"), as a fraction.
    pub(super) fn percent(&mut self, value: &Spanned<String>, key: &str) -> Option<f64> {
        let parsed = value
            .get_ref()
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<f64>().ok())
            .filter(|p| (0.0..=100.0).contains(p));
        if parsed.is_none() {
            self.error(
                value.span(),
                key,
                format!("{:?} is not a percentage such as \"95%\"", value.get_ref()),
            );
        }
        parsed.map(|p| p / 100.0)
    }

    pub(super) fn report(
        &mut self,
        raw: Option<(RawReport, bool)>,
        policy: &Policy,
        schedules: &[NamedSchedule],
        channels: &[&String],
    ) -> ReportConfig {
        let Some((mut raw, from_user)) = raw else {
            return ReportConfig {
                time_zone: default_zone(policy),
                type_field: None,
                product_area_field: None,
                within_week_severity: "sev2".to_string(),
                targets: KpiTargets::default(),
                regions: Vec::new(),
                docs_url_prefixes: Vec::new(),
                question_types: Vec::new(),
                fiscal_year_start: (1, 1),
                freeze_after: FREEZE_AFTER,
                digest: None,
            };
        };
        raw.within_week_from_defaults |= !from_user;
        let hint = |file: &str| format!("set [report] in {file} to replace the default");
        self.origin(from_user, hint, |check| check.report_section(raw, policy, schedules, channels))
    }

    fn report_section(&mut self, raw: RawReport, policy: &Policy, schedules: &[NamedSchedule], channels: &[&String]) -> ReportConfig {
        let time_zone = match &raw.time_zone {
            Some(name) => self.zone(name, "report.time_zone").unwrap_or(Tz::UTC),
            None => default_zone(policy),
        };
        let within_week_severity = match &raw.within_week_severity {
            Some(s) if !policy.severities.contains(s.get_ref()) && !raw.within_week_from_defaults => {
                self.error(
                    s.span(),
                    "report.within_week_severity",
                    format!(
                        "{:?} is not one of policy.severities ({})",
                        s.get_ref(),
                        policy.severities.join(", ")
                    ),
                );
                s.get_ref().clone()
            }
            Some(s) => s.get_ref().clone(),
            None => "sev2".to_string(),
        };
        let defaults = KpiTargets::default();
        let mut share = |value: &Option<Spanned<String>>, key: &str, default: f64| match value {
            Some(v) => self.percent(v, &format!("report.targets.{key}")).unwrap_or(default),
            None => default,
        };
        let t = &raw.targets;
        let targets = KpiTargets {
            first_response: share(&t.first_response, "first_response", defaults.first_response),
            resolution: share(&t.resolution, "resolution", defaults.resolution),
            sev2_resolved_within_week: share(
                &t.sev2_resolved_within_week,
                "sev2_resolved_within_week",
                defaults.sev2_resolved_within_week,
            ),
            engineering_help_max: share(&t.engineering_help_max, "engineering_help_max", defaults.engineering_help_max),
            csat: share(&t.csat, "csat", defaults.csat),
            documentation: share(&t.documentation, "documentation", defaults.documentation),
        };
        let docs_url_prefixes = self.docs_prefixes(raw.docs_url_prefixes.unwrap_or_default());
        let fiscal_year_start = raw.fiscal_year_start.as_ref().and_then(|v| self.month_day(v)).unwrap_or((1, 1));
        let freeze_after = match &raw.freeze_after {
            Some(v) => self.duration(v, "report.freeze_after").unwrap_or(FREEZE_AFTER),
            None => FREEZE_AFTER,
        };
        let mut regions = Vec::new();
        for (name, schedule) in raw.regions.unwrap_or_default() {
            let key = format!("report.regions.{name}");
            if name == "outside" {
                self.error(
                    schedule.span(),
                    key,
                    "\"outside\" counts tickets created outside every region's hours: pick another name",
                );
                continue;
            }
            if let Some(id) = self.schedule_ref(&schedule, &key, schedules) {
                regions.push((name, id));
            }
        }
        let digest = raw.digest.and_then(|d| self.digest(d, time_zone, channels));
        ReportConfig {
            time_zone,
            type_field: raw.type_field,
            product_area_field: raw.product_area_field,
            within_week_severity,
            targets,
            regions,
            docs_url_prefixes,
            question_types: raw.question_types.unwrap_or_default(),
            fiscal_year_start,
            freeze_after,
            digest,
        }
    }

    /// Documentation URL prefixes: absolute http(s) URLs, compared without case.
    fn docs_prefixes(&mut self, values: Vec<Spanned<String>>) -> Vec<String> {
        let mut out = Vec::new();
        for value in values {
            let text = value.get_ref().trim().trim_end_matches('/').to_ascii_lowercase();
            let host = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
            if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
                self.error(
                    value.span(),
                    "report.docs_url_prefixes",
                    format!("{:?} is not a URL such as \"https://docs.example.com\"", value.get_ref()),
                );
                continue;
            }
            out.push(text);
        }
        out
    }

    /// `"02-01"`: the first of February.
    fn month_day(&mut self, value: &Spanned<String>) -> Option<(u32, u32)> {
        let parsed = value
            .get_ref()
            .split_once('-')
            .and_then(|(m, d)| Some((m.parse::<u32>().ok()?, d.parse::<u32>().ok()?)))
            .filter(|&(m, d)| (1..=12).contains(&m) && (1..=28).contains(&d));
        if parsed.is_none() {
            self.error(
                value.span(),
                "report.fiscal_year_start",
                format!(
                    "{:?} is not a month and day such as \"02-01\" (the 1st to the 28th, so every year has it)",
                    value.get_ref()
                ),
            );
        }
        parsed
    }

    fn digest(&mut self, raw: RawDigest, report_zone: Tz, channels: &[&String]) -> Option<DigestConfig> {
        let cron = match &raw.cron {
            None => cron::Schedule::from_str("0 0 9 * * Mon").ok(),
            Some(text) => match cron::Schedule::from_str(text.get_ref()) {
                Ok(schedule) => Some(schedule),
                Err(e) => {
                    // The crate's message repeats the expression with a caret: its last line says what is wrong.
                    let e = e.to_string();
                    let e = e.lines().last().unwrap_or_default().trim().to_string();
                    self.error(
                        text.span(),
                        "report.digest.cron",
                        format!(
                            "{:?} is not a cron expression (sec min hour day-of-month month day-of-week, e.g. \"0 0 9 * * Mon\"): {e}",
                            text.get_ref()
                        ),
                    );
                    None
                }
            },
        };
        let time_zone = match &raw.time_zone {
            Some(name) => self.zone(name, "report.digest.time_zone"),
            None => Some(report_zone),
        };
        for channel in &raw.route {
            if !channels.iter().any(|c| *c == channel.get_ref()) {
                let known: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
                self.error(
                    channel.span(),
                    "report.digest.route",
                    format!(
                        "{:?} is not a [notify.channels] channel (defined: {})",
                        channel.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
        if raw.route.is_empty() {
            return None;
        }
        Some(DigestConfig {
            cron: cron?,
            time_zone: time_zone?,
            channels: raw.route.into_iter().map(Spanned::into_inner).collect(),
        })
    }
}
