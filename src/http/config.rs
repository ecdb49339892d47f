//! What an operator sets for the server: address, connection and request limits, admin token. Plain
//! values with defaults; the binary fills them from flags and environment, this module never reads
//! either.

use std::time::Duration;

/// Longest a request may take before it is answered 408, unless configured otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest request body accepted by the POST routes (bytes), unless configured otherwise.
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Largest batch, in sites (CSV rows or GeoJSON features), unless configured otherwise.
pub const MAX_BATCH_SITES: usize = 1_000_000;
/// A client must send its request headers within this time (slow clients cannot pin a connection).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) accepted, bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Limits of the requests themselves (`serve --request-timeout`, `--max-batches`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Limits {
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Batch and polygon requests (`POST`) running at once; more are answered 503 with `Retry-After`,
    /// so a few large batches cannot starve single lookups.
    pub max_batches: usize,
    /// Largest body of a POST route, bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// Most sites in one batch; more are answered 413.
    pub max_batch_sites: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            request_timeout: REQUEST_TIMEOUT,
            max_batches: 2 * cores,
            max_body_bytes: MAX_BODY_BYTES,
            max_batch_sites: MAX_BATCH_SITES,
        }
    }
}

/// Everything the server needs besides its data.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Address to listen on (`127.0.0.1:8080`).
    pub addr: String,
    /// Bearer token of `POST /admin/reload`; the route does not exist without it.
    pub admin_token: Option<String>,
    /// Limits of each request.
    pub limits: Limits,
    /// Most connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Time requests in flight get to finish after SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
    /// Time a client gets to send its request headers.
    pub header_read_timeout: Duration,
    /// Largest request head, bytes.
    pub max_header_bytes: usize,
    /// Base of absolute links (`https://territoires.example.fr`), as clients reach the server through
    /// proxies; without it links are built from the request's `Host` and `X-Forwarded-Proto`.
    pub public_url: Option<PublicUrl>,
}

/// An absolute `http(s)://host[:port][/path]` base URL, without its trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// The URL, without a trailing slash.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A public URL that is not an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("public URL {0:?}: expected http://HOST[:PORT][/PATH] or https://…, with no query or fragment")]
pub struct PublicUrlError(String);

impl std::str::FromStr for PublicUrl {
    type Err = PublicUrlError;

    /// ```
    /// use territoires::http::PublicUrl;
    /// let url: PublicUrl = "https://example.fr/ti/".parse().unwrap();
    /// assert_eq!(url.as_str(), "https://example.fr/ti");
    /// assert!("example.fr".parse::<PublicUrl>().is_err());
    /// assert!("https://".parse::<PublicUrl>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim().trim_end_matches('/');
        let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
        let host = rest.map(|r| r.split('/').next().unwrap_or_default());
        match host {
            Some(h) if !h.is_empty() && !trimmed.contains(['?', '#', ' ']) => Ok(Self(trimmed.to_owned())),
            _ => Err(PublicUrlError(s.to_owned())),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            admin_token: None,
            limits: Limits::default(),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_header_bytes: MAX_HEADER_BYTES,
            public_url: None,
        }
    }
}
