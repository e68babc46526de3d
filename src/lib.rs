//! slawatch: SLA clocks, breach warnings and engineering escalation for a
//! support team on Zendesk.

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod engine;
pub mod escalate;
pub mod github;
pub mod kpi;
pub mod liveness;
pub mod marker;
pub mod metrics;
pub mod notify;
pub mod preflight;
pub mod retry;
pub mod sim;
pub mod sla;
pub mod slack;
pub mod store;
pub mod sync;
pub mod zendesk;
