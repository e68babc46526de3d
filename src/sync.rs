//! Locks that outlive a panic: a poisoned mutex still guards consistent data here (every
//! critical section writes whole values), so it is taken rather than spread the panic.

use std::sync::{Mutex, MutexGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
