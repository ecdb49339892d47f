//! OGC API – Tiles: `/ogc/tileMatrixSets[/WebMercatorQuad]`, `/ogc/tiles`, and per collection
//! `/ogc/collections/{id}/tiles[/WebMercatorQuad[/{tileMatrix}/{tileRow}/{tileCol}]]`. Thin: the documents
//! come from `render::ogc_tiles`, the tiles from the same layers and cache as `/tiles`.

use axum::extract::Path;
use axum::response::Response;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Ctx, NoParams};
use crate::http::respond;
use crate::render::ogc_tiles::{self, WEB_MERCATOR_QUAD};
use crate::render::tiles::{MAX_ZOOM, TileCoord};

/// The values of `f` these documents take: they come as JSON only.
pub const FORMATS: [&str; 2] = ["json", "application/json"];

/// Parameters of the tiles documents: only `f`, JSON.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JsonParams {
    /// Output format: `json`.
    #[param(schema_with = crate::http::openapi::json_only)]
    pub f: Option<String>,
}

fn check_format(f: Option<&str>) -> Result<(), ApiError> {
    match f {
        Some(other) if !FORMATS.contains(&other) => {
            Err(ApiError::BadRequest(format!("f={other}: only json is available")))
        }
        _ => Ok(()),
    }
}

/// A tile address: a zoom over [`MAX_ZOOM`] is malformed (400), a row or column outside its zoom's
/// matrix is a tile that does not exist (404, as OGC API – Tiles asks).
pub fn tile_coord(z: u8, x: u32, y: u32) -> Result<TileCoord, ApiError> {
    if z > MAX_ZOOM {
        return Err(ApiError::BadRequest(format!("zoom {z} is over the largest, {MAX_ZOOM}")));
    }
    TileCoord::new(z, x, y).map_err(|e| ApiError::NotFound(e.to_string()))
}

fn check_matrix_set(tms: &str) -> Result<(), ApiError> {
    if tms == WEB_MERCATOR_QUAD {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no tile matrix set {tms:?}; the tiles are in {WEB_MERCATOR_QUAD}")))
    }
}

fn no_tiles(id: &str) -> ApiError {
    ApiError::NotFound(format!("collection {id:?} has no vector tiles; see /ogc/tiles"))
}

/// The tiling schemes offered (one: WebMercatorQuad).
#[utoipa::path(get, path = "/ogc/tileMatrixSets", tag = "ogc", params(JsonParams),
    responses((status = 200, description = "Tile matrix sets", body = serde_json::Value, content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_tile_matrix_sets(cx: Ctx<JsonParams>) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    Ok(respond::json(&ogc_tiles::tile_matrix_sets(&cx.state.base_url(&cx.headers)), &cx.headers))
}

/// The definition of a tile matrix set (OGC 17-083r4 JSON).
#[utoipa::path(get, path = "/ogc/tileMatrixSets/{tileMatrixSetId}", tag = "ogc",
    params(("tileMatrixSetId" = String, Path, description = "`WebMercatorQuad`"), JsonParams),
    responses((status = 200, description = "Tile matrix set", body = serde_json::Value, content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "Unknown tile matrix set", body = ErrorBody)))]
pub async fn get_tile_matrix_set(cx: Ctx<JsonParams>, Path(tms): Path<String>) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    check_matrix_set(&tms)?;
    Ok(respond::json(&ogc_tiles::web_mercator_quad(), &cx.headers))
}

/// Every collection's vector tileset.
#[utoipa::path(get, path = "/ogc/tiles", tag = "ogc", params(JsonParams),
    responses((status = 200, description = "Tilesets", body = serde_json::Value, content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_dataset_tilesets(cx: Ctx<JsonParams>) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    let loaded = cx.state.loaded();
    let doc = ogc_tiles::dataset_tilesets(&loaded.atlas, &loaded.layers, &cx.state.base_url(&cx.headers));
    Ok(respond::json(&doc, &cx.headers))
}

/// A collection's tilesets.
#[utoipa::path(get, path = "/ogc/collections/{id}/tiles", tag = "ogc",
    params(("id" = String, Path, description = "Collection id (territories-EDITION, epci, ept)"), JsonParams),
    responses((status = 200, description = "Tilesets", body = serde_json::Value, content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No tiles for this collection", body = ErrorBody)))]
pub async fn get_tilesets(cx: Ctx<JsonParams>, Path(id): Path<String>) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    let loaded = cx.state.loaded();
    let doc = ogc_tiles::tilesets(&loaded.atlas, &loaded.layers, &id, &cx.state.base_url(&cx.headers))
        .ok_or_else(|| no_tiles(&id))?;
    Ok(respond::json(&doc, &cx.headers))
}

/// A collection's tileset in a tile matrix set: limits per zoom, layers and fields, the tile template.
#[utoipa::path(get, path = "/ogc/collections/{id}/tiles/{tileMatrixSetId}", tag = "ogc",
    params(("id" = String, Path, description = "Collection id"), ("tileMatrixSetId" = String, Path, description = "`WebMercatorQuad`"), JsonParams),
    responses((status = 200, description = "Tileset", body = serde_json::Value, content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such tileset", body = ErrorBody)))]
pub async fn get_tileset(
    cx: Ctx<JsonParams>,
    Path((id, tms)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    check_matrix_set(&tms)?;
    let loaded = cx.state.loaded();
    let doc = ogc_tiles::tileset(&loaded.atlas, &loaded.layers, &id, &cx.state.base_url(&cx.headers))
        .ok_or_else(|| no_tiles(&id))?;
    Ok(respond::json(&doc, &cx.headers))
}

/// One vector tile (row = y, column = x of the XYZ scheme), the same bytes as `/tiles/{id}/{z}/{x}/{y}.mvt`.
#[utoipa::path(get, path = "/ogc/collections/{id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", tag = "ogc",
    params(("id" = String, Path, description = "Collection id"), ("tileMatrixSetId" = String, Path, description = "`WebMercatorQuad`"),
        ("tileMatrix" = u8, Path, minimum = 0, maximum = 24, description = "Zoom level"),
        ("tileRow" = u32, Path, minimum = 0, maximum = 16777215, description = "Row, below 2^tileMatrix"),
        ("tileCol" = u32, Path, minimum = 0, maximum = 16777215, description = "Column, below 2^tileMatrix")),
    responses((status = 200, description = "Vector tile", body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile"), (status = 304, description = "Not modified"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 404, description = "No such tileset, or a row or column outside the tile matrix", body = ErrorBody)))]
pub async fn get_tile(
    cx: Ctx<NoParams>,
    Path((id, tms, z, row, col)): Path<(String, String, String, String, String)>,
) -> Result<Response, ApiError> {
    check_matrix_set(&tms)?;
    let bad = || {
        ApiError::BadRequest(format!(
            "tile {z}/{row}/{col}: expected whole numbers tileMatrix/tileRow/tileCol"
        ))
    };
    let (z, row, col): (u8, u32, u32) =
        (z.parse().map_err(|_| bad())?, row.parse().map_err(|_| bad())?, col.parse().map_err(|_| bad())?);
    let coord = tile_coord(z, col, row)?;
    let loaded = cx.state.loaded();
    if !ogc_tiles::has_tiles(&loaded.atlas, &loaded.layers, &id) {
        return Err(no_tiles(&id));
    }
    let encoded = loaded
        .layers
        .tile(&loaded.atlas, &id, coord)
        .ok_or_else(|| no_tiles(&id))?
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(respond::encoded(&encoded, &cx.headers))
}
