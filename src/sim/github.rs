//! A simulated GitHub REST API over real HTTP: repositories' issues and comments, issue search
//! with an indexing lag, ETags and 304s, rate-limit headers, secondary limits, and failure
//! switches. Used by the tests and by `slawatch demo`.
//!
//! Endpoints: `POST /repos/{o}/{r}/issues`, `GET /repos/{o}/{r}/issues` (newest first; `state`,
//! `per_page`), `GET|PATCH /repos/{o}/{r}/issues/{n}`, `GET|POST /repos/{o}/{r}/issues/{n}/comments` (`since`, `per_page`),
//! `GET /search/issues?q=` (`"quoted text"` matched in bodies, `repo:o/r`), `GET /repos/{o}/{r}`
//! (the token's `permissions`, `archived`, `has_issues`), `GET /user` (the token's login). Every
//! request needs `Authorization: Bearer TOKEN` (or `token TOKEN`) and a `User-Agent`, as GitHub does.
//!
//! Repositories exist only once added ([`SimGithub::add_repo`]): any other answers 404, issues
//! included. Each gives the token a role ([`SimGithub::set_role`], admin unless set) and can be
//! archived or have issues disabled, with GitHub's consequences: a repository the token has no
//! role in answers 404 (GitHub hides private repositories so); an archived one refuses every
//! write with 403; one with issues disabled answers 410 to its issue endpoints; on a read-only
//! role a new issue is filed without its labels and assignees (GitHub drops them silently).
//!
//! Time is the world's clock (shared with the daemon): an issue becomes searchable
//! `search_lag` after it is created. Each answer carries `x-ratelimit-*` headers for the core
//! (5,000 an hour) or search (30 a minute) resource; a 304 costs nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::sla::time::format_rfc3339;

const CORE_LIMIT: u32 = 5000;
const SEARCH_LIMIT: u32 = 30;

#[derive(Debug, Clone)]
struct Comment {
    id: u64,
    body: String,
    login: String,
    created_at: i64,
}

#[derive(Debug, Clone)]
struct Issue {
    number: u64,
    title: String,
    body: String,
    labels: Vec<String>,
    assignees: Vec<String>,
    author: String,
    open: bool,
    created_at: i64,
    updated_at: i64,
    closed_at: Option<i64>,
    comments: Vec<Comment>,
    /// Bumped on every change: the ETag of the issue and of its comments.
    version: u64,
}

/// The token's role in a repository, as GitHub names them; each includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum RepoRole {
    /// No access: the repository answers 404, as a private one does to a stranger.
    None,
    Read,
    Triage,
    Write,
    Maintain,
    #[default]
    Admin,
}

#[derive(Debug, Clone)]
struct RepoSettings {
    role: RepoRole,
    archived: bool,
    has_issues: bool,
}

impl Default for RepoSettings {
    fn default() -> RepoSettings {
        RepoSettings {
            role: RepoRole::Admin,
            archived: false,
            has_issues: true,
        }
    }
}

#[derive(Default)]
struct World {
    repos: BTreeMap<String, Vec<Issue>>,
    /// Per repository; absent means the defaults (admin, not archived, issues on).
    settings: BTreeMap<String, RepoSettings>,
    /// The login the token acts as.
    login: String,
    next_comment: u64,
    search_lag: i64,
    down: bool,
    fail_next: u32,
    fail_status: u16,
    /// The next requests answered with a secondary rate limit (403, `retry-after`).
    secondary_next: u32,
    secondary_retry_after: u64,
    /// Requests counted against each resource's window: (resource, world instants).
    used: HashMap<&'static str, Vec<i64>>,
    core_limit: u32,
    counts: HashMap<String, u64>,
    /// GETs made without `If-None-Match`, by path: reads that cost rate limit however little changed.
    plain_reads: HashMap<String, u64>,
    creates: u64,
}

struct State {
    base_url: String,
    token: String,
    clock: Clock,
    world: Mutex<World>,
}

impl State {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A handle to a running simulated GitHub; the server stops when the last handle is dropped.
#[derive(Clone)]
pub struct SimGithub {
    handle: Arc<super::Handle<State>>,
}

/// An issue as the simulated world holds it, for tests and the demo to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueView {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub open: bool,
    /// (author login, body) of each comment, oldest first.
    pub comments: Vec<(String, String)>,
}

