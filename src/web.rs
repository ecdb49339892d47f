//! The web map: the files of `web/`, embedded in the binary at build time so one file runs anywhere,
//! served at `/` with security headers. Only known files are served: no directory listing, no path
//! outside `web/`.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::api::AppState;
use super::api::error::ApiError;
use crate::encoded::Encoded;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// Content-Security-Policy of the page: our own scripts and styles only; tiles and data from us (and an
/// optional OpenStreetMap base map); MapLibre needs `blob:` workers.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https://tile.openstreetmap.org; connect-src 'self' https://tile.openstreetmap.org; worker-src 'self' blob:; child-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(get_index))
}

async fn get_index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// Fallback of the whole app: a GET or HEAD for an embedded file serves it; anything else is a JSON 404
/// (so an unknown path never answers 405, and no route exists that the app did not declare).
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if (method == Method::GET || method == Method::HEAD) && Assets::get(path).is_some() {
        return serve(path, &headers);
    }
    ApiError::NotFound(format!("no route for {}", uri.path())).into_response()
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    // rust-embed only knows the files it embedded, so `..` or absolute paths simply do not match.
    let Some(file) = Assets::get(path) else {
        return ApiError::NotFound(format!("no route for /{path}")).into_response();
    };
    let mime = file.metadata.mimetype();
    let content_type: &'static str = match mime {
        m if m.starts_with("text/html") => "text/html; charset=utf-8",
        m if m.contains("javascript") => "text/javascript; charset=utf-8",
        m if m.starts_with("text/css") => "text/css; charset=utf-8",
        m if m.contains("json") => "application/json",
        m if m.starts_with("image/svg") => "image/svg+xml",
        m if m.starts_with("image/png") => "image/png",
        _ => "application/octet-stream",
    };
    let mut response =
        super::api::respond::encoded(&Encoded::new(file.data.into_owned(), content_type), headers);
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A body for tests: the embedded file, if any.
#[must_use]
pub fn asset(path: &str) -> Option<Body> {
    Assets::get(path).map(|f| Body::from(f.data.into_owned()))
}
