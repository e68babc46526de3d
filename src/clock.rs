//! The one source of "now" and of waiting, so that tests and the demo can
//! run in virtual or accelerated time while the daemon runs on the wall clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sla::time::Timestamp;

#[derive(Clone, Debug)]
pub struct Clock(Arc<Kind>);

#[derive(Debug)]
enum Kind {
    System,
    /// Virtual time: only `advance` and `sleep` move it, and `sleep` moves it at once.
    Manual(AtomicI64),
    /// World time running `speed` times faster than the wall clock from `world_start`.
    Scaled {
        real_start: Instant,
        /// Moved by `set`, so a test can write history in the past and then let time run.
        world_start_ms: AtomicI64,
        speed: f64,
    },
}

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(Kind::System))
    }

    pub fn manual(start: Timestamp) -> Clock {
        Clock(Arc::new(Kind::Manual(AtomicI64::new(start * 1000))))
    }

    pub fn scaled(world_start: Timestamp, speed: f64) -> Clock {
        Clock(Arc::new(Kind::Scaled {
            real_start: Instant::now(),
            world_start_ms: AtomicI64::new(world_start * 1000),
            speed,
        }))
    }

    /// Whether this is the wall clock (which NTP or a resumed VM can step).
    pub fn is_system(&self) -> bool {
        matches!(&*self.0, Kind::System)
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &*self.0 {
            Kind::System => chrono::Utc::now().timestamp_millis(),
            Kind::Manual(ms) => ms.load(Ordering::SeqCst),
            Kind::Scaled {
                real_start,
                world_start_ms,
                speed,
            } => world_start_ms.load(Ordering::SeqCst) + (real_start.elapsed().as_secs_f64() * speed * 1000.0) as i64,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now_ms().div_euclid(1000)
    }

    /// The wall-clock moment at which an accelerated clock reads `world_ms` (for measuring
    /// real latencies against world instants); None for other clocks.
    pub fn real_instant_of(&self, world_ms: i64) -> Option<Instant> {
        match &*self.0 {
            Kind::Scaled {
                real_start,
                world_start_ms,
                speed,
            } => {
                let real_ms = (world_ms - world_start_ms.load(Ordering::SeqCst)) as f64 / speed;
                Some(*real_start + Duration::from_secs_f64(real_ms.max(0.0) / 1000.0))
            }
            _ => None,
        }
    }

    /// Moves a manual clock forward; other clocks ignore it.
    pub fn advance(&self, by: Duration) {
        if let Kind::Manual(ms) = &*self.0 {
            ms.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock, or moves an accelerated one to read `at` now (it runs on from
    /// there); the system clock ignores it.
    pub fn set(&self, at: Timestamp) {
        match &*self.0 {
            Kind::Manual(ms) => ms.store(at * 1000, Ordering::SeqCst),
            Kind::Scaled {
                real_start,
                world_start_ms,
                speed,
            } => {
                let run_ms = (real_start.elapsed().as_secs_f64() * speed * 1000.0) as i64;
                world_start_ms.store(at * 1000 - run_ms, Ordering::SeqCst);
            }
            Kind::System => {}
        }
    }

    /// Waits `d` of world time.
    pub async fn sleep(&self, d: Duration) {
        match &*self.0 {
            Kind::System => tokio::time::sleep(d).await,
            Kind::Manual(_) => {
                self.advance(d);
                tokio::task::yield_now().await;
            }
            Kind::Scaled { speed, .. } => tokio::time::sleep(d.div_f64(speed.max(f64::MIN_POSITIVE))).await,
        }
    }
}
