//! The one error type of the HTTP API: a status and a JSON body `{"error":{"code","message"}}`, plus the
//! middleware that gives the same shape to errors axum and tower-http produce themselves (405, 413, 408).

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The error body, for the API description.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `bad_request`, `unauthorized`, `not_found`, `method_not_allowed`, `timeout`, `payload_too_large`,
    /// `unsupported_media_type`, `reload_refused`, `busy`, `internal`.
    pub code: String,
    /// Human explanation, naming the bad value.
    pub message: String,
}

/// An error answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request is malformed (bad coordinates, unknown parameter, bad body...).
    #[error("{0}")]
    BadRequest(String),
    /// 404: no such route or resource.
    #[error("{0}")]
    NotFound(String),
    /// 401: the admin route without the right bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// 422: a reload whose data failed validation; the previous data is still served.
    #[error("reload refused, still serving the previous data: {0}")]
    ReloadRefused(String),
    /// 413: the body or batch is larger than the documented limit.
    #[error("{0}")]
    TooLarge(String),
    /// 415: a body in a media type this route does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: as many batches as allowed are running; retry in a moment (`Retry-After` says when).
    #[error("{0}")]
    Busy(String),
    /// 500: a bug; the detail is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::ReloadRefused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "reload_refused"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let (status, code) = self.status_and_code();
        let mut response =
            (status, Json(json!({ "error": { "code": code, "message": self.to_string() } }))).into_response();
        if matches!(self, Self::Busy(_)) {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<QueryRejection> for ApiError {
    /// axum's own text, which names the parameter and what was wrong with it.
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

/// Gives error responses made outside our handlers (axum's 405, tower-http's 413 and 408) our JSON shape;
/// JSON answers and HTML pages (whose 404 is a page in its language) pass as they are.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed on this route"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is larger than the limit"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took longer than the time limit"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported Content-Type"),
        s if s.is_server_error() => ("internal", "internal error"),
        _ => ("bad_request", "the request is malformed"),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = json!({ "error": { "code": code, "message": message } }).to_string();
    Response::from_parts(parts, Body::from(body))
}
