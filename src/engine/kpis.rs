//! The KPIs of a range, read from the store's rows (`slawatch report`, `/report`, the digest and
//! `/metrics`), or judged again under today's policy (`report --rejudge`).

use std::collections::{BTreeMap, HashMap};

use super::apply::{clocks_and_kpi, customer_of_organization, facts_complete, known_through as facts_known_through};
use super::directory::load_directory;
use crate::config::Config;
use crate::kpi::customers::OpenNow;
use crate::kpi::report::Rejudged;
use crate::kpi::{KpiRow, Report, ReportBuilder};
use crate::sla::time::Timestamp;
use crate::store::{KpiChange, OrganizationRecord, Store, StoreError};

/// Organization names by id, for `by_customer`.
pub fn organization_names(store: &Store) -> Result<BTreeMap<u64, String>, StoreError> {
    Ok(store.organizations()?.into_iter().map(|o| (o.id, o.name)).collect())
}

/// How far the stored facts are known at `now`: through the last complete poll (less Zendesk's
/// one-minute horizon), never later than now; nothing is known before a first complete poll.
pub fn known_through(store: &Store, now: Timestamp) -> Result<Timestamp, StoreError> {
    Ok(store.facts_as_of()?.map_or(Timestamp::MIN, |at| at.min(now)))
}

/// What every range's report reads alike: organization names, the open tickets now by
/// organization, and how far the facts are known. Read once for a quarter and its baseline.
struct Shared {
    names: BTreeMap<u64, String>,
    open: HashMap<Option<u64>, OpenNow>,
    known: Timestamp,
}

impl Shared {
    fn read(config: &Config, store: &Store, now: Timestamp) -> Result<Shared, StoreError> {
        let organizations: HashMap<u64, OrganizationRecord> = store.organizations()?.into_iter().map(|o| (o.id, o)).collect();
        Ok(Shared {
            names: organizations.values().map(|o| (o.id, o.name.clone())).collect(),
            open: open_now(config, store, &organizations)?,
            known: known_through(store, now)?,
        })
    }

    fn builder<'a>(&'a self, config: &'a Config, from: Timestamp, to: Timestamp) -> ReportBuilder<'a> {
        ReportBuilder::new(config, &self.names, from, to, self.known).open_now(self.open.clone())
    }
}

/// Each organization's open tickets now, with its tier and contract as the directory has them.
fn open_now(
    config: &Config,
    store: &Store,
    organizations: &HashMap<u64, OrganizationRecord>,
) -> Result<HashMap<Option<u64>, OpenNow>, StoreError> {
    let policy = &config.policy;
    Ok(store
        .open_by_organization()?
        .into_iter()
        .map(|(org, tickets)| {
            let customer = org
                .and_then(|id| organizations.get(&id))
                .map(|o| customer_of_organization(o, &config.customers))
                .unwrap_or_default();
            let open = OpenNow {
                tickets,
                tier: policy.tier_name(&customer).to_string(),
                contract: customer.contract.filter(|c| policy.contracts.contains_key(c)),
            };
            (org, open)
        })
        .collect())
}

/// The KPIs of the tickets created in `[from, to)`, as the stored facts stand at `now`.
pub fn report(config: &Config, store: &Store, from: Timestamp, to: Timestamp, now: Timestamp) -> Result<Report, StoreError> {
    stored_report(config, store, &Shared::read(config, store, now)?, from, to)
}

fn stored_report(config: &Config, store: &Store, shared: &Shared, from: Timestamp, to: Timestamp) -> Result<Report, StoreError> {
    let mut builder = shared.builder(config, from, to);
    for row in store.kpi_rows(from, to) {
        builder.add(&row?);
    }
    Ok(builder.finish())
}

/// The KPIs of each range, in order, from the store as it is now.
pub fn reports(
    config: &Config,
    store: &Store,
    ranges: &[(Timestamp, Timestamp)],
    now: Timestamp,
    rejudge: bool,
) -> Result<Vec<Report>, StoreError> {
    let shared = Shared::read(config, store, now)?;
    let directory = if rejudge { Some(load_directory(store)?) } else { None };
    ranges
        .iter()
        .map(|&(from, to)| match &directory {
            Some(directory) => rejudge_with(config, store, &shared, directory, from, to, now),
            None => stored_report(config, store, &shared, from, to),
        })
        .collect()
}

/// The KPIs of `[from, to)` with every ticket whose facts are still stored judged again under
/// today's policy and directory, frozen or not. Nothing is written: the stored history stays
/// as it was. A compacted ticket (its facts gone) counts as stored, and is counted as such.
pub fn rejudged_report(config: &Config, store: &Store, from: Timestamp, to: Timestamp, now: Timestamp) -> Result<Report, StoreError> {
    let shared = Shared::read(config, store, now)?;
    rejudge_with(config, store, &shared, &load_directory(store)?, from, to, now)
}

fn rejudge_with(
    config: &Config,
    store: &Store,
    shared: &Shared,
    directory: &super::directory::Directory,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Result<Report, StoreError> {
    let through = store.cursors()?.events_through;
    let mut builder = shared.builder(config, from, to);
    let mut rejudged = Rejudged::default();
    for stored in store.kpi_rows(from, to) {
        let stored = stored?;
        let again = match store.ticket(stored.id)? {
            // Facts still awaiting the events export: nothing is judged on them yet.
            Some(record) if facts_complete(&record, through) => {
                let known = facts_known_through(&record, through).unwrap_or(Timestamp::MIN).min(now);
                match clocks_and_kpi(config, &record, directory, now, known) {
                    Some((_, KpiChange::Put(row))) => Some(*row),
                    // Deleted since: it counts nowhere.
                    Some((_, KpiChange::Remove { .. })) => {
                        rejudged.tickets += 1;
                        rejudged.changed += 1;
                        continue;
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let row: KpiRow = match again {
            Some(row) => {
                rejudged.tickets += 1;
                rejudged.changed += u64::from(row != stored);
                row
            }
            None => {
                rejudged.kept_as_stored += 1;
                stored
            }
        };
        builder.add(&row);
    }
    let mut report = builder.finish();
    report.rejudged = Some(rejudged);
    Ok(report)
}
