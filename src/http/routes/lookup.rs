//! Lookups: `GET /api/lookup` (one site), `POST /api/lookup` (a batch as GeoJSON, CSV, XLSX or Parquet,
//! answered in its format or the one `Accept` asks for), `POST /api/lookup/inspect` (the columns a table
//! would be read by) and `POST /api/intersects` (a parcel or footprint polygon).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::check_edition;
use crate::atlas::Lookup;
use crate::batch::{
    BatchError, BatchOptions, Inspection, TableFormat, annotate_csv, annotate_feature_collection,
    annotate_parquet, annotate_xlsx, inspect_table,
};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{ApiQuery, Ctx};
use crate::http::respond;
use crate::http::state::AppState;
use crate::source::crs::Crs;
use crate::tabular::columns::{ColumnChoice, ColumnRole};

/// Query of `GET /api/lookup`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    /// Longitude, WGS84 degrees.
    #[param(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    #[param(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// Only this edition.
    pub edition: Option<String>,
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
    ApiQuery(params): ApiQuery<LookupParams>,
) -> Result<Response, ApiError> {
    let atlas = state.atlas();
    check_edition(&atlas, params.edition.as_deref())?;
    let lookup = atlas.lookup(params.lon, params.lat).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(axum::Json(keep_edition(lookup, params.edition.as_deref())).into_response())
}

/// The column names a batch is read by, role by role (the web page finds its columns with them).
#[utoipa::path(get, path = "/api/lookup/columns", tag = "lookup",
    responses((status = 200, description = "`{\"columns\": [{\"role\", \"names\", \"description\"}]}`, names by priority", body = serde_json::Value)))]
pub async fn get_lookup_columns() -> Response {
    axum::Json(serde_json::json!({ "columns": crate::tabular::columns::COLUMNS })).into_response()
}

/// Query of `POST /api/lookup`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BatchParams {
    /// CRS of `x`/`y` columns on rows whose `epsg` column is empty or absent: `EPSG:2154`, `2154`,
    /// `EPSG:3857`, `EPSG:5490`, `EPSG:2972`, `EPSG:2975`, `EPSG:4471`, `EPSG:4326` (CSV only).
    pub crs: Option<String>,
    /// Whether a CSV answer starts with a UTF-8 BOM (default `true`; Excel and LibreOffice then read
    /// accents right).
    pub bom: Option<bool>,
    /// The sheet of an XLSX body (default: the first).
    pub sheet: Option<String>,
    /// Column of WGS84 longitudes, over the recognised names (`?lon=Longitude%20GPS`); an empty value
    /// leaves a role unused (`?siren=`); a name the header does not have is a 400 listing the header.
    pub lon: Option<String>,
    /// Column of WGS84 latitudes.
    pub lat: Option<String>,
    /// Column of eastings (in `crs` or the `epsg` column's CRS).
    pub x: Option<String>,
    /// Column of northings.
    pub y: Option<String>,
    /// Column of EPSG codes.
    pub epsg: Option<String>,
    /// Column of INSEE commune codes.
    pub commune_code: Option<String>,
    /// Column of EPCI/EPT SIRENs.
    pub siren: Option<String>,
    /// Column of postal codes.
    pub postal_code: Option<String>,
    /// Column of SIRENE geolocation qualities.
    pub qualite_xy: Option<String>,
}

/// The columns a request's parameters choose (`lon`, `lat`... as in [`BatchParams`]).
macro_rules! column_choice {
    ($params:expr) => {{
        let p = &$params;
        let mut choice = ColumnChoice::default();
        let given = [
            (ColumnRole::Longitude, &p.lon),
            (ColumnRole::Latitude, &p.lat),
            (ColumnRole::X, &p.x),
            (ColumnRole::Y, &p.y),
            (ColumnRole::Epsg, &p.epsg),
            (ColumnRole::CommuneCode, &p.commune_code),
            (ColumnRole::Siren, &p.siren),
            (ColumnRole::PostalCode, &p.postal_code),
            (ColumnRole::PositionQuality, &p.qualite_xy),
        ];
        for (role, column) in given {
            if let Some(column) = column {
                choice.choose(role, Some(column.clone()));
            }
        }
        choice
    }};
}

