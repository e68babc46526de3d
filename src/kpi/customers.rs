//! Account vitals: each organization's figures over the report's range, for a quarterly
//! business review, ordered most at risk first.
//!
//! The order, simple enough to explain on a slide: most tickets with a breached contractual
//! clock first; then the lowest attainment (first response or resolution, whichever is lower;
//! an account with nothing judged yet counts as 100%); then the most bad satisfaction ratings;
//! then the most tickets open now; then by name.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::distribution::quantile;
use super::report::{Attainment, Csat, NO_ORGANIZATION};
use super::row::{KpiRow, Outcome, Satisfaction};
use crate::config::KpiTargets;
use crate::sla::time::Timestamp;

/// One organization's vitals. The field order is the JSON's and the CSV's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerVitals {
    pub organization_id: Option<u64>,
    pub name: String,
    /// As its latest ticket in the range was judged.
    pub tier: String,
    pub contract: Option<String>,
    pub tickets_created: u64,
    /// Its tickets open at the moment of the report, whenever created.
    pub open_now: u64,
    /// Tickets of the most severe severity (the first of `policy.severities`).
    pub most_severe_tickets: u64,
    pub first_response: Attainment,
    pub resolution: Attainment,
    /// Tickets with a breached contractual clock (first response or resolution).
    pub breached_tickets: u64,
    pub engineering_help_requests: u64,
    pub csat: Csat,
    /// Median time to resolution of its solved tickets, on each ticket's own clock.
    pub median_resolution_seconds: Option<f64>,
}

impl CustomerVitals {
    /// The lower of the two attainments; 1 when neither has anything judged.
    fn worst_attainment(&self) -> f64 {
        [self.first_response.attainment, self.resolution.attainment]
            .into_iter()
            .flatten()
            .fold(1.0, f64::min)
    }
}

/// An organization's tickets open now, with its tier and contract as the directory has them
/// now (for an organization with open tickets but none created in the range).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenNow {
    pub tickets: u64,
    pub tier: String,
    pub contract: Option<String>,
}

/// Most at risk first (see the module's comment).
pub fn at_risk_first(a: &CustomerVitals, b: &CustomerVitals) -> Ordering {
    b.breached_tickets
        .cmp(&a.breached_tickets)
        .then(a.worst_attainment().total_cmp(&b.worst_attainment()))
        .then(b.csat.bad.cmp(&a.csat.bad))
        .then(b.open_now.cmp(&a.open_now))
        .then_with(|| a.name.cmp(&b.name))
        .then(a.organization_id.cmp(&b.organization_id))
}

/// Builds the vitals as rows stream by.
#[derive(Default)]
pub struct Customers {
    by_organization: HashMap<Option<u64>, (CustomerVitals, Vec<i64>)>,
    most_severe: String,
}

impl Customers {
    pub fn new(most_severe: &str) -> Customers {
        Customers {
            most_severe: most_severe.to_string(),
            ..Customers::default()
        }
    }

    pub fn add(&mut self, row: &KpiRow, now: Timestamp) {
        let (v, times) = self.by_organization.entry(row.organization_id).or_default();
        // Into the strings already there: no allocation a row.
        v.tier.clear();
        v.tier.push_str(&row.tier);
        match (&mut v.contract, &row.contract) {
            (Some(kept), Some(contract)) => {
                kept.clear();
                kept.push_str(contract);
            }
            (kept, contract) => *kept = contract.as_deref().map(str::to_string),
        }
        v.tickets_created += 1;
        if row.classified && row.severity == self.most_severe {
            v.most_severe_tickets += 1;
        }
        v.first_response.add(row.first_response, now);
        v.resolution.add(row.resolution, now);
        if [row.first_response, row.resolution].iter().any(|o| o.at(now) == Outcome::Breached) {
            v.breached_tickets += 1;
        }
        v.engineering_help_requests += u64::from(row.help_requested);
        match row.satisfaction {
            Satisfaction::Good => v.csat.good += 1,
            Satisfaction::Bad => v.csat.bad += 1,
            Satisfaction::Unrated => {}
        }
        if row.solved_at.is_some() {
            times.extend(row.resolution_time);
        }
    }

    /// The vitals, most at risk first. `names`: organization names by id; `open_now`: open
    /// tickets by organization (an organization with open tickets but none created in the range
    /// is listed too: old open tickets are a risk).
    pub fn finish(
        mut self,
        names: &BTreeMap<u64, String>,
        open_now: &HashMap<Option<u64>, OpenNow>,
        targets: &KpiTargets,
    ) -> Vec<CustomerVitals> {
        for (&org, open) in open_now {
            let (v, _) = self.by_organization.entry(org).or_insert_with(|| {
                (
                    CustomerVitals {
                        tier: open.tier.clone(),
                        contract: open.contract.clone(),
                        ..CustomerVitals::default()
                    },
                    Vec::new(),
                )
            });
            v.open_now = open.tickets;
        }
        let mut out: Vec<CustomerVitals> = self
            .by_organization
            .into_iter()
            .map(|(org, (mut v, mut times))| {
                v.organization_id = org;
                v.name = match org {
                    Some(id) => names.get(&id).cloned().unwrap_or_else(|| format!("organization {id}")),
                    None => NO_ORGANIZATION.to_string(),
                };
                v.first_response.finish(targets.first_response);
                v.resolution.finish(targets.resolution);
                v.csat.finish(targets.csat);
                v.median_resolution_seconds = quantile(&mut times, 0.5);
                v
            })
            .collect();
        out.sort_by(at_risk_first);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vitals(name: &str, breached: u64, attainment: Option<f64>, bad: u64, open: u64) -> CustomerVitals {
        CustomerVitals {
            name: name.into(),
            breached_tickets: breached,
            first_response: Attainment {
                attainment,
                ..Attainment::default()
            },
            csat: Csat { bad, ..Csat::default() },
            open_now: open,
            ..CustomerVitals::default()
        }
    }

    #[test]
    fn breaches_then_attainment_then_bad_ratings_then_open_then_name() {
        let mut list = [
            vitals("zeta", 0, None, 0, 0),
            vitals("quiet", 0, Some(1.0), 0, 3),
            vitals("rated badly", 0, Some(1.0), 2, 0),
            vitals("slipping", 0, Some(0.5), 0, 0),
            vitals("breached", 1, Some(0.9), 0, 0),
            vitals("alpha", 0, None, 0, 0),
        ];
        list.sort_by(at_risk_first);
        let names: Vec<&str> = list.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["breached", "slipping", "rated badly", "quiet", "alpha", "zeta"]);
    }
}
