//! The simulated API over HTTP: one handler that counts, delays, authenticates,
//! rate-limits, injects faults, then routes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde_json::{json, Value};

use super::world::{ApiComment, ApiUpdate, Refusal};
use super::{lock, State, TICKET_UPDATE_WINDOW};

const JSON: &str = "application/json; charset=utf-8";
const TICKET_EXPORT: &str = "/api/v2/incremental/tickets/cursor.json";
const EVENT_EXPORT: &str = "/api/v2/incremental/ticket_events.json";
const SCHEDULES: &str = "/api/v2/business_hours/schedules";
/// Zendesk's page size for offset-paginated lists (and its maximum).
const LIST_PAGE: usize = 100;
/// The exports' one-minute horizon: nothing newer than now - 60 s is returned.
const HORIZON: i64 = 60;
/// The largest request body read.
const MAX_BODY: usize = 1 << 20;
/// The statuses a ticket can be set to over the API.
const STATUSES: [&str; 6] = ["new", "open", "pending", "hold", "solved", "closed"];
const TICKET_UPDATES_HEADER: &str = "zendesk-ratelimit-per-ticket-updates";

pub(super) fn router(state: Arc<State>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Headers an answer carries beyond the usual ones.
type Headers = Vec<(HeaderName, HeaderValue)>;

/// A 200 answer: the body and any headers beyond the usual ones.
struct Answer {
    body: Value,
    headers: Headers,
}

impl From<Value> for Answer {
    fn from(body: Value) -> Answer {
        Answer { body, headers: Vec::new() }
    }
}

/// An answer other than 200: a status, Zendesk's error body and any extra headers.
struct ApiError {
    status: StatusCode,
    body: Value,
    headers: Headers,
}

impl ApiError {
    fn new(status: StatusCode, body: Value) -> ApiError {
        ApiError {
            status,
            body,
            headers: Vec::new(),
        }
    }

    fn invalid(description: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            json!({"error": "InvalidValue", "description": description.into()}),
        )
    }

    fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        )
    }

    /// 403, as Zendesk answers an agent's token on the exports and any token on a feature the
    /// plan lacks.
    fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            json!({
                "error": "Forbidden",
                "description": "You do not have access to this page. Please contact the account owner of this help desk for further help.",
            }),
        )
    }

    /// 422, as Zendesk answers a write whose values it refuses.
    fn record_invalid(field: &str, description: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": { field: [{"description": description.into()}] },
            }),
        )
    }

    fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "MethodNotAllowed", "description": "The simulated Zendesk does not answer this method here"}),
        )
    }
}

fn respond(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))], body).into_response()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    respond(status, body.to_string())
}

fn with_headers(mut response: Response, headers: Headers) -> Response {
    for (name, value) in headers {
        response.headers_mut().insert(name, value);
    }
    response
}

impl From<ApiError> for Response {
    fn from(error: ApiError) -> Response {
        with_headers(json_response(error.status, &error.body), error.headers)
    }
}

impl From<Answer> for Response {
    fn from(answer: Answer) -> Response {
        with_headers(json_response(StatusCode::OK, &answer.body), answer.headers)
    }
}

/// What the rate limiter says about one request.
enum Rate {
    Unlimited,
    Admitted { limit: u32, remaining: u32, reset: i64 },
    Refused { limit: u32, retry_after: i64 },
}

async fn handle(AxumState(state): AxumState<Arc<State>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let path = uri.path();
    *lock(&state.counters).entry(path.to_string()).or_insert(0) += 1;
    if method == Method::PUT || method == Method::POST {
        state.writes.fetch_add(1, Ordering::SeqCst);
    }
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
        _ => match injected_fault(&state, path) {
            Some(response) => response,
            None => {
                // Only writes have a body worth reading: reads answer without awaiting anything.
                let body = if method == Method::PUT || method == Method::POST {
                    axum::body::to_bytes(body, MAX_BODY).await.ok()
                } else {
                    Some(axum::body::Bytes::new())
                };
                match body {
                    Some(body) => match route(&state, &method, path, Query::parse(uri.query()), &body) {
                        Ok(answer) => truncated_if_due(&state, answer.into()).await,
                        Err(error) => error.into(),
                    },
                    None => json_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &json!({"error": "PayloadTooLarge", "description": format!("Request bodies are limited to {MAX_BODY} bytes")}),
                    ),
                }
            }
        },
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

