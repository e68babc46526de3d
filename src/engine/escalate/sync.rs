//! Following linked issues: each is read again, conditionally (ETags: an unchanged issue costs
//! no rate limit), and what changed is decided as news and stored, with the ETags that showed
//! it, in one write, before any of it is told (`news`). Open issues are read every
//! `sync_interval`; closed ones only while their ticket is open (to see a reopen), at a tenth
//! of the pace; closed issues of done tickets, and issues GitHub says are gone, not at all.

use super::super::engine::{Engine, EngineError};
use super::worker::{CLOSED_ISSUE_PACE, STEP_BACKOFF};
use super::StepError;
use crate::config::{EscalationConfig, Repository};
use crate::github::client::{Conditional, GithubClient};
use crate::store::{EscalationRecord, NewsWhat, StoreError};
use crate::zendesk::client::ZendeskError;

/// What a sync pass did.
#[derive(Debug, Default)]
pub struct SyncPass {
    /// Issues that could not be read (owed: read again at the next pass).
    pub failed: usize,
    /// When news waiting for a retry is next due (ms), if any is.
    pub next_news_ms: Option<i64>,
}

impl Engine {
    /// Reads one linked issue again and records what changed as news.
    async fn read_issue(
        &self,
        github: &GithubClient,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
        pass_started_ms: i64,
    ) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let request = &escalation.requests[index];
        let repository = Repository::parse(&request.repository)
            .ok_or_else(|| StepError::Other(format!("{:?} is not a repository", request.repository)))?;
        let mut linked = request.issue.clone().ok_or_else(|| StepError::Other("no issue".into()))?;
        let number = linked.number;

