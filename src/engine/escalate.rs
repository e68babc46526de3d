//! Filing engineering's issues, exactly once per request. A request is decided and stored when a
//! ticket starts to match a rule; then, step by step, each marked done on disk as it is done:
//! the issue is found by its marker (a crash may have created it already) or created, and its
//! number recorded; the ticket gets an internal note with the link and the filed tag (looked
//! for before it is written); the escalation channel is told.

use std::sync::Arc;
use std::time::Duration;

use super::apply::clocks_of;
use super::directory::Directory;
use super::engine::{Engine, EngineError};
use super::status::clock_display;
use crate::config::{ChannelKind, EscalationConfig};
use crate::escalate::issue::{draft, marker, matching_rule, Request};
use crate::github::client::{GithubClient, GithubError};
use crate::notify::wording;
use crate::retry::{self, Backoff};
use crate::sla::clock::{ClockState, Role, TicketClocks};
use crate::sla::policy::Metric;
use crate::store::{EscalationRecord, LinkedIssue, RequestRecord, StoreError, TicketRecord};
use crate::zendesk::client::{Pacing, ZendeskError};

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
    /// Why Zendesk will never take this note, if it will not: the ticket is closed (422) or
    /// gone (404, 410).
    fn refused_for_good(&self) -> Option<String> {
        match self {
            StepError::Refused(reason) => Some(reason.clone()),
            StepError::Zendesk(ZendeskError::Status {
                status: status @ (404 | 410 | 422),
                body,
                ..
            }) => Some(format!("Zendesk refused the note (HTTP {status}): {body}")),
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

/// The marker of a request's internal note: found before the note could be written twice.
pub fn note_marker(ticket_id: u64, number: u32) -> String {
    format!("[slawatch escalation {ticket_id}:request={number}]")
}

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
    /// Saves the worker's copy of one request into the stored record as it is now (read afresh
    /// under the escalation lock), so that what a poll decided meanwhile (a new request, the
    /// matching flag) is kept. A request's steps are only ever written here.
    fn save_request(&self, escalation: &EscalationRecord, index: usize) -> Result<(), StoreError> {
        // An fsync under a lock: off the async workers.
        crate::sync::blocking(|| self.write_request(escalation, index))
    }

    fn write_request(&self, escalation: &EscalationRecord, index: usize) -> Result<(), StoreError> {
        let _writing = crate::sync::lock(&self.escalation_lock);
        let mine = &escalation.requests[index];
        let mut stored = match self.store.escalation(escalation.ticket_id) {
            Ok(stored) => stored.unwrap_or_else(|| escalation.clone()),
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
        match stored.requests.iter_mut().find(|r| r.number == mine.number) {
            Some(request) => *request = mine.clone(),
            None => stored.requests.push(mine.clone()),
        }
        self.store.save_escalation(&stored)
    }

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
                    Some(last) => !escalation.matching && last.issue.as_ref().is_some_and(|i| !i.open),
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

    /// What the issue says: the ticket read live (the store keeps no text), with its clocks now.
    async fn request_of(
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
            .ok_or_else(|| StepError::Other("the ticket is gone (404)".into()))?;
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

    /// Finds (by marker) or creates the request's issue, and records it at once.
    async fn file_issue(
        &self,
        github: &GithubClient,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let number = escalation.requests[index].number;
        let rule = config
            .rules
            .iter()
            .find(|r| r.name == escalation.requests[index].rule)
            .ok_or_else(|| StepError::Other(format!("rule {:?} is no longer configured", escalation.requests[index].rule)))?;
        let record = self
            .readable_ticket(ticket_id)?
            .ok_or_else(|| StepError::Other("the ticket is not stored".into()))?;
        let mark = marker(ticket_id, number);
        // The repository decided with the request: the rule's may have changed since.
        let repository =
            crate::config::Repository::parse(&escalation.requests[index].repository).unwrap_or_else(|| rule.repository.clone());
        let issue = match github.find_by_marker(&repository, &mark).await? {
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
                let mut issue = draft(rule, config, &request);
                issue.repository = repository.clone();
                github.create_issue(&issue).await?
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

    /// The internal note with the link, and the filed tag, in one update; looked for first.
    async fn link_back(&self, config: &EscalationConfig, escalation: &mut EscalationRecord, index: usize) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let request = &escalation.requests[index];
        let issue = request.issue.clone().ok_or_else(|| StepError::Other("no issue yet".into()))?;
        let mark = note_marker(ticket_id, request.number);
        let text = format!(
            "slawatch: engineering issue filed for this ticket: {} ({} #{}).\nEngineering's comments and its closing will be noted here.",
            issue.url, request.repository, issue.number
        );
        let fields: Vec<(u64, String)> = config.link_field.map(|f| (f, issue.url.clone())).into_iter().collect();
        let noted = self
            .note_once(ticket_id, &text, &mark, std::slice::from_ref(&config.filed_tag), &fields)
            .await;
        if let Err(error) = noted {
            // A ticket closed (or deleted) before its issue was linked: the issue stands, the
            // channel is still told; the ticket cannot be.
            let Some(reason) = error.refused_for_good() else {
                return Err(error);
            };
            tracing::warn!(ticket = ticket_id, %reason, "the link to the issue cannot be noted on the ticket; recorded, not retried");
            if let Some(linked) = escalation.requests[index].issue.as_mut() {
                linked.undeliverable.push(format!("{mark} {reason}"));
            }
        }
        escalation.requests[index].noted = true;
        self.save_request(escalation, index)?;
        Ok(())
    }

    /// Tells the escalation channel (once; a post in flight at a crash may repeat).
    async fn announce(&self, config: &EscalationConfig, escalation: &mut EscalationRecord, index: usize) -> Result<(), StepError> {
        let request = &escalation.requests[index];
        let issue = request.issue.clone().ok_or_else(|| StepError::Other("no issue yet".into()))?;
        if let Some((kind, url)) = config.channel.as_ref().and_then(|c| self.channels.get(c)) {
            let text = format!(
                "Engineering issue filed for ticket #{}: {} #{} {}",
                escalation.ticket_id, request.repository, issue.number, issue.url
            );
            let body = match kind {
                ChannelKind::Slack => serde_json::json!({
                    "text": text,
                    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": format!(":hammer_and_wrench: Engineering issue filed for ticket #{}: <{}|{} #{}>", escalation.ticket_id, issue.url, request.repository, issue.number)}}],
                }),
                ChannelKind::Webhook => {
                    serde_json::json!({"event": "escalation_filed", "text": text, "ticket_id": escalation.ticket_id, "issue_url": issue.url})
                }
            };
            let _post = crate::liveness::waiting(super::engine::POST_TIMEOUT);
            let response = self
                .http
                .post(url)
                .json(&body)
                .send()
                .await
                .map_err(|e| StepError::Other(format!("escalation channel: {}", e.without_url())))?;
            if !response.status().is_success() {
                return Err(StepError::Other(format!("escalation channel: HTTP {}", response.status())));
            }
        }
        escalation.requests[index].announced = true;
        self.save_request(escalation, index)?;
        Ok(())
    }

    async fn step(
        &self,
        github: &GithubClient,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<(), StepError> {
        if escalation.requests[index].issue.is_none() {
            self.file_issue(github, config, escalation, index).await?;
        }
        if !escalation.requests[index].noted {
            self.link_back(config, escalation, index).await?;
        }
        if !escalation.requests[index].announced {
            self.announce(config, escalation, index).await?;
        }
        Ok(())
    }

    /// Does every pending step that is due; returns when the next one is (ms), if any.
    pub async fn file_escalations(&self) -> Result<Option<i64>, EngineError> {
        let (Some(config), Some(github)) = (&self.config.escalation, &self.github) else {
            return Ok(None);
        };
        let backoff = Backoff {
            first: Duration::from_secs(5),
            max: Duration::from_secs(600),
        };
        let mut next: Option<i64> = None;
        for mut escalation in crate::sync::blocking(|| self.store.escalations())?
            .into_iter()
            .filter(EscalationRecord::has_pending)
        {
            for index in 0..escalation.requests.len() {
                if !escalation.requests[index].is_pending() {
                    continue;
                }
                if self.shutdown.is_cancelled() {
                    return Err(ZendeskError::Cancelled.into());
                }
                let now_ms = self.clock.now_ms();
                if escalation.requests[index].next_attempt_ms > now_ms {
                    next = Some(next.map_or(escalation.requests[index].next_attempt_ms, |n| {
                        n.min(escalation.requests[index].next_attempt_ms)
                    }));
                    continue;
                }
                match self.step(github, config, &mut escalation, index).await {
                    Ok(()) => {}
                    Err(error) if error.cancelled() => return Err(ZendeskError::Cancelled.into()),
                    Err(error) => {
                        let request = &mut escalation.requests[index];
                        request.attempts += 1;
                        let wait = backoff.after(request.attempts, error.retry_after());
                        request.next_attempt_ms = retry::due_ms(self.clock.now_ms(), wait);
                        request.last_error = Some(error.to_string());
                        tracing::warn!(ticket = escalation.ticket_id, request = request.number, %error, attempts = request.attempts, "escalation step failed; will retry");
                        next = Some(next.map_or(request.next_attempt_ms, |n| n.min(request.next_attempt_ms)));
                        self.save_request(&escalation, index)?;
                    }
                }
            }
        }
        Ok(next)
    }
}

/// The escalation worker: files what is pending, then sleeps until the next retry or a new
/// request; until shutdown.
pub async fn escalation_loop(engine: Arc<Engine>) {
    let sync_every = engine
        .config
        .escalation
        .as_ref()
        .map_or(Duration::from_secs(300), |e| e.sync_interval);
    loop {
        let step = crate::liveness::step("filing and syncing engineering issues");
        match engine.sync_issues().await {
            Err(error) if error.is_cancelled() => break,
            Err(error) => tracing::error!(%error, "issue sync failed; will retry"),
            Ok(_) => {}
        }
        let next = match engine.file_escalations().await {
            Ok(next) => next,
            Err(error) if error.is_cancelled() => break,
            Err(error) => {
                tracing::error!(%error, "escalation pass failed; will retry");
                Some(engine.clock.now_ms() + 30_000)
            }
        };
        let wait = next
            .map_or(sync_every, |at| {
                Duration::from_millis((at - engine.clock.now_ms()).clamp(0, 3_600_000) as u64)
            })
            .min(sync_every);
        drop(step);
        tokio::select! {
            _ = engine.shutdown.cancelled() => break,
            _ = engine.escalation_wake.notified() => {}
            _ = engine.clock.sleep(wait.max(Duration::from_millis(10))) => {}
        }
    }
}

/// A closed issue (of a ticket still open) is read this many times less often than an open one.
pub const CLOSED_ISSUE_PACE: i64 = 10;

/// The marker slawatch puts in its own comments on an issue: they are not engineering's.
const OWN_COMMENT: &str = "<!-- slawatch:comment -->";

impl Engine {
    /// An internal note on the ticket (with tags and fields), unless one with `mark` is there.
    async fn note_once(&self, ticket_id: u64, text: &str, mark: &str, tags: &[String], fields: &[(u64, String)]) -> Result<(), StepError> {
        let written = self
            .client
            .add_internal_note_once(ticket_id, &format!("{text}\n\n{mark}"), mark, tags, fields)
            .await?;
        if written {
            Ok(())
        } else {
            Err(StepError::Refused("the ticket is gone (404)".into()))
        }
    }

    /// Notes an issue's news on the ticket; a note Zendesk refuses for good (the ticket closed
    /// or gone) is recorded on the issue as undeliverable instead of retried at every sync.
    async fn note_news(&self, linked: &mut LinkedIssue, ticket_id: u64, text: &str, mark: &str) -> Result<(), StepError> {
        match self.note_once(ticket_id, text, mark, &[], &[]).await {
            Err(error) => match error.refused_for_good() {
                Some(reason) => {
                    tracing::warn!(ticket = ticket_id, issue = linked.number, %reason, "the issue's news cannot be noted on the ticket; recorded, not retried");
                    linked.undeliverable.push(format!("{mark} {reason}"));
                    Ok(())
                }
                None => Err(error),
            },
            ok => ok,
        }
    }

    /// Where news of a ticket's issue goes: the ticket's alert route (by its severity, tier and
    /// group), else the escalation channel.
    fn ticket_channels(&self, config: &EscalationConfig, ticket_id: u64) -> Vec<String> {
        let routed = self.readable_ticket(ticket_id).ok().flatten().and_then(|record| {
            let clocks = clocks_of(&self.config, &record, &self.directory(), self.clock.now())?;
            Some(
                self.config
                    .notify
                    .route(&clocks.severity, &clocks.tier, record.group_id, "contract"),
            )
        });
        match routed {
            Some(channels) if !channels.is_empty() => channels,
            _ => config.channel.iter().cloned().collect(),
        }
    }

    /// Posts `text` to the ticket's channels (best effort: a failure is logged, the note stands).
    async fn tell_channels(&self, config: &EscalationConfig, ticket_id: u64, text: &str) {
        for channel in self.ticket_channels(config, ticket_id) {
            let Some((kind, url)) = self.channels.get(&channel) else { continue };
            let body = match kind {
                ChannelKind::Slack => serde_json::json!({"text": text}),
                ChannelKind::Webhook => serde_json::json!({"event": "escalation_update", "ticket_id": ticket_id, "text": text}),
            };
            let _post = crate::liveness::waiting(super::engine::POST_TIMEOUT);
            if let Err(error) = self.http.post(url).json(&body).send().await.and_then(|r| r.error_for_status()) {
                tracing::warn!(channel, error = %error.without_url(), "could not tell the channel about the issue");
            }
        }
    }

    /// Reads one linked issue again (conditionally) and tells the ticket what changed: a
    /// comment by engineering, a close, a reopen; tells the issue once the ticket is solved.
    async fn sync_issue(
        &self,
        github: &GithubClient,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let request = &escalation.requests[index];
        let repository = crate::config::Repository::parse(&request.repository)
            .ok_or_else(|| StepError::Other(format!("{:?} is not a repository", request.repository)))?;
        let mut linked = request.issue.clone().ok_or_else(|| StepError::Other("no issue".into()))?;
        let number = linked.number;

        if let crate::github::client::Conditional::Changed { value, etag } =
            github.issue(&repository, number, linked.etag.as_deref()).await?
        {
            if value.is_open() != linked.open {
                let what = if value.is_open() { "reopened" } else { "closed" };
                let mark = format!(
                    "[slawatch github {repository}#{number} {what} {}]",
                    value.updated_at.as_deref().unwrap_or_default()
                );
                let text = format!("slawatch: engineering {what} {} ({repository} #{number}).", linked.url);
                self.note_news(&mut linked, ticket_id, &text, &mark).await?;
                self.tell_channels(
                    config,
                    ticket_id,
                    &format!("Ticket #{ticket_id}: engineering {what} {repository} #{number} {}", linked.url),
                )
                .await;
                linked.open = value.is_open();
            }
            linked.etag = etag;
        }
        if let crate::github::client::Conditional::Changed { value, etag } = github
            .comments(
                &repository,
                number,
                linked.seen_comment_at.as_deref(),
                linked.comments_etag.as_deref(),
            )
            .await?
        {
            let seen = linked.seen_comment;
            for comment in value.iter().filter(|c| c.id > seen) {
                let body = comment.body.as_deref().unwrap_or_default();
                if !body.contains(OWN_COMMENT) {
                    let author = comment.user.as_ref().map_or("someone", |u| u.login.as_str());
                    let quoted: String = body.lines().map(|l| format!("> {l}\n")).collect();
                    let mark = format!("[slawatch github {repository}#{number} comment {}]", comment.id);
                    let text = format!(
                        "slawatch: {author} commented on {} ({repository} #{number}):\n\n{quoted}",
                        linked.url
                    );
                    self.note_news(&mut linked, ticket_id, &text, &mark).await?;
                    self.tell_channels(
                        config,
                        ticket_id,
                        &format!("Ticket #{ticket_id}: {author} commented on {repository} #{number} {}", linked.url),
                    )
                    .await;
                }
                // Marked one by one: a failure later in the list retries only what is left.
                linked.seen_comment = comment.id;
                linked.seen_comment_at = comment.created_at.clone().or(linked.seen_comment_at.take());
                escalation.requests[index].issue = Some(linked.clone());
                self.save_request(escalation, index)?;
            }
            linked.comments_etag = etag;
        }
        let solved = self
            .readable_ticket(ticket_id)?
            .is_some_and(|r| matches!(r.status.as_str(), "solved" | "closed"));
        if config.comment_on_solve && solved && !linked.told_solved && linked.open {
            // The ticket's number as a link: a bare `#N` would reference the repository's issue N.
            let base_url = self.config.zendesk.as_ref().map_or(String::new(), |z| z.base_url.clone());
            let text =
                format!("The customer's Zendesk ticket [#{ticket_id}]({base_url}/agent/tickets/{ticket_id}) was solved.\n\n{OWN_COMMENT}");
            github.comment(&repository, number, &text).await?;
            linked.told_solved = true;
        }
        linked.synced_at_ms = self.clock.now_ms();
        escalation.requests[index].issue = Some(linked);
        self.save_request(escalation, index)?;
        Ok(())
    }

    /// Reads every linked issue whose sync interval has passed; returns how many could not be
    /// (they are owed, and read again at the next sync).
    pub async fn sync_issues(&self) -> Result<usize, EngineError> {
        let (Some(config), Some(github)) = (&self.config.escalation, &self.github) else {
            return Ok(0);
        };
        let mut failed = 0;
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
                let every = match issue.open {
                    true => interval_ms,
                    // Closed: read only to see it reopened, while the ticket is not done, and
                    // at a tenth of the pace.
                    false if ticket_done() => continue,
                    false => interval_ms * CLOSED_ISSUE_PACE,
                };
                if self.clock.now_ms() - issue.synced_at_ms < every {
                    continue;
                }
                if self.shutdown.is_cancelled() {
                    return Err(ZendeskError::Cancelled.into());
                }
                let number = escalation.requests[index].number;
                match self.sync_issue(github, config, &mut escalation, index).await {
                    Ok(()) => self.owed.synced(escalation.ticket_id, number),
                    Err(error) if error.cancelled() => return Err(ZendeskError::Cancelled.into()),
                    Err(error) => {
                        failed += 1;
                        tracing::warn!(ticket = escalation.ticket_id, %error, "cannot read the linked issue; will retry at the next sync");
                        self.owed.sync_failed(escalation.ticket_id, number, error.to_string());
                    }
                }
            }
        }
        Ok(failed)
    }
}
