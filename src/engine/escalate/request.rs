//! What a request's issue says: the ticket read live (the store keeps no text), with its
//! clocks now.

use super::super::apply::clocks_of;
use super::super::directory::Directory;
use super::super::engine::Engine;
use super::super::status::clock_display;
use super::StepError;
use crate::config::EscalationConfig;
use crate::escalate::issue::Request;
use crate::notify::wording;
use crate::sla::clock::{ClockState, Role, TicketClocks};
use crate::sla::policy::Metric;
use crate::store::{EscalationRecord, TicketRecord};
use crate::zendesk::client::Pacing;

/// The SLA clocks in words, for engineering.
fn sla_text(config: &crate::config::Config, clocks: &TicketClocks, now: i64) -> String {
    let one = |metric: Metric| {
        let Some(clock) = clocks.contract(metric) else {
            return format!("{metric}: no target");
        };
        let display = clock_display(config, clock.schedule);
        let time = |s: i64| wording::clock_time(s, display.business);
        let due = clock.deadline.map(|d| wording::local(d, display.zone)).unwrap_or_default();
        match clock.state {
            ClockState::Running => format!("{metric}: {} left, due {due}", time(clock.remaining)),
            ClockState::Breached if clock.completed_at.is_none() => {
                let ago = clock.breached_at.map_or(0, |b| now - b);
                format!("{metric}: breached {} ago", wording::calendar(ago))
            }
            ClockState::Paused => format!("{metric}: paused, {} left", time(clock.remaining)),
            other => format!("{metric}: {}", other.key().replace('_', " ")),
        }
    };
    format!("{}; {}", one(Metric::FirstResponse), one(Metric::Resolution))
}

impl Engine {
    /// What the issue says: the ticket read live (the store keeps no text), with its clocks now.
    pub(super) async fn request_of(
        &self,
        config: &EscalationConfig,
        record: &TicketRecord,
        escalation: &EscalationRecord,
        index: usize,
    ) -> Result<Request, StepError> {
        let id = record.id;
        let ticket = self
            .client
            .ticket(id, Pacing::Return)
            .await?
            .ok_or_else(|| StepError::Refused("the ticket is gone (Zendesk answers 404)".into()))?;
        // All of them, oldest first: the description is the first, the summary note may be
        // older than the newest hundred.
        let comments = self.client.all_comments(id, Pacing::Return).await?;
        let directory: Directory = self.directory();
        let now = self.clock.now();
        let clocks = clocks_of(&self.config, record, &directory, now)
            .ok_or_else(|| StepError::Other("the ticket's clocks cannot be evaluated".into()))?;
        let field = |f: Option<u64>| f.and_then(|f| record.fields.get(&f)).cloned();
        let description = comments.iter().find(|c| c.public);
        let summary = comments.iter().rev().filter(|c| !c.public).find_map(|c| {
            c.body
                .trim_start()
                .strip_prefix(&config.summary_marker)
                .map(|s| s.trim().to_string())
        });
        let customer = |author: Option<u64>| {
            author.is_some_and(|a| Some(a) == record.requester_id || matches!(directory.known_role(a), Some(Role::EndUser)))
        };
        let base_url = self.config.zendesk.as_ref().map_or(String::new(), |z| z.base_url.clone());
        let request = &escalation.requests[index];
        Ok(Request {
            account: self.account(),
            ticket_id: id,
            ticket_url: format!("{base_url}/agent/tickets/{id}"),
            subject: ticket.subject.clone().unwrap_or_default(),
            org: record
                .organization_id
                .and_then(|o| directory.organizations.get(&o))
                .map(|o| o.name.clone()),
            tier: clocks.tier.clone(),
            severity: clocks.severity.clone(),
            version: field(config.version_field),
            request_type: field(config.request_type_field),
            team: field(config.team_field),
            sla: sla_text(&self.config, &clocks, now),
            summary,
            // The ticket's description: its first comment (the first public one when a ticket
            // opened with an internal note).
            description: description.map(|c| c.body.clone()).unwrap_or_default(),
            customer_words: comments
                .iter()
                .filter(|c| description.is_none_or(|d| c.id != d.id))
                .filter(|c| c.public && customer(c.author_id))
                .map(|c| c.body.clone())
                .collect(),
            number: request.number,
            previous_issue: index
                .checked_sub(1)
                .and_then(|i| escalation.requests[i].issue.as_ref())
                .map(|i| i.url.clone()),
        })
    }
}
