//! A simulated Opsgenie Alert API, for the end-to-end tests and `slawatch demo`: a world of
//! alerts keyed by `alias`, open or closed, and every request it received.
//!
//! - Every request needs `Authorization: GenieKey KEY` with a key added by
//!   [`SimOpsgenie::add_api_key`]; otherwise 401 `{"message":"Could not authenticate",…}`.
//! - `POST /v2/alerts` creates an alert from `{message, alias, description, priority, details,
//!   source, entity, tags}`: `message` is required (422 `Request body is not processable`
//!   otherwise, as is a priority other than P1..P5). An alias with an open alert is folded into
//!   it (its `count` grows), as Opsgenie deduplicates; otherwise a new alert opens.
//! - `POST /v2/alerts/{alias}/close?identifierType=alias` (the alias percent-encoded) closes the
//!   open alert with that alias; one already closed is accepted again; an alias never seen gets
//!   404 `{"message":"Alert does not exist",…}`. Another `identifierType` gets 422.
//! - Accepted requests get 202 `{"result":"Request will be processed","took":0.1,"requestId":…}`.
//!   Any other path gets 404, any other method 405.
//!
//! Every request is recorded ([`SimOpsgenie::requests`]) with the status it got. Failure
//! switches: [`SimOpsgenie::set_down`] (503 to everything), [`SimOpsgenie::fail_next`] (the
//! next requests get a status: 429, 5xx, 401, 403, 422), an unknown key (401), and
//! [`SimOpsgenie::set_answer_delay`] (the request lands, its answer waits).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::watch;

const MAX_BODY: usize = 1 << 20;

/// One alert, as Opsgenie holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub alias: String,
    pub message: String,
    pub priority: String,
    pub description: String,
    pub details: Value,
    /// `open` or `closed`.
    pub status: String,
    /// How many creates it took (1, plus each repeat folded into it).
    pub count: u32,
}

impl Alert {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

/// One request received, whatever it was answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path as sent (the alias still percent-encoded).
    pub path: String,
    pub query: String,
    pub body: Value,
    pub status: u16,
}

struct Inner {
    keys: Vec<String>,
    alerts: Vec<Alert>,
    requests: Vec<Request>,
    down: bool,
    fail_next: u32,
    fail_status: u16,
    /// How long (real time) an answer waits after the request has changed the world.
    answer_delay: std::time::Duration,
}

struct State {
    base_url: String,
    inner: Mutex<Inner>,
    received: watch::Sender<usize>,
}

impl State {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running simulated Opsgenie. Clones share the same server and world; the server stops on
/// [`SimOpsgenie::shutdown`] or when the last clone is dropped.
#[derive(Clone)]
pub struct SimOpsgenie {
    handle: Arc<super::Handle<State>>,
}

impl std::fmt::Debug for SimOpsgenie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOpsgenie")
            .field("base_url", &self.handle.state.base_url)
            .finish()
    }
}

impl SimOpsgenie {
    /// Binds 127.0.0.1 on an ephemeral port and serves the Alert API from a spawned task.
    pub async fn start() -> std::io::Result<SimOpsgenie> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let state = Arc::new(State {
            base_url: format!("http://{}", listener.local_addr()?),
            inner: Mutex::new(Inner {
                keys: Vec::new(),
                alerts: Vec::new(),
                requests: Vec::new(),
                down: false,
                fail_next: 0,
                fail_status: 500,
                answer_delay: std::time::Duration::ZERO,
            }),
            received: watch::channel(0).0,
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        Ok(SimOpsgenie {
            handle: super::Handle::serve(listener, app, state, "opsgenie"),
        })
    }

    fn state(&self) -> &State {
        &self.handle.state
    }

    /// `http://127.0.0.1:PORT`: what an opsgenie channel's `url` names.
    pub fn base_url(&self) -> String {
        self.state().base_url.clone()
    }

    /// An API integration's key the service takes.
    pub fn add_api_key(&self, key: &str) {
        self.state().inner().keys.push(key.to_string());
    }

    /// Every alert, in order of creation.
    pub fn alerts(&self) -> Vec<Alert> {
        self.state().inner().alerts.clone()
    }

    pub fn open_alerts(&self) -> Vec<Alert> {
        self.alerts().into_iter().filter(Alert::is_open).collect()
    }

    /// Every request received, in order, with the status it got.
    pub fn requests(&self) -> Vec<Request> {
        self.state().inner().requests.clone()
    }

    /// While down, every request is answered 503.
    pub fn set_down(&self, down: bool) {
        self.state().inner().down = down;
    }

    /// Each request changes the world at once, and its answer waits this long (real time): a
    /// client that gives up meanwhile never learns that its request landed.
    pub fn set_answer_delay(&self, delay: std::time::Duration) {
        self.state().inner().answer_delay = delay;
    }

    /// The next `n` requests get `status` (and change nothing).
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut inner = self.state().inner();
        inner.fail_next = n;
        inner.fail_status = status;
    }