        let issue = github.issue(&repository, number, linked.etag.as_deref()).await?;
        // A new comment changes the issue (its count and `updated_at`): an issue unchanged since
        // its ETag has no new comment to read.
        let changed = matches!(issue, Conditional::Changed { .. });
        if let Conditional::Changed { value, etag } = issue {
            if value.is_open() != linked.open {
                linked.state_changes += 1;
                let (what, word) = match value.is_open() {
                    true => (NewsWhat::Reopened, "reopened"),
                    false => (NewsWhat::Closed, "closed"),
                };
                let news = self.decide_news(config, ticket_id, format!("{word} {}", linked.state_changes), what, true);
                linked.news.push(news);
                linked.open = value.is_open();
            }
            linked.etag = etag;
        }
        let comments = match changed {
            true => {
                github
                    .all_comments(
                        &repository,
                        number,
                        linked.seen_comment_at.as_deref(),
                        linked.comments_etag.as_deref(),
                    )
                    .await?
            }
            false => Conditional::NotModified,
        };
        if let Conditional::Changed { value, etag } = comments {
            let login = self.own_login(github).await?;
            let seen = linked.seen_comment;
            for comment in value.iter().filter(|c| c.id > seen) {
                let body = comment.body.as_deref().unwrap_or_default();
                let author = comment.user.as_ref().map_or("someone", |u| u.login.as_str());
                let own = author.eq_ignore_ascii_case(&login) && crate::marker::is_own_comment(body);
                if !own {
                    let what = NewsWhat::Comment {
                        id: comment.id,
                        author: author.to_string(),
                        body: Some(body.to_string()),
                    };
                    let news = self.decide_news(config, ticket_id, format!("comment {}", comment.id), what, true);
                    linked.news.push(news);
                }
                linked.seen_comment = comment.id;
                linked.seen_comment_at = comment.created_at.clone().or(linked.seen_comment_at.take());
            }
            linked.comments_etag = etag;
        }
        let solved = self
            .readable_ticket(ticket_id)?
            .is_some_and(|r| matches!(r.status.as_str(), "solved" | "closed"));
        if config.comment_on_solve && solved && !linked.told_solved && linked.open {
            linked.told_solved = true;
            let news = self.decide_news(config, ticket_id, "ticket-solved".into(), NewsWhat::TicketSolved, false);
            linked.news.push(news);
        }
        // Read as of the pass's start: the next pass, an interval later, finds it due however
        // long this pass took to reach it.
        let now_ms = pass_started_ms;
        let request_number = escalation.requests[index].number;
        if !changed && escalation.requests[index].issue.as_ref() == Some(&linked) && linked.failed_reads == 0 {
            // Nothing changed: no write (and no fsync) for a read that found nothing. When it
            // was read is kept in memory; after a restart each issue is read once more.
            crate::sync::lock(&self.issue_reads).insert((ticket_id, request_number), now_ms);
            return Ok(());
        }
        linked.synced_at_ms = now_ms;
        (linked.failed_reads, linked.read_again_at_ms) = (0, 0);
        escalation.requests[index].issue = Some(linked);
        // The news decided, and the ETags that showed it, in one write: told from here on, never
        // decided again.
        self.save_issue(escalation, index)?;
        crate::sync::lock(&self.issue_reads).insert((ticket_id, request_number), now_ms);
        Ok(())
    }

    /// Reads every linked issue whose time has come and tells what is owed; returns how many
    /// could not be read (they are owed, and read again at the next sync).
    pub async fn sync_issues(&self) -> Result<usize, EngineError> {
        Ok(self.sync_pass().await?.failed)
    }

    pub async fn sync_pass(&self) -> Result<SyncPass, EngineError> {
        let (Some(config), Some(github)) = (&self.config.escalation, &self.github) else {
            return Ok(SyncPass::default());
        };
        let mut pass = SyncPass::default();
        let started_ms = self.clock.now_ms();
        let interval_ms = config.sync_interval.as_millis() as i64;
        for mut escalation in crate::sync::blocking(|| self.store.escalations())? {
            // The ticket done with (solved, closed, deleted or gone): a closed issue has nothing
            // more to tell it.
            let ticket_id = escalation.ticket_id;
            let ticket_done = || {
                self.readable_ticket(ticket_id)
                    .ok()
                    .flatten()
                    .is_none_or(|t| matches!(t.status.as_str(), "solved" | "closed" | "deleted"))
            };
            for index in 0..escalation.requests.len() {
                let Some(issue) = escalation.requests[index].issue.as_ref() else {
                    continue;
                };
                if self.shutdown.is_cancelled() {
                    return Err(ZendeskError::Cancelled.into());
                }
                let every = match (issue.open, &issue.gone) {
                    (_, Some(_)) => None,
                    (true, None) => Some(interval_ms),
                    (false, None) if ticket_done() => None,
                    (false, None) => Some(interval_ms * CLOSED_ISSUE_PACE),
                };
                let now_ms = self.clock.now_ms();
                let number = escalation.requests[index].number;
                let read_at = crate::sync::lock(&self.issue_reads)
                    .get(&(ticket_id, number))
                    .copied()
                    .unwrap_or(0)
                    .max(issue.synced_at_ms);
                let due = every.is_some_and(|every| now_ms - read_at >= every) && now_ms >= issue.read_again_at_ms;
                if due {
                    match self.read_issue(github, config, &mut escalation, index, started_ms).await {
                        Ok(()) => self.owed.synced(ticket_id, number),
                        Err(error) if error.cancelled() => return Err(ZendeskError::Cancelled.into()),
                        Err(error) => match error.gone_from_github() {
                            Some(reason) => self.mark_gone(&mut escalation, index, reason)?,
                            None => {
                                pass.failed += 1;
                                self.owed.sync_failed(ticket_id, number, error.to_string());
                                if let Some(linked) = escalation.requests[index].issue.as_mut() {
                                    linked.failed_reads += 1;
                                    let wait = STEP_BACKOFF.after(linked.failed_reads, error.retry_after());
                                    linked.read_again_at_ms = crate::retry::due_ms(self.clock.now_ms(), wait);
                                    tracing::warn!(ticket = ticket_id, %error, failures = linked.failed_reads, "cannot read the linked issue; will retry");
                                }
                                self.save_issue(&escalation, index)?;
                            }
                        },
                    }
                    crate::liveness::beat();
                }
                if let Some(next) = self.tell_news(github, &mut escalation, index).await? {
                    pass.next_news_ms = super::super::deliver::earliest(pass.next_news_ms, next);
                }
            }
        }
        Ok(pass)
    }

    /// An issue GitHub says is no more (or can no longer be read, for good): recorded with its
    /// words and read no more; a ticket's next request files a new one.
    fn mark_gone(&self, escalation: &mut EscalationRecord, index: usize, reason: String) -> Result<(), StoreError> {
        let ticket_id = escalation.ticket_id;
        if let Some(linked) = escalation.requests[index].issue.as_mut() {
            tracing::error!(ticket = ticket_id, issue = linked.number, %reason, "the linked issue cannot be read for good: no longer followed");
            linked.gone = Some(reason);
            linked.open = false;
        }
        self.save_issue(escalation, index)?;
        Ok(())
    }
}
