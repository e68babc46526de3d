//! Filing a request's issue: found by its marker first (a crash may have created it already),
//! else created. An assignee or label GitHub refuses is dropped and the issue filed without it,
//! saying so; a request GitHub refuses for good is marked failed with GitHub's words.

use super::super::engine::Engine;
use super::StepError;
use crate::config::{EscalationConfig, Repository};
use crate::escalate::issue::{draft, IssueDraft};
use crate::github::client::{GithubClient, GithubError};
use crate::github::models::Issue;
use crate::marker::IssueMarker;
use crate::store::{EscalationRecord, LinkedIssue};

/// How far before the request's decision an issue may have been created and still be its: the
/// daemon's clock and GitHub's may disagree this much.
const CLOCK_SKEW: i64 = 600;

impl Engine {
    /// Finds (by marker) or creates the request's issue, and records it at once.
    pub(super) async fn file_issue(
        &self,
        github: &GithubClient,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let request = &escalation.requests[index];
        let number = request.number;
        let rule = config
            .rules
            .iter()
            .find(|r| r.name == request.rule)
            .ok_or_else(|| StepError::Refused(format!("rule {:?} is no longer configured", request.rule)))?;
        let record = self
            .readable_ticket(ticket_id)?
            .ok_or_else(|| StepError::Refused("the ticket is no longer stored".into()))?;
        // The repository decided with the request: the rule's may have changed since.
        let repository = Repository::parse(&request.repository).unwrap_or_else(|| rule.repository.clone());
        let account = self.account();
        let marker = IssueMarker::new(&account, ticket_id, number);
        let login = self.own_login(github).await?;
        let found = github
            .find_own_issue(
                &repository,
                &login,
                request.decided_at - CLOCK_SKEW,
                &marker.search_phrase(),
                |issue| {
                    issue
                        .body
                        .as_deref()
                        .and_then(IssueMarker::parse)
                        .is_some_and(|m| m.is(&account, ticket_id, number))
                },
            )
            .await?;
        let issue = match found {
            Some(issue) => {
                tracing::info!(
                    ticket = ticket_id,
                    issue = issue.number,
                    "the request's issue exists already (found by its marker)"
                );
                issue
            }
            None => {
                let request = self.request_of(config, &record, escalation, index).await?;
                let mut draft = draft(rule, config, &request);
                draft.repository = repository.clone();
                let (issue, dropped) = create_dropping_refused(github, draft).await?;
                escalation.requests[index].dropped = dropped;
                issue
            }
        };
        escalation.requests[index].issue = Some(LinkedIssue {
            number: issue.number,
            url: issue.html_url.clone(),
            open: issue.is_open(),
            ..LinkedIssue::default()
        });
        self.save_request(escalation, index)?;
        tracing::info!(ticket = ticket_id, issue = issue.number, url = %issue.html_url, "engineering issue filed");
        Ok(())
    }
}

/// Creates the issue; each assignee or label GitHub says is invalid (422) is taken out and the
/// issue created again without it, its body saying what was left out and why. Returns the
/// issue and what was dropped.
async fn create_dropping_refused(github: &GithubClient, mut draft: IssueDraft) -> Result<(Issue, Vec<String>), GithubError> {
    let mut dropped = Vec::new();
    loop {
        match github.create_issue(&draft).await {
            Ok(issue) => return Ok((issue, dropped)),
            Err(GithubError::Status {
                status: 422,
                ref invalid,
                ref message,
                ..
            }) => {
                let left_out: Vec<String> = invalid.iter().filter_map(|(field, value)| draft.leave_out(field, value)).collect();
                if left_out.is_empty() {
                    // Nothing that can be left out: refused for good, with GitHub's words.
                    return Err(GithubError::Status {
                        endpoint: "issues_create".into(),
                        status: 422,
                        message: message.clone(),
                        invalid: invalid.clone(),
                    });
                }
                tracing::warn!(?left_out, "GitHub refused part of the issue: filing it without");
                dropped.extend(left_out);
            }
            Err(other) => return Err(other),
        }
    }
}
