//! GitHub: the REST client (issues, comments, search, ETags) and its models.

pub mod client;
pub mod models;
