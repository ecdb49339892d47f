//! `GET /metrics` in Prometheus text format: requests by route and status, a latency histogram, the
//! Atlas size and when it was built. Recorded by a middleware around every route.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

/// Upper bounds of the latency histogram buckets, seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

/// Counters shared by every request.
#[derive(Debug)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    /// Seconds since the epoch when the serving Atlas was built.
    pub atlas_built_at: AtomicU64,
    /// Reloads that failed validation (the old Atlas kept serving).
    pub reload_failures: AtomicU64,
    /// Batches turned away (503) because as many as allowed were running.
    pub busy: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Mutex::new(BTreeMap::new()),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
            atlas_built_at: AtomicU64::new(now_secs()),
            reload_failures: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        }
    }
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Metrics {
    fn record(&self, route: &str, status: u16, seconds: f64) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((route.to_owned(), status)).or_insert(0) += 1;
        }
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // non-negative, far below 2^64 µs
        self.sum_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(get_metrics))
}

/// Records route, status and latency of every request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Unmatched paths share one label so scanners cannot grow the table.
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    state.metrics.record(&route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn get_metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let atlas = state.atlas();
    let mut out = String::new();
    out.push_str("# HELP territoires_http_requests_total HTTP requests by route and status.\n");
    out.push_str("# TYPE territoires_http_requests_total counter\n");
    if let Ok(map) = m.requests.lock() {
        for ((route, status), n) in map.iter() {
            let route = route.replace('\\', "\\\\").replace('"', "\\\"");
            let _ =
                writeln!(out, "territoires_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
    }
    out.push_str("# HELP territoires_http_request_duration_seconds Request latency.\n");
    out.push_str("# TYPE territoires_http_request_duration_seconds histogram\n");
    for (bound, bucket) in BUCKETS.iter().zip(&m.buckets) {
        let _ = writeln!(
            out,
            "territoires_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
            bucket.load(Ordering::Relaxed)
        );
    }
    let count = m.count.load(Ordering::Relaxed);
    let _ = writeln!(out, "territoires_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
    #[allow(clippy::cast_precision_loss)]
    let sum = m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(out, "territoires_http_request_duration_seconds_sum {sum}");
    let _ = writeln!(out, "territoires_http_request_duration_seconds_count {count}");
    out.push_str(
        "# HELP territoires_atlas_units Units loaded, by kind.\n# TYPE territoires_atlas_units gauge\n",
    );
    let summary = atlas.summary();
    let mut kinds: Vec<_> = summary.units.iter().collect();
    kinds.sort();
    for (kind, n) in kinds {
        let _ = writeln!(out, "territoires_atlas_units{{kind=\"{kind}\"}} {n}");
    }
    out.push_str("# HELP territoires_atlas_territories Territories loaded, by edition.\n# TYPE territoires_atlas_territories gauge\n");
    for e in &summary.editions {
        let _ = writeln!(out, "territoires_atlas_territories{{edition=\"{}\"}} {}", e.id, e.territories);
    }
    out.push_str(
        "# HELP territoires_atlas_built_timestamp_seconds When the serving Atlas was built (last reload).\n",
    );
    out.push_str("# TYPE territoires_atlas_built_timestamp_seconds gauge\n");
    let _ = writeln!(
        out,
        "territoires_atlas_built_timestamp_seconds {}",
        m.atlas_built_at.load(Ordering::Relaxed)
    );
    out.push_str(
        "# HELP territoires_reload_failures_total Reloads refused because the data failed validation.\n",
    );
    out.push_str("# TYPE territoires_reload_failures_total counter\n");
    let _ = writeln!(out, "territoires_reload_failures_total {}", m.reload_failures.load(Ordering::Relaxed));
    out.push_str(
        "# HELP territoires_batches_refused_total Batches answered 503 because the server was busy.\n",
    );
    out.push_str("# TYPE territoires_batches_refused_total counter\n");
    let _ = writeln!(out, "territoires_batches_refused_total {}", m.busy.load(Ordering::Relaxed));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}