impl SimGithub {
    /// Serves on 127.0.0.1 (ephemeral port); requests must carry `token`, which acts as `login`.
    pub async fn start(token: &str, login: &str, clock: Clock) -> std::io::Result<SimGithub> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State {
            base_url,
            token: token.to_string(),
            clock,
            world: Mutex::new(World {
                login: login.to_string(),
                fail_status: 500,
                core_limit: CORE_LIMIT,
                ..World::default()
            }),
        });
        let stop = CancellationToken::new();
        let app = Router::new().fallback(handle).with_state(state.clone());
        let stopped = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
                tracing::warn!(%error, "sim github: server stopped with an error");
            }
        });
        Ok(SimGithub {
            handle: Arc::new(super::Handle { state, stop }),
        })
    }

    fn state(&self) -> &State {
        &self.handle.state
    }

    /// The API's base URL (as `api_url` in the configuration).
    pub fn api_url(&self) -> String {
        self.state().base_url.clone()
    }

    /// Creates an empty repository (`owner/name`).
    pub fn add_repo(&self, repo: &str) {
        self.state().world().repos.entry(repo.to_string()).or_default();
    }

    /// The login the token acts as from now on (`GET /user`, the author of what it writes).
    pub fn set_login(&self, login: &str) {
        self.state().world().login = login.to_string();
    }

    /// The token's role in `repo` (admin unless set); `RepoRole::None` hides it (404).
    pub fn set_role(&self, repo: &str, role: RepoRole) {
        self.state().world().settings.entry(repo.to_string()).or_default().role = role;
    }

    /// Archives (or unarchives) `repo`: every write to it is refused 403.
    pub fn set_archived(&self, repo: &str, archived: bool) {
        self.state().world().settings.entry(repo.to_string()).or_default().archived = archived;
    }

    /// Turns `repo`'s issues on or off: off, its issue endpoints answer 410.
    pub fn set_has_issues(&self, repo: &str, has_issues: bool) {
        self.state().world().settings.entry(repo.to_string()).or_default().has_issues = has_issues;
    }

    /// Issues become searchable this many world seconds after they are created.
    pub fn set_search_lag(&self, seconds: i64) {
        self.state().world().search_lag = seconds;
    }

    /// While down, every request gets 503.
    pub fn set_down(&self, down: bool) {
        self.state().world().down = down;
    }

    /// The next `n` requests get `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut world = self.state().world();
        world.fail_next = n;
        world.fail_status = status;
    }

    /// The next `n` requests hit a secondary rate limit: 403 with `retry-after: seconds`.
    pub fn secondary_limit_next(&self, n: u32, retry_after: u64) {
        let mut world = self.state().world();
        world.secondary_next = n;
        world.secondary_retry_after = retry_after;
    }

    /// The core resource's limit an hour (5,000 by default).
    pub fn set_core_limit(&self, per_hour: u32) {
        self.state().world().core_limit = per_hour;
    }

    /// Requests made to `path` (any method), answered or not.
    pub fn request_count(&self, path: &str) -> u64 {
        self.state().world().counts.get(path).copied().unwrap_or(0)
    }

    /// GETs of `path` made without `If-None-Match` (not conditional).
    pub fn plain_read_count(&self, path: &str) -> u64 {
        self.state().world().plain_reads.get(path).copied().unwrap_or(0)
    }

    /// Issues created through the API.
    pub fn create_count(&self) -> u64 {
        self.state().world().creates
    }

    pub fn issues(&self, repo: &str) -> Vec<IssueView> {
        let world = self.state().world();
        world.repos.get(repo).into_iter().flatten().map(view).collect()
    }

    /// An engineer (`login`) comments on an issue.
    pub fn comment(&self, repo: &str, number: u64, login: &str, body: &str) {
        let now = self.state().clock.now();
        let mut world = self.state().world();
        world.next_comment += 1;
        let id = world.next_comment;
        if let Some(issue) = issue_mut(&mut world, repo, number) {
            issue.comments.push(Comment {
                id,
                body: body.to_string(),
                login: login.to_string(),
                created_at: now,
            });
            issue.updated_at = now;
            issue.version += 1;
        }
    }

    /// Engineering closes (or reopens) an issue.
    pub fn set_open(&self, repo: &str, number: u64, open: bool) {
        let now = self.state().clock.now();
        let mut world = self.state().world();
        if let Some(issue) = issue_mut(&mut world, repo, number) {
            set_state(issue, open, now);
        }
    }
}

fn view(issue: &Issue) -> IssueView {
    IssueView {
        number: issue.number,
        title: issue.title.clone(),
        body: issue.body.clone(),
        labels: issue.labels.clone(),
        assignees: issue.assignees.clone(),
        open: issue.open,
        comments: issue.comments.iter().map(|c| (c.login.clone(), c.body.clone())).collect(),
    }
}

