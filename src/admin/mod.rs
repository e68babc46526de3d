//! The admin HTTP server: `/` (the status page, HTML), `/healthz` (alive), `/readyz` (store,
//! polls, outbox), `/metrics` (Prometheus), `/status` (open tickets by urgency, JSON) and
//! `/report` (the KPIs of a range, JSON) and `/drift` (the last day's tickets on a default
//! severity or tier, JSON), and in push mode Zendesk's webhook (`[zendesk.webhook] path`).
//! With a token set, everything but `/healthz` and the webhook (which Zendesk signs) asks for
//! it as a bearer token (the page also as `?token=`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;

mod auth;
mod page;
mod webhook;

/// Whether `given` is `secret`, compared in constant time.
pub fn secret_matches(given: &str, secret: &str) -> bool {
    auth::matches(given, secret)
}

/// The routes; `token`: the bearer token every route but `/healthz` asks for, if any.
pub fn router(engine: Arc<Engine>, token: Option<String>) -> Router {
    let protected = Router::new()
        .route("/", get(page::page))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/report", get(report))
        .route("/reports", get(reports))
        .route("/drift", get(drift))
        .with_state(engine.clone());
    let protected = match token {
        Some(token) => protected.route_layer(axum::middleware::from_fn_with_state(Arc::new(token), auth::require_token)),
        None => protected,
    };
    let mut open = Router::new().route("/healthz", get(healthz));
    let webhook = engine.config.zendesk.as_ref().and_then(|z| z.webhook.as_ref());
    if let (Some(webhook), Some(_)) = (webhook, &engine.push) {
        open = open.route(&webhook.path, axum::routing::post(webhook::receive));
    }
    open.with_state(engine).merge(protected)
}

/// Alive means making progress: 200 while every loop does, else 503 naming what stalled (the
/// process exits shortly after, for its supervisor to restart it). It touches no store.
async fn healthz(State(engine): State<Arc<Engine>>) -> Response {
    let stalled = engine.liveness.stalled_now();
    if stalled.is_empty() {
        return "ok\n".into_response();
    }
    let lines: String = stalled.iter().map(|s| format!("{s}\n")).collect();
    (StatusCode::SERVICE_UNAVAILABLE, lines).into_response()
}

