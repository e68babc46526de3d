//! How the polls are going: the daemon's loop reports each one here, and `/readyz` reads it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use crate::sync::lock;

/// How the polls are going.
#[derive(Debug, Default)]
pub struct Health {
    /// When the last complete poll finished (ms); 0 before the first.
    last_success_ms: AtomicI64,
    last_error: Mutex<Option<String>>,
}

impl Health {
    pub fn poll_succeeded(&self, at_ms: i64) {
        self.last_success_ms.store(at_ms, Ordering::Relaxed);
        *lock(&self.last_error) = None;
    }

    pub fn poll_failed(&self, error: String) {
        *lock(&self.last_error) = Some(error);
    }

    pub fn last_success_ms(&self) -> Option<i64> {
        Some(self.last_success_ms.load(Ordering::Relaxed)).filter(|&ms| ms > 0)
    }

    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }
}
