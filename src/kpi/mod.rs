//! The support team's KPIs, from the rows the store keeps beside each ticket: the report over a
//! range (`slawatch report`, `/report`), and the weekly digest.

use std::collections::BTreeMap;

pub mod digest;
pub mod format;
pub mod range;
pub mod report;
mod row;

pub use report::{Report, ReportBuilder};
pub use row::{KpiRow, Outcome, RowInputs, Satisfaction, Waits};

use crate::config::Config;
use crate::sla::time::Timestamp;
use crate::store::{Store, StoreError};

/// Organization names by id, for `by_customer`.
pub fn organization_names(store: &Store) -> Result<BTreeMap<u64, String>, StoreError> {
    Ok(store.organizations()?.into_iter().map(|o| (o.id, o.name)).collect())
}

/// The KPIs of the tickets created in `[from, to)`, as they stand at `now`.
pub fn report(config: &Config, store: &Store, from: Timestamp, to: Timestamp, now: Timestamp) -> Result<Report, StoreError> {
    let organizations = organization_names(store)?;
    let mut builder = ReportBuilder::new(config, &organizations, from, to, now);
    for row in store.kpi_rows(from, to) {
        builder.add(&row?);
    }
    Ok(builder.finish())
}
