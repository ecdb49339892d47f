//! The HTTP layer: configuration, the shared state, extractors and the one error type, the route
//! registry (router and OpenAPI document from one list), the listener and the embedded web map.
//! Handlers stay thin: they parse, call one Atlas method and wrap the answer; no geometry here.
//!
//! Dependencies point down only: `listener` → `routes` → (`state`, `extractors`, `respond`, `web`) →
//! (`config`, `error`, `metrics`). Nothing here parses command lines or starts global logging: the
//! binary turns its arguments into a [`ServerConfig`] and owns the subscriber.

pub mod config;
pub mod error;
pub mod extractors;
pub mod listener;
pub mod metrics;
pub mod openapi;
pub mod respond;
pub mod routes;
pub mod state;
pub mod web;

pub use config::{Limits, PublicUrl, ServerConfig};
pub use error::ApiError;
pub use routes::build_app;
pub use state::{AppState, Loaded};
