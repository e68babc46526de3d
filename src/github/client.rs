//! The GitHub REST client: plain reqwest (see the closing note of issue 8 on octocrab), the
//! headers GitHub asks for, ETags, and the shared retry policy (`crate::retry`): transient
//! failures are retried with backoff; rate limits (primary, by `x-ratelimit-reset`, and
//! secondary, by `retry-after`) are handed back with the wait, for the caller to come back
//! later. Every request in flight ends at shutdown.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::models::{Issue, IssueComment, RepositoryAccess, RepositoryJson, SearchResult, User};
use crate::clock::Clock;
use crate::config::Repository;
use crate::escalate::issue::IssueDraft;
use crate::retry::{self, Backoff};

/// The REST API version slawatch is written against.
pub const API_VERSION: &str = "2022-11-28";

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("{endpoint}: HTTP {status}: {message}")]
    Status {
        endpoint: String,
        status: u16,
        message: String,
        /// What a 422 said was invalid: (field, value), e.g. `("assignees", "nobody")`.
        invalid: Vec<(String, String)>,
    },
    #[error("{endpoint}: rate limited; GitHub asked to wait {retry_after:?}")]
    RateLimited { endpoint: String, retry_after: Duration },
    #[error("{endpoint}: {message}")]
    Transient { endpoint: String, message: String },
    #[error("{endpoint}: the response could not be read: {message}")]
    Malformed { endpoint: String, message: String },
    #[error("stopped: shutdown asked for")]
    Cancelled,
}

impl GithubError {
    fn retryable(&self) -> bool {
        match self {
            GithubError::Status { status, .. } => *status >= 500,
            GithubError::Transient { .. } | GithubError::Malformed { .. } => true,
            GithubError::RateLimited { .. } | GithubError::Cancelled => false,
        }
    }
}

/// A conditional GET's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional<T> {
    Changed {
        value: T,
        etag: Option<String>,
    },
    /// 304: as it was at the ETag given (costs no rate limit).
    NotModified,
}

#[derive(Debug, Clone)]
pub struct GithubOptions {
    /// `https://api.github.com`, or `https://HOST/api/v3`.
    pub api_url: String,
    pub token: String,
    pub timeout: Duration,
    /// Attempts of a read before its error is returned.
    pub max_attempts: u32,
    pub backoff: Backoff,
}

#[derive(Debug, Default)]
pub struct GithubStats {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub not_modified: AtomicU64,
    /// `x-ratelimit-remaining` of the last answer (-1 before any).
    pub rate_remaining: AtomicI64,
    /// `x-ratelimit-reset` of the last answer (Unix seconds).
    pub rate_reset: AtomicI64,
    /// Requests not sent because the last answer said nothing remained until the reset.
    pub held_back: AtomicU64,
}

pub struct GithubClient {
    http: reqwest::Client,
    options: GithubOptions,
    clock: Clock,
    cancel: CancellationToken,
    pub stats: GithubStats,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
    /// The token's login, asked once (`own_login`).
    login: tokio::sync::OnceCell<String>,
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl GithubClient {
    pub fn new(options: GithubOptions, clock: Clock) -> Result<GithubClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("slawatch/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let stats = GithubStats::default();
        stats.rate_remaining.store(-1, Ordering::Relaxed);
        Ok(GithubClient {
            http,
            options,
            clock,
            cancel: CancellationToken::new(),
            stats,
            metrics: None,
            login: tokio::sync::OnceCell::new(),
        })
    }

    /// Ends every request in flight and every wait when `cancel` is cancelled.
    pub fn with_cancel(mut self, cancel: CancellationToken) -> GithubClient {
        self.cancel = cancel;
        self
    }

    /// Counts each request (by endpoint and status) and its latency in `metrics`.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> GithubClient {
        self.metrics = Some(metrics);
        self
    }

    /// How long a refused answer asks to wait: `retry-after` (secondary limits), else until
    /// `x-ratelimit-reset` when nothing remains (the primary limit); None when it is no limit.
    fn rate_wait(&self, status: u16, headers: &reqwest::header::HeaderMap) -> Option<Duration> {
        if !matches!(status, 403 | 429) {
            return None;
        }
        if let Some(wait) = retry::retry_after(headers, self.clock.now()) {
            return Some(wait);
        }
        if header(headers, "x-ratelimit-remaining") == Some("0") {
            // No reset said: a minute, as for a limit without a hint.
            let Some(reset) = header(headers, "x-ratelimit-reset").and_then(|r| r.parse::<i64>().ok()) else {
                return Some(Duration::from_secs(60));
            };
            // A hostile or garbled reset (i64::MIN, say) must not overflow: saturate, then clamp.
            let secs = reset
                .saturating_sub(self.clock.now())
                .clamp(1, retry::MAX_RETRY_AFTER.as_secs() as i64) as u64;
            return Some(Duration::from_secs(secs));
        }
        // 429 without a hint: a minute, as GitHub's documentation suggests.
        (status == 429).then_some(Duration::from_secs(60))
    }

