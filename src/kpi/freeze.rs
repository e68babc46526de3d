//! When a ticket's KPI row becomes final: once the ticket is closed, or solved and unchanged
//! for `[report] freeze_after` (7 days by default). From then on a policy, tier or directory
//! change does not rewrite it, so a finished month's figures hold still; `slawatch report
//! --rejudge` recomputes them under today's policy on purpose, without storing anything.
//!
//! A frozen solved ticket that is reopened is live again. A closed ticket cannot be reopened
//! in Zendesk: its row is final at the first evaluation of its closed facts. A satisfaction
//! rating given after the freeze is a new fact, not a re-judgement: the engine takes it into the
//! frozen row.

use crate::sla::time::Timestamp;

/// What an evaluation does with a ticket's KPI row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freeze {
    /// Write the row just computed (else leave the stored one).
    pub write: bool,
    /// The row is final after this evaluation.
    pub frozen: bool,
}

/// The ticket as the decision needs it.
pub struct RowState<'a> {
    pub status: &'a str,
    pub updated_at: Option<Timestamp>,
    /// Frozen by an earlier evaluation.
    pub frozen: bool,
    /// The `updated_at` of the facts the stored row was made from.
    pub row_of: Option<Timestamp>,
}

pub fn decide(ticket: RowState, freeze_after: i64, now: Timestamp) -> Freeze {
    let finished = matches!(ticket.status, "solved" | "closed");
    if !finished {
        return Freeze {
            write: true,
            frozen: false,
        };
    }
    if ticket.frozen {
        return Freeze {
            write: false,
            frozen: true,
        };
    }
    let quiet = ticket.updated_at.is_some_and(|at| at.saturating_add(freeze_after) <= now);
    if ticket.status == "closed" || quiet {
        // The stored row stands if it was made from these very facts (a quiet week passed
        // with no evaluation in between); otherwise these facts are news, judged once, now.
        let current = ticket.row_of.is_some() && ticket.row_of == ticket.updated_at;
        return Freeze {
            write: !current,
            frozen: true,
        };
    }
    Freeze {
        write: true,
        frozen: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEEK: i64 = 7 * 86_400;

    fn state(status: &str, updated_at: i64, frozen: bool, row_of: Option<i64>) -> RowState<'_> {
        RowState {
            status,
            updated_at: Some(updated_at),
            frozen,
            row_of,
        }
    }

    #[test]
    fn open_and_recently_solved_rows_follow_the_facts() {
        for status in ["new", "open", "pending", "hold", "deleted"] {
            assert_eq!(
                decide(state(status, 0, true, Some(0)), WEEK, WEEK * 10),
                Freeze {
                    write: true,
                    frozen: false
                }
            );
        }
        assert_eq!(
            decide(state("solved", 0, false, Some(0)), WEEK, WEEK - 1),
            Freeze {
                write: true,
                frozen: false
            }
        );
    }

    #[test]
    fn closed_or_a_quiet_week_freezes_and_frozen_stays_frozen() {
        // Closed: written from the closed facts once, then final.
        assert_eq!(
            decide(state("closed", 5, false, Some(1)), WEEK, 6),
            Freeze { write: true, frozen: true }
        );
        assert_eq!(
            decide(state("closed", 5, true, Some(5)), WEEK, 6),
            Freeze {
                write: false,
                frozen: true
            }
        );
        // Solved a week ago with the row made from those facts: the row stands.
        assert_eq!(
            decide(state("solved", 0, false, Some(0)), WEEK, WEEK),
            Freeze {
                write: false,
                frozen: true
            }
        );
        // Solved a week ago but never judged on those facts (read late): judged now, then final.
        assert_eq!(
            decide(state("solved", 0, false, None), WEEK, WEEK),
            Freeze { write: true, frozen: true }
        );
        // Frozen while solved, then closed by Zendesk: still the frozen row.
        assert_eq!(
            decide(state("closed", WEEK * 2, true, Some(0)), WEEK, WEEK * 2),
            Freeze {
                write: false,
                frozen: true
            }
        );
    }
}
