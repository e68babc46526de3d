//! Which targets apply to a ticket: tier × severity × metric, contract
//! overrides per organization, and the team's internal goals.

use std::collections::BTreeMap;
use std::fmt;

use regex::RegexSet;

use super::calendar::Schedule;
use super::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    FirstResponse,
    Resolution,
}

impl Metric {
    pub const ALL: [Metric; 2] = [Metric::FirstResponse, Metric::Resolution];

    pub fn key(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::Resolution => "resolution",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Metric::FirstResponse => "first response",
            Metric::Resolution => "resolution",
        })
    }
}

/// A contractual target, or an internal goal (softer alerts, reported apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    Contract,
    Goal,
}

/// When to warn before a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// At this share of the target used, in percent (exclusive of 0 and 100).
    Percent(u8),
    /// When this much of the target is left.
    Before(Duration),
}

impl Threshold {
    /// Clock time into the target at which the threshold is crossed, if it falls inside it.
    pub fn mark(self, target: Duration) -> Option<i64> {
        let mark = match self {
            Threshold::Percent(p) => (i128::from(target.0) * i128::from(p) / 100) as i64,
            Threshold::Before(lead) => target.0 - lead.0,
        };
        (mark > 0 && mark < target.0).then_some(mark)
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Percent(p) => write!(f, "{p}%"),
            Threshold::Before(d) => write!(f, "{d} before"),
        }
    }
}

/// Index of a schedule in `Policy::schedules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScheduleId(pub usize);

impl ScheduleId {
    /// The 24×7 calendar: the config always lists it first.
    pub const CALENDAR: ScheduleId = ScheduleId(0);
}

#[derive(Debug, Clone)]
pub struct NamedSchedule {
    pub name: String,
    pub schedule: Schedule,
}

/// A target as configured for one metric; thresholds default to the policy's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub duration: Duration,
    pub thresholds: Option<Vec<Threshold>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricTargets {
    pub first_response: Option<TargetSpec>,
    pub resolution: Option<TargetSpec>,
}

impl MetricTargets {
    pub fn get(&self, metric: Metric) -> Option<&TargetSpec> {
        match metric {
            Metric::FirstResponse => self.first_response.as_ref(),
            Metric::Resolution => self.resolution.as_ref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub schedule: ScheduleId,
    /// Severity → targets. A severity or metric missing here has no contractual target.
    pub targets: BTreeMap<String, MetricTargets>,
}

/// A custom contract: a base tier with any schedule or target overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub tier: String,
    pub schedule: Option<ScheduleId>,
    pub targets: BTreeMap<String, MetricTargets>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub name: String,
    pub metric: Metric,
    /// Empty: every severity.
    pub severities: Vec<String>,
    /// Empty: every tier.
    pub tiers: Vec<String>,
    pub duration: Duration,
    pub schedule: ScheduleId,
    /// Share of tickets meant to meet the goal, in percent (for reports).
    pub attainment_percent: f64,
    pub thresholds: Vec<Threshold>,
}

#[derive(Debug, Clone)]
pub struct FirstResponseRules {
    /// A comment shorter than this (in characters, trimmed) is not a response.
    pub min_length: usize,
    /// Bots and integrations whose comments never count.
    pub bot_user_ids: Vec<u64>,
    /// A comment matching any of these is an acknowledgement, not a response.
    pub acknowledgements: RegexSet,
}

impl FirstResponseRules {
    /// The facts kept of a comment's body: its length in characters (trimmed), and whether it
    /// matches an acknowledgement pattern. The body itself is not kept.
    pub fn read(&self, body: &str) -> (u32, bool) {
        let body = body.trim();
        let length = u32::try_from(body.chars().count()).unwrap_or(u32::MAX);
        (length, self.acknowledgements.is_match(body))
    }

    /// Whether a public agent comment with these facts is a substantive response rather than an
    /// acknowledgement. The length is checked against the current minimum, so changing it applies
    /// to stored comments too.
    pub fn is_substantive(&self, length: u32, acknowledgement: bool) -> bool {
        length as usize >= self.min_length && !acknowledgement
    }

    /// Whether a body would count as a substantive response.
    pub fn is_substantive_text(&self, body: &str) -> bool {
        let (length, acknowledgement) = self.read(body);
        self.is_substantive(length, acknowledgement)
    }

    pub fn is_bot(&self, author_id: u64) -> bool {
        self.bot_user_ids.contains(&author_id)
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub schedules: Vec<NamedSchedule>,
    pub severities: Vec<String>,
    pub default_severity: String,
    pub default_tier: String,
    pub tiers: BTreeMap<String, Tier>,
    pub contracts: BTreeMap<String, Contract>,
    pub goals: Vec<Goal>,
    /// Ticket statuses (lower case) during which each metric's clock is paused.
    pub pause_first_response: Vec<String>,
    pub pause_resolution: Vec<String>,
    pub thresholds: Vec<Threshold>,
    /// After a breach, remind every this much clock time; None: no reminders.
    pub reminder_every: Option<Duration>,
    pub first_response: FirstResponseRules,
}

/// One target that applies to a ticket, resolved to its schedule and thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedTarget {
    pub metric: Metric,
    pub kind: TargetKind,
    /// `contract`, or the goal's name.
    pub name: String,
    pub duration: Duration,
    pub schedule: ScheduleId,
    pub thresholds: Vec<Threshold>,
}

/// Who the ticket is for, as far as the policy cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Customer {
    pub tier: Option<String>,
    pub contract: Option<String>,
}

