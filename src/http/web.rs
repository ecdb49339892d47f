//! The web map: the files of `web/`, embedded in the binary at build time so one file runs anywhere,
//! served at `/` with security headers. Only known files are served: no directory listing, no path
//! outside `web/`. Each file is hashed once and compressed on first request, then served from memory
//! (MapLibre alone is 1.6 MB; compressing it per request would cost a second of CPU each time).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::ApiError;
use super::respond;
use crate::render::encoded::Encoded;

use crate::web_assets::Assets;

/// Content-Security-Policy of the page: our own scripts and styles only; tiles and data from us (and an
/// optional OpenStreetMap base map). MapLibre 6's workers are modules served from `/vendor`, so no `blob:`
/// workers (images decoded from blobs remain).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https://tile.openstreetmap.org; connect-src 'self' https://tile.openstreetmap.org; worker-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Referrer sent by the page: the origin only, never the path or query (which hold the checked site).
/// Not `no-referrer`: the optional OpenStreetMap base map asks for a referrer in its tile usage policy.
pub const REFERRER_POLICY: &str = "strict-origin";

/// Every embedded file, pre-encoded: ETag now, gzip/brotli on first use.
static ENCODED: LazyLock<HashMap<String, Arc<Encoded>>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|path| {
            let file = Assets::get(&path)?;
            let content_type = content_type(&path, file.metadata.mimetype());
            Some((path.into_owned(), Arc::new(Encoded::new(file.data.into_owned(), content_type))))
        })
        .collect()
});

/// Routes of this module (they need no state, so any router can take them).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(get_index))
}

async fn get_index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// Fallback of the whole app: a GET or HEAD for an embedded file serves it; anything else is a JSON 404
/// (so an unknown path never answers 405, and no route exists that the app did not declare).
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if (method == Method::GET || method == Method::HEAD) && ENCODED.contains_key(path) {
        return serve(path, &headers);
    }
    ApiError::NotFound(format!("no route for {}", uri.path())).into_response()
}

/// The `Content-Type` of a file: ES modules (`.mjs`) must be served as JavaScript or browsers refuse them.
fn content_type(path: &str, guessed: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match (extension, guessed) {
        ("mjs" | "js", _) => "text/javascript; charset=utf-8",
        (_, m) if m.starts_with("text/html") => "text/html; charset=utf-8",
        (_, m) if m.contains("javascript") => "text/javascript; charset=utf-8",
        (_, m) if m.starts_with("text/css") => "text/css; charset=utf-8",
        (_, m) if m.contains("json") => "application/json",
        (_, m) if m.starts_with("image/svg") => "image/svg+xml",
        (_, m) if m.starts_with("image/png") => "image/png",
        (_, m) if m.starts_with("text/plain") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    // Only embedded files are in the map, so `..` or absolute paths simply do not match.
    let Some(encoded) = ENCODED.get(path) else {
        return ApiError::NotFound(format!("no route for /{path}")).into_response();
    };
    let mut response = respond::encoded(encoded, headers);
    secure(response.headers_mut());
    response
}

/// The security headers of every page: [`CSP`], no sniffing, [`REFERRER_POLICY`], no framing.
pub fn secure(h: &mut HeaderMap) {
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER_POLICY));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A body for tests: the embedded file, if any.
#[must_use]
pub fn asset(path: &str) -> Option<Body> {
    Assets::get(path).map(|f| Body::from(f.data.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str) -> String {
        let file = Assets::get(path).unwrap_or_else(|| panic!("{path} is not embedded"));
        String::from_utf8(file.data.into_owned()).unwrap_or_else(|_| panic!("{path} is not UTF-8"))
    }

    /// Same-origin references (`href="/..."`, `src="/..."`, `from './x.js'`) of a page or module.
    fn references(source: &str, base: &str) -> Vec<String> {
        let mut out = Vec::new();
        for marker in ["href=\"/", "src=\"/", "from '/", "from './"] {
            for (i, _) in source.match_indices(marker) {
                let start = i + marker.len();
                let end = source[start..].find(['"', '\'', '?', '#']).map_or(source.len(), |e| start + e);
                let target = &source[start..end];
                let path = if marker.ends_with("./") { format!("{base}{target}") } else { target.to_owned() };
                if !path.is_empty() && !path.starts_with("api/") {
                    out.push(path);
                }
            }
        }
        out
    }

    #[test]
    fn every_file_the_page_and_its_modules_load_is_embedded() {
        let mut checked = 0;
        let mut pending = references(&text("index.html"), "");
        let mut seen = std::collections::HashSet::new();
        while let Some(path) = pending.pop() {
            assert!(ENCODED.contains_key(&path), "/{path} is referenced but not embedded in web/");
            if seen.insert(path.clone())
                && std::path::Path::new(&path).extension().is_some_and(|e| e.eq_ignore_ascii_case("js"))
            {
                let base = path.rsplit_once('/').map_or(String::new(), |(dir, _)| format!("{dir}/"));
                pending.extend(references(&text(&path), &base));
            }
            checked += 1;
        }
        assert!(checked >= 8, "only {checked} references found: is web/index.html the map page?");
    }

    #[test]
    fn the_page_has_no_inline_script_or_style_for_the_csp_to_block() {
        let html = text("index.html");
        assert!(!html.contains(" style="), "inline style attribute in index.html");
        assert!(!html.contains("<style"), "<style> element in index.html");
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').unwrap_or(0)];
            assert!(tag.contains("src=\"/"), "inline script in index.html: {tag}");
        }
    }

    #[test]
    fn modules_are_served_as_javascript_and_vendored_files_match_their_sums() {
        assert_eq!(
            content_type("vendor/maplibre-gl/maplibre-gl.mjs", "application/octet-stream"),
            CONTENT_JS
        );
        assert_eq!(content_type("js/main.js", "application/javascript"), CONTENT_JS);
        assert_eq!(content_type("app.css", "text/css"), "text/css; charset=utf-8");
        let sums = text("vendor/maplibre-gl/SHA256SUMS");
        assert!(sums.lines().count() >= 4, "SHA256SUMS lists the vendored files");
        for line in sums.lines() {
            let (_, name) = line.split_once("  ").expect("sha256sum format");
            assert!(ENCODED.contains_key(&format!("vendor/maplibre-gl/{name}")), "{name} not embedded");
        }
    }

    const CONTENT_JS: &str = "text/javascript; charset=utf-8";
}
