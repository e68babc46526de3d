//! The simulated API over HTTP: one handler that counts, delays, authenticates,
//! rate-limits, injects faults, then routes.

use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde_json::{json, Value};

use super::{lock, State};

const JSON: &str = "application/json; charset=utf-8";
const TICKET_EXPORT: &str = "/api/v2/incremental/tickets/cursor.json";
const EVENT_EXPORT: &str = "/api/v2/incremental/ticket_events.json";
/// Zendesk's page size for offset-paginated lists (and its maximum).
const LIST_PAGE: usize = 100;
/// The exports' one-minute horizon: nothing newer than now - 60 s is returned.
const HORIZON: i64 = 60;

pub(super) fn router(state: Arc<State>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// An answer other than 200: a status and Zendesk's error body.
struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    fn invalid(description: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({"error": "InvalidValue", "description": description.into()}),
        }
    }

    fn not_found() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            body: json!({"error": "RecordNotFound", "description": "Not found"}),
        }
    }
}

fn respond(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body).into_response()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    respond(status, body.to_string())
}

impl From<ApiError> for Response {
    fn from(error: ApiError) -> Response {
        json_response(error.status, &error.body)
    }
}

/// What the rate limiter says about one request.
enum Rate {
    Unlimited,
    Admitted { limit: u32, remaining: u32, reset: i64 },
    Refused { limit: u32, retry_after: i64 },
}

async fn handle(AxumState(state): AxumState<Arc<State>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    *lock(&state.counters).entry(path.to_string()).or_insert(0) += 1;
    let delay = state.faults().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if !path.starts_with("/api/v2/") {
        return ApiError::not_found().into();
    }
    if !authorized(&state, &headers) {
        return json_response(StatusCode::UNAUTHORIZED, &json!({"error": "Couldn't authenticate you"}));
    }
    let rate = admit(&state);
    let mut response = match rate {
        Rate::Refused { retry_after, .. } => json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": "TooManyRequests", "description": format!("Rate limit exceeded, retry after {retry_after} seconds")}),
        ),
        _ => injected_fault(&state).unwrap_or_else(|| match route(&state, &method, path, Query::parse(uri.query())) {
            Ok(body) => json_response(StatusCode::OK, &body),
            Err(error) => error.into(),
        }),
    };
    let headers = response.headers_mut();
    match rate {
        Rate::Unlimited => {}
        Rate::Admitted { limit, remaining, reset } => rate_headers(headers, limit, remaining, reset),
        Rate::Refused { limit, retry_after } => {
            rate_headers(headers, limit, 0, retry_after);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
    }
    response
}

