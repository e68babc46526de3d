//! A simulated Slack incoming-webhook receiver, which also stands in for any
//! generic JSON webhook: it records what the daemon posts, for the end-to-end
//! tests and `slawatch demo`.
//!
//! - `POST /services/{hook}` is a Slack incoming webhook (`{hook}` is anything,
//!   e.g. `T000/B000/XXXX`). Like Slack it takes a JSON message with `text`
//!   and/or `blocks` (legacy `attachments` too) and answers 200 `ok` as text;
//!   a body that is not a JSON object, or that has no content, gets 400
//!   `invalid_payload`; `blocks` that Block Kit would refuse get 400
//!   `invalid_blocks` (checked lightly: an array of at most 50 objects with a
//!   string `type`; sections with a text of at most 3000 characters or at most
//!   10 fields of at most 2000; headers in `plain_text` of at most 150; context
//!   blocks with 1 to 10 elements; text objects `plain_text` or `mrkdwn` with
//!   a non-empty `text`; a `block_id` of at most 255 characters).
//! - `POST` to any other path is a generic webhook (`/hooks/{name}` names the
//!   hook `{name}`, any other path is named by itself without the leading `/`):
//!   any JSON object is accepted with 200 `{"ok":true}`; anything else gets 400
//!   `{"ok":false,"error":"invalid_payload"}`.
//! - `GET /api/users.lookupByEmail?email=` is Slack's Web API method: with
//!   `Authorization: Bearer TOKEN` (the token set by [`SimSlack::set_bot_token`]) it answers
//!   `{"ok":true,"user":{"id":…}}` for a member added with [`SimSlack::add_member`] (e-mail
//!   compared ignoring case), else `{"ok":false,"error":"users_not_found"}`; a wrong token
//!   gets `{"ok":false,"error":"invalid_auth"}`, as Slack answers, with 200. Lookups are
//!   counted ([`SimSlack::lookup_count`]) and never recorded as messages.
//! - `POST /api/chat.postMessage` (same token) to a member's id is a direct message: recorded
//!   under the hook `dm/{member}`, answered `{"ok":true,…}`; to anyone else
//!   `{"ok":false,"error":"channel_not_found"}`.
//! - Other methods get 405. Refused requests are not recorded.
//!
//! Failure switches: [`SimSlack::set_down`] (every request answered 503),
//! [`SimSlack::fail_next`] (the next POSTs get a given status, 429 with
//! `Retry-After: 1`), [`SimSlack::set_delay`] (every answer waits, in real
//! time: webhook deliveries are real HTTP even when the daemon's clock is
//! virtual). A delayed request is recorded only once its delay has passed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Map, Value};
use tokio::sync::watch;

/// The largest request body read.
const MAX_BODY: usize = 1 << 20;
/// Block Kit limits the light validation checks.
const MAX_BLOCKS: usize = 50;
const MAX_SECTION_TEXT: usize = 3000;
const MAX_SECTION_FIELDS: usize = 10;
const MAX_FIELD_TEXT: usize = 2000;
const MAX_HEADER_TEXT: usize = 150;
const MAX_CONTEXT_ELEMENTS: usize = 10;
const MAX_BLOCK_ID: usize = 255;

/// One accepted webhook POST.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// `{hook}` of `/services/{hook}` or `/hooks/{hook}`; any other path without its leading `/`.
    pub hook: String,
    /// The request path.
    pub path: String,
    /// Whether it came to a generic webhook (not under `/services/`).
    pub generic: bool,
    pub body: Value,
    /// Real time of arrival, for latency measurements.
    pub received_at: Instant,
    /// `body["text"]`, or "" when there is none.
    pub text: String,
}

/// A running simulated Slack. Clones share the same server and messages; the server stops on
/// [`SimSlack::shutdown`] or when the last clone is dropped.
#[derive(Clone)]
pub struct SimSlack {
    handle: Arc<super::Handle<State>>,
}

impl std::fmt::Debug for SimSlack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimSlack")
            .field("base_url", &self.handle.state.base_url)
            .field("messages", &self.state().inner().messages.len())
            .finish()
    }
}

struct State {
    base_url: String,
    inner: Mutex<Inner>,
    requests: AtomicU64,
    /// How many messages are held (accepted, not taken): what `wait_for` watches.
    held: watch::Sender<usize>,
}

struct Inner {
    messages: Vec<ReceivedMessage>,
    down: bool,
    fail_next: u32,
    fail_status: u16,
    /// The `Retry-After` of an injected 429 (`1` unless set): a misbehaving server's may be huge.
    retry_after: Option<String>,
    delay: Duration,
    /// The Web API's bot token, and the workspace's members by e-mail (lower case).
    bot_token: Option<String>,
    members: std::collections::HashMap<String, String>,
    lookups: u64,
}

