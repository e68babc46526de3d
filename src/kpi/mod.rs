//! The support team's KPIs, from the rows the store keeps beside each ticket: the report over a
//! range (`slawatch report`, `/report`), and the weekly digest. Pure: `engine::kpis` reads the
//! rows from the store.

pub mod digest;
pub mod format;
pub mod range;
pub mod report;
mod row;

pub use report::{Report, ReportBuilder};
pub use row::{KpiRow, Outcome, RowInputs, Satisfaction, Waits};
