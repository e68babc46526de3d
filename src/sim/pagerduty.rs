//! A simulated PagerDuty Events API v2, for the end-to-end tests and `slawatch demo`: a world of
//! incidents keyed by `dedup_key`, open or resolved, and every request it received.
//!
//! - `POST /v2/enqueue` takes an event `{routing_key, event_action, dedup_key, payload, links}`.
//!   The routing key must be one added with [`SimPagerDuty::add_routing_key`]; `event_action` is
//!   `trigger`, `acknowledge` or `resolve`; a `trigger` needs `payload.summary`, `payload.source`
//!   and `payload.severity` (`critical`, `error`, `warning`, `info`). Anything else gets 400
//!   `{"status":"invalid event","message":"Event object is invalid","errors":[…]}`, as
//!   PagerDuty answers. A valid event gets 202 `{"status":"success","message":"Event
//!   processed","dedup_key":…}`: a `trigger` whose key has an open incident is folded into it
//!   (its `triggers` count grows), otherwise it opens a new one; `acknowledge` and `resolve`
//!   act on the open incident of that key, and are accepted (doing nothing) when there is none.
//! - Any other path gets 404, any other method 405.
//!
//! Every request is recorded ([`SimPagerDuty::requests`]) with the status it got, refused or
//! not. Failure switches: [`SimPagerDuty::set_down`] (503 to everything, recorded),
//! [`SimPagerDuty::fail_next`] (the next requests get a status: 429 `throttle event`, 5xx, or
//! 400 `invalid event`), an unknown routing key (400), and
//! [`SimPagerDuty::set_answer_delay`] (the event lands, its answer waits: a timeout after the
//! write).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::watch;

const MAX_BODY: usize = 1 << 20;
const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// One incident, as PagerDuty holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub dedup_key: String,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: String,
    pub summary: String,
    pub severity: String,
    /// How many triggers it took (1, plus each repeat folded into it).
    pub triggers: u32,
    /// The trigger's `links[].href`.
    pub links: Vec<String>,
    /// The first trigger's whole event.
    pub event: Value,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        self.status != "resolved"
    }
}

/// One request received, whatever it was answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// The body, when it was JSON (Null otherwise).
    pub body: Value,
    pub status: u16,
}

impl Request {
    pub fn action(&self) -> &str {
        self.body["event_action"].as_str().unwrap_or_default()
    }

    pub fn dedup_key(&self) -> &str {
        self.body["dedup_key"].as_str().unwrap_or_default()
    }
}

struct Inner {
    routing_keys: Vec<String>,
    incidents: Vec<Incident>,
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
    /// How many requests were received: what `wait_for` watches.
    received: watch::Sender<usize>,
}

impl State {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running simulated PagerDuty. Clones share the same server and world; the server stops on
/// [`SimPagerDuty::shutdown`] or when the last clone is dropped.
#[derive(Clone)]
pub struct SimPagerDuty {
    handle: Arc<super::Handle<State>>,
}

impl std::fmt::Debug for SimPagerDuty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPagerDuty")
            .field("base_url", &self.handle.state.base_url)
            .finish()
    }
}

impl SimPagerDuty {
    /// Binds 127.0.0.1 on an ephemeral port and serves the Events API from a spawned task.
    pub async fn start() -> std::io::Result<SimPagerDuty> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let state = Arc::new(State {
            base_url: format!("http://{}", listener.local_addr()?),
            inner: Mutex::new(Inner {
                routing_keys: Vec::new(),
                incidents: Vec::new(),
                requests: Vec::new(),
                down: false,
                fail_next: 0,
                fail_status: 500,
                answer_delay: std::time::Duration::ZERO,
            }),
            received: watch::channel(0).0,
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        Ok(SimPagerDuty {
            handle: super::Handle::serve(listener, app, state, "pagerduty"),
        })
    }

    fn state(&self) -> &State {
        &self.handle.state
    }

    /// `http://127.0.0.1:PORT/v2/enqueue`: what a pagerduty channel's `url` names.
    pub fn enqueue_url(&self) -> String {
        format!("{}/v2/enqueue", self.state().base_url)
    }

    /// An integration's routing key the service takes.
    pub fn add_routing_key(&self, key: &str) {
        self.state().inner().routing_keys.push(key.to_string());
    }

    /// Every incident, in order of opening.
    pub fn incidents(&self) -> Vec<Incident> {
        self.state().inner().incidents.clone()
    }

    /// The incidents not resolved.
    pub fn open_incidents(&self) -> Vec<Incident> {
        self.incidents().into_iter().filter(Incident::is_open).collect()
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

    /// Stops accepting connections.
    pub fn shutdown(&self) {
        self.handle.stop.cancel();
    }

    /// Resolves once at least `n` requests have been received (whatever their answer).
    pub async fn wait_for(&self, n: usize) {
        let mut received = self.state().received.subscribe();
        let _ = received.wait_for(|&count| count >= n).await;
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn invalid(errors: &[&str]) -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors}),
    )
}

