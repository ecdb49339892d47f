//! The state every handler gets: what is served ([`Loaded`], swapped whole on reload), the metrics, the
//! limits and the batch slots. Reload builds the next [`Loaded`] off the async threads and swaps it in;
//! requests in flight keep the one they started with.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::config::{Limits, ServerConfig};
use super::error::ApiError;
use super::metrics::Metrics;
use crate::atlas::{Atlas, AtlasSources, Summary};
use crate::render::LayerSet;
use crate::snapshot::{DataOrigin, LoadError};

/// What one generation of the server serves. Everything in it is built from the same data and swapped
/// as one value, so no request ever sees parts of two reloads.
#[derive(Debug)]
#[non_exhaustive]
pub struct Loaded {
    /// The Atlas: units, editions, lookups.
    pub atlas: Arc<Atlas>,
    /// Its map layers and tiles, rendered from it.
    pub layers: Arc<LayerSet>,
}

impl Loaded {
    /// Everything served, built from one Atlas: renders its layers (seconds: at start and on reload,
    /// never in a handler).
    #[must_use]
    pub fn new(atlas: Arc<Atlas>) -> Self {
        let layers = Arc::new(LayerSet::build(&atlas));
        Self { atlas, layers }
    }

    /// An Atlas with the layers already made for it (read from a snapshot).
    #[must_use]
    pub fn from_parts(atlas: Atlas, layers: LayerSet) -> Self {
        Self { atlas: Arc::new(atlas), layers: Arc::new(layers) }
    }
}

/// Why a reload did not swap anything in; the previous data keeps serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The server was built from an Atlas, not from files.
    #[error("this server was not started from files; nothing to reload")]
    NoSources,
    /// The build task died (a bug).
    #[error("reload task failed: {0}")]
    Task(String),
    /// The new data could not be loaded (invalid files, an unusable snapshot, a read error).
    #[error("{0}")]
    Load(#[from] LoadError),
}

/// Handlers' shared state: cheap to clone, every clone sees the same data.
#[derive(Clone)]
pub struct AppState {
    loaded: Arc<ArcSwap<Loaded>>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Where the Atlas is loaded again from on reload (none: reload is not possible).
    origin: Option<Arc<DataOrigin>>,
    /// Held while a reload builds, so two reloads never run at once.
    reloading: Arc<tokio::sync::Mutex<()>>,
    /// Bearer token of `POST /admin/reload`; the route does not exist without it.
    admin_token: Option<Arc<str>>,
    /// Base of absolute links, when configured.
    public_url: Option<Arc<str>>,
    limits: Limits,
    /// One permit per batch running.
    batches: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Wraps a freshly built Atlas.
    #[must_use]
    pub fn new(atlas: Atlas) -> Self {
        Self::from_shared(Arc::new(atlas))
    }

    /// Wraps an Atlas already shared, rendering its layers.
    #[must_use]
    pub fn from_shared(atlas: Arc<Atlas>) -> Self {
        Self::from_loaded(Arc::new(Loaded::new(atlas)))
    }

    /// Wraps an Atlas and layers already shared (tests build them once and serve them from several
    /// routers).
    #[must_use]
    pub fn from_loaded(loaded: Arc<Loaded>) -> Self {
        let limits = Limits::default();
        Self {
            loaded: Arc::new(ArcSwap::new(loaded)),
            metrics: Arc::default(),
            origin: None,
            reloading: Arc::default(),
            admin_token: None,
            public_url: None,
            batches: Arc::new(tokio::sync::Semaphore::new(limits.max_batches)),
            limits,
        }
    }

    /// Takes the limits, admin token and public URL of `config`.
    #[must_use]
    pub fn with_config(mut self, config: &ServerConfig) -> Self {
        self.batches = Arc::new(tokio::sync::Semaphore::new(config.limits.max_batches.max(1)));
        self.limits = config.limits;
        self.admin_token = config.admin_token.clone().filter(|t| !t.is_empty()).map(Into::into);
        self.public_url = config.public_url.as_ref().map(|u| u.as_str().into());
        self
    }

    /// Base of absolute links, when the operator configured one (`--public-url`).
    #[must_use]
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// Base of absolute links: the configured public URL, else `http://host` as the client addressed us
    /// (`X-Forwarded-Proto` honoured), so links work behind a proxy that was not configured.
    #[must_use]
    pub fn base_url(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = self.public_url() {
            return url.to_owned();
        }
        let header = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
        let host = header(axum::http::header::HOST.as_str()).unwrap_or("localhost");
        let proto = header("x-forwarded-proto").unwrap_or("http");
        format!("{proto}://{host}")
    }

    /// Remembers the files the Atlas was built from, so it can be rebuilt on reload.
    #[must_use]
    pub fn with_sources(self, sources: AtlasSources) -> Self {
        self.with_origin(DataOrigin::Files(sources))
    }

    /// Remembers where the data came from (files or the built-in snapshot), to load it again on reload.
    #[must_use]
    pub fn with_origin(mut self, origin: DataOrigin) -> Self {
        self.origin = Some(Arc::new(origin));
        self
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The bearer token of `POST /admin/reload`, when enabled.
    #[must_use]
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    /// A slot for one batch, held until its answer is written; `Busy` when all are taken.
    ///
    /// # Errors
    /// [`ApiError::Busy`] when as many batches as allowed are running.
    pub fn batch_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.batches.clone().try_acquire_owned().map_err(|_| {
            self.metrics.batch_refused();
            ApiError::Busy(format!(
                "{} batches are running, the most this server takes at once; retry in a moment",
                self.limits.max_batches
            ))
        })
    }

    /// Rebuilds everything served from its sources and swaps it in; when the new data fails validation
    /// the old data keeps serving and the errors are returned (and counted in `/metrics`).
    ///
    /// # Errors
    /// No sources to reload from, or every problem of the new data.
    pub async fn reload(&self) -> Result<Summary, ReloadError> {
        let Some(origin) = self.origin.clone() else {
            return Err(ReloadError::NoSources);
        };
        let _one_at_a_time = self.reloading.lock().await;
        let built = tokio::task::spawn_blocking(move || {
            origin.atlas_and_layers().map(|(atlas, layers, from)| (Loaded::from_parts(atlas, layers), from))
        })
        .await
        .map_err(|e| ReloadError::Task(e.to_string()))?;
        match built {
            Ok((loaded, from)) => {
                for warning in loaded.atlas.warnings() {
                    tracing::warn!("{warning}");
                }
                let summary = loaded.atlas.summary();
                self.swap(loaded);
                tracing::info!("reloaded {from}: {} editions", summary.editions.len());
                Ok(summary)
            }
            Err(errors) => {
                self.metrics.reload_refused();
                tracing::error!("reload refused, still serving the previous data: {errors}");
                Err(errors.into())
            }
        }
    }

    /// What is served as of now; take it once per request and use it throughout, so every part of the
    /// answer comes from the same generation.
    #[must_use]
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded.load_full()
    }

    /// The Atlas as of now; requests keep the one they started with.
    #[must_use]
    pub fn atlas(&self) -> Arc<Atlas> {
        self.loaded.load().atlas.clone()
    }

    /// Replaces what is served for every later request.
    pub fn swap(&self, loaded: Loaded) {
        self.loaded.store(Arc::new(loaded));
        self.metrics.atlas_built();
    }
}
