//! `GET /api/openapi.json`: the OpenAPI 3 description, generated from the handlers' annotations and the
//! answer types (utoipa), so it cannot drift from the code.

use std::sync::OnceLock;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use utoipa::OpenApi;

use super::{AppState, health, layers, lookup, metrics, respond, territories, tiles};
use crate::render::encoded::Encoded;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "territoires",
        description = "France's Territoires d'industrie: which labelled territory contains a site, layers, vector tiles. The OGC API – Features endpoints are under /ogc.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        lookup::get_lookup,
        lookup::post_lookup,
        lookup::get_lookup_columns,
        lookup::post_intersects,
        territories::list_editions,
        territories::find_territories,
        territories::get_territory,
        territories::get_unit,
        territories::search_places,
        layers::get_territories_layer,
        layers::get_units_layer,
        tiles::get_tile,
        health::get_health,
        metrics::get_metrics,
    ),
    tags(
        (name = "lookup", description = "Is this site in a labelled territory?"),
        (name = "territories", description = "Editions, territories, units"),
        (name = "layers", description = "GeoJSON layers and vector tiles for maps"),
        (name = "service", description = "Health and metrics")
    )
)]
pub struct ApiDoc;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(get_openapi))
}

async fn get_openapi(headers: HeaderMap) -> Response {
    static DOC: OnceLock<Encoded> = OnceLock::new();
    let doc = DOC.get_or_init(|| {
        Encoded::new(ApiDoc::openapi().to_pretty_json().unwrap_or_default(), "application/json")
    });
    respond::encoded(doc, &headers)
}