impl State {
    /// Locks without propagating a poisoned lock: the data stays usable after a panicking test thread.
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SimSlack {
    /// Binds 127.0.0.1 on an ephemeral port and serves webhooks from a spawned task.
    pub async fn start() -> std::io::Result<SimSlack> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let (held, _) = watch::channel(0);
        let state = Arc::new(State {
            base_url,
            inner: Mutex::new(Inner {
                messages: Vec::new(),
                down: false,
                fail_next: 0,
                fail_status: 500,
                retry_after: None,
                delay: Duration::ZERO,
                bot_token: None,
                members: std::collections::HashMap::new(),
                lookups: 0,
            }),
            requests: AtomicU64::new(0),
            held,
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        Ok(SimSlack {
            handle: super::Handle::serve(listener, app, state, "slack"),
        })
    }

    /// The bot token the Web API accepts.
    pub fn set_bot_token(&self, token: &str) {
        self.state().inner().bot_token = Some(token.to_string());
    }

    /// A workspace member `users.lookupByEmail` finds.
    pub fn add_member(&self, email: &str, member_id: &str) {
        self.state()
            .inner()
            .members
            .insert(email.to_ascii_lowercase(), member_id.to_string());
    }

    /// `users.lookupByEmail` calls answered.
    pub fn lookup_count(&self) -> u64 {
        self.state().inner().lookups
    }

    fn state(&self) -> &State {
        &self.handle.state
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.state().base_url.clone()
    }

    /// A Slack incoming-webhook URL: `{base}/services/{hook}`.
    pub fn url(&self, hook: &str) -> String {
        format!("{}/services/{hook}", self.state().base_url)
    }

    /// A generic JSON webhook URL: `{base}/hooks/{name}`; its messages have `hook` = `name`.
    pub fn generic_url(&self, name: &str) -> String {
        format!("{}/hooks/{name}", self.state().base_url)
    }

    /// Stops accepting connections; requests in flight finish.
    pub fn shutdown(&self) {
        self.handle.stop.cancel();
    }

    /// Every accepted message not yet taken, in order of arrival.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.state().inner().messages.clone()
    }

    /// The held messages whose `hook` is `hook`.
    pub fn messages_for(&self, hook: &str) -> Vec<ReceivedMessage> {
        self.state().inner().messages.iter().filter(|m| m.hook == hook).cloned().collect()
    }

    /// Hands over the held messages and forgets them.
    pub fn take_messages(&self) -> Vec<ReceivedMessage> {
        let state = self.state();
        let mut inner = state.inner();
        let taken = std::mem::take(&mut inner.messages);
        state.held.send_replace(0);
        taken
    }

    /// While down, every request is answered 503 `service unavailable` (the listener still
    /// accepts, so clients see the failure at once).
    pub fn set_down(&self, down: bool) {
        self.state().inner().down = down;
    }

    /// The next `n` POSTs get `status` with Slack's error text for it (`internal_error` for 500,
    /// `rate_limited` and `Retry-After: 1` for 429, ...), and are not recorded.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut inner = self.state().inner();
        inner.fail_next = n;
        inner.fail_status = status;
    }

    /// The `Retry-After` value injected 429s carry (seconds or an HTTP date, verbatim).
    pub fn set_retry_after(&self, value: &str) {
        self.state().inner().retry_after = Some(value.to_string());
    }

    /// Every request waits this long (real time) before anything else happens.
    pub fn set_delay(&self, d: Duration) {
        self.state().inner().delay = d;
    }

    /// Requests received, whatever their answer.
    pub fn request_count(&self) -> u64 {
        self.state().requests.load(Ordering::SeqCst)
    }

    /// Resolves when at least `n` messages are held (accepted and not taken), so that tests
    /// await deliveries instead of sleeping. After `take_messages` it counts from zero again.
    pub async fn wait_for(&self, n: usize) {
        let mut held = self.state().held.subscribe();
        // The sender lives as long as `self`: this only ends when the count is reached.
        let _ = held.wait_for(|&count| count >= n).await;
    }
}

