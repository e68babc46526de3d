//! The admin HTTP server: `/healthz`, and `/status` (open tickets by urgency, JSON).

use std::sync::Arc;

use axum::extract::State;
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

/// Serves until `shutdown`.
pub async fn serve(listener: TcpListener, engine: Arc<Engine>, shutdown: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
