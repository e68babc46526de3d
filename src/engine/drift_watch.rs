//! Measuring config drift over the last day's tickets, keeping it for `/readyz`, `/metrics`
//! and `status`, and telling the team once each time it crosses `[admin] fallback_max`.

use super::drift::{measure, Drift};
use super::engine::{Engine, EngineError};
use crate::config::ChannelKind;
use crate::store::{DriftNotice, StoreError};
use crate::sync::{blocking, lock};

/// Drift is measured again at most this often (ms): it reads a day of KPI rows.
const MEASURE_EVERY_MS: i64 = 60_000;

impl Engine {
    /// The last day's tickets (by creation) and why each that did fell back to a default.
    pub fn measure_drift(&self) -> Result<Drift, StoreError> {
        measure(&self.config, &self.store, &self.directory(), self.clock.now())
    }

    /// The drift last measured, if any.
    pub fn drift(&self) -> Option<Drift> {
        lock(&self.drift).as_ref().map(|(_, d)| d.clone())
    }

    /// Measures drift (at most once a minute) and tells the drift channels when it crosses
    /// `[admin] fallback_max` either way (once per change, across restarts).
    pub async fn watch_drift(&self) -> Result<(), EngineError> {
        let now_ms = self.clock.now_ms();
        let fresh = lock(&self.drift).as_ref().is_some_and(|(at, _)| now_ms - at < MEASURE_EVERY_MS);
        if !fresh {
            let drift = blocking(|| self.measure_drift())?;
            *lock(&self.drift) = Some((now_ms, drift));
        }
        let Some(drift) = self.drift() else { return Ok(()) };
        let degraded = drift.degraded();
        let notice = blocking(|| self.store.drift_notice())?;
        let mut notice = match notice {
            Some(notice) if notice.degraded == degraded => notice,
            previous => {
                // The first measure ever is told only when it is bad.
                let owed = match (&previous, degraded) {
                    (None, false) => Vec::new(),
                    _ => self.config.notify.drift_channels(),
                };
                let summary = drift.summary_in(self.config.notify.time_zone);
                if degraded {
                    tracing::error!(share = drift.share(), "config drift: {summary}");
                } else {
                    tracing::info!("config drift over: {summary}");
                }
                let notice = DriftNotice { degraded, owed };
                blocking(|| self.store.set_drift_notice(&notice))?;
                notice
            }
        };
        if notice.owed.is_empty() {
            return Ok(());
        }
        let text = self.drift_text(&drift);
        for channel in notice.owed.clone() {
            let body = match self.channels.get(&channel).map(|(kind, _)| *kind) {
                Some(ChannelKind::Webhook) => serde_json::json!({
                    "kind": "config_drift", "degraded": degraded, "text": text, "drift": drift,
                }),
                _ => serde_json::json!({ "text": text }),
            };
            match self.post(&channel, &body).await {
                Ok(()) => notice.owed.retain(|c| *c != channel),
                Err(error) if error.permanent => {
                    tracing::error!(channel, error = %error.message, "config drift notice refused for good");
                    notice.owed.retain(|c| *c != channel);
                }
                // Tried again at the next poll.
                Err(error) => tracing::warn!(channel, error = %error.message, "config drift notice failed; will retry"),
            }
        }
        blocking(|| self.store.set_drift_notice(&notice))?;
        Ok(())
    }

    /// What the team reads: the figures as they stand now, and what to do.
    fn drift_text(&self, drift: &Drift) -> String {
        let summary = drift.summary_in(self.config.notify.time_zone);
        if drift.degraded() {
            format!(
                ":warning: slawatch: {}. Above {:.0}%, their clocks run on the default targets and breach alerts can come late. \
                 `slawatch check-config --online` names the config lines that do not match the account.",
                summary,
                drift.max_share * 100.0
            )
        } else {
            format!(":white_check_mark: slawatch: tickets get their configured severity and tier again: {summary}.")
        }
    }
}
