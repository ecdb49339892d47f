//! Serving pre-encoded bodies (strong ETag, `If-None-Match` → 304, gzip/brotli by `Accept-Encoding`,
//! `Cache-Control`) and streaming bodies written by blocking work (batches).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::ApiError;
use crate::render::encoded::{Encoded, Encoding};

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

/// Bytes in flight between a blocking writer and the client: chunks of this size, a few at a time.
const STREAM_CHUNK: usize = 64 * 1024;
const STREAM_CHUNKS_IN_FLIGHT: usize = 8;

/// A `Write` that hands its bytes to a response body in chunks; blocks when the client reads slower
/// than the work writes, so memory stays bounded whatever the batch size.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(STREAM_CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= STREAM_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `job` on the blocking pool and streams what it writes as the body of a 200 answer.
///
/// The status is decided by the job's start: if it fails before writing its first chunk (a bad header,
/// a malformed body) the answer is that error. A failure after streaming began (the client leaving)
/// aborts the body, so a client never takes a truncated answer for a whole one.
///
/// # Errors
/// The job's error when it fails before its first chunk.
pub async fn stream_blocking<F>(content_type: &'static str, job: F) -> Result<Response, ApiError>
where
    F: FnOnce(&mut dyn std::io::Write) -> Result<(), ApiError> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS_IN_FLIGHT);
    let errors = tx.clone();
    let task = tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter { tx, buf: Vec::with_capacity(STREAM_CHUNK) };
        let result =
            job(&mut writer).and_then(|()| writer.send().map_err(|e| ApiError::Internal(e.to_string())));
        if let Err(e) = &result {
            // Only reaches the client once the body has started; before that the status says it.
            let _ = errors.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
        // A large batch frees its body and buffers now: give the memory back, so it does not stay
        // resident between batches.
        crate::memory::release_freed();
        result
    });
    let Some(Ok(first)) = rx.recv().await else {
        return match task.await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Ok(([(header::CONTENT_TYPE, content_type)], Body::empty()).into_response()),
            Err(e) => Err(ApiError::Internal(e.to_string())),
        };
    };
    let rest =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    // Fused: layers above (compression) may poll again after the end.
    let body = futures_util::StreamExt::fuse(futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok(first) }),
        rest,
    ));
    Ok(([(header::CONTENT_TYPE, content_type)], Body::from_stream(body)).into_response())
}
