//! The daemon: poll the exports, apply what changed, evaluate clocks, keep
//! the store current; shut down cleanly.

pub mod alerts;
pub mod apply;
pub mod board;
pub mod daemon;
pub mod deliver;
pub mod digest;
pub mod directory;
pub mod drift;
pub mod drift_watch;
#[allow(clippy::module_inception)]
mod engine;
pub mod escalate;
pub mod evaluate;
pub mod gauges;
pub mod health;
pub mod kpis;
pub mod owed;
pub mod owed_work;
pub mod page;
pub mod people;
pub mod poll;
pub mod preflight;
pub mod push;
pub mod readiness;
pub mod refresh;
pub mod retention;
pub mod status;

pub use engine::{Engine, EngineError, POST_TIMEOUT};