/// What a batch body is and what its answer will be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BatchFormat {
    Table(TableFormat),
    GeoJson,
}

impl BatchFormat {
    fn media_type(self) -> &'static str {
        match self {
            Self::Table(t) => t.media_type(),
            Self::GeoJson => "application/geo+json",
        }
    }
}

/// The answer's format: the body's, or the first `Accept` asks for (by quality) that the body can be
/// answered in — any table format for a table, GeoJSON for GeoJSON. `None` when `Accept` allows none.
fn answer_format(headers: &HeaderMap, body: BatchFormat) -> Option<BatchFormat> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(body);
    };
    let mut ranges: Vec<(f32, usize, String)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, range)| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!media.is_empty() && q > 0.0).then_some((q, i, media))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.into_iter().find_map(|(_, _, media)| match (media.as_str(), body) {
        ("application/*", BatchFormat::Table(TableFormat::Csv)) => {
            Some(BatchFormat::Table(TableFormat::Xlsx))
        }
        ("*/*" | "application/*", _)
        | ("application/geo+json" | "application/json", BatchFormat::GeoJson) => Some(body),
        ("text/*", BatchFormat::Table(_)) => Some(BatchFormat::Table(TableFormat::Csv)),
        (media, BatchFormat::Table(_)) => TableFormat::of_media_type(media).map(BatchFormat::Table),
        _ => None,
    })
}

/// 406 with the API's error body, naming what the body can be answered in.
fn not_acceptable(headers: &HeaderMap, body: BatchFormat) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let offered = match body {
        BatchFormat::Table(_) => [TableFormat::Csv, TableFormat::Xlsx, TableFormat::Parquet]
            .map(|t| t.media_type().split(';').next().unwrap_or_default())
            .join(", "),
        BatchFormat::GeoJson => "application/geo+json".to_owned(),
    };
    let message = format!("Accept {accept:?}: this body can be answered as {offered}");
    let body = serde_json::json!({ "error": { "code": "not_acceptable", "message": message } });
    (StatusCode::NOT_ACCEPTABLE, axum::Json(body)).into_response()
}