fn rate_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: i64) {
    for (name, value) in [
        ("x-rate-limit", i64::from(limit)),
        ("x-rate-limit-remaining", i64::from(remaining)),
        ("ratelimit-limit", i64::from(limit)),
        ("ratelimit-remaining", i64::from(remaining)),
        ("ratelimit-reset", reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

fn authorized(state: &State, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, credentials)) = value.trim().split_once(' ') else {
        return false;
    };
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return credentials == state.token;
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(decoded) = STANDARD.decode(credentials).ok().and_then(|bytes| String::from_utf8(bytes).ok()) else {
        return false;
    };
    decoded
        .split_once(':')
        .is_some_and(|(user, password)| user == format!("{}/token", state.email) && password == state.token)
}

/// Counts the request against the rolling minute of world time, if a limit is set.
fn admit(state: &State) -> Rate {
    let now = state.now();
    let mut faults = state.faults();
    let Some(limit) = faults.rate_limit else {
        return Rate::Unlimited;
    };
    faults.admitted.retain(|&at| at > now.saturating_sub(60));
    // When a slot frees: a minute after the oldest admitted request.
    let frees_in = faults
        .admitted
        .iter()
        .min()
        .map_or(60, |oldest| oldest.saturating_add(60).saturating_sub(now))
        .max(1);
    let used = u32::try_from(faults.admitted.len()).unwrap_or(u32::MAX);
    if used >= limit {
        return Rate::Refused {
            limit,
            retry_after: frees_in,
        };
    }
    faults.admitted.push(now);
    Rate::Admitted {
        limit,
        remaining: limit - used - 1,
        reset: frees_in,
    }
}

/// fail_next, then malformed_next: the answer they force, if one is armed.
fn injected_fault(state: &State) -> Option<Response> {
    let mut faults = state.faults();
    if faults.fail_next > 0 {
        faults.fail_next -= 1;
        let status = StatusCode::from_u16(faults.fail_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let reason = status.canonical_reason().unwrap_or("Error");
        return Some(json_response(status, &json!({"error": reason, "description": "Simulated failure"})));
    }
    if faults.malformed_next > 0 {
        faults.malformed_next -= 1;
        return Some(respond(StatusCode::OK, r#"{"tickets": [{"id": 1, "subject": "cut sho"#.to_string()));
    }
    None
}

fn route(state: &State, method: &Method, path: &str, query: Query) -> Result<Value, ApiError> {
    if method != Method::GET {
        return Err(ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            body: json!({"error": "MethodNotAllowed", "description": "The simulated Zendesk answers GET only"}),
        });
    }
    match path {
        TICKET_EXPORT => ticket_export(state, &query),
        EVENT_EXPORT => event_export(state, &query),
        "/api/v2/users.json" => users(state, &query),
        "/api/v2/users/show_many.json" => users_by_id(state, &query),
        "/api/v2/organizations.json" => organizations(state, &query),
        "/api/v2/ticket_fields.json" => {
            let fields = state.world().ticket_fields_json();
            Ok(json!({"count": fields.len(), "ticket_fields": fields, "next_page": null, "previous_page": null}))
        }
        _ => ticket_read(state, path),
    }
}

/// `/api/v2/tickets/{id}.json` and `/api/v2/tickets/{id}/comments.json`: live reads, no horizon.
fn ticket_read(state: &State, path: &str) -> Result<Value, ApiError> {
    let rest = path.strip_prefix("/api/v2/tickets/").ok_or_else(ApiError::not_found)?;
    let (id, comments) = match rest.strip_suffix("/comments.json") {
        Some(id) => (id, true),
        None => (rest.strip_suffix(".json").ok_or_else(ApiError::not_found)?, false),
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::not_found());
    }
    let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
    let world = state.world();
    if comments {
        let comments = world.live_comments_json(id).ok_or_else(ApiError::not_found)?;
        Ok(json!({
            "comments": comments,
            "meta": {"has_more": false, "after_cursor": null, "before_cursor": null},
            "links": {"prev": null, "next": null},
        }))
    } else {
        Ok(json!({"ticket": world.live_ticket_json(id).ok_or_else(ApiError::not_found)?}))
    }
}

fn ticket_export(state: &State, query: &Query) -> Result<Value, ApiError> {
    let horizon = state.now().saturating_sub(HORIZON);
    let per_page = page_size(query, state.page_size)?;
    let position = match (query.get("cursor"), query.get("start_time")) {
        (Some(cursor), _) => decode_cursor(cursor).ok_or_else(|| ApiError::invalid("cursor is invalid"))?,
        (None, Some(start_time)) => (start_time_param(start_time, horizon)?, 0),
        (None, None) => return Err(ApiError::invalid("start_time or cursor is required")),
    };
    let page = state.world().export_tickets(position, horizon, per_page);
    // An empty page hands the same position back: the next poll resumes where this one stood.
    let cursor = encode_cursor(page.last.unwrap_or(position));
    let per_page_param = query.get("per_page").map_or(String::new(), |_| format!("&per_page={per_page}"));
    Ok(json!({
        "tickets": page.tickets,
        "after_url": format!("{}{TICKET_EXPORT}?cursor={}{per_page_param}", state.base_url, percent_encode(&cursor)),
        "after_cursor": cursor,
        "before_url": null,
        "before_cursor": null,
        "end_of_stream": page.end_of_stream,
    }))
}

fn event_export(state: &State, query: &Query) -> Result<Value, ApiError> {
    let horizon = state.now().saturating_sub(HORIZON);
    let per_page = page_size(query, state.page_size)?;
    let start_time = start_time_param(
        query.get("start_time").ok_or_else(|| ApiError::invalid("start_time is required"))?,
        horizon,
    )?;
    let with_comments = query
        .all("include")
        .into_iter()
        .any(|v| v.split(',').any(|i| i.trim() == "comment_events"));
    let page = state.world().export_events(start_time, horizon, per_page, with_comments);
    let mut next_page = format!("{}{EVENT_EXPORT}?start_time={}", state.base_url, page.end_time);
    if with_comments {
        next_page.push_str("&include=comment_events");
    }
    if query.get("per_page").is_some() {
        next_page.push_str(&format!("&per_page={per_page}"));
    }
    Ok(json!({
        "ticket_events": page.events,
        "next_page": next_page,
        "count": page.events.len(),
        "end_time": page.end_time,
        "end_of_stream": page.end_of_stream,
    }))
}

fn users(state: &State, query: &Query) -> Result<Value, ApiError> {
    let roles: Vec<String> = query
        .all("role[]")
        .into_iter()
        .chain(query.all("role"))
        .map(str::to_string)
        .collect();
    let all = state.world().users_json(&roles);
    let role_params: String = roles.iter().map(|r| format!("&role%5B%5D={}", percent_encode(r))).collect();
    let mut body = paginate(state, query, "/api/v2/users.json", &role_params, all)?;
    rename(&mut body, "users");
    Ok(body)
}

fn users_by_id(state: &State, query: &Query) -> Result<Value, ApiError> {
    let ids = query.get("ids").ok_or_else(|| ApiError::invalid("ids is required"))?;
    let ids: Vec<u64> = ids
        .split(',')
        .filter(|id| !id.trim().is_empty())
        .map(|id| {
            id.trim()
                .parse()
                .map_err(|_| ApiError::invalid(format!("ids: {id:?} is not an id")))
        })
        .collect::<Result<_, _>>()?;
    if ids.len() > LIST_PAGE {
        return Err(ApiError::invalid(format!("ids: at most {LIST_PAGE} at a time")));
    }
    let users = state.world().users_by_id(&ids);
    Ok(json!({"count": users.len(), "users": users, "next_page": null, "previous_page": null}))
}

fn organizations(state: &State, query: &Query) -> Result<Value, ApiError> {
    let all = state.world().organizations_json();
    let mut body = paginate(state, query, "/api/v2/organizations.json", "", all)?;
    rename(&mut body, "organizations");
    Ok(body)
}

/// Offset pagination (`page`, `per_page` ≤ 100): `{"items", "next_page", "previous_page", "count"}`.
fn paginate(state: &State, query: &Query, path: &str, extra_params: &str, all: Vec<Value>) -> Result<Value, ApiError> {
    let per_page = page_size(query, LIST_PAGE)?;
    let page = match query.get("page") {
        Some(page) => page
            .parse::<usize>()
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| ApiError::invalid("page must be a positive integer"))?,
        None => 1,
    };
    let count = all.len();
    let skip = (page - 1).saturating_mul(per_page);
    let items: Vec<Value> = all.into_iter().skip(skip).take(per_page).collect();
    let url = |page: usize| format!("{}{path}?page={page}&per_page={per_page}{extra_params}", state.base_url);
    let next_page = (skip.saturating_add(per_page) < count).then(|| url(page + 1));
    let previous_page = (page > 1).then(|| url(page - 1));
    Ok(json!({"items": items, "next_page": next_page, "previous_page": previous_page, "count": count}))
}

fn rename(body: &mut Value, key: &str) {
    if let Some(object) = body.as_object_mut() {
        if let Some(items) = object.remove("items") {
            object.insert(key.to_string(), items);
        }
    }
}

/// `per_page`, at most `max` (larger values are lowered to it, as Zendesk does); `max` when absent.
fn page_size(query: &Query, max: usize) -> Result<usize, ApiError> {
    match query.get("per_page") {
        None => Ok(max),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(max)),
            _ => Err(ApiError::invalid("per_page must be a positive integer")),
        },
    }
}

