//! Who may send the next Zendesk request: the configured budgets (a sliding minute for the
//! account and one for the exports), the holds Zendesk's 429s put on them, and precedence. An
//! alert's confirmation reads go before every routine request (polls, directory listings,
//! notes): a poll may wait, a breach may not.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::sync::lock;

/// What a request does when Zendesk answers 429, and where it stands in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Wait `Retry-After` and ask again (the exports and listings: nothing else to do meanwhile).
    Wait,
    /// Hand the 429 back at once: the caller has other work and comes back later. While a 429's
    /// hold lasts, it is handed back without asking.
    Return,
    /// An alert's confirmation: waits out a 429 like `Wait`, ahead of every routine request.
    Urgent,
}

/// The answer to "may this request go now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    Go,
    /// Not before `ms` from now, for the reason given.
    Wait {
        ms: i64,
        why: Why,
    },
    /// Behind an alert's confirmation: until it is done.
    BehindUrgent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Zendesk answered 429 and asked to wait.
    RateLimited,
    /// The configured budget of requests a minute is used up.
    Budget { per_minute: u32 },
}

#[derive(Debug, Default)]
struct State {
    /// Start times (ms) of the requests in the last minute: all, and the exports'.
    sent: VecDeque<i64>,
    exports_sent: VecDeque<i64>,
    /// Until when a 429 holds requests back (ms): any request, and the exports (which have a
    /// limit of their own at Zendesk).
    held_until: i64,
    exports_held_until: i64,
    /// Alert confirmations under way.
    urgent: usize,
}

#[derive(Debug)]
pub struct Admission {
    per_minute: u32,
    exports_per_minute: u32,
    state: Mutex<State>,
    /// Told when the last confirmation under way is done.
    pub urgent_done: tokio::sync::Notify,
}

fn prune(sent: &mut VecDeque<i64>, now_ms: i64) {
    while sent.front().is_some_and(|&t| t <= now_ms - 60_000) {
        sent.pop_front();
    }
}

/// When one more request fits in `sent`'s minute (0: now).
fn room(sent: &VecDeque<i64>, per_minute: u32, now_ms: i64) -> i64 {
    if sent.len() < per_minute.max(1) as usize {
        0
    } else {
        sent.front().map_or(0, |&t| (t + 60_000 - now_ms).max(1))
    }
}

impl Admission {
    pub fn new(per_minute: u32, exports_per_minute: u32) -> Admission {
        Admission {
            per_minute,
            exports_per_minute,
            state: Mutex::new(State::default()),
            urgent_done: tokio::sync::Notify::new(),
        }
    }

    /// Whether a request may go at `now_ms`; when it may, its slot is taken.
    pub fn admit(&self, export: bool, pacing: Pacing, now_ms: i64) -> Admit {
        let mut state = lock(&self.state);
        let held = if export {
            state.held_until.max(state.exports_held_until)
        } else {
            state.held_until
        };
        if held > now_ms {
            return Admit::Wait {
                ms: held - now_ms,
                why: Why::RateLimited,
            };
        }
        if pacing != Pacing::Urgent && state.urgent > 0 {
            return Admit::BehindUrgent;
        }
        prune(&mut state.sent, now_ms);
        prune(&mut state.exports_sent, now_ms);
        let exports = if export {
            room(&state.exports_sent, self.exports_per_minute, now_ms)
        } else {
            0
        };
        let account = room(&state.sent, self.per_minute, now_ms);
        if exports > 0 || account > 0 {
            let per_minute = if exports >= account {
                self.exports_per_minute
            } else {
                self.per_minute
            };
            return Admit::Wait {
                ms: exports.max(account),
                why: Why::Budget { per_minute },
            };
        }
        state.sent.push_back(now_ms);
        if export {
            state.exports_sent.push_back(now_ms);
        }
        Admit::Go
    }

    /// Zendesk answered 429: hold back what it limits until `until_ms`.
    pub fn hold(&self, export: bool, until_ms: i64) {
        let mut state = lock(&self.state);
        let held = if export {
            &mut state.exports_held_until
        } else {
            &mut state.held_until
        };
        *held = (*held).max(until_ms);
    }

    /// An alert's confirmation is under way until the guard is dropped: routine requests wait.
    pub fn urgent(&self) -> UrgentGuard<'_> {
        lock(&self.state).urgent += 1;
        UrgentGuard { admission: self }
    }
}

pub struct UrgentGuard<'a> {
    admission: &'a Admission,
}

impl Drop for UrgentGuard<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.admission.state);
        state.urgent = state.urgent.saturating_sub(1);
        if state.urgent == 0 {
            self.admission.urgent_done.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_goes_before_routine_requests() {
        let admission = Admission::new(3, 10);
        assert_eq!(admission.admit(true, Pacing::Wait, 0), Admit::Go);
        let guard = admission.urgent();
        assert_eq!(admission.admit(true, Pacing::Wait, 1_000), Admit::BehindUrgent);
        assert_eq!(admission.admit(false, Pacing::Return, 1_000), Admit::BehindUrgent);
        assert_eq!(admission.admit(false, Pacing::Urgent, 1_000), Admit::Go);
        drop(guard);
        assert_eq!(admission.admit(true, Pacing::Wait, 2_000), Admit::Go);
        // The account's three a minute are used: everyone waits for the first to age out.
        assert_eq!(
            admission.admit(false, Pacing::Urgent, 3_000),
            Admit::Wait {
                ms: 57_000,
                why: Why::Budget { per_minute: 3 }
            }
        );
    }

    #[test]
    fn a_429_holds_back_what_it_limits() {
        let admission = Admission::new(100, 10);
        admission.hold(true, 30_000);
        assert_eq!(
            admission.admit(true, Pacing::Urgent, 0),
            Admit::Wait {
                ms: 30_000,
                why: Why::RateLimited
            }
        );
        assert_eq!(
            admission.admit(false, Pacing::Wait, 0),
            Admit::Go,
            "the exports' limit is their own"
        );
        admission.hold(false, 45_000);
        assert_eq!(
            admission.admit(false, Pacing::Wait, 5_000),
            Admit::Wait {
                ms: 40_000,
                why: Why::RateLimited
            }
        );
        assert_eq!(
            admission.admit(true, Pacing::Wait, 40_000),
            Admit::Wait {
                ms: 5_000,
                why: Why::RateLimited
            }
        );
        assert_eq!(admission.admit(true, Pacing::Wait, 45_000), Admit::Go);
    }
}
