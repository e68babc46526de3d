//! Engineering's issues, exactly once per request, and their news, exactly once per piece.
//!
//! Filing: a request is decided and stored when a ticket starts to match a rule (`decide`);
//! then, step by step, each marked done on disk as it is done: the issue is found by its marker
//! (a crash may have created it already) or created (`file`), the ticket gets an internal note
//! with the link and the filed tag (`link_back`), the escalation channel is told (`announce`).
//!
//! Following: each linked issue is read again, conditionally (`sync`); what changed (a comment,
//! a close, a reopen, the ticket solved) is decided as news and stored before it is told
//! anywhere (`news`), so a crash or a timeout repeats nothing that can be looked for.
//!
//! Filing and following are separate workers (`worker`): a new request never waits behind a
//! sync pass.

mod announce;
mod decide;
mod file;
mod link_back;
mod news;
mod request;
mod sync;
mod worker;

use std::time::Duration;

use super::engine::Engine;
use crate::github::client::GithubError;
use crate::store::{EscalationRecord, StoreError};
use crate::zendesk::client::ZendeskError;

pub use worker::{filing_loop, sync_loop, CLOSED_ISSUE_PACE};

/// Which worker's part of a request a save writes: they run side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The request's steps (filed, noted, announced, failed), by the filing worker.
    Filing,
    /// The linked issue's state, by the sync worker.
    Issue,
}

/// `into`, with `from`'s records of what could not be noted that it lacks.
fn merge_undeliverable(mut into: crate::store::LinkedIssue, from: &crate::store::LinkedIssue) -> crate::store::LinkedIssue {
    for entry in &from.undeliverable {
        if !into.undeliverable.contains(entry) {
            into.undeliverable.push(entry.clone());
        }
    }
    into
}

/// Why a step failed, and when to try again.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Refused for good: the ticket is closed (422) or gone (404). Not retried.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Other(String),
}

impl StepError {
    /// Why Zendesk will never take this note, if it will not: a 4xx that waiting does not
    /// change (the ticket closed: 422; gone: 404, 410; out of the API user's reach: 403), as
    /// alerts' notes classify it. A 409 (changed since read) is retried, reading it afresh.
    fn refused_by_zendesk(&self) -> Option<String> {
        match self {
            StepError::Refused(reason) => Some(reason.clone()),
            StepError::Zendesk(ZendeskError::Status { status, body, .. })
                if (400..500).contains(status) && !matches!(status, 408 | 409 | 429) =>
            {
                Some(format!("Zendesk refused the note (HTTP {status}): {body}"))
            }
            _ => None,
        }
    }

    /// GitHub's words when it refused for good: the repository or issue gone (404, 410), closed
    /// to writes (403 that is no rate limit: archived, no access), or the request invalid (422).
    /// A 401 is not: a token put right makes every request good again.
    fn refused_by_github(&self) -> Option<String> {
        match self {
            StepError::Github(GithubError::Status {
                status: status @ (403 | 404 | 410 | 422),
                message,
                ..
            }) => Some(format!("GitHub refused (HTTP {status}): {message}")),
            _ => None,
        }
    }

    /// GitHub's words when it says the issue is no more: deleted (410), or its repository gone
    /// or renamed away (404). A 403 is not: access can be given back.
    fn gone_from_github(&self) -> Option<String> {
        match self {
            StepError::Github(GithubError::Status {
                status: status @ (404 | 410),
                message,
                ..
            }) => Some(format!("GitHub answers HTTP {status}: {message}")),
            _ => None,
        }
    }

    fn cancelled(&self) -> bool {
        matches!(
            self,
            StepError::Github(GithubError::Cancelled) | StepError::Zendesk(ZendeskError::Cancelled)
        )
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            StepError::Github(GithubError::RateLimited { retry_after, .. })
            | StepError::Zendesk(ZendeskError::RateLimited { retry_after, .. }) => Some(*retry_after),
            _ => None,
        }
    }
}