/// Adds `Vary: Accept` (the answer depends on it) to a batch answer.
fn vary_accept(mut response: Response) -> Response {
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// Batch lookup: a GeoJSON FeatureCollection of Points (answered as GeoJSON, same order, properties
/// plus `territories` and `nearest`, or `error`), or a CSV, XLSX or Parquet table located by lon/lat,
/// x/y (with `crs` or an `epsg` column), commune code, SIREN or postal code (answered in the same
/// format with the territories, the border distance, how each row was located and what is worth a
/// second look).
#[utoipa::path(post, path = "/api/lookup", tag = "lookup", params(BatchParams),
    request_body(description = "Up to 1,000,000 sites: a FeatureCollection of Points, or a CSV, XLSX or Parquet table with lon/lat, x/y, commune code, SIREN or postal code columns (`GET /api/lookup/columns` names them); answered in the same format",
        content(
            (crate::http::openapi::PointFeatureCollection = "application/geo+json"),
            (crate::http::openapi::PointFeatureCollection = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.apache.parquet"))),
    responses((status = 200, description = "Same sites, same order, answered, in the body's format",
            content(
                (crate::http::openapi::GeoJsonFeatureCollection = "application/geo+json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (Vec<u8> = "application/vnd.apache.parquet"))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 413, description = "Over 1,000,000 sites or 256 MiB", body = ErrorBody),
        (status = 415, description = "Not GeoJSON, CSV, XLSX or Parquet", body = ErrorBody),
        (status = 503, description = "As many batches as allowed are running; retry after `Retry-After` seconds", body = ErrorBody)))]
pub async fn post_lookup(cx: Ctx<BatchParams>, body: Bytes) -> Result<Response, ApiError> {
    let Ctx { state, headers, query } = cx;
    let media = media_type(&headers);
    let input = match TableFormat::of_media_type(&media) {
        Some(table) => BatchFormat::Table(table),
        None if is_json(&media) => BatchFormat::GeoJson,
        None => return Err(unsupported(&media)),
    };
    let Some(answer) = answer_format(&headers, input) else {
        return Ok(not_acceptable(&headers, input));
    };
    let atlas = state.atlas();
    let max_sites = state.limits().max_batch_sites;
    let crs = query
        .crs
        .as_deref()
        .map(str::parse::<Crs>)
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("crs: {e}")))?;
    let output = match answer {
        BatchFormat::Table(t) => Some(t),
        BatchFormat::GeoJson => None,
    };
    let options = BatchOptions::default()
        .with_crs(crs)
        .with_bom(query.bom.unwrap_or(true))
        .with_output(output)
        .with_columns(column_choice!(query))
        .with_max_rows(max_sites as u64);
    if input == BatchFormat::Table(TableFormat::Csv) {
        check_csv_rows(&body, max_sites)?;
    }
    let slot = state.batch_slot()?;
    let response = respond::stream_blocking(answer.media_type(), move |out| {
        let _slot = slot;
        match input {
            BatchFormat::Table(TableFormat::Csv) => annotate_csv(&atlas, &body[..], out, "body", &options),
            BatchFormat::Table(TableFormat::Xlsx) => {
                annotate_xlsx(&atlas, &body, query.sheet.as_deref(), out, "body", &options)
            }
            BatchFormat::Table(_) => annotate_parquet(&atlas, body, out, "body", &options),
            BatchFormat::GeoJson => annotate_feature_collection(&atlas, &body, out, max_sites),
        }
        .map(|_| ())
        .map_err(batch_error)
    })
    .await?;
    Ok(vary_accept(response))
}

/// Query of `POST /api/lookup/inspect`. It repeats [`BatchParams`]' column fields rather than sharing a
/// flattened struct: serde refuses `deny_unknown_fields` with `flatten`, and each field must stay a
/// documented query parameter; `column_choice!` reads both the same way.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InspectParams {
    /// The sheet of an XLSX body (default: the first).
    pub sheet: Option<String>,
    /// Column of WGS84 longitudes, over the recognised names (`?lon=Longitude%20GPS`); an empty value
    /// leaves a role unused (`?siren=`); a name the header does not have is a 400 listing the header.
    pub lon: Option<String>,
    /// Column of WGS84 latitudes.
    pub lat: Option<String>,
    /// Column of eastings (in `crs` or the `epsg` column's CRS).
    pub x: Option<String>,
    /// Column of northings.
    pub y: Option<String>,
    /// Column of EPSG codes.
    pub epsg: Option<String>,
    /// Column of INSEE commune codes.
    pub commune_code: Option<String>,
    /// Column of EPCI/EPT SIRENs.
    pub siren: Option<String>,
    /// Column of postal codes.
    pub postal_code: Option<String>,
    /// Column of SIRENE geolocation qualities.
    pub qualite_xy: Option<String>,
}

/// The header and first rows of a CSV, XLSX or Parquet table, the column each role would be read from
/// by `POST /api/lookup` with the same parameters, every column that could be, and why a person should
/// check them (`unsure`: `no_location`, `several`, `half_pair`, `both_pairs`). Nothing is looked up.
#[utoipa::path(post, path = "/api/lookup/inspect", tag = "lookup", params(InspectParams),
    request_body(content = String, description = "CSV (text/csv), XLSX or Parquet (application/vnd.apache.parquet), as for POST /api/lookup", content_type = "text/csv"),
    responses((status = 200, description = "`{format, sheet, separator, encoding, header, sample, rows, columns: [{role, key, column, candidates}], geometry, unsure: [{reason, ...}]}`"),
        (status = 400, description = "Unreadable table, or a chosen column the header does not have", body = ErrorBody),
        (status = 415, description = "Not CSV, XLSX or Parquet", body = ErrorBody)))]
