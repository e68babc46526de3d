//! Locks that outlive a panic: a poisoned mutex still guards consistent data here (every
//! critical section writes whole values), so it is taken rather than spread the panic.

use std::sync::{Mutex, MutexGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `work`, which may block (an fsync, a whole-store scan, a lock another thread holds across
/// one), without holding up the async workers: on a worker of the multi-threaded runtime, the
/// runtime hands the worker's other tasks to another thread first (`block_in_place`). Elsewhere
/// (a blocking thread, a single-threaded test runtime, no runtime) it runs as it is.
pub fn blocking<R>(work: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}
