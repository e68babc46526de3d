//! Telling the escalation channel, once, that a request's issue was filed, or that GitHub
//! refused it for good. A post refused for good (a removed webhook) is recorded, not retried;
//! a post in flight at a crash may repeat, as an alert's may.

use super::super::engine::Engine;
use super::StepError;
use crate::config::EscalationConfig;
use crate::notify::escalation::{self, IssueRef};
use crate::store::EscalationRecord;

impl Engine {
    pub(super) async fn announce(
        &self,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let request = &escalation.requests[index];
        if let Some((channel, (kind, _))) = config.channel.as_ref().and_then(|c| Some((c, self.channels.get(c)?))) {
            let body = match (&request.failed, &request.issue) {
                (Some(reason), _) => {
                    let base_url = self.config.zendesk.as_ref().map_or("", |z| z.base_url.as_str());
                    let ticket_url = format!("{base_url}/agent/tickets/{ticket_id}");
                    escalation::failed(*kind, ticket_id, &ticket_url, &request.repository, reason)
                }
                (None, Some(issue)) => escalation::filed(
                    *kind,
                    &IssueRef {
                        ticket_id,
                        repository: &request.repository,
                        number: issue.number,
                        url: &issue.url,
                    },
                ),
                (None, None) => return Err(StepError::Other("no issue yet".into())),
            };
            if let Err(error) = self.post(channel, &body).await {
                if !error.permanent {
                    return Err(StepError::Other(error.message));
                }
                tracing::warn!(ticket = ticket_id, channel, error = %error.message, "the escalation channel refused the message for good; not retried");
                escalation.requests[index].last_error = Some(error.message);
            }
        }
        escalation.requests[index].announced = true;
        self.save_request(escalation, index)?;
        Ok(())
    }
}
