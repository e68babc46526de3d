//! Liveness is progress. Each of the daemon's loops says when it starts a step and when it is
//! done with it; inside a step, long work says it moved on (`beat`), and every deliberate wait
//! (a rate limit, a backoff, a request within its timeout) says until when it waits, for as
//! long as it waits. A loop still inside one step `stall_after` past its last sign of life (or
//! past the end its current wait said) has stalled: `/healthz` answers 503 naming it, and the
//! watchdog ends the process so that its supervisor restarts it. A loop that sleeps between
//! steps (until its next poll or its next alert) is idle, not stalled; one that ended while the
//! daemon was not stopping (a panic, say) has stalled for good.
//!
//! The waits and the work deep inside a step (the clients, the store) report through the task
//! they run on (`Task::scope`), so they need no handle passed down. On the wall clock, time is
//! measured on the monotonic one: a clock stepped by NTP makes no false stall.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::clock::Clock;
use crate::sync::lock;

#[derive(Debug)]
pub struct Liveness {
    clock: Clock,
    /// The monotonic clock's reading when the wall clock read `origin_ms` (for the system clock).
    origin: Instant,
    origin_ms: i64,
    stall_after_ms: i64,
    tasks: Mutex<BTreeMap<String, Slot>>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// What the task is doing, while it is inside a step.
    step: Option<&'static str>,
    /// When the step began.
    since_ms: i64,
    /// The last sign of life inside the step.
    progress_ms: i64,
    /// While a wait on purpose lasts: until when it said it waits (i64::MAX: as long as it
    /// takes another task, which is itself watched).
    waiting_until: Option<i64>,
    /// Ended while the daemon was not stopping.
    exited: bool,
}

/// A task that has stalled: what it was doing, since when, and how long it has shown no life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stall {
    pub task: String,
    pub step: &'static str,
    pub since_ms: i64,
    pub silent_ms: i64,
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} stalled while {} (no progress for {}s, step began {})",
            self.task,
            self.step,
            self.silent_ms / 1000,
            crate::sla::time::format_rfc3339(self.since_ms.div_euclid(1000))
        )
    }
}

const EXITED: &str = "running: it ended unexpectedly";

impl Liveness {
    pub fn new(clock: Clock, stall_after: Duration) -> Arc<Liveness> {
        Arc::new(Liveness {
            origin: Instant::now(),
            origin_ms: clock.now_ms(),
            clock,
            stall_after_ms: i64::try_from(stall_after.as_millis()).unwrap_or(i64::MAX),
            tasks: Mutex::new(BTreeMap::new()),
        })
    }

    fn now_ms(&self) -> i64 {
        if self.clock.is_system() {
            self.origin_ms + i64::try_from(self.origin.elapsed().as_millis()).unwrap_or(i64::MAX / 2)
        } else {
            self.clock.now_ms()
        }
    }

    /// A task of the daemon, idle until it starts a step.
    pub fn task(self: &Arc<Self>, name: impl Into<String>) -> Task {
        let name = name.into();
        lock(&self.tasks).insert(
            name.clone(),
            Slot {
                step: None,
                since_ms: 0,
                progress_ms: 0,
                waiting_until: None,
                exited: false,
            },
        );
        Task {
            liveness: self.clone(),
            name: Arc::from(name.as_str()),
        }
    }

    /// The tasks stalled at `now_ms` (on this liveness's own clock), by name.
    fn stalled_at(&self, now_ms: i64) -> Vec<Stall> {
        lock(&self.tasks)
            .iter()
            .filter_map(|(name, slot)| {
                if slot.exited {
                    return Some(Stall {
                        task: name.clone(),
                        step: EXITED,
                        since_ms: slot.since_ms,
                        silent_ms: now_ms - slot.progress_ms,
                    });
                }
                let step = slot.step?;
                let alive = slot.progress_ms.max(slot.waiting_until.unwrap_or(i64::MIN));
                (now_ms > alive.saturating_add(self.stall_after_ms)).then(|| Stall {
                    task: name.clone(),
                    step,
                    since_ms: slot.since_ms,
                    silent_ms: now_ms - alive,
                })
            })
            .collect()
    }

    /// The tasks stalled now.
    pub fn stalled_now(&self) -> Vec<Stall> {
        self.stalled_at(self.now_ms())
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut Slot, i64)) {
        let now = self.now_ms();
        if let Some(slot) = lock(&self.tasks).get_mut(name) {
            change(slot, now);
        }
    }
}

/// One loop's handle on its liveness.
#[derive(Debug, Clone)]
pub struct Task {
    liveness: Arc<Liveness>,
    name: Arc<str>,
}

tokio::task_local! {
    static CURRENT: Task;
}

impl Task {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts a step; it ends when the guard is dropped (the task is idle again).
    pub fn step(&self, what: &'static str) -> Step {
        self.liveness.update(&self.name, |slot, now| {
            slot.step = Some(what);
            slot.since_ms = now;
            slot.progress_ms = now;
            slot.waiting_until = None;
        });
        Step { task: self.clone() }
    }

