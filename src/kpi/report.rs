//! The KPI report over a range of ticket creation: pure, from the KPI rows and the instant the
//! stored facts are known through: a running clock past its deadline by then has breached, one
//! whose deadline passed after it is still running as far as anyone knows (a reply just before
//! the deadline may be on its way), and likewise an open ticket's week.

use std::collections::{BTreeMap, HashMap};

use chrono::TimeZone;
use serde::{Deserialize, Serialize};

use super::customers::{CustomerVitals, Customers, OpenNow};
use super::distribution::{quantile, Distribution};
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
    pub(super) fn add(&mut self, outcome: Outcome, now: Timestamp) {
        match outcome.at(now) {
            Outcome::Met => self.met += 1,
            Outcome::Breached => self.breached += 1,
            Outcome::Running { .. } => self.running += 1,
            Outcome::NotApplicable => self.not_applicable += 1,
        }
    }

    pub(super) fn finish(&mut self, target: f64) {
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
    /// Calendar months the range spans (a part month in proportion to its days).
    pub months: f64,
    /// Requests per month over the range: the baseline engineering plans for.
    pub requests_per_month: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Csat {
    pub good: u64,
    pub bad: u64,
    pub score: Option<f64>,
    pub target: f64,
}

impl Csat {
    pub(super) fn finish(&mut self, target: f64) {
        self.score = share(self.good, self.good + self.bad);
        self.target = target;
    }
}

/// Usage and support questions answered with the documentation: solved tickets of
/// `[report] question_types` with a public agent comment linking under `docs_url_prefixes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Documentation {
    /// Both `question_types` and `docs_url_prefixes` are set: without either nothing is measured.
    pub configured: bool,
    /// Questions (tickets of the question types) solved.
    pub solved_questions: u64,
    /// Of those, answered with at least one link to the documentation.
    pub with_docs_link: u64,
    /// Questions still open (not counted until solved).
    pub open_questions: u64,
    pub share: Option<f64>,
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
    /// Time to the first substantive response, on each ticket's own clock (business seconds for
    /// business-hours clocks), of the tickets answered.
    pub first_response_time: Distribution,
    /// Time to the solve, on each ticket's own clock (pauses left out), of the tickets solved.
    pub resolution_time: Distribution,
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
    pub documentation: Documentation,
    pub volume: Volume,
    pub cases_per_customer: Option<f64>,
    pub replies_per_ticket: Option<f64>,
    pub replies_per_ticket_median: Option<f64>,
    pub avg_time_between_replies_seconds: ReplyTimes,
    pub per_severity: BTreeMap<String, Clocks>,
    pub per_tier: BTreeMap<String, Clocks>,
    /// Each organization's vitals, most at risk first (`kpi::customers`).
    pub customers: Vec<CustomerVitals>,
    /// Set when the rows were judged again under today's policy (`report --rejudge`) rather
    /// than read as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejudged: Option<Rejudged>,
}

/// What `report --rejudge` did: the figures above are today's policy's, not the stored history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejudged {
    /// Tickets judged again from their stored facts.
    pub tickets: u64,
    /// Of those, the ones whose figures differ from the stored (frozen or live) row.
    pub changed: u64,
    /// Tickets whose facts were compacted away: counted as stored.
    pub kept_as_stored: u64,
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
    replies: u64,
    support: (i64, u64),
    customer: (i64, u64),
    breaches: Breaches,
    /// Per severity and per tier: first-response and resolution times.
    times: [BTreeMap<String, [Vec<i64>; 2]>; 2],
    replies_each: Vec<i64>,
    customers: Customers,
    open_now: HashMap<Option<u64>, OpenNow>,
}

