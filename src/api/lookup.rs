//! Lookups: `GET /api/lookup` (one site), `POST /api/lookup` (a batch as GeoJSON or CSV) and
//! `POST /api/intersects` (a parcel or footprint polygon).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ErrorBody};
use super::{AppState, respond};
use crate::atlas::{Atlas, Lookup};
use crate::batch::{BatchError, annotate_csv_limited};

/// Largest request body accepted by the POST routes (bytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Largest batch, in sites (CSV rows or GeoJSON features).
pub const MAX_BATCH_SITES: usize = 1_000_000;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/lookup", get(get_lookup).post(post_lookup))
        .route("/api/intersects", post(post_intersects))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Refuses a declared Content-Length over the limit at once, before any byte is read.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
}

/// Query of `GET /api/lookup`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Only this edition.
    pub edition: Option<String>,
}

/// Checks an optional edition parameter against the loaded editions.
pub fn check_edition(atlas: &Atlas, edition: Option<&str>) -> Result<(), ApiError> {
    match edition {
        Some(id) if atlas.edition(id).is_none() => {
            let known: Vec<String> = atlas.editions().iter().map(|e| e.edition.id.to_string()).collect();
            Err(ApiError::BadRequest(format!("unknown edition {id:?}; loaded: {}", known.join(", "))))
        }
        _ => Ok(()),
    }
}

fn keep_edition(mut lookup: Lookup, edition: Option<&str>) -> Lookup {
    if let Some(id) = edition {
        lookup.territories.retain(|t| t.edition == id);
        lookup.nearest.retain(|t| t.edition == id);
    }
    lookup
}

/// The territories containing one site, through which member, the units there, and the nearest territory
/// of each edition that has none.
#[utoipa::path(get, path = "/api/lookup", params(LookupParams), tag = "lookup",
    responses((status = 200, body = Lookup), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_lookup(
    State(state): State<AppState>,
    params: Result<Query<LookupParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let atlas = state.atlas();
    check_edition(&atlas, params.edition.as_deref())?;
    let lookup = atlas.lookup(params.lon, params.lat).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(axum::Json(keep_edition(lookup, params.edition.as_deref())).into_response())
}

/// Batch lookup: a GeoJSON FeatureCollection of Points (answered as GeoJSON, same order, properties
/// plus `territories` and `nearest`, or `error`) or a CSV with lon/lat columns (answered as CSV).
#[utoipa::path(post, path = "/api/lookup", tag = "lookup",
    request_body(content = String, description = "FeatureCollection of Points (application/geo+json) or CSV (text/csv), up to 1,000,000 sites", content_type = "application/geo+json"),
    responses((status = 200, description = "Same sites, same order, answered"), (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 413, description = "Over 1,000,000 sites or 256 MiB", body = ErrorBody),
        (status = 415, description = "Neither GeoJSON nor CSV", body = ErrorBody),
        (status = 503, description = "As many batches as allowed are running; retry after `Retry-After` seconds", body = ErrorBody)))]
pub async fn post_lookup(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let media =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let atlas = state.atlas();
    if media.starts_with("text/csv") || media.starts_with("application/csv") {
        check_csv_rows(&body)?;
        let slot = state.batch_slot()?;
        return respond::stream_blocking("text/csv; charset=utf-8", move |out| {
            let _slot = slot;
            annotate_csv_limited(&atlas, &body[..], out, "body", MAX_BATCH_SITES as u64).map(|_| ()).map_err(
                |e| match e {
                    BatchError::TooManyRows { .. } => ApiError::TooLarge(e.to_string()),
                    other => ApiError::BadRequest(other.to_string()),
                },
            )
        })
        .await;
    }
    if media.starts_with("application/json") || media.starts_with("application/geo+json") {
        let slot = state.batch_slot()?;
        return respond::stream_blocking("application/geo+json", move |out| {
            let _slot = slot;
            lookup_feature_collection(&atlas, &body, out)
        })
        .await;
    }
    Err(ApiError::UnsupportedMediaType(format!(
        "Content-Type {media:?}: send application/geo+json (a FeatureCollection of Points) or text/csv"
    )))
}

/// Refuses a CSV body of more than [`MAX_BATCH_SITES`] rows before any answer streams. Lines bound the
/// records from above, so the exact count (quoted fields may hold line breaks) is only needed when
/// there are more lines than allowed.
fn check_csv_rows(body: &[u8]) -> Result<(), ApiError> {
    let lines = body.iter().filter(|&&b| b == b'\n').count() + 1;
    if lines <= MAX_BATCH_SITES + 1 {
        return Ok(());
    }
    let records =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(body).byte_records().count();
    if records > MAX_BATCH_SITES {
        return Err(ApiError::TooLarge(format!(
            "{records} rows; the limit is {MAX_BATCH_SITES} per request"
        )));
    }
    Ok(())
}

/// The parts of a batch body read up front; each feature is parsed on its own, in parallel.
#[derive(Deserialize)]
struct FeatureCollectionBody<'a> {
    #[serde(rename = "type")]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    features: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// Features answered together (in parallel) before being written.
const FEATURE_CHUNK: usize = 16_384;

