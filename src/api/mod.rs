//! HTTP API: axum routers over a shared, atomically swappable [`Atlas`]. Handlers stay thin: they parse,
//! call one Atlas method and wrap the answer; no geometry here.

pub mod error;
pub mod health;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;

use crate::atlas::Atlas;

/// The state every handler gets: the current Atlas, swapped whole on reload.
#[derive(Clone)]
pub struct AppState {
    atlas: Arc<ArcSwap<Atlas>>,
}

impl AppState {
    /// Wraps a freshly built Atlas.
    #[must_use]
    pub fn new(atlas: Atlas) -> Self {
        Self { atlas: Arc::new(ArcSwap::from_pointee(atlas)) }
    }

    /// The Atlas as of now; requests keep the one they started with.
    #[must_use]
    pub fn atlas(&self) -> Arc<Atlas> {
        self.atlas.load_full()
    }

    /// Replaces the Atlas for every later request.
    pub fn swap(&self, atlas: Atlas) {
        self.atlas.store(Arc::new(atlas));
    }
}

/// The whole application router, ready for `axum::serve` or `tower::ServiceExt::oneshot`.
pub fn build_app(state: AppState) -> Router {
    Router::new().merge(health::router()).fallback(error::not_found).with_state(state)
}
