//! The admin token: `Authorization: Bearer <token>`, compared in constant time, so the time a
//! refusal takes says nothing about how much of a guess was right. The status page (`/`) also
//! takes it as `?token=`: a browser sends no header when it opens a page.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// Whether `given` is the token (both compared whole, whatever their lengths).
pub fn matches(given: &str, token: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

/// The `token` query parameter, on the status page's path only (the JSON endpoints take the
/// header alone, so the token stays out of the URLs scripts and proxies log for them).
fn query_token(request: &Request) -> Option<String> {
    if request.uri().path() != "/" {
        return None;
    }
    let Query(query) = Query::<HashMap<String, String>>::try_from_uri(request.uri()).ok()?;
    query.get("token").cloned()
}

pub async fn require_token(State(token): State<Arc<String>>, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let accepted = match header {
        Some(given) => matches(given, &token),
        None => query_token(&request).is_some_and(|given| matches(&given, &token)),
    };
    if accepted {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a bearer token is required (admin.token_env)\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn only_the_whole_token_matches() {
        assert!(matches("s3cret-token", "s3cret-token"));
        assert!(!matches("s3cret", "s3cret-token"));
        assert!(!matches("s3cret-token-and-more", "s3cret-token"));
        assert!(!matches("", "s3cret-token"));
    }
}