/// The storm's truncation (every n-th answer cut off halfway through its JSON) and the garbled
/// text, when armed.
async fn truncated_if_due(state: &State, response: Response) -> Response {
    let (truncate, garble) = {
        let faults = state.faults();
        (
            faults.truncate_every.is_some_and(|n| faults.admitted_count % n == 0),
            faults.garble.clone(),
        )
    };
    if !truncate && garble.is_none() {
        return response;
    }
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(garble) = garble {
        text = text.replace(&garble, "\\ud800");
    }
    if truncate {
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    respond(status, text)
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

/// A refused path, fail_next, then malformed_next, then the storm's failures: the answer they
/// force, if one is armed.
fn injected_fault(state: &State, path: &str) -> Option<Response> {
    let mut faults = state.faults();
    if let Some((_, status)) = faults.refuse.as_ref().filter(|(refused, _)| refused == path) {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Some(json_response(
            status,
            &json!({"error": status.canonical_reason().unwrap_or("Error"), "description": "Simulated failure"}),
        ));
    }
    faults.admitted_count += 1;
    let storm_fails = faults.fail_every.filter(|(n, _)| faults.admitted_count % n == 0);
    if let Some((_, status)) = storm_fails {
        faults.fail_next = faults.fail_next.max(1);
        faults.fail_status = status;
    }
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

fn route(state: &State, method: &Method, path: &str, query: Query, body: &[u8]) -> Result<Answer, ApiError> {
    if path.starts_with("/api/v2/webhooks") || path.starts_with("/api/v2/triggers") {
        return setup(state, method, path, &query, body).map(Answer::from);
    }
    if *method == Method::GET {
        return read(state, path, &query).map(Answer::from);
    }
    match (method, ticket_path(path)) {
        (&Method::PUT, Some(TicketPath::Ticket(id))) => ticket_update(state, id, body),
        (&Method::PUT, Some(TicketPath::Tags(id))) => tags_update(state, id, body, false),
        (&Method::POST, Some(TicketPath::Tags(id))) => tags_update(state, id, body, true),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn read(state: &State, path: &str, query: &Query) -> Result<Value, ApiError> {
    // The incremental exports are for admins only.
    if path.starts_with("/api/v2/incremental/") && state.world().user_role(state.api_user_id) != Some("admin") {
        return Err(ApiError::forbidden());
    }
    match path {
        TICKET_EXPORT => ticket_export(state, query),
        EVENT_EXPORT => event_export(state, query),
        "/api/v2/users.json" => users(state, query),
        "/api/v2/users/show_many.json" => users_by_id(state, query),
        "/api/v2/users/me.json" => {
            let me = state.world().user_json(state.api_user_id).ok_or_else(ApiError::not_found)?;
            Ok(json!({"user": me}))
        }
        "/api/v2/organizations.json" => organizations(state, query),
        "/api/v2/ticket_fields.json" => {
            let all = state.world().ticket_fields_json();
            list_page(state, query, path, "", all, "ticket_fields", false)
        }
        "/api/v2/organization_fields.json" => {
            let all = state.world().organization_fields_json();
            list_page(state, query, path, "", all, "organization_fields", false)
        }
        "/api/v2/groups.json" => {
            let exclude_deleted = query.get("exclude_deleted") == Some("true");
            let all = state.world().groups_json(exclude_deleted);
            let extra = if exclude_deleted { "&exclude_deleted=true" } else { "" };
            list_page(state, query, path, extra, all, "groups", false)
        }
        _ if path.starts_with(SCHEDULES) => schedules_read(state, path),
        _ => ticket_read(state, path, query),
    }
}

/// The webhooks and triggers API (what `slawatch webhook-setup --apply` creates).
fn setup(state: &State, method: &Method, path: &str, query: &Query, body: &[u8]) -> Result<Value, ApiError> {
    let refused =
        |(status, body): super::webhooks::Refusal| ApiError::new(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), body);
    match (method, path) {
        (&Method::POST, "/api/v2/webhooks") => state.create_webhook(&json_body(body)?).map_err(refused),
        (&Method::GET, "/api/v2/webhooks") => Ok(state.list_webhooks(query.get("filter[name_contains]"))),
        (&Method::POST, "/api/v2/triggers.json") => state.create_trigger(&json_body(body)?).map_err(refused),
        (&Method::GET, "/api/v2/triggers.json") => Ok(state.list_triggers()),
        (&Method::GET, _) => path
            .strip_prefix("/api/v2/webhooks/")
            .and_then(|rest| rest.strip_suffix("/signing_secret"))
            .and_then(|id| state.signing_secret(id))
            .ok_or_else(ApiError::not_found),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `/api/v2/business_hours/schedules.json` and `.../schedules/{id}/holidays.json`: whole lists
/// (Zendesk does not paginate them); 403 when the plan has no business hours.
fn schedules_read(state: &State, path: &str) -> Result<Value, ApiError> {
    let world = state.world();
    if !world.has_business_hours() {
        return Err(ApiError::forbidden());
    }
    let rest = &path[SCHEDULES.len()..];
    if rest == ".json" {
        return Ok(json!({"schedules": world.schedules_json()}));
    }
    let id = rest
        .strip_prefix('/')
        .and_then(|r| r.strip_suffix("/holidays.json"))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|id| id.parse::<u64>().ok())
        .ok_or_else(ApiError::not_found)?;
    let holidays = world.holidays_json(id).ok_or_else(ApiError::not_found)?;
    Ok(json!({"holidays": holidays}))
}

/// A path under `/api/v2/tickets/{id}`.
enum TicketPath {
    Ticket(u64),
    Comments(u64),
    Audits(u64),
    Tags(u64),
}

fn ticket_path(path: &str) -> Option<TicketPath> {
    let rest = path.strip_prefix("/api/v2/tickets/")?;
    let (id, kind): (&str, fn(u64) -> TicketPath) = if let Some(id) = rest.strip_suffix("/comments.json") {
        (id, TicketPath::Comments)
    } else if let Some(id) = rest.strip_suffix("/audits.json") {
        (id, TicketPath::Audits)
    } else if let Some(id) = rest.strip_suffix("/tags.json") {
        (id, TicketPath::Tags)
    } else {
        (rest.strip_suffix(".json")?, TicketPath::Ticket)
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok().map(kind)
}

/// `/api/v2/tickets/{id}.json`, `.../comments.json` and `.../tags.json`: live reads, no horizon.
fn ticket_read(state: &State, path: &str, query: &Query) -> Result<Value, ApiError> {
    let target = ticket_path(path).ok_or_else(ApiError::not_found)?;
    let world = state.world();
    match target {
        TicketPath::Ticket(id) => Ok(json!({"ticket": world.live_ticket_json(id).ok_or_else(ApiError::not_found)?})),
        TicketPath::Comments(id) => {
            let mut comments = world.live_comments_json(id).ok_or_else(ApiError::not_found)?;
            drop(world);
            comments_page(state, query, path, &mut comments)
        }
        TicketPath::Audits(id) => {
            let audits = world.live_audits_json(id).ok_or_else(ApiError::not_found)?;
            drop(world);
            list_page(state, query, path, "", audits, "audits", true)
        }
        TicketPath::Tags(id) => Ok(json!({"tags": world.live_tags(id).ok_or_else(ApiError::not_found)?})),
    }
}

/// A page of a ticket's comments, oldest first unless `sort_order=desc`: offset pagination with
/// `per_page`/`page` (`next_page`, `previous_page`, `count`), cursor pagination otherwise
/// (`page[size]`, `page[after]`; `meta`, `links`). Pages hold at most 100.
fn comments_page(state: &State, query: &Query, path: &str, comments: &mut Vec<Value>) -> Result<Value, ApiError> {
    let sort_order = match query.get("sort_order") {
        None | Some("asc") => "asc",
        Some("desc") => {
            comments.reverse();
            "desc"
        }
        Some(_) => return Err(ApiError::invalid("sort_order must be asc or desc")),
    };
    let all = std::mem::take(comments);
    // Comments are cursor-paginated unless offset parameters are given.
    let offset = query.get("per_page").is_some() || query.get("page").is_some();
    list_page(state, query, path, &format!("&sort_order={sort_order}"), all, "comments", !offset)
}

/// A page of a list: cursor pagination when asked for (`page[size]`, `page[after]`; `meta`,
/// `links`; or `cursor`, the endpoint's default), else offset pagination (`per_page`, `page`;
/// `next_page`, `count`), which Zendesk refuses past page 100. Pages hold at most 100.
fn list_page(
    state: &State,
    query: &Query,
    path: &str,
    extra_params: &str,
    all: Vec<Value>,
    key: &str,
    cursor: bool,
) -> Result<Value, ApiError> {
    if !cursor && query.get("page[size]").is_none() && query.get("page[after]").is_none() {
        let mut body = paginate(state, query, path, extra_params, all)?;
        rename(&mut body, key);
        return Ok(body);
    }
    let size = match query.get("page[size]") {
        None => LIST_PAGE,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(LIST_PAGE),
            _ => return Err(ApiError::invalid("page[size] must be a positive integer")),
        },
    };
    let skip = match query.get("page[after]") {
        None => 0,
        Some(cursor) => STANDARD
            .decode(cursor.trim().replace(' ', "+"))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| ApiError::invalid("page[after] is invalid"))?,
    };
    let total = all.len();
    let end = skip.saturating_add(size).min(total);
    let page: Vec<Value> = all.into_iter().skip(skip).take(size).collect();
    let has_more = end < total;
    let after = STANDARD.encode(format!("offset:{end}"));
    let before = STANDARD.encode(format!("offset:{skip}"));
    let link = |param: &str, cursor: &str| {
        format!(
            "{}{path}?page%5B{param}%5D={}&page%5Bsize%5D={size}{extra_params}",
            state.base_url,
            percent_encode(cursor)
        )
    };
    let mut body = json!({
        "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
        "links": {"prev": link("before", &before), "next": link("after", &after)},
    });
    body[key] = Value::Array(page);
    Ok(body)
}

// ---- writes ------------------------------------------------------------------------

/// `PUT /api/v2/tickets/{id}.json`: a comment, status and tag changes as one audit by the API user.
fn ticket_update(state: &State, id: u64, body: &[u8]) -> Result<Answer, ApiError> {
    let body = json_body(body)?;
    let ticket = body
        .get("ticket")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::invalid("The body must be {\"ticket\": {...}}"))?;
    let stamp = safe_update_stamp(ticket)?;
    let update = ApiUpdate {
        comment: ticket.get("comment").map(comment_param).transpose()?,
        status: ticket.get("status").map(status_param).transpose()?,
        tags: ticket.get("tags").map(|v| tags_param("tags", v)).transpose()?,
        additional_tags: ticket
            .get("additional_tags")
            .map(|v| tags_param("additional_tags", v))
            .transpose()?
            .unwrap_or_default(),
        remove_tags: ticket
            .get("remove_tags")
            .map(|v| tags_param("remove_tags", v))
            .transpose()?
            .unwrap_or_default(),
        custom_fields: custom_fields_param(ticket.get("custom_fields"))?,
    };
    let (mut world, headers) = admit_write(state, id, stamp)?;
    let audit = world.api_update(id, update, state.api_user_id, state.now()).map_err(refused)?;
    let mut answer = json!({"ticket": world.live_ticket_json(id).ok_or_else(ApiError::not_found)?});
    if let (Some(answer), Some(audit)) = (answer.as_object_mut(), audit.and_then(|a| world.api_audit_json(a))) {
        answer.insert("audit".to_string(), audit);
    }
    Ok(Answer { body: answer, headers })
}

/// `custom_fields: [{"id": 123, "value": ...}]`.
fn custom_fields_param(value: Option<&Value>) -> Result<Vec<(u64, Value)>, ApiError> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let invalid = || ApiError::invalid("custom_fields must be a list of {\"id\": number, \"value\": ...}");
    value
        .as_array()
        .ok_or_else(invalid)?
        .iter()
        .map(|f| {
            Ok((
                f.get("id").and_then(Value::as_u64).ok_or_else(invalid)?,
                f.get("value").cloned().unwrap_or(Value::Null),
            ))
        })
        .collect()
}

/// `PUT /api/v2/tickets/{id}/tags.json` adds the tags, `POST` replaces them.
fn tags_update(state: &State, id: u64, body: &[u8], replace: bool) -> Result<Answer, ApiError> {
    let body = json_body(body)?;
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::invalid("The body must be {\"tags\": [...]}"))?;
    let tags = tags_param("tags", object.get("tags").ok_or_else(|| ApiError::invalid("tags is required"))?)?;
    let stamp = safe_update_stamp(object)?;
    let update = if replace {
        ApiUpdate {
            tags: Some(tags),
            ..ApiUpdate::default()
        }
    } else {
        ApiUpdate {
            additional_tags: tags,
            ..ApiUpdate::default()
        }
    };
    let (mut world, headers) = admit_write(state, id, stamp)?;
    world.api_update(id, update, state.api_user_id, state.now()).map_err(refused)?;
    let tags = world.live_tags(id).ok_or_else(ApiError::not_found)?;
    Ok(Answer {
        body: json!({"tags": tags}),
        headers,
    })
}

/// The checks every write passes, in Zendesk's order: the ticket exists (404), the per-ticket
/// update limit (429), the ticket is not closed (422), the safe update's stamp (409). Hands back
/// the locked world, so nothing changes between the checks and the write, and the limit's header.
fn admit_write(state: &State, id: u64, stamp: Option<i64>) -> Result<(super::WorldGuard<'_>, Headers), ApiError> {
    let world = state.world();
    if !world.is_live(id) {
        return Err(ApiError::not_found());
    }
    let headers = admit_ticket_update(state, id)?;
    world.check_write(id, stamp).map_err(|refusal| {
        let mut error = refused(refusal);
        error.headers.extend(headers.iter().cloned());
        error
    })?;
    Ok((world, headers))
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::NotFound => ApiError::not_found(),
        Refusal::Closed => ApiError::record_invalid("status", "Status: closed prevents ticket update"),
        Refusal::Conflict => ApiError::new(
            StatusCode::CONFLICT,
            json!({
                "error": "UpdateConflict",
                "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.",
            }),
        ),
        Refusal::UnknownAuthor => ApiError::record_invalid("author_id", "Author: is invalid"),
    }
}