    /// The step moved on (a page committed, a batch written).
    pub fn beat(&self) {
        self.liveness.update(&self.name, |slot, now| slot.progress_ms = now);
    }

    /// The task ended while the daemon was not stopping: stalled for good.
    pub fn exited(&self) {
        self.liveness.update(&self.name, |slot, now| {
            slot.exited = true;
            slot.since_ms = now;
            slot.progress_ms = now;
        });
    }

    /// A wait on purpose for `d` (None: as long as another, watched, task takes) begins; it
    /// ends, as a sign of life, when the guard is dropped.
    fn waiting(&self, d: Option<Duration>) -> Wait {
        let liveness = &self.liveness;
        liveness.update(&self.name, |slot, now| {
            slot.waiting_until = Some(d.map_or(i64::MAX, |d| crate::retry::due_ms(now, d)));
        });
        Wait { task: self.clone() }
    }

    /// Runs `work` as this task: the waits and beats inside it (`beat`, `waiting`) are its own.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }
}

/// A step in progress; dropping it makes the task idle.
#[derive(Debug)]
pub struct Step {
    task: Task,
}

impl Drop for Step {
    fn drop(&mut self) {
        self.task.liveness.update(&self.task.name, |slot, _| {
            slot.step = None;
            slot.waiting_until = None;
        });
    }
}

/// A wait on purpose in progress; when it ends, the task has shown life.
#[derive(Debug)]
pub struct Wait {
    task: Task,
}

impl Drop for Wait {
    fn drop(&mut self) {
        self.task.liveness.update(&self.task.name, |slot, now| {
            slot.waiting_until = None;
            slot.progress_ms = slot.progress_ms.max(now);
        });
    }
}

/// Starts a step of the current task, if any (see `Task::step`).
pub fn step(what: &'static str) -> Option<Step> {
    CURRENT.try_with(|task| task.step(what)).ok()
}

/// The current task (if any) moved on.
pub fn beat() {
    let _ = CURRENT.try_with(Task::beat);
}

/// The current task (if any) waits on purpose for `d` from now, until the guard is dropped.
pub fn waiting(d: Duration) -> Option<Wait> {
    CURRENT.try_with(|task| task.waiting(Some(d))).ok()
}

/// The current task (if any) waits on another task, itself watched, for as long as it takes.
pub fn waiting_on_another() -> Option<Wait> {
    CURRENT.try_with(|task| task.waiting(None)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_stalls_only_past_its_last_sign_of_life() {
        let clock = Clock::manual(1_000);
        let liveness = Liveness::new(clock.clone(), Duration::from_secs(120));
        let poll = liveness.task("poll loop");
        let decider = liveness.task("decider");
        // Idle for a day: not stalled.
        clock.advance(Duration::from_secs(86_400));
        assert!(liveness.stalled_now().is_empty());

        let step = poll.step("polling the exports");
        clock.advance(Duration::from_secs(100));
        poll.beat();
        clock.advance(Duration::from_secs(100));
        assert!(liveness.stalled_now().is_empty(), "a beat 100 s ago");
        // A 10-minute Retry-After is a wait, not a stall, for as long as it lasts.
        let wait = poll.waiting(Some(Duration::from_secs(600)));
        clock.advance(Duration::from_secs(700));
        assert!(liveness.stalled_now().is_empty());
        // Ended at once: the wait's end is a sign of life, its promise no longer counts.
        clock.advance(Duration::from_secs(21));
        assert_eq!(
            liveness.stalled_now()[0].silent_ms,
            121_000,
            "10 s past the wait's end and stall_after"
        );
        drop(wait);
        assert!(liveness.stalled_now().is_empty());
        clock.advance(Duration::from_secs(121));
        let stalled = liveness.stalled_now();
        assert_eq!(stalled.len(), 1);
        assert_eq!(stalled[0].task, "poll loop");
        assert_eq!(stalled[0].step, "polling the exports");
        assert_eq!(stalled[0].silent_ms, 121_000);
        drop(step);
        assert!(liveness.stalled_now().is_empty(), "done: idle again");

        // A wait on another task lasts as long as it takes; a task that ends stalls for good.
        let _step = decider.step("deciding");
        let _behind = decider.waiting(None);
        clock.advance(Duration::from_secs(86_400));
        assert!(liveness.stalled_now().is_empty());
        decider.exited();
        assert_eq!(liveness.stalled_now()[0].step, EXITED);
    }

    #[tokio::test]
    async fn waits_inside_a_scope_count_for_its_task() {
        let clock = Clock::manual(1_000);
        let liveness = Liveness::new(clock.clone(), Duration::from_secs(120));
        let task = liveness.task("delivery to support");
        let _step = task.step("delivering");
        let inner = clock.clone();
        let wait = task.clone().scope(async move { waiting(Duration::from_secs(300)) }).await;
        assert!(wait.is_some());
        assert!(waiting(Duration::from_secs(9_000)).is_none(), "outside the scope: nobody's");
        inner.advance(Duration::from_secs(420));
        assert!(liveness.stalled_now().is_empty());
        inner.advance(Duration::from_secs(1));
        assert_eq!(liveness.stalled_now().len(), 1);
    }
}