    pub fn shutdown(&self) {
        self.handle.stop.cancel();
    }

    /// Resolves once at least `n` requests have been received (whatever their answer).
    pub async fn wait_for(&self, n: usize) {
        let mut received = self.state().received.subscribe();
        let _ = received.wait_for(|&count| count >= n).await;
    }
}

/// `%2F` and friends, back to what the client meant.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn accepted(inner: &Inner) -> (StatusCode, Value) {
    (
        StatusCode::ACCEPTED,
        json!({"result": "Request will be processed", "took": 0.1, "requestId": format!("sim-{}", inner.requests.len() + 1)}),
    )
}

fn refused(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({"message": message, "took": 0.0, "requestId": "sim-refused"}))
}

fn create(inner: &mut Inner, body: &Value) -> (StatusCode, Value) {
    let message = body["message"].as_str().unwrap_or_default();
    if message.trim().is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Request body is not processable. Please check the errors.", "errors": {"message": "Message can not be empty."}, "took": 0.0}),
        );
    }
    let priority = body["priority"].as_str().unwrap_or("P3");
    if !["P1", "P2", "P3", "P4", "P5"].contains(&priority) {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, "Priority should be one of [P1, P2, P3, P4, P5]");
    }
    let alias = body["alias"]
        .as_str()
        .map_or_else(|| format!("sim-{}", inner.alerts.len() + 1), str::to_string);
    match inner.alerts.iter_mut().rev().find(|a| a.alias == alias && a.is_open()) {
        Some(open) => open.count += 1,
        None => inner.alerts.push(Alert {
            alias,
            message: message.to_string(),
            priority: priority.to_string(),
            description: body["description"].as_str().unwrap_or_default().to_string(),
            details: body["details"].clone(),
            status: "open".into(),
            count: 1,
        }),
    }
    accepted(inner)
}

fn close(inner: &mut Inner, alias: &str, query: &str) -> (StatusCode, Value) {
    if !query.split('&').any(|pair| pair == "identifierType=alias") {
        return refused(StatusCode::UNPROCESSABLE_ENTITY, "the simulator closes alerts by alias only");
    }
    let mut seen = false;
    for alert in inner.alerts.iter_mut().filter(|a| a.alias == alias) {
        seen = true;
        alert.status = "closed".into();
    }
    if !seen {
        return refused(StatusCode::NOT_FOUND, "Alert does not exist");
    }
    accepted(inner)
}

fn failure(status: u16) -> (StatusCode, Value) {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match status {
        401 => "Could not authenticate",
        403 => "You are not authorized for this action",
        422 => "Request body is not processable",
        429 => "You are making too many requests! To avoid errors, we recommend you limit requests.",
        _ => "Internal Server Error",
    };
    refused(code, message)
}

async fn handle(AxumState(state): AxumState<Arc<State>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let (status, answer, delay) = receive(&state, &method, &uri, &headers, &bytes);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    (status, axum::Json(answer)).into_response()
}

/// Records the request and does what it asks; the answer, and how long it waits.
fn receive(state: &State, method: &Method, uri: &Uri, headers: &HeaderMap, bytes: &[u8]) -> (StatusCode, Value, std::time::Duration) {
    let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("GenieKey "))
        .unwrap_or_default()
        .to_string();
    let close_alias = path
        .strip_prefix("/v2/alerts/")
        .and_then(|rest| rest.strip_suffix("/close"))
        .filter(|alias| !alias.contains('/'))
        .map(percent_decode);
    let mut inner = state.inner();
    let (status, answer) = if inner.down {
        refused(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    } else if path != "/v2/alerts" && close_alias.is_none() {
        refused(StatusCode::NOT_FOUND, "Not Found")
    } else if *method != Method::POST {
        refused(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
    } else if inner.fail_next > 0 {
        inner.fail_next -= 1;
        failure(inner.fail_status)
    } else if !inner.keys.contains(&key) {
        refused(StatusCode::UNAUTHORIZED, "Could not authenticate")
    } else {
        match &close_alias {
            Some(alias) => close(&mut inner, alias, &query),
            None => create(&mut inner, &body),
        }
    };
    inner.requests.push(Request {
        method: method.to_string(),
        path,
        query,
        body,
        status: status.as_u16(),
    });
    let received = inner.requests.len();
    let delay = inner.answer_delay;
    drop(inner);
    state.received.send_replace(received);
    (status, answer, delay)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_escaped_alias_reads_back() {
        assert_eq!(
            super::percent_decode("0001%2Ffirst_response%2Fcontract%4086400%2Fbreach"),
            "0001/first_response/contract@86400/breach"
        );
    }
}