/// Counts an update of ticket `id` against Zendesk's per-ticket limit (a rolling window of world
/// time): the limit's header when admitted, 429 with `Retry-After` when not.
fn admit_ticket_update(state: &State, id: u64) -> Result<Headers, ApiError> {
    let now = state.now();
    let mut updates = lock(&state.ticket_updates);
    let Some(limit) = updates.limit else {
        return Ok(Vec::new());
    };
    let admitted = updates.admitted.entry(id).or_default();
    admitted.retain(|&at| at > now.saturating_sub(TICKET_UPDATE_WINDOW));
    let used = u32::try_from(admitted.len()).unwrap_or(u32::MAX);
    let header = |remaining: u32, resets: i64| {
        let value = HeaderValue::from_str(&format!("total={limit}; remaining={remaining}; resets={resets}"))
            .unwrap_or_else(|_| HeaderValue::from_static("total=0"));
        (HeaderName::from_static(TICKET_UPDATES_HEADER), value)
    };
    if used >= limit {
        // A slot frees when the oldest admitted update leaves the window.
        let retry_after = admitted
            .iter()
            .min()
            .map_or(TICKET_UPDATE_WINDOW, |oldest| {
                oldest.saturating_add(TICKET_UPDATE_WINDOW).saturating_sub(now)
            })
            .max(1);
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "error": "TooManyRequests",
                "description": format!("Too many updates to ticket {id}, retry after {retry_after} seconds"),
            }),
        );
        error.headers.push(header(0, retry_after));
        error.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after)));
        return Err(error);
    }
    admitted.push(now);
    let oldest = admitted.iter().min().copied().unwrap_or(now);
    let resets = oldest.saturating_add(TICKET_UPDATE_WINDOW).saturating_sub(now).max(1);
    Ok(vec![header(limit - used - 1, resets)])
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))
}