impl Engine {
    /// Saves the filing worker's copy of one request into the stored record as it is now (read
    /// afresh under the escalation lock), so that what a poll decided meanwhile (a new request,
    /// the matching flag) is kept. The linked issue's state belongs to the sync worker, which
    /// runs beside this one: once recorded, it is kept as stored (what the filing adds to it,
    /// a link it could not note, is merged in).
    fn save_request(&self, escalation: &EscalationRecord, index: usize) -> Result<(), StoreError> {
        // An fsync under a lock: off the async workers.
        crate::sync::blocking(|| self.write_request(escalation, index, Part::Filing))
    }

    /// Saves the sync worker's copy of one request's linked issue (its ETags, news and what was
    /// told), and nothing else of the request: the filing worker's steps are kept as stored.
    fn save_issue(&self, escalation: &EscalationRecord, index: usize) -> Result<(), StoreError> {
        crate::sync::blocking(|| self.write_request(escalation, index, Part::Issue))
    }

    fn write_request(&self, escalation: &EscalationRecord, index: usize, part: Part) -> Result<(), StoreError> {
        let _writing = crate::sync::lock(&self.escalation_lock);
        let mine = &escalation.requests[index];
        let mut stored = match self.store.escalation(escalation.ticket_id) {
            Ok(Some(stored)) => stored,
            // Removed meanwhile (retention): a stale copy is not written back.
            Ok(None) => {
                tracing::warn!(
                    ticket = escalation.ticket_id,
                    "the escalation is no longer stored: not written back"
                );
                return Ok(());
            }
            // Garbled since this pass read it (a pass skips records it cannot read). The worker's
            // copy is the record as last readable, with this step done: written over the garbage,
            // the step stays done (an issue filed is not filed again) and the pass goes on.
            Err(error @ StoreError::Corrupt { .. }) => {
                self.store.stats.unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(ticket = escalation.ticket_id, %error, "a stored escalation cannot be read: replaced by the worker's copy");
                escalation.clone()
            }
            Err(other) => return Err(other),
        };
        let Some(request) = stored.requests.iter_mut().find(|r| r.number == mine.number) else {
            // Only the poll decides requests: one missing went with its record (retention).
            tracing::warn!(
                ticket = escalation.ticket_id,
                request = mine.number,
                "the request is no longer stored: not written back"
            );
            return Ok(());
        };
        let issue = match (part, request.issue.take(), &mine.issue) {
            (_, None, _) | (Part::Issue, Some(_), None) => mine.issue.clone(),
            (Part::Filing, Some(kept), Some(added)) => Some(merge_undeliverable(kept, added)),
            (Part::Issue, Some(kept), Some(mine)) => Some(merge_undeliverable(mine.clone(), &kept)),
            (Part::Filing, kept, None) => kept,
        };
        if part == Part::Filing {
            *request = mine.clone();
        }
        request.issue = issue;
        self.store.save_escalation(&stored)
    }
    /// An internal note on the ticket (with tags and fields) marked as being `about` this, unless
    /// one of slawatch's own notes is about it already. A ticket gone is refused for good.
    async fn note_once(
        &self,
        ticket_id: u64,
        text: &str,
        about: &crate::marker::NoteAbout,
        tags: &[String],
        fields: &[(u64, String)],
    ) -> Result<(), StepError> {
        let account = self.account();
        let line = crate::marker::note_line(&account, about);
        let written = self
            .client
            .add_internal_note_once(
                ticket_id,
                text,
                &line,
                |body| crate::marker::note_carries(body, &account, about),
                tags,
                fields,
            )
            .await?;
        if written {
            Ok(())
        } else {
            Err(StepError::Refused("the ticket is gone (404)".into()))
        }
    }

    /// The login the GitHub token files as, asked once: only its issues and comments carry
    /// markers slawatch trusts.
    async fn own_login(&self, github: &crate::github::client::GithubClient) -> Result<String, StepError> {
        github.own_login().await.map_err(|error| match error {
            GithubError::Status { status: 403, message, .. } => StepError::Other(format!(
                "GitHub answers GET /user with 403 ({message}): the token has no user of its own (a GitHub App installation token?); \
                 slawatch needs a user's (or a machine user's) token to know its own issues"
            )),
            other => other.into(),
        })
    }
}
