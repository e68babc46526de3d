//! What alerts say: Slack Block Kit, generic JSON webhooks, and internal notes on the
//! ticket, rendered at delivery from the clock as it is then; and how a message is posted to a
//! channel (`post`).

pub mod escalation;
pub mod message;
pub mod post;
pub mod wording;
