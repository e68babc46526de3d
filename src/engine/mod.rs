//! The daemon: poll the exports, apply what changed, evaluate clocks, keep
//! the store current; shut down cleanly.

pub mod alerts;
pub mod apply;
pub mod daemon;
pub mod deliver;
pub mod digest;
pub mod directory;
pub mod escalate;
pub mod health;
pub mod poll;
pub mod retention;
pub mod status;
