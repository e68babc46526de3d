//! What alerts say: Slack Block Kit, generic JSON webhooks, and internal notes on the
//! ticket, rendered at delivery from the clock as it is then.

pub mod message;
pub mod wording;
