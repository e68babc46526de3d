//! The Zendesk API client: authentication, a requests-per-minute budget,
//! retries with backoff and jitter on 5xx, timeouts and unreadable bodies,
//! and `Retry-After` on 429 (the shared policy of `crate::retry`). Every wait
//! and every request in flight ends at shutdown.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::account::{BusinessSchedule, Group, Me, OrganizationField, TicketField};
use super::models::{read_records, read_tickets, Audit, Comment, EventPage, Organization, Ticket, TicketEvent, TicketPage, User};
use crate::clock::Clock;
use crate::retry::{self, Backoff};
use crate::sync::lock;

#[derive(Debug, thiserror::Error)]
pub enum ZendeskError {
    #[error("{endpoint}: HTTP {status}: {body}")]
    Status { endpoint: String, status: u16, body: String },
    #[error("{endpoint}: rate limited; Zendesk asked to wait {retry_after:?}")]
    RateLimited { endpoint: String, retry_after: Duration },
    #[error("{endpoint}: {message}")]
    Transient { endpoint: String, message: String },
    #[error("{endpoint}: the response could not be read: {message}")]
    Malformed { endpoint: String, message: String },
    #[error("stopped: shutdown asked for")]
    Cancelled,
    /// Waiting on `waiting` (a 429's `retry_after`, say) would pass the deadline set for this
    /// run (`run --once --max-wait`).
    #[error("{waiting}: waiting would pass the run's time limit")]
    Deadline { waiting: String, retry_after: Option<Duration> },
}

impl ZendeskError {
    fn retryable(&self) -> bool {
        match self {
            ZendeskError::Status { status, .. } => *status >= 500 || *status == 408,
            ZendeskError::RateLimited { .. } | ZendeskError::Transient { .. } | ZendeskError::Malformed { .. } => true,
            ZendeskError::Cancelled | ZendeskError::Deadline { .. } => false,
        }
    }
}

pub use super::pacing::Pacing;
use super::pacing::{Admission, Admit, Why};

#[derive(Clone)]
pub enum Auth {
    /// `{email}/token` and the API token, over HTTP Basic.
    ApiToken { email: String, token: String },
    /// An OAuth access token.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::ApiToken { email, .. } => write!(f, "ApiToken({email}/token, ***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl Auth {
    fn header(&self) -> String {
        match self {
            Auth::ApiToken { email, token } => {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{email}/token:{token}"))
                )
            }
            Auth::Bearer(token) => format!("Bearer {token}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub base_url: String,
    pub auth: Auth,
    pub requests_per_minute: u32,
    /// Zendesk allows the incremental exports 10 requests a minute (30 with High Volume).
    pub export_requests_per_minute: u32,
    pub timeout: Duration,
    /// Attempts per request before the error is returned (the poll then fails and keeps its cursor).
    pub max_attempts: u32,
    /// First backoff delay; doubles each attempt, with jitter, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

/// Requests sent and failures seen, for logs and metrics.
#[derive(Debug, Default)]
pub struct ApiStats {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub rate_limited: AtomicU64,
    pub skipped_records: AtomicU64,
    /// Values kept as unknown because they did not parse (the record itself was kept).
    pub unknown_values: AtomicU64,
}

pub struct ZendeskClient {
    http: reqwest::Client,
    options: ClientOptions,
    clock: Clock,
    /// Who may send next: the budgets, 429s' holds, alerts' confirmations first.
    admission: Admission,
    /// No wait past this instant (ms); i64::MAX: none.
    deadline_ms: std::sync::atomic::AtomicI64,
    pub stats: ApiStats,
    /// Shutdown: ends every wait and every request in flight.
    cancel: CancellationToken,
    /// Ticket fields already logged for an unreadable value: each is logged once.
    unknown_logged: Mutex<HashSet<&'static str>>,
    /// The id of the user the token acts as, asked once: only its internal notes are slawatch's.
    api_user: tokio::sync::OnceCell<u64>,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
}

/// Where a ticket export page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportStart {
    StartTime(i64),
    Cursor(String),
}

impl ZendeskClient {
    pub fn new(options: ClientOptions, clock: Clock) -> Result<ZendeskClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("slawatch/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ZendeskClient {
            http,
            admission: Admission::new(options.requests_per_minute, options.export_requests_per_minute),
            deadline_ms: std::sync::atomic::AtomicI64::new(i64::MAX),
            options,
            clock,
            stats: ApiStats::default(),
            cancel: CancellationToken::new(),
            unknown_logged: Mutex::new(HashSet::new()),
            api_user: tokio::sync::OnceCell::new(),
            metrics: None,
        })
    }

