//! `GET /healthz`: the service is up and which data it serves.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use crate::atlas::Summary;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(get_health))
}

/// Body of `/healthz`.
#[derive(serde::Serialize)]
pub struct Health {
    /// Always `ok` when answering.
    pub status: &'static str,
    /// What is loaded.
    #[serde(flatten)]
    pub summary: Summary,
}

/// Liveness and what is loaded.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "Status, units by kind, editions")))]
pub async fn get_health(State(state): State<AppState>) -> Json<Health> {
    Json(Health { status: "ok", summary: state.atlas().summary() })
}
