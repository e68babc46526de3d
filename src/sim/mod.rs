//! Simulated external services, stateful and spoken to over real HTTP, for the
//! end-to-end tests and `slawatch demo`.
//!
//! Each simulator is a small world model (the data the real service would hold)
//! behind an axum server on 127.0.0.1 with an ephemeral port, plus failure
//! switches (errors, malformed bodies, delays, rate limits) and request counters
//! that tests drive and inspect from Rust. Time in a simulated world is injected:
//! it moves only when the test or the demo moves it.
//!
//! - `zendesk`: tickets, comments, users, organizations, the incremental exports and writes.
//! - `github`: repositories, issues and comments, with search and ETags.
//! - `slack`: incoming webhooks (and generic JSON webhooks), `users.lookupByEmail`, direct messages.
//! - `pagerduty`: the Events API v2 (`/v2/enqueue`): incidents by `dedup_key`, open or resolved.
//! - `opsgenie`: the Alert API (`/v2/alerts`, close by alias): alerts by `alias`, open or closed.

pub mod github;
pub mod opsgenie;
pub mod pagerduty;
pub mod slack;
pub mod zendesk;

/// A simulator's shared state and the switch that stops its server, which is thrown when the
/// last handle to it is dropped.
struct Handle<S> {
    state: std::sync::Arc<S>,
    stop: tokio_util::sync::CancellationToken,
}

impl<S> Drop for Handle<S> {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl<S> Handle<S> {
    /// Serves `app` on `listener` from a spawned task until the handle (its last clone) is
    /// dropped; `name` is the simulator's, for the log.
    fn serve(
        listener: tokio::net::TcpListener,
        app: axum::Router,
        state: std::sync::Arc<S>,
        name: &'static str,
    ) -> std::sync::Arc<Handle<S>> {
        let stop = tokio_util::sync::CancellationToken::new();
        Handle::serve_until(listener, app, state, name, stop)
    }

    /// As `serve`, with a stop switch the caller shares (tasks of its own end with it too).
    fn serve_until(
        listener: tokio::net::TcpListener,
        app: axum::Router,
        state: std::sync::Arc<S>,
        name: &'static str,
        stop: tokio_util::sync::CancellationToken,
    ) -> std::sync::Arc<Handle<S>> {
        let stopped = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
                tracing::warn!(%error, "sim {name}: server stopped with an error");
            }
        });
        std::sync::Arc::new(Handle { state, stop })
    }
}
