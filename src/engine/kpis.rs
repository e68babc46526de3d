//! The KPIs of a range, read from the store's rows (`slawatch report`, `/report`, the digest and
//! `/metrics`).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::kpi::{Report, ReportBuilder};
use crate::sla::time::Timestamp;
use crate::store::{Store, StoreError};

/// Organization names by id, for `by_customer`.
pub fn organization_names(store: &Store) -> Result<BTreeMap<u64, String>, StoreError> {
    Ok(store.organizations()?.into_iter().map(|o| (o.id, o.name)).collect())
}

/// How far the stored facts are known at `now`: through the last complete poll (less Zendesk's
/// one-minute horizon), never later than now; nothing is known before a first complete poll.
pub fn known_through(store: &Store, now: Timestamp) -> Result<Timestamp, StoreError> {
    Ok(store.facts_as_of()?.map_or(Timestamp::MIN, |at| at.min(now)))
}

/// The KPIs of the tickets created in `[from, to)`, as the stored facts stand at `now`.
pub fn report(config: &Config, store: &Store, from: Timestamp, to: Timestamp, now: Timestamp) -> Result<Report, StoreError> {
    let organizations = organization_names(store)?;
    let mut builder = ReportBuilder::new(config, &organizations, from, to, known_through(store, now)?);
    for row in store.kpi_rows(from, to) {
        builder.add(&row?);
    }
    Ok(builder.finish())
}
