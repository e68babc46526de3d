//! Zendesk: the client and the JSON it reads.

pub mod account;
pub mod client;
pub mod models;
pub mod pacing;
mod repair;
pub mod setup;
pub mod webhook;