/// Answers a FeatureCollection of Points into `out`: same features, same order, with `territories` and
/// `nearest` (or `error`) added to the properties.
fn lookup_feature_collection(
    atlas: &Atlas,
    body: &[u8],
    out: &mut dyn std::io::Write,
) -> Result<(), ApiError> {
    let collection: FeatureCollectionBody<'_> =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
    if collection.kind.as_deref() != Some("FeatureCollection") {
        return Err(ApiError::BadRequest("expected a GeoJSON FeatureCollection".into()));
    }
    let Some(features) = collection.features else {
        return Err(ApiError::BadRequest("FeatureCollection without a \"features\" array".into()));
    };
    if features.len() > MAX_BATCH_SITES {
        return Err(ApiError::TooLarge(format!(
            "{} features; the limit is {MAX_BATCH_SITES} per request",
            features.len()
        )));
    }
    let write = |out: &mut dyn std::io::Write, bytes: &[u8]| {
        out.write_all(bytes).map_err(|e| ApiError::Internal(format!("streaming the answer: {e}")))
    };
    write(out, br#"{"type":"FeatureCollection","features":["#)?;
    for (c, chunk) in features.chunks(FEATURE_CHUNK).enumerate() {
        let answered: Vec<Vec<u8>> = chunk
            .par_iter()
            .map(|raw| {
                let feature: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                serde_json::to_vec(&answer_feature(atlas, &feature)).unwrap_or_default()
            })
            .collect();
        for (i, feature) in answered.iter().enumerate() {
            if c > 0 || i > 0 {
                write(out, b",")?;
            }
            write(out, feature)?;
        }
    }
    write(out, b"]}")
}

fn answer_feature(atlas: &Atlas, feature: &Value) -> Value {
    let mut properties: Map<String, Value> =
        feature.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let geometry = feature.get("geometry").cloned().unwrap_or(Value::Null);
    let point = match geometry.get("type").and_then(Value::as_str) {
        Some("Point") => match geometry.get("coordinates").and_then(Value::as_array).map(Vec::as_slice) {
            Some([lon, lat, ..]) => match (lon.as_f64(), lat.as_f64()) {
                (Some(lon), Some(lat)) => Ok((lon, lat)),
                _ => Err("coordinates must be numbers".to_owned()),
            },
            _ => Err("a Point needs [lon, lat] coordinates".to_owned()),
        },
        Some(other) => Err(format!("geometry is a {other}, expected a Point")),
        None => Err("feature without a Point geometry".to_owned()),
    };
    match point.and_then(|(lon, lat)| atlas.lookup(lon, lat).map_err(|e| e.to_string())) {
        Ok(lookup) => {
            properties.insert("territories".into(), json!(lookup.territories));
            properties.insert("nearest".into(), json!(lookup.nearest));
        }
        Err(message) => {
            properties.insert("territories".into(), json!([]));
            properties.insert("nearest".into(), json!([]));
            properties.insert("error".into(), Value::String(message));
        }
    }
    let mut out = Map::new();
    out.insert("type".into(), "Feature".into());
    if let Some(id) = feature.get("id") {
        out.insert("id".into(), id.clone());
    }
    out.insert("geometry".into(), geometry);
    out.insert("properties".into(), Value::Object(properties));
    Value::Object(out)
}

/// Body of `POST /api/intersects`: a GeoJSON Polygon/MultiPolygon geometry, or a Feature holding one.
/// The territories a site polygon overlaps, with the share of its area in each (geodesic areas).
#[utoipa::path(post, path = "/api/intersects", tag = "lookup",
    request_body(content = String, description = "GeoJSON Polygon or MultiPolygon (or a Feature holding one)", content_type = "application/geo+json"),
    responses((status = 200, body = crate::catalog::Intersects), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn post_intersects(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let media =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if !(media.starts_with("application/json") || media.starts_with("application/geo+json")) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {media:?}: send application/geo+json"
        )));
    }
    let geojson: geojson::GeoJson = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("body is not GeoJSON: {e}")))?;
    let geometry = match geojson {
        geojson::GeoJson::Geometry(g) => g,
        geojson::GeoJson::Feature(f) => {
            f.geometry.ok_or_else(|| ApiError::BadRequest("feature has no geometry".into()))?
        }
        geojson::GeoJson::FeatureCollection(_) => {
            return Err(ApiError::BadRequest(
                "send one Polygon or MultiPolygon (or a Feature), not a collection".into(),
            ));
        }
    };
    let site = match geo::Geometry::<f64>::try_from(geometry) {
        Ok(geo::Geometry::Polygon(p)) => geo::MultiPolygon(vec![p]),
        Ok(geo::Geometry::MultiPolygon(mp)) => mp,
        Ok(_) => return Err(ApiError::BadRequest("geometry must be a Polygon or MultiPolygon".into())),
        Err(e) => return Err(ApiError::BadRequest(format!("bad geometry: {e}"))),
    };
    let atlas = state.atlas();
    let slot = state.batch_slot()?;
    let answer = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        atlas.territories_intersecting(&site)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(ApiError::BadRequest)?;
    Ok(respond::json(&answer, &HeaderMap::new()))
}
