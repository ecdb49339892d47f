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

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    #[serde(flatten)]
    summary: Summary,
}

async fn get_health(State(state): State<AppState>) -> Json<Health> {
    Json(Health { status: "ok", summary: state.atlas().summary() })
}
