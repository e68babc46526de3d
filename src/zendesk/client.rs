//! The Zendesk API client: authentication, a requests-per-minute budget,
//! retries with backoff and jitter on 5xx, timeouts and unreadable bodies,
//! and `Retry-After` on 429.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use rand::Rng;
use serde::de::DeserializeOwned;

use super::models::{read_records, Comment, EventPage, Listing, Organization, Ticket, TicketPage, User};
use crate::clock::Clock;

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
}

impl ZendeskError {
    fn retryable(&self) -> bool {
        match self {
            ZendeskError::Status { status, .. } => *status >= 500 || *status == 408,
            ZendeskError::RateLimited { .. } | ZendeskError::Transient { .. } | ZendeskError::Malformed { .. } => true,
        }
    }
}

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
}

pub struct ZendeskClient {
    http: reqwest::Client,
    options: ClientOptions,
    clock: Clock,
    /// Start times (ms) of the requests in the last minute: all, and the exports'.
    budget: Mutex<std::collections::VecDeque<i64>>,
    export_budget: Mutex<std::collections::VecDeque<i64>>,
    pub stats: ApiStats,
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
            options,
            clock,
            budget: Mutex::new(Default::default()),
            export_budget: Mutex::new(Default::default()),
            stats: ApiStats::default(),
        })
    }

    /// Waits until one more request fits in `budget`'s per-minute limit.
    async fn take(&self, budget: &Mutex<std::collections::VecDeque<i64>>, per_minute: u32) {
        loop {
            let wait_ms = {
                let mut sent = budget.lock().unwrap_or_else(|p| p.into_inner());
                let now = self.clock.now_ms();
                while sent.front().is_some_and(|&t| t <= now - 60_000) {
                    sent.pop_front();
                }
                if sent.len() < per_minute.max(1) as usize {
                    sent.push_back(now);
                    return;
                }
                sent.front().map_or(0, |&t| t + 60_000 - now)
            };
            self.clock.sleep(Duration::from_millis(wait_ms.max(1) as u64)).await;
        }
    }

    /// Waits for the request's slot: the exports have a budget of their own within the account's.
    async fn take_budget(&self, endpoint: &str) {
        if endpoint.ends_with("_export") {
            self.take(&self.export_budget, self.options.export_requests_per_minute).await;
        }
        self.take(&self.budget, self.options.requests_per_minute).await;
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, ZendeskError> {
        self.take_budget(endpoint).await;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.options.base_url.trim_end_matches('/'), path_and_query);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .header(reqwest::header::AUTHORIZATION, self.options.auth.header())
            .send()
            .await
            .map_err(|e| ZendeskError::Transient {
                endpoint: endpoint.to_string(),
                message: without_url(&e),
            })?;
        let status = response.status();
        if status.as_u16() == 429 {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(60);
            return Err(ZendeskError::RateLimited {
                endpoint: endpoint.to_string(),
                retry_after: Duration::from_secs(retry_after.clamp(1, 600)),
            });
        }
        let bytes = response.bytes().await.map_err(|e| ZendeskError::Transient {
            endpoint: endpoint.to_string(),
            message: without_url(&e),
        })?;
        if !status.is_success() {
            let body = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(ZendeskError::Status {
                endpoint: endpoint.to_string(),
                status: status.as_u16(),
                body,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ZendeskError::Malformed {
            endpoint: endpoint.to_string(),
            message: e.to_string(),
        })
    }

    /// GET with retries: backoff with jitter on transient failures, `Retry-After` on 429.
    /// GET with retries: backoff with jitter on transient failures, `Retry-After` on 429.
    async fn get<T: DeserializeOwned>(&self, endpoint: &str, path_and_query: &str) -> Result<T, ZendeskError> {
        self.send(
            endpoint,
            reqwest::Method::GET,
            path_and_query,
            None,
            self.options.max_attempts,
            true,
        )
        .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
        max_attempts: u32,
        pace_rate_limits: bool,
    ) -> Result<T, ZendeskError> {
        /// A 429 is Zendesk pacing us, not a failure: it does not use up an attempt, but a
        /// request paced this many times in a row is given up (the poll reports it).
        const MAX_RATE_LIMITED: u32 = 20;
        let (mut attempt, mut paced) = (0, 0);
        loop {
            attempt += 1;
            let error = match self.send_once(endpoint, method.clone(), path_and_query, body).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
            let wait = match &error {
                ZendeskError::RateLimited { retry_after, .. } if pace_rate_limits && paced < MAX_RATE_LIMITED => {
                    self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                    paced += 1;
                    attempt -= 1;
                    *retry_after
                }
                _ if !error.retryable() || attempt >= max_attempts => return Err(error),
                _ => {
                    let base = self
                        .options
                        .backoff
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(self.options.max_backoff);
                    base.mul_f64(rand::thread_rng().gen_range(0.5..1.0))
                }
            };
            tracing::warn!(%error, attempt, wait_ms = wait.as_millis() as u64, "Zendesk request failed; retrying");
            self.clock.sleep(wait).await;
        }
    }

    /// One ticket, read live (not through the export); None when it is gone.
    pub async fn ticket(&self, id: u64) -> Result<Option<Ticket>, ZendeskError> {
        #[derive(serde::Deserialize)]
        struct One {
            ticket: serde_json::Value,
        }
        match self.get::<One>("ticket", &format!("/api/v2/tickets/{id}.json")).await {
            // A ticket that cannot be read is an error, not a deletion.
            Ok(one) => serde_json::from_value(one.ticket).map(Some).map_err(|e| ZendeskError::Malformed {
                endpoint: "ticket".to_string(),
                message: e.to_string(),
            }),
            Err(ZendeskError::Status { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A ticket's latest comments (newest first), read live.
    pub async fn latest_comments(&self, id: u64) -> Result<Vec<Comment>, ZendeskError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            comments: Vec<serde_json::Value>,
        }
        match self
            .get::<Page>(
                "ticket_comments",
                &format!("/api/v2/tickets/{id}/comments.json?sort_order=desc&per_page=100"),
            )
            .await
        {
            Ok(page) => Ok(self.read(page.comments)),
            Err(ZendeskError::Status { status: 404, .. }) => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }

    /// Adds an internal (private) note. With `updated_stamp`, Zendesk refuses (409) if the
    /// ticket changed since. Sent once: the caller looks for the note before any retry.
    pub async fn add_internal_note(&self, id: u64, body: &str, updated_stamp: Option<&str>) -> Result<(), ZendeskError> {
        let mut ticket = serde_json::json!({"comment": {"body": body, "public": false}});
        if let Some(stamp) = updated_stamp {
            ticket["updated_stamp"] = serde_json::Value::from(stamp);
            ticket["safe_update"] = serde_json::Value::from(true);
        }
        let body = serde_json::json!({"ticket": ticket});
        // No waiting out a 429 here: the outbox retries after Retry-After, and other alerts go on.
        self.send::<serde_json::Value>(
            "ticket_update",
            reqwest::Method::PUT,
            &format!("/api/v2/tickets/{id}.json"),
            Some(&body),
            1,
            false,
        )
        .await?;
        Ok(())
    }

    pub async fn ticket_page(&self, start: &ExportStart, per_page: usize) -> Result<TicketPage, ZendeskError> {
        let query = match start {
            ExportStart::StartTime(t) => format!("start_time={t}"),
            ExportStart::Cursor(c) => format!("cursor={}", encode(c)),
        };
        self.get(
            "tickets_export",
            &format!("/api/v2/incremental/tickets/cursor.json?{query}&per_page={per_page}"),
        )
        .await
    }

    pub async fn event_page(&self, start_time: i64) -> Result<EventPage, ZendeskError> {
        self.get(
            "ticket_events_export",
            &format!("/api/v2/incremental/ticket_events.json?start_time={start_time}&include=comment_events"),
        )
        .await
    }

    async fn listing(&self, endpoint: &str, first: &str) -> Result<Listing, ZendeskError> {
        let mut all = Listing {
            users: Vec::new(),
            organizations: Vec::new(),
            next_page: None,
        };
        let mut next = Some(first.to_string());
        while let Some(path) = next.take() {
            let page: Listing = self.get(endpoint, &path).await?;
            all.users.extend(page.users);
            all.organizations.extend(page.organizations);
            // next_page is an absolute URL on the same host: keep its path and query.
            next = page.next_page.and_then(|url| url.find("/api/v2/").map(|i| url[i..].to_string()));
        }
        Ok(all)
    }

    /// Every agent and admin.
    pub async fn agents(&self) -> Result<Vec<User>, ZendeskError> {
        let listing = self
            .listing("users", "/api/v2/users.json?role%5B%5D=agent&role%5B%5D=admin&per_page=100")
            .await?;
        Ok(self.read(listing.users))
    }

    pub async fn organizations(&self) -> Result<Vec<Organization>, ZendeskError> {
        let listing = self.listing("organizations", "/api/v2/organizations.json?per_page=100").await?;
        Ok(self.read(listing.organizations))
    }

    pub fn read<T: DeserializeOwned>(&self, values: Vec<serde_json::Value>) -> Vec<T> {
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
