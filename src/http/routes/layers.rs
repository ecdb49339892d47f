//! Map layers as GeoJSON: `GET /api/layers/territories.geojson?edition=[&bbox=][&zoom=]` and
//! `GET /api/layers/units.geojson?kind=epci|ept[&bbox=][&zoom=]`. Whole layers are pre-serialised;
//! a `bbox` picks pre-serialised features.

use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::check_edition;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Ctx, parse_bbox};
use crate::http::respond;
use crate::model::UnitKind;
use crate::render::encoded::Encoded;
use crate::render::layers::{GEOJSON, Layer};

/// Query of `territories.geojson`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TerritoriesLayerParams {
    /// Edition (default: the first loaded).
    pub edition: Option<String>,
    /// `west,south,east,north` in WGS84 degrees: only the features meeting it.
    // Four numbers; their bounds and order (west ≤ east, south ≤ north) are the server's to check.
    #[param(pattern = r"^\s*-?[0-9]+(\.[0-9]+)?\s*(,\s*-?[0-9]+(\.[0-9]+)?\s*){3}$")]
    pub bbox: Option<String>,
    /// Map zoom level 0-24; geometry is simplified for it.
    #[param(minimum = 0, maximum = 24)]
    pub zoom: Option<f64>,
}

/// Query of `units.geojson`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnitsLayerParams {
    /// `epci` (default) or `ept`.
    #[param(value_type = Option<LayerKind>, inline)]
    pub kind: Option<String>,
    /// `west,south,east,north` in WGS84 degrees: only the features meeting it.
    // Four numbers; their bounds and order (west ≤ east, south ≤ north) are the server's to check.
    #[param(pattern = r"^\s*-?[0-9]+(\.[0-9]+)?\s*(,\s*-?[0-9]+(\.[0-9]+)?\s*){3}$")]
    pub bbox: Option<String>,
    /// Map zoom level 0-24; geometry is simplified for it.
    #[param(minimum = 0, maximum = 24)]
    pub zoom: Option<f64>,
}

/// The kinds of units with a layer.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documentation only: `kind` is read case-insensitively below.
pub enum LayerKind {
    /// Intercommunalities.
    Epci,
    /// Établissements publics territoriaux (Greater Paris).
    Ept,
}

fn serve_layer(
    layer: &Layer,
    zoom: Option<f64>,
    bbox: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(z) = zoom.filter(|z| !(0.0..=24.0).contains(z)) {
        return Err(ApiError::BadRequest(format!("zoom {z} is outside 0-24")));
    }
    match bbox {
        None => Ok(respond::encoded(layer.full(zoom), headers)),
        Some(b) => {
            let bbox = parse_bbox(b)?;
            Ok(respond::encoded(&Encoded::new(layer.collection(zoom, Some(bbox)), GEOJSON), headers))
        }
    }
}

/// The dissolved outlines of an edition's territories, simplified for the zoom.
#[utoipa::path(get, path = "/api/layers/territories.geojson", params(TerritoriesLayerParams), tag = "layers",
    responses((status = 200, description = "GeoJSON FeatureCollection", body = crate::http::openapi::GeoJsonFeatureCollection, content_type = "application/geo+json"),
        (status = 304, description = "Not modified"), (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 404, description = "No edition loaded", body = ErrorBody)))]
pub async fn get_territories_layer(cx: Ctx<TerritoriesLayerParams>) -> Result<Response, ApiError> {
    let loaded = cx.state.loaded();
    check_edition(&loaded.atlas, cx.query.edition.as_deref())?;
    let layer = match cx.query.edition.as_deref() {
        Some(id) => loaded.layers.territories(id),
        None => {
            loaded.atlas.editions().first().and_then(|e| loaded.layers.territories(e.edition.id.as_str()))
        }
    }
    .ok_or_else(|| ApiError::NotFound("no edition loaded".into()))?;
    serve_layer(layer, cx.query.zoom, cx.query.bbox.as_deref(), &cx.headers)
}

/// EPCI or EPT boundaries, simplified for the zoom.
#[utoipa::path(get, path = "/api/layers/units.geojson", params(UnitsLayerParams), tag = "layers",
    responses((status = 200, description = "GeoJSON FeatureCollection", body = crate::http::openapi::GeoJsonFeatureCollection, content_type = "application/geo+json"),
        (status = 304, description = "Not modified"), (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 404, description = "No layer of this kind loaded", body = ErrorBody)))]
pub async fn get_units_layer(cx: Ctx<UnitsLayerParams>) -> Result<Response, ApiError> {
    let kind = match cx.query.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("epci") | None => UnitKind::Epci,
        Some("ept") => UnitKind::Ept,
        Some(other) => return Err(ApiError::BadRequest(format!("kind {other:?}: expected epci or ept"))),
    };
    let loaded = cx.state.loaded();
    let layer =
        loaded.layers.units(kind).ok_or_else(|| ApiError::NotFound(format!("no {kind} layer loaded")))?;
    serve_layer(layer, cx.query.zoom, cx.query.bbox.as_deref(), &cx.headers)
}