/// Calendar months `[from, to)` spans in `zone`, a part month in proportion to its length
/// (November 2026 is 1, its first week 7/30). Constant time, whatever the range.
pub fn months_spanned(from: Timestamp, to: Timestamp, zone: chrono_tz::Tz) -> f64 {
    use chrono::Datelike;
    let average = || (to - from).max(0) as f64 / (30.436875 * 86_400.0);
    let month_of = |at: Timestamp| zone.timestamp_opt(at, 0).single().map(|t| (t.year(), t.month()));
    let bounds = |(year, month): (i32, u32)| super::range::month(&format!("{year:04}-{month:02}"), zone).ok();
    let (Some(first), Some(last)) = (month_of(from), month_of(to - 1)) else {
        return average();
    };
    let (Some((first_start, first_end)), Some((last_start, last_end))) = (bounds(first), bounds(last)) else {
        return average();
    };
    if first == last {
        return (to - from) as f64 / (first_end - first_start) as f64;
    }
    let whole_between = i64::from(last.0 - first.0) * 12 + i64::from(last.1) - i64::from(first.1) - 1;
    (first_end - from) as f64 / (first_end - first_start) as f64
        + whole_between as f64
        + (to - last_start) as f64 / (last_end - last_start) as f64
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
        report.engineering_help.months = months_spanned(from, to, zone);
        let most_severe = config.policy.severities.first().map_or("", String::as_str);
        ReportBuilder {
            config,
            organizations,
            known,
            report,
            replies: 0,
            support: (0, 0),
            customer: (0, 0),
            breaches: Breaches::default(),
            times: Default::default(),
            replies_each: Vec::new(),
            customers: Customers::new(most_severe),
            open_now: HashMap::new(),
        }
    }

    /// Open tickets now by organization, for the customers' `open_now`.
    pub fn open_now(mut self, open: HashMap<Option<u64>, OpenNow>) -> Self {
        self.open_now = open;
        self
    }

    /// Also keeps the first `limit` breached tickets (`finish_with_breaches`).
    pub fn keep_breaches(mut self, limit: usize) -> Self {
        self.breaches.limit = limit;
        self
    }

    pub fn add(&mut self, row: &KpiRow) {
        let now = self.known;
        let outcomes = [("first response", row.first_response), ("resolution", row.resolution)];
        if outcomes.iter().any(|(_, outcome)| outcome.at(now) == Outcome::Breached) {
            self.breaches.total += 1;
            if self.breaches.tickets.len() < self.breaches.limit {
                let names = outcomes
                    .iter()
                    .filter(|(_, o)| o.at(now) == Outcome::Breached)
                    .map(|(name, _)| *name);
                self.breaches.tickets.push((row.id, names.collect()));
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
        let resolution_time = row.resolution_time.filter(|_| row.solved_at.is_some());
        for (times, key) in self.times.iter_mut().zip([severity, row.tier.as_str()]) {
            if row.first_response_time.is_none() && resolution_time.is_none() {
                break;
            }
            let entry = match times.get_mut(key) {
                Some(entry) => entry,
                None => times.entry(key.to_string()).or_default(),
            };
            entry[0].extend(row.first_response_time);
            entry[1].extend(resolution_time);
        }
        self.replies_each.push(i64::from(row.replies));
        self.customers.add(row, now);
        if let Some(kind) = row.ticket_type.as_deref() {
            if self.config.report.question_types.iter().any(|q| q == kind) {
                let docs = &mut r.documentation;
                match row.solved_at {
                    Some(_) => {
                        docs.solved_questions += 1;
                        docs.with_docs_link += u64::from(row.docs_linked);
                    }
                    None => docs.open_questions += 1,
                }
            }
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
        r.csat.finish(targets.csat);
        help.requests_per_month = (help.months > 0.0).then(|| help.requests as f64 / help.months);
        let docs = &mut r.documentation;
        docs.configured = !self.config.report.question_types.is_empty() && !self.config.report.docs_url_prefixes.is_empty();
        docs.share = share(docs.with_docs_link, docs.solved_questions).filter(|_| docs.configured);
        docs.target = targets.documentation;
        for (map, times) in [&mut r.per_severity, &mut r.per_tier].into_iter().zip(&mut self.times) {
            for (key, [first_response, resolution]) in times.iter_mut() {
                if let Some(clocks) = map.get_mut(key) {
                    clocks.first_response_time = Distribution::of(first_response);
                    clocks.resolution_time = Distribution::of(resolution);
                }
            }
        }
        r.replies_per_ticket_median = quantile(&mut self.replies_each, 0.5);
        r.customers = std::mem::take(&mut self.customers).finish(self.organizations, &self.open_now, &targets);
        // Tickets by customer, from the vitals (which count every row by organization once).
        let mut organizations = 0;
        for v in r.customers.iter().filter(|v| v.tickets_created > 0) {
            *r.volume.by_customer.entry(v.name.clone()).or_default() += v.tickets_created;
            organizations += u64::from(v.organization_id.is_some());
        }
        r.cases_per_customer = share(r.tickets_created, organizations);
        r.replies_per_ticket = share(self.replies, r.tickets_created);
        r.avg_time_between_replies_seconds = ReplyTimes {
            support: (self.support.1 > 0).then(|| self.support.0 as f64 / self.support.1 as f64),
            customer: (self.customer.1 > 0).then(|| self.customer.0 as f64 / self.customer.1 as f64),
        };
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::months_spanned;
    use crate::sla::time::parse_rfc3339;

    #[test]
    fn months_are_counted_in_the_report_zone_part_months_in_proportion() {
        let la: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap_or(chrono_tz::Tz::UTC);
        let at = |text: &str| parse_rfc3339(text).unwrap_or_default();
        let months = |from: &str, to: &str| months_spanned(at(from), at(to), la);
        assert_eq!(months("2026-11-01T00:00:00-07:00", "2026-12-01T00:00:00-08:00"), 1.0);
        assert_eq!(months("2026-10-01T00:00:00-07:00", "2027-01-01T00:00:00-08:00"), 3.0);
        assert_eq!(months("2025-01-01T00:00:00-08:00", "2026-01-01T00:00:00-08:00"), 12.0);
        let week = months("2026-11-25T00:00:00-08:00", "2026-12-02T00:00:00-08:00");
        // November in Los Angeles is 30 days and an hour long (DST ends on the 1st).
        assert!(
            (week - (6.0 * 86_400.0 / (30.0 * 86_400.0 + 3_600.0) + 1.0 / 31.0)).abs() < 1e-9,
            "{week}"
        );
        // Centuries cost no more than a month.
        assert!((months("1900-01-01T00:00:00-08:00", "2026-11-01T00:00:00-07:00") - 1522.0).abs() < 0.01);
    }
}