/// `chat.postMessage` to a member: a direct message, recorded as `dm/{member}`.
fn post_message(state: &State, headers: &axum::http::HeaderMap, path: &str, bytes: &[u8]) -> Response {
    if !bearer_ok(state, headers) {
        return axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return axum::Json(json!({"ok": false, "error": "invalid_json"})).into_response();
    };
    let channel = body["channel"].as_str().unwrap_or_default().to_string();
    let mut inner = state.inner();
    if !inner.members.values().any(|m| *m == channel) {
        return axum::Json(json!({"ok": false, "error": "channel_not_found"})).into_response();
    }
    inner.messages.push(ReceivedMessage {
        hook: format!("dm/{channel}"),
        path: path.to_string(),
        generic: false,
        text: body["text"].as_str().unwrap_or_default().to_string(),
        body,
        received_at: Instant::now(),
    });
    let held = inner.messages.len();
    drop(inner);
    state.held.send_replace(held);
    axum::Json(json!({"ok": true, "channel": format!("D{channel}"), "ts": "1.0"})).into_response()
}

fn bearer_ok(state: &State, headers: &axum::http::HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer.is_some() && bearer == state.inner().bot_token.as_deref()
}

/// `users.lookupByEmail`, as Slack answers it (always 200; `ok` says).
fn lookup_by_email(state: &State, uri: &Uri, headers: &axum::http::HeaderMap) -> Response {
    state.inner().lookups += 1;
    if !bearer_ok(state, headers) {
        return axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    let inner = state.inner();
    let email = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("email="))
        .map(|e| e.replace("%40", "@").replace("%2B", "+").to_ascii_lowercase())
        .unwrap_or_default();
    match inner.members.get(&email) {
        Some(id) => axum::Json(json!({"ok": true, "user": {"id": id, "profile": {"email": email}}})).into_response(),
        None => axum::Json(json!({"ok": false, "error": "users_not_found"})).into_response(),
    }
}

async fn handle(AxumState(state): AxumState<Arc<State>>, method: Method, uri: Uri, headers: axum::http::HeaderMap, body: Body) -> Response {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let delay = state.inner().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if state.inner().down {
        return text(StatusCode::SERVICE_UNAVAILABLE, "service unavailable");
    }
    let path = uri.path().to_string();
    if path == "/api/users.lookupByEmail" {
        return lookup_by_email(&state, &uri, &headers);
    }
    if path == "/api/chat.postMessage" {
        let bytes = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
        return post_message(&state, &headers, &path, &bytes);
    }
    let (hook, generic) = match path.strip_prefix("/services/") {
        Some(hook) => (hook.to_string(), false),
        None => (
            path.strip_prefix("/hooks/")
                .unwrap_or_else(|| path.trim_start_matches('/'))
                .to_string(),
            true,
        ),
    };
    let refuse = |status: StatusCode, error: &str| {
        if generic {
            (status, axum::Json(json!({"ok": false, "error": error}))).into_response()
        } else {
            text(status, error)
        }
    };
    if method != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "invalid_method");
    }
    if !generic && hook.is_empty() {
        return refuse(StatusCode::NOT_FOUND, "no_service");
    }
    if let Some(status) = injected_failure(&state) {
        let mut response = refuse(status, failure_text(status));
        if status == StatusCode::TOO_MANY_REQUESTS {
            let value = state.inner().retry_after.clone().unwrap_or_else(|| "1".to_string());
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        return response;
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large");
    };
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_payload");
    };
    if generic {
        if !body.is_object() {
            return refuse(StatusCode::BAD_REQUEST, "invalid_payload");
        }
    } else if let Err(error) = check_slack_message(&body) {
        tracing::debug!(%hook, error = error.reason, "sim slack: message refused");
        return refuse(StatusCode::BAD_REQUEST, error.code);
    }
    let message = ReceivedMessage {
        text: body.get("text").and_then(Value::as_str).unwrap_or("").to_string(),
        hook,
        path,
        generic,
        body,
        received_at: Instant::now(),
    };
    {
        let mut inner = state.inner();
        inner.messages.push(message);
        state.held.send_replace(inner.messages.len());
    }
    if generic {
        (StatusCode::OK, axum::Json(json!({"ok": true}))).into_response()
    } else {
        text(StatusCode::OK, "ok")
    }
}

fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
        body.to_string(),
    )
        .into_response()
}

