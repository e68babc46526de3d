//! Telling an issue's news, exactly once everywhere: decided and stored first (`decide_news`),
//! then each destination written and marked done on disk, one at a time: the internal note
//! (looked for by its marker before a retry writes it), each channel (a post in flight at a
//! crash may repeat, as an alert's may), and the issue itself for the ticket's own news (a
//! comment, looked for by its marker and author before a retry posts it). A destination that
//! refuses for good is recorded with the reason, never retried; one that fails for now is
//! retried with backoff (the news of other issues goes on meanwhile).

use super::super::apply::clocks_of;
use super::super::engine::{Engine, EngineError};
use super::worker::STEP_BACKOFF;
use super::StepError;
use crate::config::{EscalationConfig, Repository};
use crate::github::client::{Conditional, GithubClient};
use crate::marker::{self, CommentAbout, NoteAbout};
use crate::notify::escalation::{self as message, Happened, IssueRef};
use crate::retry;
use crate::store::{Delivery, EscalationRecord, LinkedIssue, News, NewsWhat, Owed};
use crate::zendesk::client::ZendeskError;

/// How much of a GitHub comment a note quotes: Zendesk takes up to 64 KB a comment.
const MAX_QUOTE_CHARS: usize = 30_000;

impl Engine {
    /// News of a ticket's issue, with everywhere it is owed: a note on the ticket (`note`) and
    /// the ticket's channels, or (the ticket's own news) a comment on the issue.
    pub(super) fn decide_news(&self, config: &EscalationConfig, ticket_id: u64, key: String, what: NewsWhat, note: bool) -> News {
        let now_ms = self.clock.now_ms();
        let for_the_issue = matches!(what, NewsWhat::TicketSolved);
        News {
            key,
            decided_at: self.clock.now(),
            note: if note { Owed::Yes } else { Owed::No },
            channels: match for_the_issue {
                true => Vec::new(),
                false => self
                    .ticket_channels(config, ticket_id)
                    .into_iter()
                    .map(|channel| Delivery::new(channel, now_ms))
                    .collect(),
            },
            comment: if for_the_issue { Owed::Yes } else { Owed::No },
            what,
            attempts: 0,
            next_attempt_ms: now_ms,
            last_error: None,
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
                    .chat_route(&clocks.severity, &clocks.tier, record.group_id, "contract"),
            )
        });
        match routed {
            Some(channels) if !channels.is_empty() => channels,
            _ => config.channel.iter().cloned().collect(),
        }
    }

    /// Tells the request's issue's owed news that is due; returns when the next retry is (ms).
    pub(super) async fn tell_news(
        &self,
        github: &GithubClient,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<Option<i64>, EngineError> {
        let mut next = None;
        let count = escalation.requests[index].issue.as_ref().map_or(0, |i| i.news.len());
        for at in 0..count {
            let Some(news) = escalation.requests[index].issue.as_ref().map(|i| i.news[at].clone()) else {
                break;
            };
            if news.is_done() {
                continue;
            }
            if news.next_attempt_ms > self.clock.now_ms() {
                next = super::super::deliver::earliest(next, news.next_attempt_ms);
                continue;
            }
            match self.tell_one(github, escalation, index, at).await {
                Ok(()) => {}
                Err(error) if error.cancelled() => return Err(ZendeskError::Cancelled.into()),
                Err(StepError::Store(error)) => return Err(error.into()),
                Err(error) => {
                    let ticket_id = escalation.ticket_id;
                    let Some(news) = news_mut(escalation, index, at) else { break };
                    news.attempts += 1;
                    let wait = STEP_BACKOFF.after(news.attempts, error.retry_after());
                    news.next_attempt_ms = retry::due_ms(self.clock.now_ms(), wait);
                    news.last_error = Some(error.to_string());
                    tracing::warn!(ticket = ticket_id, news = %news.key, %error, attempts = news.attempts, "an issue's news could not be told; will retry");
                    next = super::super::deliver::earliest(next, news.next_attempt_ms);
                    self.save_issue(escalation, index)?;
                }
            }
        }
        // What is told everywhere is forgotten: the issue's record stays small.
        if let Some(linked) = escalation.requests[index].issue.as_mut() {
            if linked.news.iter().any(News::is_done) {
                linked.news.retain(|n| !n.is_done());
                self.save_issue(escalation, index)?;
            }
        }
        Ok(next)
    }

    /// Tells one piece of news everywhere it is still owed, saving after each destination. Each
    /// destination on its own: one that fails for now does not hold up the others (the first
    /// such failure is returned, for the piece's retry).
    async fn tell_one(&self, github: &GithubClient, escalation: &mut EscalationRecord, index: usize, at: usize) -> Result<(), StepError> {
        let ticket_id = escalation.ticket_id;
        let request = &escalation.requests[index];
        let (number, repository) = (request.number, request.repository.clone());
        let linked = request.issue.clone().ok_or_else(|| StepError::Other("no issue".into()))?;
        let news = linked.news[at].clone();
        let issue = IssueRef {
            ticket_id,
            repository: &repository,
            number: linked.number,
            url: &linked.url,
        };
        let mut failed: Option<StepError> = None;

        if news.note.is_owed() {
            let about = NoteAbout::News {
                repository: repository.clone(),
                issue: linked.number,
                key: news.key.clone(),
            };
            let outcome = match self.note_once(ticket_id, &note_text(&issue, &news.what), &about, &[], &[]).await {
                Ok(()) => Some(Owed::Done),
                Err(error) if error.cancelled() => return Err(error),
                Err(error) => match error.refused_by_zendesk() {
                    Some(reason) => {
                        tracing::warn!(ticket = ticket_id, issue = linked.number, news = %news.key, %reason, "the issue's news cannot be noted on the ticket; recorded, not retried");
                        Some(Owed::Refused(reason))
                    }
                    None => {
                        failed = Some(error);
                        None
                    }
                },
            };
            if let Some(outcome) = outcome {
                let told = news_linked_mut(escalation, index).ok_or_else(|| StepError::Other("no issue".into()))?;
                if let Owed::Refused(reason) = &outcome {
                    told.undeliverable.push(format!("{}: {reason}", news.key));
                }
                let news = &mut told.news[at];
                news.note = outcome;
                // The words were kept only to be noted.
                if let NewsWhat::Comment { body, .. } = &mut news.what {
                    *body = None;
                }
                self.save_issue(escalation, index)?;
            }
        }

        for channel_at in 0..news.channels.len() {
            if !news.channels[channel_at].is_due(self.clock.now_ms()) {
                continue;
            }
            let channel = news.channels[channel_at].channel.clone();
            let Some(happened) = happened(&news.what) else { continue };
            let posted = match self.channels.get(&channel) {
                Some((kind, _)) => self.post(&channel, &message::news(*kind, &issue, happened)).await,
                None => Err(super::super::deliver::DeliveryError::permanent(format!(
                    "channel {channel:?} is no longer configured"
                ))),
            };
            let now_ms = self.clock.now_ms();
            let delivery = news_mut(escalation, index, at)
                .map(|n| &mut n.channels[channel_at])
                .ok_or_else(|| StepError::Other("no issue".into()))?;
            match posted {
                Ok(()) => delivery.sent_at = Some(self.clock.now()),
                Err(error) => {
                    if error.permanent {
                        tracing::warn!(ticket = ticket_id, %channel, error = %error.message, "the channel refused an issue's news for good; not retried");
                    }
                    let attempts = delivery.attempts + 1;
                    let wait = STEP_BACKOFF.after(attempts, error.retry_after);
                    delivery.record_failure(attempts, retry::due_ms(now_ms, wait), error.permanent, now_ms, &error.message);
                    if !error.permanent {
                        failed.get_or_insert(StepError::Other(error.message));
                    }
                }
            }
            self.save_issue(escalation, index)?;
        }

        if news.comment.is_owed() {
            match self.comment_once(github, ticket_id, number, &repository, &linked, &news).await {
                Ok(outcome) => {
                    if let Some(news) = news_mut(escalation, index, at) {
                        news.comment = outcome;
                    }
                    self.save_issue(escalation, index)?;
                }
                Err(error) if error.cancelled() => return Err(error),
                Err(error) => {
                    failed.get_or_insert(error);
                }
            }
        }
        match failed {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The ticket's own news as a comment on the issue, unless slawatch's comment saying it is
    /// there already (posted before a crash, or by a request that timed out after GitHub took it).
    async fn comment_once(
        &self,
        github: &GithubClient,
        ticket_id: u64,
        request: u32,
        repository: &str,
        linked: &LinkedIssue,
        news: &News,
    ) -> Result<Owed, StepError> {
        let about = match news.what {
            NewsWhat::TicketSolved => CommentAbout::TicketSolved,
            _ => return Ok(Owed::No),
        };
        let repo = Repository::parse(repository).ok_or_else(|| StepError::Other(format!("{repository:?} is not a repository")))?;
        let account = self.account();
        let login = self.own_login(github).await?;
        let since = crate::sla::time::format_rfc3339(news.decided_at - 600);
        let found = match github.all_comments(&repo, linked.number, Some(&since), None).await {
            Ok(Conditional::Changed { value, .. }) => value.iter().any(|c| {
                c.user.as_ref().is_some_and(|u| u.login.eq_ignore_ascii_case(&login))
                    && c.body
                        .as_deref()
                        .is_some_and(|b| marker::is_comment(b, &account, ticket_id, request, about))
            }),
            Ok(Conditional::NotModified) => false,
            Err(error) => return refused_or(StepError::from(error)),
        };
        if found {
            return Ok(Owed::Done);
        }
        // The ticket's number as a link: a bare `#N` would reference the repository's issue N.
        let base_url = self.config.zendesk.as_ref().map_or(String::new(), |z| z.base_url.clone());
        let text = format!(
            "{}\nThe customer's Zendesk ticket [#{ticket_id}]({base_url}/agent/tickets/{ticket_id}) was solved.",
            marker::comment_line(&account, ticket_id, request, about)
        );
        match github.comment(&repo, linked.number, &text).await {
            Ok(_) => Ok(Owed::Done),
            Err(error) => refused_or(StepError::from(error)),
        }
    }
}

/// A refusal for good becomes the outcome; anything else is retried.
fn refused_or(error: StepError) -> Result<Owed, StepError> {
    match error.refused_by_github() {
        Some(reason) => Ok(Owed::Refused(reason)),
        None => Err(error),
    }
}

fn news_linked_mut(escalation: &mut EscalationRecord, index: usize) -> Option<&mut LinkedIssue> {
    escalation.requests.get_mut(index)?.issue.as_mut()
}

fn news_mut(escalation: &mut EscalationRecord, index: usize, at: usize) -> Option<&mut News> {
    news_linked_mut(escalation, index)?.news.get_mut(at)
}

fn happened(what: &NewsWhat) -> Option<Happened<'_>> {
    match what {
        NewsWhat::Comment { author, .. } => Some(Happened::Commented { author }),
        NewsWhat::Closed => Some(Happened::Closed),
        NewsWhat::Reopened => Some(Happened::Reopened),
        NewsWhat::TicketSolved => None,
    }
}

/// The internal note telling the ticket an issue's news.
fn note_text(issue: &IssueRef, what: &NewsWhat) -> String {
    let (repository, number, url) = (issue.repository, issue.number, issue.url);
    match what {
        NewsWhat::Comment { author, body, .. } => {
            let body = body.as_deref().unwrap_or_default();
            let mut quoted: String = body.chars().take(MAX_QUOTE_CHARS).collect();
            if quoted.len() < body.len() {
                quoted.push_str(&format!("\n… (the rest is on {url})"));
            }
            // Every line break a reader may render as one is quoted as one: no line of the
            // comment escapes the quote (a lone `\r` would, in Zendesk).
            let quoted = quoted.replace("\r\n", "\n").replace(['\r', '\u{2028}', '\u{2029}', '\u{85}'], "\n");
            let quoted: String = quoted.lines().map(|l| format!("> {l}\n")).collect();
            format!("slawatch: {author} commented on {url} ({repository} #{number}):\n\n{quoted}")
        }
        NewsWhat::Closed => format!("slawatch: engineering closed {url} ({repository} #{number})."),
        NewsWhat::Reopened => format!("slawatch: engineering reopened {url} ({repository} #{number})."),
        NewsWhat::TicketSolved => String::new(),
    }
}