/// `safe_update` (a bool, or "true"/"false" as Zendesk's examples send it) with `updated_stamp`:
/// the stamp in Unix seconds when the update must be safe.
fn safe_update_stamp(object: &serde_json::Map<String, Value>) -> Result<Option<i64>, ApiError> {
    let safe = match object.get("safe_update") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(safe)) => *safe,
        Some(Value::String(text)) if text == "true" || text == "false" => text == "true",
        Some(_) => return Err(ApiError::invalid("safe_update must be true or false")),
    };
    if !safe {
        return Ok(None);
    }
    let stamp = object
        .get("updated_stamp")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("updated_stamp is required with safe_update"))?;
    chrono::DateTime::parse_from_rfc3339(stamp.trim())
        .map(|t| Some(t.timestamp()))
        .map_err(|_| ApiError::invalid(format!("updated_stamp: {stamp:?} is not an RFC 3339 time")))
}

fn comment_param(comment: &Value) -> Result<ApiComment, ApiError> {
    let comment = comment
        .as_object()
        .ok_or_else(|| ApiError::record_invalid("comment", "Comment: must be an object"))?;
    let body = match (comment.get("body"), comment.get("html_body")) {
        (Some(Value::String(body)), _) | (None, Some(Value::String(body))) => body.clone(),
        _ => return Err(ApiError::record_invalid("comment", "Comment: body must be a string")),
    };
    if body.trim().is_empty() {
        return Err(ApiError::record_invalid("comment", "Comment: cannot be blank"));
    }
    // A comment is public unless it says otherwise, as in Zendesk.
    let public = match comment.get("public") {
        None => true,
        Some(Value::Bool(public)) => *public,
        Some(_) => return Err(ApiError::record_invalid("comment", "Comment: public must be true or false")),
    };
    let author_id = match comment.get("author_id") {
        None | Some(Value::Null) => None,
        Some(author) => Some(
            author
                .as_u64()
                .ok_or_else(|| ApiError::record_invalid("author_id", "Author: is invalid"))?,
        ),
    };
    Ok(ApiComment { body, public, author_id })
}