    /// Ends every wait and request in flight when `cancel` is cancelled.
    pub fn with_cancel(mut self, cancel: CancellationToken) -> ZendeskClient {
        self.cancel = cancel;
        self
    }

    /// Counts each request (by endpoint and status), its latency and each rate-limit wait in
    /// `metrics`.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> ZendeskClient {
        self.metrics = Some(metrics);
        self
    }

    fn rate_limit_waited(&self, waited: Duration) {
        if let Some(metrics) = &self.metrics {
            metrics.rate_limit_wait("zendesk", waited);
        }
    }

    /// No wait past `deadline_ms` (None: no limit): a request that would wait longer fails with
    /// `ZendeskError::Deadline` at once (`run --once --max-wait`).
    pub fn set_deadline(&self, deadline_ms: Option<i64>) {
        self.deadline_ms.store(deadline_ms.unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    /// Waits `d` (`why`, and whether it is a 429's `Retry-After`), unless that passes the
    /// deadline.
    async fn wait(&self, d: Duration, why: String, rate_limited: bool) -> Result<(), ZendeskError> {
        if retry::due_ms(self.clock.now_ms(), d) > self.deadline_ms.load(Ordering::Relaxed) {
            return Err(ZendeskError::Deadline {
                waiting: why,
                retry_after: rate_limited.then_some(d),
            });
        }
        retry::wait(&self.clock, &self.cancel, d).await.map_err(|_| ZendeskError::Cancelled)
    }

    /// An alert's confirmation is under way until the guard is dropped: routine requests wait
    /// behind it, so that the next slot Zendesk gives goes to the alert.
    pub fn urgent(&self) -> super::pacing::UrgentGuard<'_> {
        self.admission.urgent()
    }

    /// Waits for the request's slot: the account's budget, the exports' own within it, any hold
    /// a 429 put on them, and (for routine requests) any alert's confirmation under way.
    async fn take_budget(&self, endpoint: &str, pacing: Pacing) -> Result<(), ZendeskError> {
        let export = endpoint.ends_with("_export");
        loop {
            let urgent_done = self.admission.urgent_done.notified();
            tokio::pin!(urgent_done);
            urgent_done.as_mut().enable();
            let now = self.clock.now_ms();
            match self.admission.admit(export, pacing, now) {
                Admit::Go => return Ok(()),
                Admit::Wait { ms, why: Why::RateLimited } if pacing == Pacing::Return => {
                    return Err(ZendeskError::RateLimited {
                        endpoint: endpoint.to_string(),
                        retry_after: Duration::from_millis(ms as u64),
                    })
                }
                Admit::Wait { ms, why } => {
                    let d = Duration::from_millis(ms.max(1) as u64);
                    self.rate_limit_waited(d);
                    let text = match why {
                        Why::RateLimited => format!("{endpoint}: Zendesk's rate limit (429, Retry-After {}s)", d.as_secs().max(1)),
                        Why::Budget { per_minute } => format!("{endpoint}: the configured budget of {per_minute} requests a minute"),
                    };
                    self.wait(d, text, why == Why::RateLimited).await?;
                }
                Admit::BehindUrgent => {
                    // However long the confirmation takes (its own task is watched), this is a
                    // wait on purpose.
                    let _behind = crate::liveness::waiting_on_another();
                    tokio::select! {
                        _ = self.cancel.cancelled() => return Err(ZendeskError::Cancelled),
                        _ = urgent_done => {}
                    }
                }
            }
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
        pacing: Pacing,
    ) -> Result<T, ZendeskError> {
        self.take_budget(endpoint, pacing).await?;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.options.base_url.trim_end_matches('/'), path_and_query);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let request = request.header(reqwest::header::AUTHORIZATION, self.options.auth.header());
        let transient = |e: reqwest::Error| ZendeskError::Transient {
            endpoint: endpoint.to_string(),
            message: without_url(&e),
        };
        let exchange = async {
            let response = request.send().await.map_err(transient)?;
            let status = response.status();
            let retry_after = retry::retry_after(response.headers(), self.clock.now());
            let bytes = response.bytes().await.map_err(transient)?;
            Ok::<_, ZendeskError>((status, retry_after, bytes))
        };
        let started = std::time::Instant::now();
        // A request is a wait on purpose, bounded by its timeout: not a stall.
        let _request = crate::liveness::waiting(self.options.timeout);
        let exchanged = tokio::select! {
            _ = self.cancel.cancelled() => return Err(ZendeskError::Cancelled),
            exchange = exchange => exchange,
        };
        if let Some(metrics) = &self.metrics {
            let status = exchanged.as_ref().ok().map(|(status, _, _)| status.as_u16());
            metrics.api_request("zendesk", endpoint, status, started.elapsed());
        }
        let (status, retry_after, bytes) = exchanged?;
        if status.as_u16() == 429 {
            return Err(ZendeskError::RateLimited {
                endpoint: endpoint.to_string(),
                retry_after: retry_after.unwrap_or(Duration::from_secs(60)),
            });
        }
        if !status.is_success() {
            let body = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(ZendeskError::Status {
                endpoint: endpoint.to_string(),
                status: status.as_u16(),
                body,
            });
        }
        serde_json::from_slice(&bytes)
            .or_else(|error| match super::repair::repaired(&bytes) {
                // One bad string must not refuse a whole page for ever: it is kept as garbled text.
                Some(fixed) => {
                    self.stats.unknown_values.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(endpoint, %error, "an answer held text that is not UTF-8: replaced with U+FFFD, its records kept");
                    serde_json::from_slice(&fixed)
                }
                None => Err(error),
            })
            .map_err(|e| ZendeskError::Malformed {
                endpoint: endpoint.to_string(),
                message: e.to_string(),
            })
    }

    /// GET with retries: backoff with jitter on transient failures; on 429, `pacing`.
    async fn get<T: DeserializeOwned>(&self, endpoint: &str, path_and_query: &str, pacing: Pacing) -> Result<T, ZendeskError> {
        self.send(
            endpoint,
            reqwest::Method::GET,
            path_and_query,
            None,
            self.options.max_attempts,
            pacing,
        )
        .await
    }

    pub(super) async fn send<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Value>,
        max_attempts: u32,
        pacing: Pacing,
    ) -> Result<T, ZendeskError> {
        /// A 429 is Zendesk pacing us, not a failure: it does not use up an attempt, but a
        /// request paced this many times in a row is given up (the poll reports it).
        const MAX_RATE_LIMITED: u32 = 20;
        let backoff = Backoff {
            first: self.options.backoff,
            max: self.options.max_backoff,
        };
        let (mut attempt, mut paced) = (0, 0);
        loop {
            attempt += 1;
            let error = match self.send_once(endpoint, method.clone(), path_and_query, body, pacing).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if matches!(error, ZendeskError::Cancelled) {
                return Err(error);
            }
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            let (wait, why) = match &error {
                ZendeskError::RateLimited { retry_after, .. } => {
                    self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                    // Held back for everyone it limits: the next attempt (this one's or another's)
                    // waits it out in `take_budget`, alerts' confirmations first.
                    let until = retry::due_ms(self.clock.now_ms(), *retry_after);
                    self.admission.hold(endpoint.ends_with("_export"), until);
                    if pacing == Pacing::Return || paced >= MAX_RATE_LIMITED {
                        return Err(error);
                    }
                    paced += 1;
                    attempt -= 1;
                    tracing::warn!(%error, "Zendesk asked to wait; holding requests back");
                    continue;
                }
                _ if !error.retryable() || attempt >= max_attempts => return Err(error),
                _ => (backoff.delay(attempt), format!("{endpoint}: a retry after {error}")),
            };
            tracing::warn!(%error, attempt, wait_ms = wait.as_millis() as u64, "Zendesk request failed; retrying");
            self.wait(wait, why, false).await?;
        }
    }

    /// One ticket, read live (not through the export); None when Zendesk answers 404.
    pub async fn ticket(&self, id: u64, pacing: Pacing) -> Result<Option<Ticket>, ZendeskError> {
        #[derive(serde::Deserialize)]
        struct One {
            ticket: Value,
        }
        match self.get::<One>("ticket", &format!("/api/v2/tickets/{id}.json"), pacing).await {
            // A ticket that cannot be read is an error, not a deletion.
            Ok(one) => {
                let mut unknown = Vec::new();
                let ticket = Ticket::read(&one.ticket, &mut unknown).map_err(|message| ZendeskError::Malformed {
                    endpoint: "ticket".to_string(),
                    message,
                })?;
                self.note_unknown(unknown.into_iter().map(|field| (id, field)));
                Ok(Some(ticket))
            }
            Err(ZendeskError::Status { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A ticket's latest comments (newest first), read live.
    pub async fn latest_comments(&self, id: u64, pacing: Pacing) -> Result<Vec<Comment>, ZendeskError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            comments: Vec<Value>,
        }
        match self
            .get::<Page>(
                "ticket_comments",
                &format!("/api/v2/tickets/{id}/comments.json?sort_order=desc&per_page=100"),
                pacing,
            )
            .await
        {
            Ok(page) => Ok(self.read(page.comments)),
            Err(ZendeskError::Status { status: 404, .. }) => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }

    /// Every comment of a ticket, oldest first, by cursor pages of 100: what an escalation
    /// quotes (its description, its summary note) whatever the ticket's length. None of a
    /// ticket that is gone.
    pub async fn all_comments(&self, id: u64, pacing: Pacing) -> Result<Vec<Comment>, ZendeskError> {
        let first = format!("/api/v2/tickets/{id}/comments.json?page%5Bsize%5D=100");
        match self.list_all_paced("ticket_comments", "comments", &first, pacing).await {
            Ok(comments) => Ok(self.read(comments)),
            Err(ZendeskError::Status { status: 404, .. }) => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }

    /// A ticket's whole history, oldest first, by cursor pages of 100 (the ticket audits API):
    /// the same audits the events export brings, read live when Zendesk pushes a change. Empty
    /// for a ticket that is gone.
    pub async fn audits(&self, id: u64, pacing: Pacing) -> Result<Vec<TicketEvent>, ZendeskError> {
        let first = format!("/api/v2/tickets/{id}/audits.json?page%5Bsize%5D=100");
        match self.list_all_paced("ticket_audits", "audits", &first, pacing).await {
            Ok(audits) => Ok(self.read::<Audit>(audits).into_iter().map(TicketEvent::from).collect()),
            Err(ZendeskError::Status { status: 404, .. }) => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }

    /// Users by id (at most 100 a request), read live: the roles of comment authors the agent
    /// listing does not name.
    pub async fn users_by_id(&self, ids: &[u64], pacing: Pacing) -> Result<Vec<User>, ZendeskError> {
        #[derive(serde::Deserialize)]
        struct Many {
            #[serde(default)]
            users: Vec<Value>,
        }
        let mut out = Vec::new();
        for chunk in ids.chunks(100) {
            let list: Vec<String> = chunk.iter().map(u64::to_string).collect();
            let many: Many = self
                .get("users", &format!("/api/v2/users/show_many.json?ids={}", list.join(",")), pacing)
                .await?;
            out.extend(self.read::<User>(many.users));
        }
        Ok(out)
    }

    /// Writes an internal note (with tags added and fields set, in one audit), `marker` as its
    /// last line, unless one of the API user's internal notes `carries` the marker already: a
    /// note written just before a crash is found, never written twice. Only slawatch's own
    /// notes count: a customer (or an agent) quoting a marker cannot stop a note. A safe update,
    /// refused (409) if the ticket changed since it was read; the caller's retry reads it
    /// afresh. False when the ticket is gone.
    pub async fn add_internal_note_once(
        &self,
        id: u64,
        text: &str,
        marker: &str,
        carries: impl Fn(&str) -> bool,
        tags: &[String],
        fields: &[(u64, String)],
    ) -> Result<bool, ZendeskError> {
        let me = self.api_user_id().await?;
        let comments = self.latest_comments(id, Pacing::Return).await?;
        if comments.iter().any(|c| !c.public && c.author_id == Some(me) && carries(&c.body)) {
            return Ok(true);
        }
        let Some(ticket) = self.ticket(id, Pacing::Return).await? else {
            return Ok(false);
        };
        let stamp = ticket.updated_at.map(crate::sla::time::format_rfc3339);
        let body = format!("{text}\n\n{marker}");
        self.add_internal_note_with(id, &body, tags, fields, stamp.as_deref()).await?;
        Ok(true)
    }

    /// The id of the user the token acts as (`GET /api/v2/users/me`), asked once.
    pub async fn api_user_id(&self) -> Result<u64, ZendeskError> {
        self.api_user
            .get_or_try_init(|| async {
                #[derive(serde::Deserialize)]
                struct One {
                    user: Me,
                }
                let one: One = self.get("users_me", "/api/v2/users/me.json", Pacing::Return).await?;
                Ok(one.user.id)
            })
            .await
            .copied()
    }

    /// An internal note, tags added and custom fields set, in one update (one audit).
    async fn add_internal_note_with(
        &self,
        id: u64,
        body: &str,
        tags: &[String],
        fields: &[(u64, String)],
        updated_stamp: Option<&str>,
    ) -> Result<(), ZendeskError> {
        let mut ticket = serde_json::json!({"comment": {"body": body, "public": false}});
        if !tags.is_empty() {
            ticket["additional_tags"] = serde_json::Value::from(tags.to_vec());
        }
        if !fields.is_empty() {
            ticket["custom_fields"] = fields
                .iter()
                .map(|(id, value)| serde_json::json!({"id": id, "value": value}))
                .collect();
        }
        if let Some(stamp) = updated_stamp {
            ticket["updated_stamp"] = serde_json::Value::from(stamp);
            ticket["safe_update"] = serde_json::Value::from(true);
        }
        let body = serde_json::json!({"ticket": ticket});
        // No waiting out a 429 here: the outbox retries after Retry-After, and other work goes on.
        self.send::<Value>(
            "ticket_update",
            reqwest::Method::PUT,
            &format!("/api/v2/tickets/{id}.json"),
            Some(&body),
            1,
            Pacing::Return,
        )
        .await?;
        Ok(())
    }

    /// A page of the ticket export, read field by field (see `Ticket::read`).
    pub async fn ticket_page(&self, start: &ExportStart, per_page: usize) -> Result<(TicketPage, Vec<Ticket>), ZendeskError> {
        let query = match start {
            ExportStart::StartTime(t) => format!("start_time={t}"),
            ExportStart::Cursor(c) => format!("cursor={}", encode(c)),
        };
        let mut page: TicketPage = self
            .get(
                "tickets_export",
                &format!("/api/v2/incremental/tickets/cursor.json?{query}&per_page={per_page}"),
                Pacing::Wait,
            )
            .await?;
        let read = read_tickets(std::mem::take(&mut page.tickets));
        self.stats.skipped_records.fetch_add(read.skipped, Ordering::Relaxed);
        self.note_unknown(read.unknown);
        Ok((page, read.tickets))
    }

    /// Counts values kept as unknown; each field is logged once.
    fn note_unknown(&self, unknown: impl IntoIterator<Item = (u64, &'static str)>) {
        for (ticket, field) in unknown {
            self.stats.unknown_values.fetch_add(1, Ordering::Relaxed);
            if lock(&self.unknown_logged).insert(field) {
                tracing::warn!(
                    ticket,
                    field,
                    "a ticket field's value could not be read: kept as unknown, the ticket is tracked"
                );
            }
        }
    }

    pub async fn event_page(&self, start_time: i64) -> Result<EventPage, ZendeskError> {
        self.get(
            "ticket_events_export",
            &format!("/api/v2/incremental/ticket_events.json?start_time={start_time}&include=comment_events"),
            Pacing::Wait,
        )
        .await
    }

    /// Every item of a cursor-paginated list (`page[size]=100`, following `links.next` while
    /// `meta.has_more`): Zendesk's offset pagination stops at 10,000 records.
    pub(super) async fn list_all(&self, endpoint: &str, key: &str, first: &str) -> Result<Vec<Value>, ZendeskError> {
        self.list_all_paced(endpoint, key, first, Pacing::Wait).await
    }

    async fn list_all_paced(&self, endpoint: &str, key: &str, first: &str, pacing: Pacing) -> Result<Vec<Value>, ZendeskError> {
        let mut all = Vec::new();
        let mut next = Some(first.to_string());
        while let Some(path) = next.take() {
            let mut page: Value = self.get(endpoint, &path, pacing).await?;
            if let Some(Value::Array(items)) = page.get_mut(key).map(Value::take) {
                all.extend(items);
            }
            let has_more = page.pointer("/meta/has_more").and_then(Value::as_bool).unwrap_or(false);
            // links.next is an absolute URL on the same host: keep its path and query.
            next = page
                .pointer("/links/next")
                .and_then(Value::as_str)
                .filter(|_| has_more)
                .and_then(|url| url.find("/api/v2/").map(|i| url[i..].to_string()));
        }
        Ok(all)
    }

    /// Every agent and admin.
    pub async fn agents(&self) -> Result<Vec<User>, ZendeskError> {
        let users = self
            .list_all(
                "users",
                "users",
                "/api/v2/users.json?role%5B%5D=agent&role%5B%5D=admin&page%5Bsize%5D=100",
            )
            .await?;
        Ok(self.read(users))
    }

    pub async fn organizations(&self) -> Result<Vec<Organization>, ZendeskError> {
        let organizations = self
            .list_all("organizations", "organizations", "/api/v2/organizations.json?page%5Bsize%5D=100")
            .await?;
        Ok(self.read(organizations))
    }

    /// Every ticket field, system ones included, with its options (dropdowns) and `active`.
    pub async fn ticket_fields(&self) -> Result<Vec<TicketField>, ZendeskError> {
        let fields = self
            .list_all("ticket_fields", "ticket_fields", "/api/v2/ticket_fields.json?page%5Bsize%5D=100")
            .await?;
        Ok(self.read(fields))
    }

    /// Every organization field: the keys organizations hold values under.
    pub async fn organization_fields(&self) -> Result<Vec<OrganizationField>, ZendeskError> {
        let fields = self
            .list_all(
                "organization_fields",
                "organization_fields",
                "/api/v2/organization_fields.json?page%5Bsize%5D=100",
            )
            .await?;
        Ok(self.read(fields))
    }

    /// Every group, deleted ones included (`deleted: true`).
    pub async fn groups(&self) -> Result<Vec<Group>, ZendeskError> {
        let groups = self.list_all("groups", "groups", "/api/v2/groups.json?page%5Bsize%5D=100").await?;
        Ok(self.read(groups))
    }

    /// The user the token acts as, with its role (the exports need `admin`).
    pub async fn me(&self) -> Result<Me, ZendeskError> {
        #[derive(serde::Deserialize)]
        struct One {
            user: Value,
        }
        let one: One = self.get("users_me", "/api/v2/users/me.json", Pacing::Wait).await?;
        serde_json::from_value(one.user).map_err(|e| ZendeskError::Malformed {
            endpoint: "users_me".to_string(),
            message: e.to_string(),
        })
    }

    /// The business-hours schedules, each with its holidays (one request per schedule).
    /// None when the account's plan has no business hours (403/404).
    pub async fn schedules(&self) -> Result<Option<Vec<BusinessSchedule>>, ZendeskError> {
        #[derive(serde::Deserialize)]
        struct Schedules {
            #[serde(default)]
            schedules: Vec<Value>,
        }
        #[derive(serde::Deserialize)]
        struct Holidays {
            #[serde(default)]
            holidays: Vec<Value>,
        }
        let list: Schedules = match self.get("schedules", "/api/v2/business_hours/schedules.json", Pacing::Wait).await {
            Ok(list) => list,
            Err(ZendeskError::Status { status: 403 | 404, .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let mut schedules: Vec<BusinessSchedule> = self.read(list.schedules);
        for schedule in &mut schedules {
            let path = format!("/api/v2/business_hours/schedules/{}/holidays.json", schedule.id);
            schedule.holidays = match self.get::<Holidays>("schedule_holidays", &path, Pacing::Wait).await {
                Ok(holidays) => self.read(holidays.holidays),
                // Deleted since it was listed.
                Err(ZendeskError::Status { status: 404, .. }) => Vec::new(),
                Err(error) => return Err(error),
            };
        }
        Ok(Some(schedules))
    }

    pub fn read<T: DeserializeOwned>(&self, values: Vec<Value>) -> Vec<T> {
        let mut skipped = 0;
        let records = read_records(values, &mut skipped);
        self.stats.skipped_records.fetch_add(skipped, Ordering::Relaxed);
        records
    }
}

/// reqwest's errors print the URL, which can carry a cursor; keep the kind only.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_string(),
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::zendesk::{SimOptions, SimZendesk};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_routine_request_waits_while_a_confirmation_is_under_way_and_goes_when_it_is_done() {
        let sim = SimZendesk::start(SimOptions::default()).await.unwrap();
        let client = std::sync::Arc::new(
            ZendeskClient::new(
                ClientOptions {
                    base_url: sim.base_url(),
                    auth: Auth::ApiToken {
                        email: "agent@example.com".into(),
                        token: "sim-token".into(),
                    },
                    requests_per_minute: 100,
                    export_requests_per_minute: 10,
                    timeout: Duration::from_secs(5),
                    max_attempts: 1,
                    backoff: Duration::from_millis(10),
                    max_backoff: Duration::from_millis(10),
                },
                Clock::system(),
            )
            .unwrap(),
        );
        let guard = client.urgent();
        let routine = tokio::spawn({
            let client = client.clone();
            async move { client.agents().await.map(|agents| agents.len()) }
        });
        // Urgent requests go meanwhile; the routine one is not even sent.
        assert!(client.ticket(1, Pacing::Urgent).await.unwrap().is_none());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!routine.is_finished());
        assert_eq!(sim.request_count("/api/v2/users.json"), 0);
        drop(guard);
        let agents = tokio::time::timeout(Duration::from_secs(10), routine).await.unwrap().unwrap();
        assert_eq!(agents.unwrap(), 1, "the API user, listed once the confirmation is done");
    }
}
