//! `POST /admin/reload`: rebuild the Atlas from its files and swap it in, for operators. The route exists
//! only when the server was started with `--admin-token`; the token is compared in constant time.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;

/// Routes of this module: none unless `enabled`.
pub fn router(enabled: bool) -> Router<AppState> {
    if enabled { Router::new().route("/admin/reload", post(post_reload)) } else { Router::new() }
}

async fn post_reload(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = state.admin_token.as_deref().unwrap_or("");
    // Both sides non-empty and equal, compared without an early exit.
    let ok = !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if !ok {
        return Err(ApiError::Unauthorized("missing or wrong bearer token".into()));
    }
    match state.reload().await {
        Ok(summary) => {
            Ok(axum::Json(serde_json::json!({ "reloaded": true, "summary": summary })).into_response())
        }
        Err(errors) => Err(ApiError::ReloadRefused(errors)),
    }
}