fn status_param(status: &Value) -> Result<String, ApiError> {
    status
        .as_str()
        .filter(|s| STATUSES.contains(s))
        .map(str::to_string)
        .ok_or_else(|| ApiError::record_invalid("status", format!("Status: {status} is not valid")))
}

/// An array of tags (or one string of them); a tag holding spaces is several tags, as in Zendesk.
fn tags_param(key: &str, tags: &Value) -> Result<Vec<String>, ApiError> {
    let strings: Vec<&str> = match tags {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| ApiError::record_invalid(key, format!("{key}: tags must be strings")))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(ApiError::record_invalid(key, format!("{key}: must be an array of strings"))),
    };
    Ok(strings.iter().flat_map(|s| s.split_whitespace()).map(str::to_string).collect())
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
    list_page(state, query, "/api/v2/users.json", &role_params, all, "users", false)
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
    let body = list_page(state, query, "/api/v2/organizations.json", "", all, "organizations", false)?;
    Ok(body)
}

/// Offset pagination (`page`, `per_page` ≤ 100): `{"items", "next_page", "previous_page", "count"}`.
/// Zendesk serves at most this many pages of a list by offset.
const OFFSET_PAGE_LIMIT: usize = 100;

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
    if page > OFFSET_PAGE_LIMIT {
        return Err(ApiError::invalid(
            "Offset pagination is limited to the first 100 pages. Use cursor pagination instead.",
        ));
    }
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