pub async fn post_lookup_inspect(cx: Ctx<InspectParams>, body: Bytes) -> Result<Response, ApiError> {
    let Ctx { headers, query, .. } = cx;
    let media = media_type(&headers);
    let Some(format) = TableFormat::of_media_type(&media) else {
        return Err(unsupported(&media));
    };
    let choice = column_choice!(query);
    let inspection: Inspection = tokio::task::spawn_blocking(move || {
        inspect_table(body, format, query.sheet.as_deref(), "body", &choice)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(batch_error)?;
    Ok(axum::Json(inspection).into_response())
}

/// The 415 of a body that is not a batch.
fn unsupported(media: &str) -> ApiError {
    ApiError::UnsupportedMediaType(format!(
        "Content-Type {media:?}: send application/geo+json (a FeatureCollection of Points), text/csv, \
         application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (XLSX) or application/vnd.apache.parquet"
    ))
}

/// The request's `Content-Type`, lower-cased (empty when absent or not text).
fn media_type(headers: &HeaderMap) -> String {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase()
}

/// Whether a media type is JSON or GeoJSON (parameters such as `charset` allowed).
fn is_json(media: &str) -> bool {
    media.starts_with("application/json") || media.starts_with("application/geo+json")
}

/// The answer to a batch that cannot be processed.
fn batch_error(e: BatchError) -> ApiError {
    match e {
        BatchError::TooManyRows { .. } => ApiError::TooLarge(e.to_string()),
        BatchError::Write(_) => ApiError::Internal(e.to_string()),
        other => ApiError::BadRequest(other.to_string()),
    }
}

/// Refuses a CSV body of more than `max_sites` rows before any answer streams. Lines bound the records
/// from above, so the exact count (quoted fields may hold line breaks) is only needed when there are
/// more lines than allowed.
fn check_csv_rows(body: &[u8], max_sites: usize) -> Result<(), ApiError> {
    let lines = body.iter().filter(|&&b| b == b'\n').count() + 1;
    if lines <= max_sites + 1 {
        return Ok(());
    }
    let records =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(body).byte_records().count();
    if records > max_sites {
        return Err(ApiError::TooLarge(format!("{records} rows; the limit is {max_sites} per request")));
    }
    Ok(())
}

/// Body of `POST /api/intersects`: a GeoJSON Polygon/MultiPolygon geometry, or a Feature holding one.
/// The territories a site polygon overlaps, with the share of its area in each (geodesic areas).
#[utoipa::path(post, path = "/api/intersects", tag = "lookup",
    request_body(description = "GeoJSON Polygon or MultiPolygon (or a Feature holding one), lon/lat in WGS84",
        content((crate::http::openapi::IntersectsBody = "application/geo+json"), (crate::http::openapi::IntersectsBody = "application/json"))),
    responses((status = 200, body = crate::atlas::Intersects), (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 415, description = "Not GeoJSON (`application/geo+json` or `application/json`)", body = ErrorBody),
        (status = 503, description = "As many batches as allowed are running; retry after `Retry-After` seconds", body = ErrorBody)))]
pub async fn post_intersects(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let media = media_type(&headers);
    if !is_json(&media) {
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
    // geojson's conversion indexes a position's second number without looking: a one-number position
    // would panic the handler (found by Schemathesis).
    if !positions_have_two_numbers(&geometry.value) {
        return Err(ApiError::BadRequest("every position needs at least two numbers: [lon, lat]".into()));
    }
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
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(respond::json(&answer, &HeaderMap::new()))
}

/// Whether every position of a polygon geometry has a longitude and a latitude.
fn positions_have_two_numbers(value: &geojson::GeometryValue) -> bool {
    let rings_ok = |rings: &geojson::PolygonType| rings.iter().flatten().all(|p| p.len() >= 2);
    match value {
        geojson::GeometryValue::Polygon { coordinates } => rings_ok(coordinates),
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().all(rings_ok),
        _ => true,
    }
}
