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

/// Query of the layer routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LayerParams {
    /// Edition (territories layer; default: the first loaded).
    pub edition: Option<String>,
    /// `epci` or `ept` (units layer).
    pub kind: Option<String>,
    /// `west,south,east,north` in WGS84 degrees.
    pub bbox: Option<String>,
    /// Map zoom level 0-22; geometry is simplified for it.
    pub zoom: Option<f64>,
}

fn serve_layer(layer: &Layer, params: &LayerParams, headers: &HeaderMap) -> Result<Response, ApiError> {
    if let Some(z) = params.zoom.filter(|z| !(0.0..=24.0).contains(z)) {
        return Err(ApiError::BadRequest(format!("zoom {z} is outside 0-24")));
    }
    match params.bbox.as_deref() {
        None => Ok(respond::encoded(layer.full(params.zoom), headers)),
        Some(b) => {
            let bbox = parse_bbox(b)?;
            Ok(respond::encoded(&Encoded::new(layer.collection(params.zoom, Some(bbox)), GEOJSON), headers))
        }
    }
}

/// The dissolved outlines of an edition's territories, simplified for the zoom.
#[utoipa::path(get, path = "/api/layers/territories.geojson", params(LayerParams), tag = "layers",
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 304, description = "Not modified"), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_territories_layer(cx: Ctx<LayerParams>) -> Result<Response, ApiError> {
    if cx.query.kind.is_some() {
        return Err(ApiError::BadRequest("kind applies to units.geojson, not territories.geojson".into()));
    }
    let loaded = cx.state.loaded();
    check_edition(&loaded.atlas, cx.query.edition.as_deref())?;
    let layer = match cx.query.edition.as_deref() {
        Some(id) => loaded.layers.territories(id),
        None => {
            loaded.atlas.editions().first().and_then(|e| loaded.layers.territories(e.edition.id.as_str()))
        }
    }
    .ok_or_else(|| ApiError::NotFound("no edition loaded".into()))?;
    serve_layer(layer, &cx.query, &cx.headers)
}

/// EPCI or EPT boundaries, simplified for the zoom.
#[utoipa::path(get, path = "/api/layers/units.geojson", params(LayerParams), tag = "layers",
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 304, description = "Not modified"), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_units_layer(cx: Ctx<LayerParams>) -> Result<Response, ApiError> {
    if cx.query.edition.is_some() {
        return Err(ApiError::BadRequest("edition applies to territories.geojson, not units.geojson".into()));
    }
    let kind = match cx.query.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("epci") | None => UnitKind::Epci,
        Some("ept") => UnitKind::Ept,
        Some(other) => return Err(ApiError::BadRequest(format!("kind {other:?}: expected epci or ept"))),
    };
    let loaded = cx.state.loaded();
    let layer =
        loaded.layers.units(kind).ok_or_else(|| ApiError::NotFound(format!("no {kind} layer loaded")))?;
    serve_layer(layer, &cx.query, &cx.headers)
}