/// The status `fail_next` forces on this request, if one is armed.
fn injected_failure(state: &State) -> Option<StatusCode> {
    let mut inner = state.inner();
    if inner.fail_next == 0 {
        return None;
    }
    inner.fail_next -= 1;
    Some(StatusCode::from_u16(inner.fail_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
}

/// What Slack's webhooks answer with a status.
fn failure_text(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_payload",
        403 => "action_prohibited",
        404 => "no_service",
        410 => "channel_is_archived",
        429 => "rate_limited",
        503 => "service_unavailable",
        _ => "internal_error",
    }
}

/// Why Slack refuses a message: the error code it answers, and a reason for the logs.
struct Refused {
    code: &'static str,
    reason: String,
}

fn payload_error(reason: impl Into<String>) -> Refused {
    Refused {
        code: "invalid_payload",
        reason: reason.into(),
    }
}

fn blocks_error(reason: impl Into<String>) -> Refused {
    Refused {
        code: "invalid_blocks",
        reason: reason.into(),
    }
}

/// Slack's checks of an incoming-webhook message: a JSON object with content (`text`, `blocks`
/// or `attachments`), `blocks` valid Block Kit as far as the light checks go.
fn check_slack_message(body: &Value) -> Result<(), Refused> {
    let message = body.as_object().ok_or_else(|| payload_error("not a JSON object"))?;
    let has_text = match message.get("text") {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(_) => return Err(payload_error("text is not a string")),
    };
    let has_blocks = match message.get("blocks") {
        None | Some(Value::Null) => false,
        Some(blocks) => {
            check_blocks(blocks)?;
            blocks.as_array().is_some_and(|b| !b.is_empty())
        }
    };
    let has_attachments = message.get("attachments").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    if !has_text && !has_blocks && !has_attachments {
        return Err(payload_error("no text, blocks or attachments"));
    }
    Ok(())
}

fn check_blocks(blocks: &Value) -> Result<(), Refused> {
    let blocks = blocks.as_array().ok_or_else(|| blocks_error("blocks is not an array"))?;
    if blocks.len() > MAX_BLOCKS {
        return Err(blocks_error(format!("{} blocks, at most {MAX_BLOCKS}", blocks.len())));
    }
    for (i, block) in blocks.iter().enumerate() {
        let block = block
            .as_object()
            .ok_or_else(|| blocks_error(format!("block {i} is not an object")))?;
        let block_type = block
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| blocks_error(format!("block {i} has no string type")))?;
        if let Some(block_id) = block.get("block_id") {
            let ok = block_id
                .as_str()
                .is_some_and(|id| !id.is_empty() && id.chars().count() <= MAX_BLOCK_ID);
            if !ok {
                return Err(blocks_error(format!("block {i}: bad block_id")));
            }
        }
        match block_type {
            "section" => check_section(block, i)?,
            "header" => {
                let text = block.get("text").ok_or_else(|| blocks_error(format!("header {i} has no text")))?;
                check_text(text, MAX_HEADER_TEXT, &format!("header {i}"))?;
                if text.get("type").and_then(Value::as_str) != Some("plain_text") {
                    return Err(blocks_error(format!("header {i}: text must be plain_text")));
                }
            }
            "context" => {
                let count = block.get("elements").and_then(Value::as_array).map_or(0, Vec::len);
                if count == 0 || count > MAX_CONTEXT_ELEMENTS {
                    return Err(blocks_error(format!("context {i}: 1 to {MAX_CONTEXT_ELEMENTS} elements")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_section(block: &Map<String, Value>, i: usize) -> Result<(), Refused> {
    let text = block.get("text");
    let fields = block.get("fields");
    if text.is_none() && fields.is_none() {
        return Err(blocks_error(format!("section {i} has neither text nor fields")));
    }
    if let Some(text) = text {
        check_text(text, MAX_SECTION_TEXT, &format!("section {i}"))?;
    }
    if let Some(fields) = fields {
        let fields = fields
            .as_array()
            .filter(|f| !f.is_empty() && f.len() <= MAX_SECTION_FIELDS)
            .ok_or_else(|| blocks_error(format!("section {i}: 1 to {MAX_SECTION_FIELDS} fields")))?;
        for field in fields {
            check_text(field, MAX_FIELD_TEXT, &format!("section {i} field"))?;
        }
    }
    Ok(())
}

/// A text object: `{"type": "plain_text" | "mrkdwn", "text": "1..=max characters"}`.
fn check_text(text: &Value, max: usize, what: &str) -> Result<(), Refused> {
    let kind = text.get("type").and_then(Value::as_str);
    if !matches!(kind, Some("plain_text" | "mrkdwn")) {
        return Err(blocks_error(format!("{what}: text type must be plain_text or mrkdwn")));
    }
    let length = text.get("text").and_then(Value::as_str).map(|t| t.chars().count());
    match length {
        Some(n) if n >= 1 && n <= max => Ok(()),
        _ => Err(blocks_error(format!("{what}: text must be 1 to {max} characters"))),
    }
}
