//! The one retry policy of every client and of the outbox: exponential backoff with
//! jitter, `Retry-After` honoured (seconds or an HTTP date) but clamped, and every wait
//! cancellable by shutdown.

use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;

/// The longest `Retry-After` honoured (Zendesk's own is at most 10 minutes): a huge or
/// hostile value must neither overflow a due instant nor stall a channel for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Shutdown was asked for while waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("shutdown asked for")]
pub struct Cancelled;

/// Exponential backoff: `first`, doubling per failure up to `max`, each with jitter (50–100%)
/// so that many waiters do not come back at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after `failures` failures in a row (1 for the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let base = self.first.saturating_mul(1u32 << failures.saturating_sub(1).min(20)).min(self.max);
        base.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
    }

    /// The wait after a failure: the server's `Retry-After` when it gave one (never less than
    /// the backoff), else the backoff.
    pub fn after(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self.delay(failures);
        retry_after.map_or(backoff, |r| r.max(backoff))
    }
}

impl Backoff {
    /// The same policy for `backon` (retries of one request): `attempts` in all, jittered.
    pub fn builder(&self, attempts: u32) -> backon::ExponentialBuilder {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.first)
            .with_max_delay(self.max)
            .with_max_times(attempts.saturating_sub(1) as usize)
            .with_jitter()
    }
}

/// backon's sleeps on `clock` (virtual or accelerated time in tests and the demo), ended early
/// by `cancel` (the next attempt then sees the shutdown and stops).
pub struct ClockSleeper {
    clock: Clock,
    cancel: CancellationToken,
}

pub fn sleeper(clock: &Clock, cancel: &CancellationToken) -> ClockSleeper {
    ClockSleeper {
        clock: clock.clone(),
        cancel: cancel.clone(),
    }
}

impl backon::Sleeper for ClockSleeper {
    type Sleep = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

    fn sleep(&self, d: Duration) -> Self::Sleep {
        let (clock, cancel) = (self.clock.clone(), self.cancel.clone());
        Box::pin(async move {
            let _ = wait(&clock, &cancel, d).await;
        })
    }
}

/// A `Retry-After` header value: delay-seconds, or an HTTP date (taken relative to `now`,
/// Unix seconds). Clamped to 1 s .. `MAX_RETRY_AFTER`; None when absent or unreadable.
pub fn parse_retry_after(value: Option<&str>, now: i64) -> Option<Duration> {
    let value = value?.trim();
    let seconds = match value.parse::<u64>() {
        Ok(seconds) => seconds,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?.timestamp();
            u64::try_from(at.saturating_sub(now)).unwrap_or(0)
        }
    };
    Some(Duration::from_secs(seconds).clamp(Duration::from_secs(1), MAX_RETRY_AFTER))
}

/// The `Retry-After` of a response, as `parse_retry_after` reads it.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: i64) -> Option<Duration> {
    parse_retry_after(headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()), now)
}

/// Waits `d` of the clock's time, or until `cancel`. A wait on purpose is not a stall: the
/// task waiting says so (`crate::liveness`).
pub async fn wait(clock: &Clock, cancel: &CancellationToken, d: Duration) -> Result<(), Cancelled> {
    if cancel.is_cancelled() {
        return Err(Cancelled);
    }
    let _wait = crate::liveness::waiting(d);
    tokio::select! {
        _ = cancel.cancelled() => Err(Cancelled),
        _ = clock.sleep(d) => Ok(()),
    }
}

/// `now_ms + wait`, without overflow.
pub fn due_ms(now_ms: i64, wait: Duration) -> i64 {
    now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_and_clamped() {
        assert_eq!(parse_retry_after(Some("30"), 0), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after(Some("0"), 0), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(Some("18446744073709551615"), 0), Some(MAX_RETRY_AFTER));
        // An HTTP date 90 s after now.
        let now = chrono::DateTime::parse_from_rfc2822("Wed, 02 Dec 2026 06:00:00 GMT")
            .unwrap()
            .timestamp();
        assert_eq!(
            parse_retry_after(Some("Wed, 02 Dec 2026 06:01:30 GMT"), now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(parse_retry_after(Some("soon"), 0), None);
        assert_eq!(parse_retry_after(None, 0), None);
        assert_eq!(due_ms(i64::MAX - 5, MAX_RETRY_AFTER), i64::MAX);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_cap() {
        let backoff = Backoff {
            first: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        for failures in 1..40 {
            let cap = Duration::from_secs(1u64 << (failures - 1).min(20)).min(backoff.max);
            let d = backoff.delay(failures);
            assert!(d <= cap && d >= cap / 2, "{failures}: {d:?}");
        }
        assert_eq!(
            backoff.after(1, Some(Duration::from_secs(120))),
            Duration::from_secs(120),
            "Retry-After wins when longer"
        );
    }
}
