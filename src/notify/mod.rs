//! Delivering alerts: Slack incoming webhooks, generic JSON webhooks, and
//! internal notes on the ticket. Each delivery is idempotent by the alert's
//! key: a note is looked for before it is written.

pub mod message;