/// Prometheus text (OpenMetrics), the gauges of state set from the store first.
async fn metrics(State(engine): State<Arc<Engine>>) -> Response {
    let encoded = tokio::task::spawn_blocking(move || engine.refresh_gauges().map(|()| engine.metrics.encode())).await;
    match encoded {
        Ok(Ok(text)) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// The last day's tickets that fell back to a default severity or tier, by reason (JSON).
async fn drift(State(engine): State<Arc<Engine>>) -> Response {
    let drift = tokio::task::spawn_blocking(move || engine.drift().map_or_else(|| engine.measure_drift(), Ok)).await;
    match drift {
        Ok(Ok(drift)) => Json(drift).into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// 200 when ready, else 503; the body says which check failed and why.
async fn readyz(State(engine): State<Arc<Engine>>) -> Response {
    let readiness = tokio::task::spawn_blocking(move || engine.readiness()).await;
    match readiness {
        Ok(r) if r.ready => Json(r).into_response(),
        Ok(r) => (StatusCode::SERVICE_UNAVAILABLE, Json(r)).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Page {
    /// At most this many rows (all when left out), after skipping `offset`.
    limit: Option<usize>,
    #[serde(default)]
    offset: usize,
    /// A version an earlier answer gave (its ETag): only what changed since.
    since: Option<String>,
}

/// What `/status` answers.
enum StatusAnswer {
    /// Nothing changed since the version the reader has.
    NotModified(String),
    /// JSON, and the version it is as of.
    Body(Vec<u8>, String),
}

/// The ETag of a version: weak, as the time-moving figures (time left) are not part of it.
fn etag(version: &str) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-None-Match` value names `version`.
fn names_version(if_none_match: &str, version: &str) -> bool {
    if_none_match
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|tag| tag == version)
}

/// Open tickets, most urgent first (a page of them with `limit` and `offset`), from the status
/// board, off the async workers. Each answer carries the board's version as its ETag:
/// `If-None-Match` with it answers 304 while nothing changed, and `?since=VERSION` answers only
/// the rows changed and the tickets removed since (`{"version", "full", "changed", "removed"}`),
/// 304 when nothing did. Time left moves without changing the version: readers count it down
/// from the deadlines.
async fn status(State(engine): State<Arc<Engine>>, headers: HeaderMap, Query(page): Query<Page>) -> Response {
    let if_none_match = headers
        .get(axum::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let answer = tokio::task::spawn_blocking(move || -> Result<StatusAnswer, String> {
        if let Some(since) = &page.since {
            let delta = engine.status_since(since).map_err(|e| e.to_string())?;
            if !delta.full && delta.changed.is_empty() && delta.removed.is_empty() {
                return Ok(StatusAnswer::NotModified(delta.version));
            }
            let body = serde_json::to_vec(&delta).map_err(|e| e.to_string())?;
            return Ok(StatusAnswer::Body(body, delta.version));
        }
        if let Some(tag) = &if_none_match {
            let version = engine.status_version().map_err(|e| e.to_string())?;
            if names_version(tag, &version) {
                return Ok(StatusAnswer::NotModified(version));
            }
        }
        let (version, body) = engine
            .status_json(page.offset, page.limit.unwrap_or(usize::MAX))
            .map_err(|e| e.to_string())?;
        Ok(StatusAnswer::Body(body, version))
    })
    .await;
    let cache = (axum::http::header::CACHE_CONTROL, "no-cache".to_string());
    match answer {
        Ok(Ok(StatusAnswer::NotModified(version))) => {
            (StatusCode::NOT_MODIFIED, [(axum::http::header::ETAG, etag(&version)), cache]).into_response()
        }
        Ok(Ok(StatusAnswer::Body(body, version))) => (
            [
                (axum::http::header::CONTENT_TYPE, "application/json".to_string()),
                (axum::http::header::ETAG, etag(&version)),
                cache,
            ],
            body,
        )
            .into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Range {
    /// Unix seconds; `to` exclusive.
    from: i64,
    to: i64,
    /// Judge the range's tickets again under today's policy (nothing is stored).
    #[serde(default)]
    rejudge: bool,
}

/// The KPIs of tickets created in `[from, to)`, as JSON (`slawatch report` formats them).
async fn report(State(engine): State<Arc<Engine>>, Query(range): Query<Range>) -> Response {
    if range.from >= range.to {
        return (StatusCode::BAD_REQUEST, "from must be before to\n").into_response();
    }
    let now = engine.clock.now();
    let work = tokio::task::spawn_blocking(move || {
        let judge = match range.rejudge {
            true => crate::engine::kpis::rejudged_report,
            false => crate::engine::kpis::report,
        };
        judge(&engine.config, &engine.store, range.from, range.to, now)
    })
    .await;
    match work {
        Ok(Ok(report)) => Json(report).into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Ranges {
    /// `FROM..TO,FROM..TO` in Unix seconds.
    ranges: String,
    #[serde(default)]
    rejudge: bool,
}

/// The KPIs of several ranges at once, in order (a quarter's months and total, a baseline).
async fn reports(State(engine): State<Arc<Engine>>, Query(query): Query<Ranges>) -> Response {
    let ranges: Option<Vec<(i64, i64)>> = query
        .ranges
        .split(',')
        .map(|r| {
            let (from, to) = r.split_once("..")?;
            Some((from.parse().ok()?, to.parse().ok()?)).filter(|(from, to)| from < to)
        })
        .collect();
    let Some(ranges) = ranges.filter(|r| !r.is_empty() && r.len() <= 64) else {
        return (
            StatusCode::BAD_REQUEST,
            "ranges: expected FROM..TO[,FROM..TO…] in Unix seconds, each FROM before its TO, at most 64\n",
        )
            .into_response();
    };
    let now = engine.clock.now();
    let work =
        tokio::task::spawn_blocking(move || crate::engine::kpis::reports(&engine.config, &engine.store, &ranges, now, query.rejudge)).await;
    match work {
        Ok(Ok(reports)) => Json(reports).into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// Serves until `shutdown`, asking for `token` where one is set.
pub async fn serve(listener: TcpListener, engine: Arc<Engine>, token: Option<String>, shutdown: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router(engine, token))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
