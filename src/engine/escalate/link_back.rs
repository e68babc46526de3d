//! Linking the ticket to its issue: an internal note with the link, and the filed tag, in one
//! update, looked for (by its marker) before it is written.

use super::super::engine::Engine;
use super::StepError;
use crate::config::EscalationConfig;
use crate::marker::NoteAbout;
use crate::store::EscalationRecord;

impl Engine {
    pub(super) async fn link_back(
        &self,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let request = &escalation.requests[index];
        let issue = request.issue.clone().ok_or_else(|| StepError::Other("no issue yet".into()))?;
        let about = NoteAbout::Link {
            ticket: ticket_id,
            request: request.number,
        };
        let text = format!(
            "slawatch: engineering issue filed for this ticket: {} ({} #{}).\nEngineering's comments and its closing will be noted here.",
            issue.url, request.repository, issue.number
        );
        let fields: Vec<(u64, String)> = config.link_field.map(|f| (f, issue.url.clone())).into_iter().collect();
        let noted = self
            .note_once(ticket_id, &text, &about, std::slice::from_ref(&config.filed_tag), &fields)
            .await;
        if let Err(error) = noted {
            // A ticket closed (or deleted) before its issue was linked: the issue stands, the
            // channel is still told; the ticket cannot be.
            let Some(reason) = error.refused_by_zendesk() else {
                return Err(error);
            };
            tracing::warn!(ticket = ticket_id, %reason, "the link to the issue cannot be noted on the ticket; recorded, not retried");
            if let Some(linked) = escalation.requests[index].issue.as_mut() {
                linked.undeliverable.push(format!("link: {reason}"));
            }
        }
        escalation.requests[index].noted = true;
        self.save_request(escalation, index)?;
        Ok(())
    }
}
