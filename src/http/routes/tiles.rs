//! Vector tiles: `GET /tiles/{layer}/{z}/{x}/{y}.mvt` for `territories-{edition}`, `epci` and `ept`,
//! made on first request from the zoom-simplified layers and then served from memory; and
//! `GET /tiles/{layer}.json`, each layer's TileJSON.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::respond;
use crate::http::state::AppState;
use crate::render::glyphs::{GlyphError, glyphs};
use crate::render::tilejson::tilejson;

/// Where axum matches tiles: the last segment whole (`{y}.mvt`), since axum cannot match a suffix.
pub const ROUTE: &str = "/tiles/{layer}/{z}/{x}/{tile}";

/// Where axum matches a glyph range: the last segment whole (`{start}-{end}.pbf`).
pub const GLYPHS_ROUTE: &str = "/fonts/{fontstack}/{range}";

/// SDF glyphs of the map's font (`DejaVu Sans Book`, embedded) for 256 code points, as MapLibre asks for
/// them (`glyphs` URL of a style); a comma-separated font stack is answered when it names that font.
#[utoipa::path(get, path = "/fonts/{fontstack}/{range}.pbf", tag = "layers",
    params(("fontstack" = String, Path, description = "`DejaVu Sans Book`, alone or in a comma-separated list"),
        ("range" = String, Path, description = "`START-END` with START a multiple of 256 below 65536 and END = START + 255")),
    responses((status = 200, description = "Glyph range (protocol buffer)", body = Vec<u8>, content_type = "application/x-protobuf"), (status = 304, description = "Not modified"), (status = 400, description = "Malformed range", body = ErrorBody), (status = 404, description = "Unknown font", body = ErrorBody)))]
pub async fn get_glyphs(
    headers: HeaderMap,
    Path((fontstack, range)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let encoded = glyphs().range(&fontstack, &range).map_err(|e| match e {
        GlyphError::UnknownFontstack(_) => ApiError::NotFound(e.to_string()),
        GlyphError::BadRange(_) => ApiError::BadRequest(e.to_string()),
        _ => ApiError::Internal(e.to_string()),
    })?;
    Ok(respond::encoded(&encoded, &headers))
}

/// Where axum matches a TileJSON document: the segment whole (`{layer}.json`).
pub const TILEJSON_ROUTE: &str = "/tiles/{file}";

/// TileJSON 3.0.0 of a tile layer (`territories-EDITION`, `epci`, `ept`): its tile URL template (under the
/// configured public URL), bounds, zooms and fields, so a client adds the layer from this one URL.
#[utoipa::path(get, path = "/tiles/{layer}.json", tag = "layers",
    params(("layer" = String, Path, description = "`territories-EDITION`, `epci` or `ept`")),
    responses((status = 200, description = "TileJSON 3.0.0", body = serde_json::Value, content_type = "application/json"), (status = 304, description = "Not modified"), (status = 404, description = "No such tile layer", body = ErrorBody)))]
pub async fn get_tilejson(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::NotFound(format!(
            "no tile layer {file:?}; use /tiles/LAYER.json with territories-EDITION, epci, ept or places"
        ))
    };
    let name = file.strip_suffix(".json").ok_or_else(not_found)?;
    let loaded = state.loaded();
    let doc =
        tilejson(&loaded.atlas, &loaded.layers, name, &state.base_url(&headers)).ok_or_else(not_found)?;
    Ok(respond::json(&doc, &headers))
}

/// A Mapbox vector tile of a layer (`territories-EDITION`, `epci`, `ept`, or `places`: commune names
/// as points and, from zoom 10, commune boundaries), XYZ scheme.
#[utoipa::path(get, path = "/tiles/{layer}/{z}/{x}/{y}.mvt", tag = "layers",
    params(("layer" = String, Path, description = "`territories-EDITION`, `epci`, `ept` or `places`"),
        ("z" = u8, Path, minimum = 0, maximum = 24, description = "Zoom level"),
        ("x" = u32, Path, minimum = 0, maximum = 16777215, description = "Column, below 2^z"),
        ("y" = u32, Path, minimum = 0, maximum = 16777215, description = "Row, below 2^z")),
    responses((status = 200, description = "Vector tile", body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile"), (status = 304, description = "Not modified"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 404, description = "No such layer, or a column or row outside the zoom's grid", body = ErrorBody)))]
pub async fn get_tile(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((layer, z, x, tile)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "tile address {z}/{x}/{tile}: expected /tiles/LAYER/Z/X/Y.mvt with whole numbers"
        ))
    };
    let y = tile.strip_suffix(".mvt").ok_or_else(bad)?;
    let (z, x, y): (u8, u32, u32) =
        (z.parse().map_err(|_| bad())?, x.parse().map_err(|_| bad())?, y.parse().map_err(|_| bad())?);
    let coord = super::ogc_tiles::tile_coord(z, x, y)?;
    let loaded = state.loaded();
    let encoded = loaded
        .layers
        .tile(&loaded.atlas, &layer, coord)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no tile layer {layer:?}; use territories-EDITION, epci, ept or places"
            ))
        })?
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(respond::encoded(&encoded, &headers))
}
