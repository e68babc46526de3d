//! The admin HTTP server: `/healthz`, `/status` (open tickets by urgency, JSON) and `/report`
//! (the KPIs of a range, JSON).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::engine::poll::Engine;
use crate::engine::status::open_tickets;

pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/status", get(status))
        .route("/report", get(report))
        .with_state(engine)
}

async fn status(State(engine): State<Arc<Engine>>) -> Response {
    let directory = engine.directory();
    let now = engine.clock.now();
    match open_tickets(&engine.config, &engine.store, &directory, now) {
        Ok(rows) => Json(rows).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Range {
    /// Unix seconds; `to` exclusive.
    from: i64,
    to: i64,
}

/// The KPIs of tickets created in `[from, to)`, as JSON (`slawatch report` formats them).
async fn report(State(engine): State<Arc<Engine>>, Query(range): Query<Range>) -> Response {
    if range.from >= range.to {
        return (StatusCode::BAD_REQUEST, "from must be before to\n").into_response();
    }
    let now = engine.clock.now();
    let work = tokio::task::spawn_blocking(move || crate::kpi::report(&engine.config, &engine.store, range.from, range.to, now)).await;
    match work {
        Ok(Ok(report)) => Json(report).into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// Serves until `shutdown`.
pub async fn serve(listener: TcpListener, engine: Arc<Engine>, shutdown: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
