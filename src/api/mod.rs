//! HTTP API: axum routers over a shared, atomically swappable [`Loaded`] (an [`Atlas`] and its
//! [`LayerSet`]). Handlers stay thin: they parse, call one Atlas or LayerSet method and wrap the answer;
//! no geometry here.
//!
//! Limits: bodies up to [`lookup::MAX_BODY_BYTES`], batches up to [`lookup::MAX_BATCH_SITES`] sites,
//! [`Limits`] on request time and batches running at once; every error is `{"error":{"code","message"}}`.

pub mod admin;
pub mod error;
pub mod health;
pub mod layers;
pub mod lookup;
pub mod metrics;
pub mod ogc;
pub mod openapi;
pub mod respond;
pub mod territories;
pub mod tiles;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::http::{HeaderValue, Method, Request, header};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::atlas::{Atlas, AtlasSources};
use crate::render::LayerSet;

/// Longest a request may take before it is answered 408, unless configured otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Limits an operator may tune (`serve --request-timeout`, `--max-batches`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Batch and polygon requests (`POST`) running at once; more are answered 503 with `Retry-After`,
    /// so a few large batches cannot starve single lookups.
    pub max_batches: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self { request_timeout: REQUEST_TIMEOUT, max_batches: 2 * cores }
    }
}

/// An Atlas and the map layers rendered from it: swapped as one value, so no request sees the layers of
/// one load with the Atlas of another.
#[derive(Debug)]
pub struct Loaded {
    /// The data every answer comes from.
    pub atlas: Arc<Atlas>,
    /// Its map layers and tiles.
    pub layers: Arc<LayerSet>,
}

impl Loaded {
    /// Renders the layers of `atlas` (seconds: at start and on reload, never in a handler).
    #[must_use]
    pub fn new(atlas: Arc<Atlas>) -> Self {
        let layers = Arc::new(LayerSet::build(&atlas));
        Self { atlas, layers }
    }
}

/// The state every handler gets: the current Atlas and its layers, swapped together on reload, and the
/// metrics.
#[derive(Clone)]
pub struct AppState {
    loaded: Arc<ArcSwap<Loaded>>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Where the Atlas is rebuilt from on reload (none: reload is not possible).
    sources: Option<Arc<AtlasSources>>,
    /// Held while a reload builds, so two reloads never run at once.
    reloading: Arc<tokio::sync::Mutex<()>>,
    /// Bearer token of `POST /admin/reload`; the route does not exist without it.
    admin_token: Option<Arc<str>>,
    limits: Limits,
    /// One permit per batch running.
    batches: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Wraps a freshly built Atlas, rendering its layers.
    #[must_use]
    pub fn new(atlas: Atlas) -> Self {
        Self::from_loaded(Arc::new(Loaded::new(Arc::new(atlas))))
    }

    /// Wraps an Atlas and layers already shared (tests build them once and serve them from several
    /// routers).
    #[must_use]
    pub fn from_loaded(loaded: Arc<Loaded>) -> Self {
        Self {
            loaded: Arc::new(ArcSwap::new(loaded)),
            metrics: Arc::default(),
            sources: None,
            reloading: Arc::default(),
            admin_token: None,
            limits: Limits::default(),
            batches: Arc::new(tokio::sync::Semaphore::new(Limits::default().max_batches)),
        }
    }

    /// Sets the request time limit and the number of batches running at once.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.batches = Arc::new(tokio::sync::Semaphore::new(limits.max_batches.max(1)));
        self.limits = limits;
        self
    }

    /// A slot for one batch, held until its answer is written; `Busy` when all are taken.
    ///
    /// # Errors
    /// [`error::ApiError::Busy`] when as many batches as allowed are running.
    pub fn batch_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, error::ApiError> {
        self.batches.clone().try_acquire_owned().map_err(|_| {
            self.metrics.batch_refused();
            error::ApiError::Busy(format!(
                "{} batches are running, the most this server takes at once; retry in a moment",
                self.limits.max_batches
            ))
        })
    }

    /// Remembers where the Atlas came from, so it can be rebuilt on reload.
    #[must_use]
    pub fn with_sources(mut self, sources: AtlasSources) -> Self {
        self.sources = Some(Arc::new(sources));
        self
    }

    /// Enables `POST /admin/reload` with this bearer token.
    #[must_use]
    pub fn with_admin_token(mut self, token: Option<String>) -> Self {
        self.admin_token = token.filter(|t| !t.is_empty()).map(Into::into);
        self
    }

    /// Rebuilds the Atlas from its sources and swaps it in; when the new data fails validation the old
    /// Atlas keeps serving and the errors are returned (and counted in `/metrics`).
    ///
    /// # Errors
    /// No sources to reload from, or every problem of the new data.
    pub async fn reload(&self) -> Result<crate::atlas::Summary, String> {
        let Some(sources) = self.sources.clone() else {
            return Err("this server was not started from files; nothing to reload".into());
        };
        let _one_at_a_time = self.reloading.lock().await;
        let built =
            tokio::task::spawn_blocking(move || Atlas::build(&sources).map(|a| Loaded::new(Arc::new(a))))
                .await
                .map_err(|e| format!("reload task failed: {e}"))?;
        match built {
            Ok(loaded) => {
                for warning in loaded.atlas.warnings() {
                    tracing::warn!("{warning}");
                }
                let summary = loaded.atlas.summary();
                self.swap(loaded);
                tracing::info!("reloaded: {} editions", summary.editions.len());
                Ok(summary)
            }
            Err(errors) => {
                self.metrics.reload_refused();
                tracing::error!("reload refused, still serving the previous data: {errors}");
                Err(errors.to_string())
            }
        }
    }

    /// The Atlas as of now; requests keep the one they started with.
    #[must_use]
    pub fn atlas(&self) -> Arc<Atlas> {
        self.loaded.load().atlas.clone()
    }

    /// The Atlas and its layers as of now, as one value (for handlers that need both).
    #[must_use]
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded.load_full()
    }

    /// Replaces the Atlas and its layers for every later request.
    pub fn swap(&self, loaded: Loaded) {
        self.loaded.store(Arc::new(loaded));
        self.metrics.atlas_built();
    }
}

/// Request ids `t-1`, `t-2`... unless the client sent `x-request-id`.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        HeaderValue::from_str(&format!("t-{n}")).ok().map(RequestId::new)
    }
}

/// The whole application router, ready for `axum::serve` or `tower::ServiceExt::oneshot`.
pub fn build_app(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, header::HeaderName::from_static("x-request-id")]);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id = %id)
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    Router::new()
        .merge(health::router())
        .merge(lookup::router())
        .merge(territories::router())
        .merge(layers::router())
        .merge(metrics::router())
        .merge(ogc::router())
        .merge(tiles::router())
        .merge(openapi::router())
        .merge(admin::router(state.admin_token.is_some()))
        .merge(crate::web::router())
        .fallback(crate::web::fallback)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.limits.request_timeout,
        ))
        // Outside the timeout, so its 408 gets the JSON shape too.
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(cors)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(Counter::default()))
        .with_state(state)
}
