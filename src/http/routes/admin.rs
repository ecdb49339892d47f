//! `POST /admin/reload`: rebuild the Atlas from its files and swap it in, for operators. The route exists
//! only when the server was started with `--admin-token`; the token is compared in constant time.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;

/// Rebuilds the data from its files and swaps it in; registered only with an admin token.
#[utoipa::path(post, path = "/admin/reload", tag = "service",
    responses((status = 200, description = "Reloaded: the new summary"), (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 422, description = "The new data failed validation; the previous data still serves", body = ErrorBody)))]
pub async fn post_reload(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = state.admin_token().unwrap_or("");
    // Both sides non-empty and equal, compared without an early exit.
    let ok = !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if !ok {
        return Err(ApiError::Unauthorized("missing or wrong bearer token".into()));
    }
    match state.reload().await {
        Ok(summary) => {
            Ok(axum::Json(serde_json::json!({ "reloaded": true, "summary": summary })).into_response())
        }
        Err(refused) => Err(ApiError::ReloadRefused(refused.to_string())),
    }
}
