//! What alerts say: Slack Block Kit, generic JSON webhooks, internal notes on the ticket and
//! pages, rendered at delivery from the clock as it is then; and how a message is posted to a
//! channel (`post`).

pub mod escalation;
pub mod message;
pub mod page;
pub mod post;
pub mod wording;
