//! Deciding a request for engineering: stored before anything is filed, so a restart files it
//! late rather than never, and never twice.

use super::super::engine::Engine;
use crate::escalate::issue::matching_rule;
use crate::store::{EscalationRecord, RequestRecord, StoreError, TicketRecord};

impl Engine {
    /// Decides a new request for each ticket that starts to match a rule: the first, or one
    /// after the last request's issue was closed (the ticket stopped matching meanwhile).
    /// Removing and re-adding the tag while the issue is open files nothing.
    pub fn decide_escalations(&self, records: &[TicketRecord]) -> Result<u64, StoreError> {
        let Some(config) = &self.config.escalation else { return Ok(0) };
        let now = self.clock.now();
        let mut decided = 0;
        let _writing = crate::sync::lock(&self.escalation_lock);
        // A solved or closed ticket requests nothing (a store's first poll reads old tickets too).
        for record in records.iter().filter(|r| r.is_open()) {
            let request_type = config.request_type_field.and_then(|f| record.fields.get(&f)).map(String::as_str);
            let rule = matching_rule(&config.rules, &record.tags, request_type);
            let stored = match self.store.escalation(record.id) {
                Err(error @ StoreError::Corrupt { .. }) => {
                    // Counted and skipped: the rest of the page is decided.
                    self.store.stats.unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::error!(ticket = record.id, %error, "a stored escalation cannot be read: skipped");
                    continue;
                }
                other => other?,
            };
            if rule.is_none() && stored.as_ref().is_none_or(|e| !e.matching) {
                continue;
            }
            let mut escalation = stored.unwrap_or(EscalationRecord {
                ticket_id: record.id,
                ..EscalationRecord::default()
            });
            if let Some(rule) = rule {
                let new_request = match escalation.latest() {
                    None => true,
                    // The last one's issue closed (or gone), or GitHub refused it for good: the
                    // tag put back (after the config is put right) asks again.
                    Some(last) => !escalation.matching && (last.failed.is_some() || last.issue.as_ref().is_some_and(|i| !i.open)),
                };
                if new_request {
                    let number = escalation.requests.len() as u32 + 1;
                    tracing::info!(ticket = record.id, request = number, rule = %rule.name, "engineering requested: an issue will be filed");
                    escalation.requests.push(RequestRecord {
                        number,
                        rule: rule.name.clone(),
                        repository: rule.repository.to_string(),
                        decided_at: now,
                        announced: config.channel.is_none(),
                        next_attempt_ms: self.clock.now_ms(),
                        ..RequestRecord::default()
                    });
                    decided += 1;
                }
            }
            escalation.matching = rule.is_some();
            self.store.save_escalation(&escalation)?;
        }
        if decided > 0 {
            self.escalation_wake.notify_one();
        }
        Ok(decided)
    }
}
