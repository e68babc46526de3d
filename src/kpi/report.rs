//! The KPI report over a range of ticket creation: pure, from the KPI rows and the instant the
//! stored facts are known through: a running clock past its deadline by then has breached, one
//! whose deadline passed after it is still running as far as anyone knows (a reply just before
//! the deadline may be on its way), and likewise an open ticket's week.

use std::collections::{BTreeMap, HashMap};

use chrono::TimeZone;
use serde::{Deserialize, Serialize};

use super::row::{KpiRow, Outcome, Satisfaction};
use crate::config::Config;
use crate::sla::time::Timestamp;

/// Seven calendar days: the Severity 2 resolution goal.
pub const WEEK: Timestamp = 7 * 86_400;

/// What every name in `by_customer` falls back to.
pub const NO_ORGANIZATION: &str = "no organization";
pub const UNSET: &str = "unset";
pub const OUTSIDE: &str = "outside";
/// `per_severity`'s key for tickets without a severity (counted under the default's targets).
pub const UNCLASSIFIED: &str = "unclassified";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attainment {
    pub met: u64,
    pub breached: u64,
    pub running: u64,
    pub not_applicable: u64,
    /// met / (met + breached); None when both are 0.
    pub attainment: Option<f64>,
    pub target: f64,
}

impl Attainment {
    fn add(&mut self, outcome: Outcome, now: Timestamp) {
        match outcome.at(now) {
            Outcome::Met => self.met += 1,
            Outcome::Breached => self.breached += 1,
            Outcome::Running { .. } => self.running += 1,
            Outcome::NotApplicable => self.not_applicable += 1,
        }
    }

    fn finish(&mut self, target: f64) {
        self.attainment = share(self.met, self.met + self.breached);
        self.target = target;
    }