fn issue_mut<'a>(world: &'a mut World, repo: &str, number: u64) -> Option<&'a mut Issue> {
    world.repos.get_mut(repo)?.iter_mut().find(|i| i.number == number)
}

fn set_state(issue: &mut Issue, open: bool, now: i64) {
    if issue.open != open {
        issue.open = open;
        issue.closed_at = (!open).then_some(now);
        issue.updated_at = now;
        issue.version += 1;
    }
}

fn user(login: &str) -> Value {
    json!({"login": login, "type": if login.ends_with("[bot]") { "Bot" } else { "User" }})
}

fn issue_json(base: &str, repo: &str, issue: &Issue) -> Value {
    json!({
        "id": 1_000_000 + issue.number,
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": if issue.open { "open" } else { "closed" },
        "labels": issue.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "assignees": issue.assignees.iter().map(|a| user(a)).collect::<Vec<_>>(),
        "user": user(&issue.author),
        "comments": issue.comments.len(),
        "url": format!("{base}/repos/{repo}/issues/{}", issue.number),
        "html_url": format!("https://github.example/{repo}/issues/{}", issue.number),
        "created_at": format_rfc3339(issue.created_at),
        "updated_at": format_rfc3339(issue.updated_at),
        "closed_at": issue.closed_at.map(format_rfc3339),
    })
}

fn comment_json(comment: &Comment) -> Value {
    json!({
        "id": comment.id,
        "body": comment.body,
        "user": user(&comment.login),
        "created_at": format_rfc3339(comment.created_at),
        "updated_at": format_rfc3339(comment.created_at),
    })
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"})),
    )
        .into_response()
}

/// A path's repository (`owner/name`), issue number and what follows.
fn parse_path(path: &str) -> Option<(String, Option<u64>, &str)> {
    let rest = path.strip_prefix("/repos/")?;
    let mut parts = rest.splitn(5, '/');
    let (owner, name, issues) = (parts.next()?, parts.next()?, parts.next()?);
    if issues != "issues" {
        return None;
    }
    let number = match parts.next() {
        None => None,
        Some(n) => Some(n.parse::<u64>().ok()?),
    };
    Some((format!("{owner}/{name}"), number, parts.next().unwrap_or("")))
}

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| {
            let value = value.replace('+', " ");
            percent_decode(&value)
        })
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Counts a request against its resource's window; the headers to send, or the refusal.
fn admit(state: &State, resource: &'static str, charge: bool) -> Result<Vec<(&'static str, String)>, Box<Response>> {
    let now = state.clock.now();
    let mut world = state.world();
    let (limit, window) = if resource == "search" {
        (SEARCH_LIMIT, 60)
    } else {
        (world.core_limit, 3600)
    };
    let used = world.used.entry(resource).or_default();
    used.retain(|&at| at > now - window);
    let reset = used.first().map_or(now + window, |&first| first + window);
    if used.len() as u32 >= limit {
        let mut response = error(StatusCode::FORBIDDEN, "API rate limit exceeded");
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", "0".to_string()),
            ("x-ratelimit-reset", reset.to_string()),
            ("x-ratelimit-resource", resource.to_string()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        return Err(Box::new(response));
    }
    if charge {
        used.push(now);
    }
    Ok(vec![
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", (limit - used.len() as u32).to_string()),
        ("x-ratelimit-used", used.len().to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-resource", resource.to_string()),
    ])
}

fn authorized(state: &State, headers: &HeaderMap) -> bool {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .is_some_and(|token| token == state.token)
}

/// An answer with a body and an ETag (weak, from the version).
fn with_etag(value: Value, etag: String, if_none_match: Option<&str>) -> (Response, bool) {
    if if_none_match == Some(etag.as_str()) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, v);
        }
        return (response, true);
    }
    let mut response = axum::Json(value).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    (response, false)
}