/// What PagerDuty does with one event, and what it answers.
fn process(inner: &mut Inner, body: &Value) -> (StatusCode, Value) {
    let Some(event) = body.as_object() else {
        return invalid(&["Event object is not a JSON object"]);
    };
    let key = event.get("routing_key").and_then(Value::as_str).unwrap_or_default();
    if !inner.routing_keys.iter().any(|k| k == key) {
        return invalid(&["Invalid routing key"]);
    }
    let action = event.get("event_action").and_then(Value::as_str).unwrap_or_default();
    let dedup_key = event.get("dedup_key").and_then(Value::as_str).map(str::to_string);
    let open = |inner: &mut Inner, key: &str| inner.incidents.iter().rposition(|i| i.dedup_key == key && i.is_open());
    match action {
        "trigger" => {
            let payload = &body["payload"];
            let mut errors = Vec::new();
            for field in ["summary", "source"] {
                if payload[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                    errors.push(format!("'payload.{field}' is missing or blank"));
                }
            }
            let severity = payload["severity"].as_str().unwrap_or_default();
            if !SEVERITIES.contains(&severity) {
                errors.push("'payload.severity' must be one of critical, error, warning, info".to_string());
            }
            if !errors.is_empty() {
                let errors: Vec<&str> = errors.iter().map(String::as_str).collect();
                return invalid(&errors);
            }
            let dedup_key = dedup_key.unwrap_or_else(|| format!("sim-{}", inner.incidents.len() + 1));
            match open(inner, &dedup_key) {
                Some(at) => inner.incidents[at].triggers += 1,
                None => inner.incidents.push(Incident {
                    dedup_key: dedup_key.clone(),
                    status: "triggered".into(),
                    summary: payload["summary"].as_str().unwrap_or_default().to_string(),
                    severity: severity.to_string(),
                    triggers: 1,
                    links: body["links"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l["href"].as_str().map(str::to_string))
                        .collect(),
                    event: body.clone(),
                }),
            }
            (
                StatusCode::ACCEPTED,
                json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}),
            )
        }
        "acknowledge" | "resolve" => {
            let Some(dedup_key) = dedup_key else {
                return invalid(&["'dedup_key' is required for acknowledge and resolve"]);
            };
            if let Some(at) = open(inner, &dedup_key) {
                inner.incidents[at].status = if action == "resolve" { "resolved" } else { "acknowledged" }.into();
            }
            (
                StatusCode::ACCEPTED,
                json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}),
            )
        }
        _ => invalid(&["'event_action' must be one of trigger, acknowledge, resolve"]),
    }
}

fn failure(status: u16) -> (StatusCode, Value) {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match status {
        400 => return invalid(&["injected"]),
        429 => json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly. Please retry later."}),
        _ => json!({"status": "error", "message": "internal error"}),
    };
    (code, body)
}

async fn handle(AxumState(state): AxumState<Arc<State>>, method: Method, uri: Uri, body: Body) -> Response {
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let (status, answer_body, delay) = receive(&state, &method, &uri, &bytes);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    answer(status, answer_body)
}

/// Records the request and does what it asks; the answer, and how long it waits.
fn receive(state: &State, method: &Method, uri: &Uri, bytes: &[u8]) -> (StatusCode, Value, std::time::Duration) {
    let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let mut inner = state.inner();
    let (status, answer_body) = if inner.down {
        (StatusCode::SERVICE_UNAVAILABLE, json!({"status": "unavailable"}))
    } else if uri.path() != "/v2/enqueue" {
        (StatusCode::NOT_FOUND, json!({"status": "not found"}))
    } else if *method != Method::POST {
        (StatusCode::METHOD_NOT_ALLOWED, json!({"status": "method not allowed"}))
    } else if inner.fail_next > 0 {
        inner.fail_next -= 1;
        failure(inner.fail_status)
    } else {
        process(&mut inner, &body)
    };
    inner.requests.push(Request {
        path: uri.path().to_string(),
        body,
        status: status.as_u16(),
    });
    let received = inner.requests.len();
    let delay = inner.answer_delay;
    drop(inner);
    state.received.send_replace(received);
    (status, answer_body, delay)
}