impl Policy {
    pub fn schedule(&self, id: ScheduleId) -> &Schedule {
        &self.schedules[id.0].schedule
    }

    pub fn schedule_name(&self, id: ScheduleId) -> &str {
        &self.schedules[id.0].name
    }

    pub fn schedule_id(&self, name: &str) -> Option<ScheduleId> {
        self.schedules.iter().position(|s| s.name == name).map(ScheduleId)
    }

    /// The configured severity for `raw`, or the default and `false` (unclassified).
    pub fn severity<'a>(&'a self, raw: Option<&'a str>) -> (&'a str, bool) {
        match raw {
            Some(s) if self.severities.iter().any(|known| known == s) => (s, true),
            _ => (&self.default_severity, false),
        }
    }

    /// The tier a customer is on: a contract's base tier, the named tier, or the default.
    pub fn tier_name<'a>(&'a self, customer: &'a Customer) -> &'a str {
        if let Some(contract) = customer.contract.as_deref().and_then(|c| self.contracts.get(c)) {
            return &contract.tier;
        }
        match customer.tier.as_deref() {
            Some(t) if self.tiers.contains_key(t) => t,
            _ => &self.default_tier,
        }
    }

    /// The schedule a customer's contractual clocks count on: its contract's, else its tier's
    /// (the calendar when the tier is unknown).
    pub fn customer_schedule(&self, customer: &Customer) -> ScheduleId {
        let contract = customer.contract.as_deref().and_then(|c| self.contracts.get(c));
        let tier = self.tiers.get(self.tier_name(customer)).map(|t| t.schedule);
        contract.and_then(|c| c.schedule).or(tier).unwrap_or(ScheduleId::CALENDAR)
    }

    pub fn is_paused(&self, metric: Metric, status: &str) -> bool {
        let statuses = match metric {
            Metric::FirstResponse => &self.pause_first_response,
            Metric::Resolution => &self.pause_resolution,
        };
        statuses.iter().any(|s| s == status)
    }

    /// Every target for `metric` on a ticket of this customer and severity: the
    /// contractual one (if any) first, then each matching goal.
    pub fn targets(&self, customer: &Customer, severity: &str, metric: Metric) -> Vec<AppliedTarget> {
        let tier_name = self.tier_name(customer);
        let mut out = Vec::new();
        if let Some(tier) = self.tiers.get(tier_name) {
            let contract = customer.contract.as_deref().and_then(|c| self.contracts.get(c));
            let schedule = contract.and_then(|c| c.schedule).unwrap_or(tier.schedule);
            let spec = contract
                .and_then(|c| c.targets.get(severity))
                .and_then(|t| t.get(metric))
                .or_else(|| tier.targets.get(severity).and_then(|t| t.get(metric)));
            if let Some(spec) = spec {
                out.push(AppliedTarget {
                    metric,
                    kind: TargetKind::Contract,
                    name: "contract".to_string(),
                    duration: spec.duration,
                    schedule,
                    thresholds: spec.thresholds.clone().unwrap_or_else(|| self.thresholds.clone()),
                });
            }
        }
        for goal in &self.goals {
            let applies = goal.metric == metric
                && (goal.severities.is_empty() || goal.severities.iter().any(|s| s == severity))
                && (goal.tiers.is_empty() || goal.tiers.iter().any(|t| t == tier_name));
            if applies {
                out.push(AppliedTarget {
                    metric,
                    kind: TargetKind::Goal,
                    name: goal.name.clone(),
                    duration: goal.duration,
                    schedule: goal.schedule,
                    thresholds: goal.thresholds.clone(),
                });
            }
        }
        out
    }
}

/// Why a ticket got a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// The field the config names is not on the ticket (or organization) at all: the account
    /// has no such field, or it is inactive.
    FieldMissing,
    /// The field is there with no value (and no tag or priority said otherwise).
    FieldEmpty,
    /// It holds a value the config does not map.
    NotMapped,
    /// The ticket has no organization: the default tier by design, not drift.
    NoOrganization,
}

impl Fallback {
    pub fn label(self) -> &'static str {
        match self {
            Fallback::FieldMissing => "field_missing",
            Fallback::FieldEmpty => "field_empty",
            Fallback::NotMapped => "not_mapped",
            Fallback::NoOrganization => "no_organization",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Fallback::FieldMissing => "field missing",
            Fallback::FieldEmpty => "field empty",
            Fallback::NotMapped => "value not mapped",
            Fallback::NoOrganization => "no organization",
        }
    }

    /// Whether it counts as drift: a field missing or a value not mapped (a ticket without an
    /// organization, or with the field empty, is on the default by design).
    pub fn is_drift(self) -> bool {
        // An empty field is an untriaged ticket (or organization), not a broken config: shown
        // in /metrics, not counted against [admin] fallback_max.
        matches!(self, Fallback::FieldMissing | Fallback::NotMapped)
    }
}