    async fn send_once(
        &self,
        endpoint: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<(u16, Option<String>, Vec<u8>), GithubError> {
        // The last answer said nothing remains until the reset: asking now only earns a 403.
        let reset = self.stats.rate_reset.load(Ordering::Relaxed);
        if self.stats.rate_remaining.load(Ordering::Relaxed) == 0 && reset > self.clock.now() {
            self.stats.held_back.fetch_add(1, Ordering::Relaxed);
            return Err(GithubError::RateLimited {
                endpoint: endpoint.to_string(),
                retry_after: Duration::from_secs(reset.saturating_sub(self.clock.now()).max(1) as u64).min(retry::MAX_RETRY_AFTER),
            });
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{path}", self.options.api_url.trim_end_matches('/'));
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(&self.options.token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION);
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let transient = |e: reqwest::Error| GithubError::Transient {
            endpoint: endpoint.to_string(),
            message: if e.is_timeout() {
                "timed out".to_string()
            } else {
                "request failed".to_string()
            },
        };
        let exchange = async {
            let response = request.send().await.map_err(transient)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = response.bytes().await.map_err(transient)?.to_vec();
            Ok::<_, GithubError>((status, headers, bytes))
        };
        let started = std::time::Instant::now();
        // A request is a wait on purpose, bounded by its timeout: not a stall.
        let _request = crate::liveness::waiting(self.options.timeout);
        let exchanged = tokio::select! {
            _ = self.cancel.cancelled() => return Err(GithubError::Cancelled),
            exchange = exchange => exchange,
        };
        if let Some(metrics) = &self.metrics {
            let status = exchanged.as_ref().ok().map(|(status, _, _)| *status);
            metrics.api_request("github", endpoint, status, started.elapsed());
        }
        let (status, headers, bytes) = exchanged?;
        // The search resource has its own, smaller budget: only the core one holds requests back.
        if header(&headers, "x-ratelimit-resource").is_none_or(|r| r == "core") {
            if let Some(remaining) = header(&headers, "x-ratelimit-remaining").and_then(|r| r.parse::<i64>().ok()) {
                self.stats.rate_remaining.store(remaining, Ordering::Relaxed);
            }
            if let Some(reset) = header(&headers, "x-ratelimit-reset").and_then(|r| r.parse::<i64>().ok()) {
                self.stats.rate_reset.store(reset, Ordering::Relaxed);
            }
        }
        if let Some(retry_after) = self.rate_wait(status, &headers) {
            return Err(GithubError::RateLimited {
                endpoint: endpoint.to_string(),
                retry_after,
            });
        }
        if status == 304 {
            self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
        } else if !(200..300).contains(&status) {
            let json = serde_json::from_slice::<Value>(&bytes).ok();
            let invalid = json.as_ref().map(invalid_fields).unwrap_or_default();
            let mut message = json
                .as_ref()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned());
            if throttled(status, &message) {
                return Err(GithubError::RateLimited {
                    endpoint: endpoint.to_string(),
                    retry_after: Duration::from_secs(60),
                });
            }
            if !invalid.is_empty() {
                let list: Vec<String> = invalid.iter().map(|(field, value)| format!("{field} {value:?}")).collect();
                message = format!("{message}: invalid {}", list.join(", "));
            }
            return Err(GithubError::Status {
                endpoint: endpoint.to_string(),
                status,
                message,
                invalid,
            });
        }
        Ok((status, header(&headers, "etag").map(str::to_string), bytes))
    }

    /// A request with retries of transient failures (`attempts` in all, by the shared policy
    /// through backon); rate limits and refusals are returned at once.
    async fn send(
        &self,
        endpoint: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
        attempts: u32,
    ) -> Result<(u16, Option<String>, Vec<u8>), GithubError> {
        use backon::Retryable;
        let once = || self.send_once(endpoint, method.clone(), path, body, etag);
        let result = once
            .retry(self.options.backoff.builder(attempts))
            .sleep(retry::sleeper(&self.clock, &self.cancel))
            .when(|error: &GithubError| error.retryable() && !self.cancel.is_cancelled())
            .notify(|error: &GithubError, wait: Duration| {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, wait_ms = wait.as_millis() as u64, "GitHub request failed; retrying");
            })
            .await;
        if self.cancel.is_cancelled() {
            return Err(GithubError::Cancelled);
        }
        if result.is_err() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn parse<T: DeserializeOwned>(endpoint: &str, bytes: &[u8]) -> Result<T, GithubError> {
        serde_json::from_slice(bytes).map_err(|e| GithubError::Malformed {
            endpoint: endpoint.to_string(),
            message: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, endpoint: &str, path: &str) -> Result<T, GithubError> {
        let (_, _, bytes) = self
            .send(endpoint, reqwest::Method::GET, path, None, None, self.options.max_attempts)
            .await?;
        Self::parse(endpoint, &bytes)
    }

    async fn get_conditional<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        path: &str,
        etag: Option<&str>,
    ) -> Result<Conditional<T>, GithubError> {
        let (status, new_etag, bytes) = self
            .send(endpoint, reqwest::Method::GET, path, None, etag, self.options.max_attempts)
            .await?;
        if status == 304 {
            return Ok(Conditional::NotModified);
        }
        Ok(Conditional::Changed {
            value: Self::parse(endpoint, &bytes)?,
            etag: new_etag,
        })
    }

    /// Creates the issue: one attempt only. Whether a failed create took effect is unknown, so
    /// the caller looks for the marker before trying again.
    pub async fn create_issue(&self, draft: &IssueDraft) -> Result<Issue, GithubError> {
        let body = json!({
            "title": draft.title,
            "body": draft.body,
            "labels": draft.labels,
            "assignees": draft.assignees,
        });
        let path = format!("/repos/{}/issues", draft.repository);
        let (_, _, bytes) = self
            .send("issues_create", reqwest::Method::POST, &path, Some(&body), None, 1)
            .await?;
        Self::parse("issues_create", &bytes)
    }

    /// The first issue `login` created in `repository` since `since` that `is_it` (pull
    /// requests never): by search for `phrase` first, then, as GitHub's search index lags behind
    /// creation, among every issue the login created since then, page by page.
    pub async fn find_own_issue(
        &self,
        repository: &Repository,
        login: &str,
        since: crate::sla::time::Timestamp,
        phrase: &str,
        is_it: impl Fn(&Issue) -> bool,
    ) -> Result<Option<Issue>, GithubError> {
        let own = |issue: &Issue| {
            issue.pull_request.is_none() && issue.user.as_ref().is_some_and(|u| u.login.eq_ignore_ascii_case(login)) && is_it(issue)
        };
        let day = chrono::DateTime::from_timestamp(since, 0).map_or(String::new(), |d| d.format("%Y-%m-%d").to_string());
        let q = format!("\"{phrase}\" repo:{repository} author:{login} is:issue in:body created:>={day}");
        let path = format!("/search/issues?q={}", encode(&q));
        let found: SearchResult = self.get("search_issues", &path).await?;
        if let Some(issue) = found.items.into_iter().find(own) {
            return Ok(Some(issue));
        }
        // `since` filters by last update, which is never before creation: every issue created
        // since is listed (and a few older ones, updated since, which `is_it` tells apart).
        let since = encode(&crate::sla::time::format_rfc3339(since));
        for page in 1.. {
            let path = format!(
                "/repos/{repository}/issues?state=all&creator={}&since={since}&sort=created&direction=asc&per_page=100&page={page}",
                encode(login)
            );
            let issues: Vec<Issue> = self.get("issues_list", &path).await?;
            let last = issues.len() < 100;
            if let Some(issue) = issues.into_iter().find(own) {
                return Ok(Some(issue));
            }
            if last {
                break;
            }
        }
        Ok(None)
    }

    /// An issue, unless unchanged since `etag`.
    pub async fn issue(&self, repository: &Repository, number: u64, etag: Option<&str>) -> Result<Conditional<Issue>, GithubError> {
        self.get_conditional("issue", &format!("/repos/{repository}/issues/{number}"), etag)
            .await
    }

    /// An issue's comments (oldest first, up to 100, from `since`), unless unchanged since `etag`.
    pub async fn comments(
        &self,
        repository: &Repository,
        number: u64,
        since: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Conditional<Vec<IssueComment>>, GithubError> {
        // Oldest first, 100 a page: `since` the newest comment already seen, so an issue's
        // hundred-and-first comment is read too.
        let since = since.map(|s| format!("&since={}", encode(s))).unwrap_or_default();
        self.get_conditional(
            "issue_comments",
            &format!("/repos/{repository}/issues/{number}/comments?per_page=100{since}"),
            etag,
        )
        .await
    }

    /// An issue's comments from `since` (oldest first), every page: the first (conditional on
    /// `etag`: NotModified when unchanged), then the rest while pages come back full.
    pub async fn all_comments(
        &self,
        repository: &Repository,
        number: u64,
        since: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Conditional<Vec<IssueComment>>, GithubError> {
        let Conditional::Changed { value: mut all, etag } = self.comments(repository, number, since, etag).await? else {
            return Ok(Conditional::NotModified);
        };
        let since = since.map(|s| format!("&since={}", encode(s))).unwrap_or_default();
        let mut last = all.len();
        let mut page = 2;
        while last == 100 {
            let path = format!("/repos/{repository}/issues/{number}/comments?per_page=100{since}&page={page}");
            let more: Vec<IssueComment> = self.get("issue_comments", &path).await?;
            last = more.len();
            all.extend(more);
            page += 1;
        }
        Ok(Conditional::Changed { value: all, etag })
    }

    /// The login the token files as (`GET /user`). A GitHub App installation token has no user:
    /// GitHub answers it 403 ("Resource not accessible by integration"), returned as `Status`.
    pub async fn login(&self) -> Result<String, GithubError> {
        let user: User = self.get("user", "/user").await?;
        Ok(user.login)
    }

    /// `login`, asked once for the client's life.
    pub async fn own_login(&self) -> Result<String, GithubError> {
        self.login.get_or_try_init(|| self.login()).await.cloned()
    }

    /// The token's access to a repository (`GET /repos/{owner}/{repo}`): None when it does not
    /// exist or the token cannot see it (GitHub answers both 404, so a private repository is
    /// not revealed). Each part of `repo` is encoded: a name never reaches another endpoint.
    pub async fn repository_access(&self, repo: &str) -> Result<Option<RepositoryAccess>, GithubError> {
        let Some((owner, name)) = repo.split_once('/').filter(|(o, n)| !o.is_empty() && !n.is_empty()) else {
            return Ok(None);
        };
        let path = format!("/repos/{}/{}", encode(owner), encode(name));
        match self.get::<RepositoryJson>("repository", &path).await {
            Ok(json) => Ok(Some(json.into())),
            Err(GithubError::Status { status: 404, .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Comments on an issue: one attempt (the caller checks before trying again).
    pub async fn comment(&self, repository: &Repository, number: u64, body: &str) -> Result<IssueComment, GithubError> {
        let path = format!("/repos/{repository}/issues/{number}/comments");
        let (_, _, bytes) = self
            .send("issue_comment", reqwest::Method::POST, &path, Some(&json!({"body": body})), None, 1)
            .await?;
        Self::parse("issue_comment", &bytes)
    }
}

/// Whether a refusal is GitHub slowing the token down, not refusing what it asked: a secondary
/// (anti-abuse) limit can come as a 403 or 429 with neither `retry-after` nor a remaining count,
/// and content created too fast as a 422. Either passes with time (GitHub suggests a minute).
fn throttled(status: u16, message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    match status {
        403 | 429 => message.contains("secondary rate limit") || message.contains("abuse") || message.contains("rate limit exceeded"),
        422 => message.contains("submitted too quickly"),
        _ => false,
    }
}

/// The (field, value) pairs of a 422's `errors` (`{"resource": "Issue", "field": "assignees",
/// "value": "nobody", "code": "invalid"}`); a label's own errors name the `Label` resource.
fn invalid_fields(json: &Value) -> Vec<(String, String)> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    json.get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.is_object())
        .map(|e| {
            let field = match (text(e, "resource").as_str(), text(e, "field")) {
                ("Label", _) => "labels".to_string(),
                (_, field) => field,
            };
            let value = match e.get("value") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (field, value)
        })
        .collect()
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

    /// A client that never sends (its rate-limit reading is what is tested), at a fixed instant.
    fn offline_client() -> GithubClient {
        let options = GithubOptions {
            api_url: "http://127.0.0.1:9".into(),
            token: "t".into(),
            timeout: Duration::from_secs(1),
            max_attempts: 1,
            backoff: Backoff {
                first: Duration::from_secs(1),
                max: Duration::from_secs(1),
            },
        };
        GithubClient::new(options, Clock::manual(1_800_000_000)).unwrap()
    }

    #[test]
    fn githubs_slowing_down_is_a_wait_not_a_refusal() {
        for (status, message) in [
            (
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            ),
            (429, "You have exceeded a secondary rate limit."),
            (403, "You have triggered an abuse detection mechanism."),
            (422, "Validation Failed: was submitted too quickly"),
        ] {
            assert!(throttled(status, message), "{status} {message}");
        }
        for (status, message) in [
            (403, "Repository was archived so is read-only."),
            (403, "Resource not accessible by integration"),
            (422, "Validation Failed"),
            (404, "Not Found"),
        ] {
            assert!(!throttled(status, message), "{status} {message}");
        }
    }

    #[test]
    fn no_remaining_without_a_reset_waits_a_minute() {
        let client = offline_client();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        assert_eq!(client.rate_wait(403, &headers), Some(Duration::from_secs(60)));
    }

    #[test]
    fn a_garbled_rate_limit_reset_is_clamped_not_overflowed() {
        let client = offline_client();
        for (reset, wait) in [(i64::MIN, 1), (i64::MAX, 600), (1_800_000_030, 30)] {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
            headers.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
            assert_eq!(client.rate_wait(403, &headers), Some(Duration::from_secs(wait)), "reset {reset}");
        }
    }
}
