//! The simulated GitHub's front door: failure switches, authentication, rate limits, and the
//! routing of each request to its endpoint; `GET /user`, `GET /repos/{o}/{r}` and issue search.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::issues;
use super::world::State;
use super::RepoRole;

const CORE_LIMIT_WINDOW: i64 = 3600;
const SEARCH_LIMIT: u32 = 30;

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"})),
    )
        .into_response()
}

pub(super) fn user(login: &str) -> Value {
    json!({"login": login, "type": if login.ends_with("[bot]") { "Bot" } else { "User" }})
}

/// A request's query: its pairs in order, decoded, with each pair's text as sent (for the
/// `Link` header, which repeats the query with another page).
pub(super) struct Query<'a> {
    pairs: Vec<(String, String, &'a str)>,
}

impl<'a> Query<'a> {
    pub(super) fn parse(uri: &'a Uri) -> Query<'a> {
        let pairs = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(key), decode(value), pair)
            })
            .collect();
        Query { pairs }
    }

    /// The first value given for `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _, _)| key == name)
            .map(|(_, value, _)| value.as_str())
    }

    /// The query as sent, without `name`'s pairs.
    pub(super) fn raw_without(&self, name: &str) -> Vec<&'a str> {
        self.pairs
            .iter()
            .filter(|(key, _, _)| key != name)
            .map(|(_, _, raw)| *raw)
            .collect()
    }
}

/// A query value: `+` is a space, `%XX` a byte.
fn decode(text: &str) -> String {
    let text = text.replace('+', " ");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Bytes, not a slice of the text: a `%` before a multi-byte character is left as it is.
        if let (b'%', Some(&hi), Some(&lo)) = (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            if let (Some(hi), Some(lo)) = ((hi as char).to_digit(16), (lo as char).to_digit(16)) {
                out.push((hi * 16 + lo) as u8);
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
        (world.core_limit, CORE_LIMIT_WINDOW)
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

pub(super) async fn handle(AxumState(state): AxumState<Arc<State>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
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
            // GitHub does not always say how long: 0 sends no `retry-after` at all.
            if world.secondary_retry_after > 0 {
                if let Ok(v) = HeaderValue::from_str(&world.secondary_retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
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
    let request = issues::Request {
        method: &method,
        query: Query::parse(&uri),
        body: &bytes,
        if_none_match: if_none_match.as_deref(),
    };
    let (mut response, not_modified) = answer(&state, &path, &request);
    if let Ok(rate_headers) = admit(&state, resource, !not_modified) {
        for (name, value) in rate_headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

/// The answer, and whether it is a 304 (which costs no rate limit).
fn answer(state: &State, path: &str, request: &issues::Request<'_>) -> (Response, bool) {
    let plain = |r: Response| (r, false);
    let get = *request.method == Method::GET;
    if path == "/search/issues" && get {
        return plain(search(state, request.query.get("q").unwrap_or_default()));
    }
    if path == "/user" && get {
        return plain(axum::Json(user(&state.world().login)).into_response());
    }
    if get {
        if let Some(repo) = repository_path(path) {
            return plain(repository(state, &repo));
        }
    }
    match issues_path(path) {
        Some((repo, number, rest)) => issues::answer(state, &repo, number, rest, request),
        None => plain(error(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// A path's repository (`owner/name`), issue number and what follows, under `/repos/{o}/{r}/issues`.
fn issues_path(path: &str) -> Option<(String, Option<u64>, &str)> {
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

/// `owner/name` of a path that is `/repos/{owner}/{name}` exactly.
fn repository_path(path: &str) -> Option<String> {
    let (owner, name) = path.strip_prefix("/repos/")?.split_once('/')?;
    (!owner.is_empty() && !name.is_empty() && !name.contains('/')).then(|| format!("{owner}/{name}"))
}

/// `GET /repos/{owner}/{name}`: the token's permissions (cumulative, as GitHub lists them).
fn repository(state: &State, repo: &str) -> Response {
    let world = state.world();
    if !world.visible(repo) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let settings = world.settings(repo);
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
        // GitHub counts open pull requests here too.
        "open_issues_count": world.repos[repo].issues.iter().filter(|i| i.open).count(),
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

/// `"quoted text"` must be in the body; `repo:o/r` limits the repository, `author:login` the
/// author, `is:issue` or `is:pr` (also `type:`) the kind, both otherwise. Issues created less than the search lag
/// ago are not indexed yet; deleted ones are gone.
fn search(state: &State, q: &str) -> Response {
    let now = state.clock.now();
    let phrase = q.split('"').nth(1).unwrap_or_default().to_string();
    let terms: Vec<&str> = q.split_whitespace().collect();
    let repo = terms.iter().find_map(|t| t.strip_prefix("repo:")).map(str::to_string);
    let author = terms.iter().find_map(|t| t.strip_prefix("author:")).map(str::to_lowercase);
    let kind = |k: &str| terms.iter().any(|t| *t == format!("is:{k}") || *t == format!("type:{k}"));
    let (only_issues, only_prs) = (kind("issue"), kind("pr"));
    let world = state.world();
    let items: Vec<Value> = world
        .repos
        .iter()
        .filter(|(name, _)| repo.as_ref().is_none_or(|r| r == *name))
        .filter(|(name, _)| world.settings.get(*name).is_none_or(|s| s.role != RepoRole::None))
        .flat_map(|(name, r)| r.issues.iter().map(move |i| (name, i)))
        .filter(|(_, i)| now - i.created_at >= world.search_lag)
        .filter(|(_, i)| if i.pull_request { !only_issues } else { !only_prs })
        .filter(|(_, i)| author.as_ref().is_none_or(|a| *a == i.author.to_lowercase()))
        .filter(|(_, i)| !phrase.is_empty() && i.body.contains(&phrase))
        .map(|(name, i)| issues::issue_json(&state.base_url, name, i))
        .collect();
    axum::Json(json!({"total_count": items.len(), "incomplete_results": false, "items": items})).into_response()
}
