//! Escalation to engineering: which tickets request it, the GitHub issue each request files
//! (title, labels, body, with customer contact details redacted), and keeping the two linked.

pub mod inert;
pub mod issue;
pub mod redact;
pub mod template;
