//! Liveness is progress. Each of the daemon's loops says when it starts a step and when it is
//! done with it; inside a step, every deliberate wait (a rate limit, a backoff, a request within
//! its timeout) says until when it waits, and long work says it moved on. A loop that stays
//! inside one step `stall_after` past its last sign of life has stalled: `/healthz` answers 503
//! naming it, and the watchdog ends the process so that its supervisor restarts it. A loop that
//! sleeps between steps (until its next poll or its next alert) is idle, not stalled.
//!
//! The waits and the work deep inside a step (the clients, the store) report through the task
//! they run on (`Task::scope`), so they need no handle passed down.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::clock::Clock;
use crate::sync::lock;

#[derive(Debug)]
pub struct Liveness {
    clock: Clock,
    stall_after_ms: i64,
    tasks: Mutex<BTreeMap<String, Slot>>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// What the task is doing, while it is inside a step.
    step: Option<&'static str>,
    /// When the step began.
    since_ms: i64,
    /// Stalled when still inside the step after this instant.
    deadline_ms: i64,
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

impl Liveness {
    pub fn new(clock: Clock, stall_after: Duration) -> Arc<Liveness> {
        Arc::new(Liveness {
            clock,
            stall_after_ms: i64::try_from(stall_after.as_millis()).unwrap_or(i64::MAX),
            tasks: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn stall_after(&self) -> Duration {
        Duration::from_millis(self.stall_after_ms.max(0) as u64)
    }

    /// A task of the daemon, idle until it starts a step.
    pub fn task(self: &Arc<Self>, name: impl Into<String>) -> Task {
        let name = name.into();
        lock(&self.tasks).insert(
            name.clone(),
            Slot {
                step: None,
                since_ms: 0,
                deadline_ms: i64::MAX,
            },
        );
        Task {
            liveness: self.clone(),
            name: Arc::from(name.as_str()),
        }
    }

    /// The tasks stalled at `now_ms`, by name.
    pub fn stalled(&self, now_ms: i64) -> Vec<Stall> {
        lock(&self.tasks)
            .iter()
            .filter_map(|(name, slot)| {
                let step = slot.step?;
                (now_ms > slot.deadline_ms).then(|| Stall {
                    task: name.clone(),
                    step,
                    since_ms: slot.since_ms,
                    silent_ms: now_ms - slot.deadline_ms.saturating_sub(self.stall_after_ms),
                })
            })
            .collect()
    }

    /// The tasks stalled now.
    pub fn stalled_now(&self) -> Vec<Stall> {
        self.stalled(self.clock.now_ms())
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut Slot, i64, i64)) {
        let now = self.clock.now_ms();
        if let Some(slot) = lock(&self.tasks).get_mut(name) {
            change(slot, now, self.stall_after_ms);
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
    /// Starts a step; it ends when the guard is dropped (the task is idle again).
    pub fn step(&self, what: &'static str) -> Step {
        self.liveness.update(&self.name, |slot, now, stall_after| {
            *slot = Slot {
                step: Some(what),
                since_ms: now,
                deadline_ms: now.saturating_add(stall_after),
            }
        });
        Step { task: self.clone() }
    }

    /// The step moved on (a page committed, a batch written).
    pub fn beat(&self) {
        self.liveness.update(&self.name, |slot, now, stall_after| {
            slot.deadline_ms = slot.deadline_ms.max(now.saturating_add(stall_after));
        });
    }

    /// The step waits on purpose until `until_ms` (a rate limit, a backoff, a request's timeout):
    /// it is not stalled before it has had `stall_after` past that to show life again.
    pub fn waiting_until(&self, until_ms: i64) {
        self.liveness.update(&self.name, |slot, _, stall_after| {
            slot.deadline_ms = slot.deadline_ms.max(until_ms.saturating_add(stall_after));
        });
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
        self.task.liveness.update(&self.task.name, |slot, _, _| {
            slot.step = None;
            slot.deadline_ms = i64::MAX;
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

/// The current task (if any) waits on purpose for `d` from now on `clock`.
pub fn waiting(clock: &Clock, d: Duration) {
    let until = crate::retry::due_ms(clock.now_ms(), d);
    let _ = CURRENT.try_with(|task| task.waiting_until(until));
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
        // A 10-minute Retry-After is a wait, not a stall.
        poll.waiting_until(clock.now_ms() + 600_000);
        clock.advance(Duration::from_secs(700));
        assert!(liveness.stalled_now().is_empty());
        clock.advance(Duration::from_secs(21));
        let stalled = liveness.stalled_now();
        assert_eq!(stalled.len(), 1);
        assert_eq!(stalled[0].task, "poll loop");
        assert_eq!(stalled[0].step, "polling the exports");
        assert_eq!(stalled[0].silent_ms, 121_000);
        drop(step);
        assert!(liveness.stalled_now().is_empty(), "done: idle again");
        drop(decider);
    }

    #[tokio::test]
    async fn waits_inside_a_scope_count_for_its_task() {
        let clock = Clock::manual(1_000);
        let liveness = Liveness::new(clock.clone(), Duration::from_secs(120));
        let task = liveness.task("delivery to support");
        let _step = task.step("delivering");
        task.clone()
            .scope(async {
                waiting(&clock, Duration::from_secs(300));
            })
            .await;
        waiting(&clock, Duration::from_secs(9_000)); // outside the scope: nobody's
        clock.advance(Duration::from_secs(420));
        assert!(liveness.stalled_now().is_empty());
        clock.advance(Duration::from_secs(1));
        assert_eq!(liveness.stalled_now().len(), 1);
    }
}