fn start_time_param(text: &str, horizon: i64) -> Result<i64, ApiError> {
    let start_time: i64 = text
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid("start_time must be an integer (Unix seconds)"))?;
    if start_time > horizon {
        return Err(ApiError::invalid("Too recent start_time. Use a start_time older than 1 minute."));
    }
    Ok(start_time)
}

/// Zendesk's opaque cursor: base64 of `"<generated_timestamp>.0||<ticket id>|"`.
fn encode_cursor((timestamp, id): (i64, u64)) -> String {
    STANDARD.encode(format!("{timestamp}.0||{id}|"))
}

fn decode_cursor(cursor: &str) -> Option<(i64, u64)> {
    // A '+' the client forgot to escape arrives as a space.
    let cursor = cursor.trim().replace(' ', "+");
    let bytes = STANDARD.decode(&cursor).or_else(|_| URL_SAFE.decode(&cursor)).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (timestamp, id) = text.strip_suffix('|')?.split_once("||")?;
    let timestamp = timestamp.split_once('.').map_or(timestamp, |(whole, _)| whole).parse().ok()?;
    let id = if id.is_empty() { 0 } else { id.parse().ok()? };
    Some((timestamp, id))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A decoded query string that keeps repeated keys (`role[]=agent&role[]=admin`).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(key), percent_decode(value))
            })
            .collect();
        Query(pairs)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => Some(high * 16 + low),
            _ => None,
        };
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
}