    /// Whether the target is met; None when there is nothing to judge.
    pub fn on_target(&self) -> Option<bool> {
        self.attainment.map(|a| a >= self.target)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WithinWeek {
    pub within: u64,
    pub late: u64,
    pub pending: u64,
    pub share: Option<f64>,
    pub target: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineeringHelp {
    /// Tickets that requested engineering help.
    pub requests: u64,
    /// Tickets created.
    pub tickets: u64,
    pub share: Option<f64>,
    pub target_max: f64,
    pub over: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Csat {
    pub good: u64,
    pub bad: u64,
    pub score: Option<f64>,
    pub target: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    pub by_type: BTreeMap<String, u64>,
    pub by_product_area: BTreeMap<String, u64>,
    pub by_customer: BTreeMap<String, u64>,
    pub by_region: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplyTimes {
    pub support: Option<f64>,
    pub customer: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Clocks {
    pub first_response: Attainment,
    pub resolution: Attainment,
}

/// The KPIs of the tickets created in `[from, to)`. The field order is the JSON's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// RFC 3339, in `time_zone`.
    pub from: String,
    pub to: String,
    pub time_zone: String,
    pub tickets_created: u64,
    pub first_response: Attainment,
    pub resolution: Attainment,
    pub sev2_resolved_within_week: WithinWeek,
    pub engineering_help: EngineeringHelp,
    pub csat: Csat,
    pub volume: Volume,
    pub cases_per_customer: Option<f64>,
    pub replies_per_ticket: Option<f64>,
    pub avg_time_between_replies_seconds: ReplyTimes,
    pub per_severity: BTreeMap<String, Clocks>,
    pub per_tier: BTreeMap<String, Clocks>,
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn count(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// Formats an instant in `zone` as RFC 3339 with its offset.
pub fn local_rfc3339(at: Timestamp, zone: chrono_tz::Tz) -> String {
    match zone.timestamp_opt(at, 0).single() {
        Some(local) => local.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => crate::sla::time::format_rfc3339(at),
    }
}

/// Builds the report as rows arrive (they need not be kept: a year of tickets streams through).
pub struct ReportBuilder<'a> {
    config: &'a Config,
    organizations: &'a BTreeMap<u64, String>,
    known: Timestamp,
    report: Report,
    /// Tickets by organization id (names are attached at the end).
    by_organization: HashMap<u64, u64>,
    without_organization: u64,
    replies: u64,
    support: (i64, u64),
    customer: (i64, u64),
    breaches: Breaches,
}

/// The tickets with a breached contractual clock, kept up to a limit (the digest lists them).
#[derive(Debug, Default)]
pub struct Breaches {
    limit: usize,
    /// Ticket id and the metrics breached, in creation order.
    pub tickets: Vec<(u64, Vec<&'static str>)>,
    pub total: u64,
}

impl<'a> ReportBuilder<'a> {
    /// `organizations`: names by id, for `by_customer`; `known`: the instant the stored facts are
    /// complete through (no later than now).
    pub fn new(config: &'a Config, organizations: &'a BTreeMap<u64, String>, from: Timestamp, to: Timestamp, known: Timestamp) -> Self {
        let zone = config.report.time_zone;
        let mut report = Report {
            from: local_rfc3339(from, zone),
            to: local_rfc3339(to, zone),
            time_zone: zone.name().to_string(),
            ..Report::default()
        };
        for severity in &config.policy.severities {
            report.per_severity.insert(severity.clone(), Clocks::default());
        }
        for tier in config.policy.tiers.keys() {
            report.per_tier.insert(tier.clone(), Clocks::default());
        }
        // Every region is listed, a quiet one with 0.
        for (name, _) in &config.report.regions {
            report.volume.by_region.insert(name.clone(), 0);
        }
        report.volume.by_region.insert(OUTSIDE.to_string(), 0);
        ReportBuilder {
            config,
            organizations,
            known,
            report,
            by_organization: HashMap::new(),
            without_organization: 0,
            replies: 0,
            support: (0, 0),
            customer: (0, 0),
            breaches: Breaches::default(),
        }
    }

    /// Also keeps the first `limit` breached tickets (`finish_with_breaches`).
    pub fn keep_breaches(mut self, limit: usize) -> Self {
        self.breaches.limit = limit;
        self
    }

    pub fn add(&mut self, row: &KpiRow) {
        let now = self.known;
        let breached: Vec<&'static str> = [("first response", row.first_response), ("resolution", row.resolution)]
            .into_iter()
            .filter(|(_, outcome)| outcome.at(now) == Outcome::Breached)
            .map(|(name, _)| name)
            .collect();
        if !breached.is_empty() {
            self.breaches.total += 1;
            if self.breaches.tickets.len() < self.breaches.limit {
                self.breaches.tickets.push((row.id, breached));
            }
        }
        let r = &mut self.report;
        r.tickets_created += 1;
        r.first_response.add(row.first_response, now);
        r.resolution.add(row.resolution, now);
        let severity = if row.classified { row.severity.as_str() } else { UNCLASSIFIED };
        for (map, key) in [(&mut r.per_severity, severity), (&mut r.per_tier, row.tier.as_str())] {
            let clocks = match map.get_mut(key) {
                Some(clocks) => clocks,
                None => map.entry(key.to_string()).or_default(),
            };
            clocks.first_response.add(row.first_response, now);
            clocks.resolution.add(row.resolution, now);
        }
        if row.classified && row.severity == self.config.report.within_week_severity {
            let week = &mut r.sev2_resolved_within_week;
            match row.solved_at {
                Some(solved) if solved - row.created_at <= WEEK => week.within += 1,
                Some(_) => week.late += 1,
                None if row.created_at.saturating_add(WEEK) < now => week.late += 1,
                None => week.pending += 1,
            }
        }
        if row.help_requested {
            r.engineering_help.requests += 1;
        }
        match row.satisfaction {
            Satisfaction::Good => r.csat.good += 1,
            Satisfaction::Bad => r.csat.bad += 1,
            Satisfaction::Unrated => {}
        }
        count(&mut r.volume.by_type, row.ticket_type.as_deref().unwrap_or(UNSET));
        count(&mut r.volume.by_product_area, row.product_area.as_deref().unwrap_or(UNSET));
        match row.organization_id {
            Some(org) => *self.by_organization.entry(org).or_default() += 1,
            None => self.without_organization += 1,
        }
        let mut in_region = false;
        for (name, schedule) in &self.config.report.regions {
            if self.config.policy.schedule(*schedule).is_open(row.created_at).unwrap_or(false) {
                count(&mut r.volume.by_region, name);
                in_region = true;
            }
        }
        if !in_region {
            count(&mut r.volume.by_region, OUTSIDE);
        }
        self.replies += u64::from(row.replies);
        self.support.0 += row.support_waits.seconds;
        self.support.1 += u64::from(row.support_waits.count);
        self.customer.0 += row.customer_waits.seconds;
        self.customer.1 += u64::from(row.customer_waits.count);
    }

    pub fn finish_with_breaches(mut self) -> (Report, Breaches) {
        let breaches = std::mem::take(&mut self.breaches);
        (self.finish(), breaches)
    }

    pub fn finish(mut self) -> Report {
        let targets = self.config.report.targets;
        let r = &mut self.report;
        r.first_response.finish(targets.first_response);
        r.resolution.finish(targets.resolution);
        for clocks in r.per_severity.values_mut().chain(r.per_tier.values_mut()) {
            clocks.first_response.finish(targets.first_response);
            clocks.resolution.finish(targets.resolution);
        }
        let week = &mut r.sev2_resolved_within_week;
        week.share = share(week.within, week.within + week.late);
        week.target = targets.sev2_resolved_within_week;
        let help = &mut r.engineering_help;
        help.tickets = r.tickets_created;
        help.share = share(help.requests, help.tickets);
        help.target_max = targets.engineering_help_max;
        help.over = help.share.is_some_and(|s| s > help.target_max);
        r.csat.score = share(r.csat.good, r.csat.good + r.csat.bad);
        r.csat.target = targets.csat;
        for (org, n) in &self.by_organization {
            let name = match self.organizations.get(org) {
                Some(name) => name.clone(),
                None => format!("organization {org}"),
            };
            *r.volume.by_customer.entry(name).or_default() += n;
        }
        if self.without_organization > 0 {
            *r.volume.by_customer.entry(NO_ORGANIZATION.to_string()).or_default() += self.without_organization;
        }
        r.cases_per_customer = share(r.tickets_created, self.by_organization.len() as u64);
        r.replies_per_ticket = share(self.replies, r.tickets_created);
        r.avg_time_between_replies_seconds = ReplyTimes {
            support: (self.support.1 > 0).then(|| self.support.0 as f64 / self.support.1 as f64),
            customer: (self.customer.1 > 0).then(|| self.customer.0 as f64 / self.customer.1 as f64),
        };
        self.report
    }
}
