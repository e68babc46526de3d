//! What `/readyz` answers: whether the store reads, whether polls succeed, and whether the
//! outbox moves.

use serde::Serialize;

use super::engine::Engine;
use crate::sla::time::format_rfc3339;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub ok: bool,
    /// What was found, in words an operator acts on.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub store: Check,
    pub poll: Check,
    pub outbox: Check,
    /// The config against the account: no mismatch found by the last check, and no more than
    /// `[admin] fallback_max` of the last day's tickets on a default severity or tier.
    pub config: Check,
}

impl Engine {
    /// Ready: the store reads, the last poll succeeded within three poll intervals, and no alert
    /// has waited for delivery longer than `admin.outbox_stuck_after`.
    pub fn readiness(&self) -> Readiness {
        let now_ms = self.clock.now_ms();
        let store = match self.store.cursors() {
            Ok(_) => Check {
                ok: true,
                detail: format!("{} open", self.store.path().display()),
            },
            Err(error) => Check {
                ok: false,
                detail: error.to_string(),
            },
        };
        // Judged against the pace the export budget allows, not a `poll_interval` it cannot keep.
        let interval = self
            .config
            .zendesk
            .as_ref()
            .map_or(30_000, |z| z.effective_poll_interval().as_millis() as i64);
        let poll = match (self.health.last_success_ms(), self.health.last_error()) {
            (Some(at), error) if now_ms - at <= 3 * interval => Check {
                ok: true,
                detail: format!(
                    "last complete poll {}s ago{}",
                    (now_ms - at) / 1000,
                    error.map_or(String::new(), |e| format!(" (the one since failed: {e})"))
                ),
            },
            (Some(at), error) => Check {
                ok: false,
                detail: format!(
                    "no complete poll for {}s (since {}, more than 3 poll intervals of {}s){}",
                    (now_ms - at) / 1000,
                    format_rfc3339(at / 1000),
                    interval / 1000,
                    error.map_or(String::new(), |e| format!(": {e}"))
                ),
            },
            (None, Some(error)) => Check {
                ok: false,
                detail: format!("no poll has completed yet: {error}"),
            },
            (None, None) => Check {
                ok: false,
                detail: "starting: no poll has completed yet".to_string(),
            },
        };
        let limit = self.config.admin.outbox_stuck_after.as_secs() as i64;
        let outbox = match self.store.oldest_undelivered() {
            Ok(None) => Check {
                ok: true,
                detail: "nothing waiting for delivery".to_string(),
            },
            Ok(Some(since)) => {
                let age = now_ms / 1000 - since;
                Check {
                    ok: age <= limit,
                    detail: format!("oldest undelivered alert decided {age}s ago (limit {limit}s)"),
                }
            }
            Err(error) => Check {
                ok: false,
                detail: error.to_string(),
            },
        };
        let config = self.config_check();
        Readiness {
            ready: store.ok && poll.ok && outbox.ok && config.ok,
            store,
            poll,
            outbox,
            config,
        }
    }
}

impl Engine {
    fn config_check(&self) -> Check {
        let mut problems = Vec::new();
        let mismatches: Vec<String> = self
            .preflight_findings()
            .unwrap_or_default()
            .iter()
            .filter(|f| f.level == crate::preflight::Level::Mismatch)
            .map(|f| format!("{}: {}: {}", f.at, f.key, f.message))
            .collect();
        if let Some(first) = mismatches.first() {
            problems.push(format!(
                "{} mismatch(es) with the account ({first}{}); `slawatch check-config --online` lists them",
                mismatches.len(),
                if mismatches.len() > 1 { "; ..." } else { "" }
            ));
        }
        let drift = self.drift();
        if let Some(drift) = drift.as_ref().filter(|d| d.degraded()) {
            let summary = drift.summary_in(self.config.notify.time_zone);
            problems.push(format!("{summary}: above {:.0}%", drift.max_share * 100.0));
        }
        match problems.is_empty() {
            true => Check {
                ok: true,
                detail: {
                    let checked = match self.preflight_findings() {
                        Some(_) => "matches the account",
                        None => "not yet checked against the account",
                    };
                    match drift {
                        Some(d) => format!("{checked}; {} of {} tickets of the last day fell back", d.fell_back, d.tickets),
                        None => checked.to_string(),
                    }
                },
            },
            false => Check {
                ok: false,
                detail: problems.join("; "),
            },
        }
    }
}