async fn handle(AxumState(state): AxumState<Arc<State>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let path = uri.path().to_string();
    {
        let mut world = state.world();
        *world.counts.entry(path.clone()).or_default() += 1;
        if method == Method::GET && !headers.contains_key(header::IF_NONE_MATCH) {
            *world.plain_reads.entry(path.clone()).or_default() += 1;
        }
        if world.down {
            return error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable");
        }
        if world.fail_next > 0 {
            world.fail_next -= 1;
            let status = StatusCode::from_u16(world.fail_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error(status, "injected failure");
        }
        if world.secondary_next > 0 {
            world.secondary_next -= 1;
            let mut response = error(
                StatusCode::FORBIDDEN,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            if let Ok(v) = HeaderValue::from_str(&world.secondary_retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
    }
    if !authorized(&state, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    if headers.get(header::USER_AGENT).is_none() {
        return error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "Body too large");
    };
    let if_none_match = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let resource = if path == "/search/issues" { "search" } else { "core" };
    // A conditional request that turns out unchanged costs nothing: charged after answering.
    if let Err(refused) = admit(&state, resource, false) {
        return *refused;
    }
    let (mut response, not_modified) = answer(&state, &method, &uri, &path, &bytes, if_none_match.as_deref());
    let charge = !not_modified;
    if let Ok(rate_headers) = admit(&state, resource, charge) {
        for (name, value) in rate_headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

fn answer(state: &State, method: &Method, uri: &Uri, path: &str, body: &[u8], if_none_match: Option<&str>) -> (Response, bool) {
    let now = state.clock.now();
    let plain = |r: Response| (r, false);
    if path == "/search/issues" && method == Method::GET {
        let q = query_param(uri, "q").unwrap_or_default();
        return plain(search(state, &q, now));
    }
    if path == "/user" && method == Method::GET {
        return plain(axum::Json(user(&state.world().login)).into_response());
    }
    if method == Method::GET {
        if let Some(repo) = repository_path(path) {
            return plain(repository(state, &repo));
        }
    }
    let Some((repo, number, rest)) = parse_path(path) else {
        return plain(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let mut world = state.world();
    let settings = world.settings.get(&repo).cloned().unwrap_or_default();
    if !world.repos.contains_key(&repo) || settings.role == RepoRole::None {
        return plain(error(StatusCode::NOT_FOUND, "Not Found"));
    }
    if !settings.has_issues {
        return plain(error(StatusCode::GONE, "Issues are disabled for this repo"));
    }
    if settings.archived && *method != Method::GET {
        return plain(error(StatusCode::FORBIDDEN, "Repository was archived so is read-only."));
    }
    // Below triage, GitHub files the issue but drops its labels and assignees without a word.
    let may_label = settings.role >= RepoRole::Triage;
    let json: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return plain(error(StatusCode::BAD_REQUEST, "Problems parsing JSON")),
        }
    };
    match (method.clone(), number, rest) {
        (Method::POST, None, "") => {
            let Some(title) = json.get("title").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) else {
                return plain(error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: title is missing"));
            };
            let body = json.get("body").and_then(Value::as_str).unwrap_or_default();
            if body.chars().count() > 65_536 {
                return plain(error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Validation Failed: body is too long (maximum is 65536 characters)",
                ));
            }
            let strings = |key: &str| -> Vec<String> {
                json.get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .filter(|_| may_label)
                    .collect()
            };
            let author = world.login.clone();
            let issues = world.repos.get_mut(&repo).expect("checked");
            let issue = Issue {
                number: issues.len() as u64 + 1,
                title: title.to_string(),
                body: body.to_string(),
                labels: strings("labels"),
                assignees: strings("assignees"),
                author,
                open: true,
                created_at: now,
                updated_at: now,
                closed_at: None,
                comments: Vec::new(),
                version: 1,
            };
            let value = issue_json(&state.base_url, &repo, &issue);
            issues.push(issue);
            world.creates += 1;
            plain((StatusCode::CREATED, axum::Json(value)).into_response())
        }
        (Method::GET, None, "") => {
            let per_page = query_param(uri, "per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(30usize)
                .min(100);
            let wanted = query_param(uri, "state").unwrap_or_else(|| "open".to_string());
            let issues = &world.repos[&repo];
            let list: Vec<Value> = issues
                .iter()
                .rev()
                .filter(|i| match wanted.as_str() {
                    "all" => true,
                    "closed" => !i.open,
                    _ => i.open,
                })
                .take(per_page)
                .map(|i| issue_json(&state.base_url, &repo, i))
                .collect();
            plain(axum::Json(Value::Array(list)).into_response())
        }
        (Method::GET, Some(n), "") => match world.repos[&repo].iter().find(|i| i.number == n) {
            None => plain(error(StatusCode::NOT_FOUND, "Not Found")),
            Some(issue) => with_etag(
                issue_json(&state.base_url, &repo, issue),
                format!("W/\"issue-{n}-{}\"", issue.version),
                if_none_match,
            ),
        },
        (Method::PATCH, Some(n), "") => {
            let base = state.base_url.clone();
            let Some(issue) = issue_mut(&mut world, &repo, n) else {
                return plain(error(StatusCode::NOT_FOUND, "Not Found"));
            };
            match json.get("state").and_then(Value::as_str) {
                Some("open") => set_state(issue, true, now),
                Some("closed") => set_state(issue, false, now),
                Some(_) => return plain(error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: state")),
                None => {}
            }
            plain(axum::Json(issue_json(&base, &repo, issue)).into_response())
        }
        (Method::GET, Some(n), "comments") => match world.repos[&repo].iter().find(|i| i.number == n) {
            None => plain(error(StatusCode::NOT_FOUND, "Not Found")),
            Some(issue) => {
                // `since`: comments updated at or after it; `per_page`: at most 100, oldest first.
                let since = query_param(uri, "since").and_then(|t| crate::sla::time::parse_rfc3339(&t).ok());
                let per_page = query_param(uri, "per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(30usize)
                    .min(100);
                let list: Vec<Value> = issue
                    .comments
                    .iter()
                    .filter(|c| since.is_none_or(|s| c.created_at >= s))
                    .take(per_page)
                    .map(comment_json)
                    .collect();
                let etag = format!("W/\"comments-{n}-{}-{}\"", issue.version, since.unwrap_or(0));
                with_etag(Value::Array(list), etag, if_none_match)
            }
        },
        (Method::POST, Some(n), "comments") => {
            let Some(text) = json.get("body").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) else {
                return plain(error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: body is missing"));
            };
            world.next_comment += 1;
            let id = world.next_comment;
            let login = world.login.clone();
            let Some(issue) = issue_mut(&mut world, &repo, n) else {
                return plain(error(StatusCode::NOT_FOUND, "Not Found"));
            };
            let comment = Comment {
                id,
                body: text.to_string(),
                login,
                created_at: now,
            };
            let value = comment_json(&comment);
            issue.comments.push(comment);
            issue.updated_at = now;
            issue.version += 1;
            plain((StatusCode::CREATED, axum::Json(value)).into_response())
        }
        _ => plain(error(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// `owner/name` of a path that is `/repos/{owner}/{name}` exactly.
fn repository_path(path: &str) -> Option<String> {
    let (owner, name) = path.strip_prefix("/repos/")?.split_once('/')?;
    (!owner.is_empty() && !name.is_empty() && !name.contains('/')).then(|| format!("{owner}/{name}"))
}

/// `GET /repos/{owner}/{name}`: the token's permissions (cumulative, as GitHub lists them).
fn repository(state: &State, repo: &str) -> Response {
    let world = state.world();
    let settings = world.settings.get(repo).cloned().unwrap_or_default();
    if !world.repos.contains_key(repo) || settings.role == RepoRole::None {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
    let role = settings.role;
    axum::Json(json!({
        "id": 500_000 + world.repos.keys().position(|r| r == repo).unwrap_or(0),
        "name": name,
        "full_name": repo,
        "owner": {"login": owner, "type": "Organization"},
        "private": true,
        "html_url": format!("https://github.example/{repo}"),
        "url": format!("{}/repos/{repo}", state.base_url),
        "archived": settings.archived,
        "disabled": false,
        "has_issues": settings.has_issues,
        "open_issues_count": world.repos[repo].iter().filter(|i| i.open).count(),
        "permissions": {
            "admin": role >= RepoRole::Admin,
            "maintain": role >= RepoRole::Maintain,
            "push": role >= RepoRole::Write,
            "triage": role >= RepoRole::Triage,
            "pull": role >= RepoRole::Read,
        },
    }))
    .into_response()
}

/// `"quoted text"` must be in the body; `repo:o/r` limits the repository. Issues created less
/// than the search lag ago are not indexed yet.
fn search(state: &State, q: &str, now: i64) -> Response {
    let phrase = q.split('"').nth(1).unwrap_or_default().to_string();
    let repo = q.split_whitespace().find_map(|t| t.strip_prefix("repo:")).map(str::to_string);
    let world = state.world();
    let items: Vec<Value> = world
        .repos
        .iter()
        .filter(|(name, _)| repo.as_ref().is_none_or(|r| r == *name))
        .filter(|(name, _)| world.settings.get(*name).is_none_or(|s| s.role != RepoRole::None))
        .flat_map(|(name, issues)| issues.iter().map(move |i| (name, i)))
        .filter(|(_, i)| now - i.created_at >= world.search_lag)
        .filter(|(_, i)| !phrase.is_empty() && i.body.contains(&phrase))
        .map(|(name, i)| issue_json(&state.base_url, name, i))
        .collect();
    axum::Json(json!({"total_count": items.len(), "incomplete_results": false, "items": items})).into_response()
}
