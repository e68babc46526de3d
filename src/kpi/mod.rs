//! The support team's KPIs, from the rows the store keeps beside each ticket: the report over a
//! range (`slawatch report`, `/report`), and the weekly digest. Pure: `engine::kpis` reads the
//! rows from the store.

pub mod customers;
pub mod digest;
pub mod distribution;
pub mod docs;
pub mod figures;
pub mod format;
pub mod freeze;
pub mod range;
pub mod report;
mod row;
pub mod views;

pub use report::{Report, ReportBuilder};
pub use row::{KpiRow, Outcome, RowInputs, Satisfaction, Waits};
