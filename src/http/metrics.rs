//! `GET /metrics` in Prometheus text format: requests by route and status, a latency histogram, the
//! Atlas size and when it was built, refused reloads and batches. Recorded by a middleware around every
//! route through the `metrics` facade, rendered by `metrics-exporter-prometheus`; no text formatting
//! here, and no metric outside [`Metrics`].
//!
//! Each [`Metrics`] (one per server state) has its own recorder, used with
//! [`metrics::with_local_recorder`] rather than a process-global one: counts belong to one server, so
//! several servers or routers in one process (the tests build many) never mix their figures.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::atlas::Atlas;

/// Upper bounds of the latency histogram buckets, seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

const REQUESTS: &str = "territoires_http_requests_total";
const DURATION: &str = "territoires_http_request_duration_seconds";
const UNITS: &str = "territoires_atlas_units";
const TERRITORIES: &str = "territoires_atlas_territories";
const BUILT: &str = "territoires_atlas_built_timestamp_seconds";
const RELOAD_FAILURES: &str = "territoires_reload_failures_total";
const BATCHES_REFUSED: &str = "territoires_batches_refused_total";

/// Requests between two folds of the latency samples into the histogram, so memory stays bounded
/// between scrapes.
const UPKEEP_EVERY: u64 = 1024;

/// The metrics of one server: its own recorder and the handle rendering it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Requests recorded, to run the recorder's upkeep every [`UPKEEP_EVERY`].
    recorded: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("recorded", &self.recorded).finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Self { recorder, handle, recorded: AtomicU64::new(0) };
        metrics.with(|| {
            ::metrics::describe_counter!(REQUESTS, "HTTP requests by route and status.");
            ::metrics::describe_histogram!(DURATION, "Request latency.");
            ::metrics::describe_gauge!(BUILT, "When the serving Atlas was built (last reload).");
            ::metrics::describe_counter!(
                RELOAD_FAILURES,
                "Reloads refused because the data failed validation."
            );
            ::metrics::describe_counter!(
                BATCHES_REFUSED,
                "Batches answered 503 because the server was busy."
            );
            // Shown from the start, at zero.
            ::metrics::counter!(RELOAD_FAILURES).absolute(0);
            ::metrics::counter!(BATCHES_REFUSED).absolute(0);
        });
        metrics.atlas_built();
        metrics
    }
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Metrics {
    /// Runs `f` with this server's recorder as the `metrics` macros' target.
    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        ::metrics::with_local_recorder(&self.recorder, f)
    }

    fn record(&self, route: String, status: u16, seconds: f64) {
        self.with(|| {
            ::metrics::counter!(REQUESTS, "route" => route, "status" => status.to_string()).increment(1);
            ::metrics::histogram!(DURATION).record(seconds);
        });
        if self.recorded.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// Notes that the serving Atlas was built now.
    pub fn atlas_built(&self) {
        #[allow(clippy::cast_precision_loss)] // seconds since 1970 are far below 2^53
        let now = now_secs() as f64;
        self.with(|| ::metrics::gauge!(BUILT).set(now));
    }

    /// Counts a reload that failed validation (the old Atlas kept serving).
    pub fn reload_refused(&self) {
        self.with(|| ::metrics::counter!(RELOAD_FAILURES).increment(1));
    }

    /// Counts a batch turned away (503) because as many as allowed were running.
    pub fn batch_refused(&self) {
        self.with(|| ::metrics::counter!(BATCHES_REFUSED).increment(1));
    }

    /// This server's metrics, then the size of `atlas` (drawn from the Atlas serving now, so editions a
    /// reload removed are gone), in Prometheus text format.
    #[must_use]
    pub fn render(&self, atlas: &Atlas) -> String {
        let mut out = self.handle.render();
        // The Atlas gauges describe one Atlas, not a history: a fresh recorder per scrape.
        let snapshot = PrometheusBuilder::new().build_recorder();
        let summary = atlas.summary();
        ::metrics::with_local_recorder(&snapshot, || {
            ::metrics::describe_gauge!(UNITS, "Units loaded, by kind.");
            ::metrics::describe_gauge!(TERRITORIES, "Territories loaded, by edition.");
            for (kind, n) in &summary.units {
                #[allow(clippy::cast_precision_loss)]
                ::metrics::gauge!(UNITS, "kind" => kind.to_string()).set(*n as f64);
            }
            for e in &summary.editions {
                #[allow(clippy::cast_precision_loss)]
                ::metrics::gauge!(TERRITORIES, "edition" => e.id.clone()).set(e.territories as f64);
            }
        });
        out.push_str(&snapshot.handle().render());
        out
    }
}

/// Records route, status and latency of every request.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Unmatched paths share one label so scanners cannot grow the table.
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    metrics.record(route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_belong_to_one_recorder() {
        let (a, b) = (Metrics::default(), Metrics::default());
        a.record("/x".into(), 200, 0.002);
        a.record("/x".into(), 200, 0.2);
        b.record("/x".into(), 404, 0.002);
        a.reload_refused();
        let text = a.handle.render();
        assert!(text.contains(r#"territoires_http_requests_total{route="/x",status="200"} 2"#), "{text}");
        assert!(!text.contains("404"), "{text}");
        assert!(
            text.contains(r#"territoires_http_request_duration_seconds_bucket{le="0.0025"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"territoires_http_request_duration_seconds_bucket{le="+Inf"} 2"#), "{text}");
        assert!(text.contains("territoires_http_request_duration_seconds_count 2"), "{text}");
        assert!(text.contains("territoires_reload_failures_total 1"), "{text}");
        assert!(text.contains("territoires_batches_refused_total 0"), "{text}");
        assert!(text.contains("territoires_atlas_built_timestamp_seconds 1"), "{text}");
        assert!(b.handle.render().contains("territoires_reload_failures_total 0"));
    }
}
