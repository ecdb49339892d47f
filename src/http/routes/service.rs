//! The service itself: `GET /healthz` (up, and which data it serves) and `GET /metrics` (Prometheus).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::atlas::Summary;
use crate::http::state::AppState;

/// Body of `/healthz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when answering.
    #[schema(value_type = String, pattern = "^ok$")]
    pub status: &'static str,
    /// What is loaded.
    #[serde(flatten)]
    pub summary: Summary,
}

/// Liveness and what is loaded.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "Status, units by kind, editions", body = Health)))]
pub async fn get_health(State(state): State<AppState>) -> Json<Health> {
    Json(Health { status: "ok", summary: state.atlas().summary() })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn get_metrics(State(state): State<AppState>) -> Response {
    let out = state.metrics.render(&state.atlas());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}
