//! Serving pre-encoded bodies: strong ETag, `If-None-Match` → 304, gzip/brotli by `Accept-Encoding`,
//! `Cache-Control`.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ApiError;
use crate::encoded::{Encoded, Encoding};

/// How long clients and proxies may reuse an answer without asking again.
const CACHE_CONTROL: &str = "public, max-age=300";

/// Answers with `encoded`, or 304 when the client has it already.
pub fn encoded(e: &Encoded, request: &HeaderMap) -> Response {
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == e.etag || t.trim() == "*"));
    let etag = HeaderValue::from_str(&e.etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    let mut builder = Response::builder()
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .header(header::VARY, "Accept-Encoding");
    if matches {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
    }
    let encoding =
        Encoding::negotiate(request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or(""));
    builder = builder.header(header::CONTENT_TYPE, e.content_type);
    if let Some(name) = encoding.header() {
        builder = builder.header(header::CONTENT_ENCODING, name);
    }
    builder.body(Body::from(e.body(encoding))).unwrap_or_default()
}

/// Serialises `value` as JSON and answers it with an ETag (304 when unchanged).
pub fn json<T: Serialize>(value: &T, request: &HeaderMap) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => encoded(&Encoded::new(body, "application/json"), request),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}
