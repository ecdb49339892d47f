//! OGC API – Features, Part 1 (Core, GeoJSON): `/ogc`, `/ogc/conformance`, `/ogc/collections`,
//! `/ogc/collections/{id}`, `/ogc/collections/{id}/items`, `/ogc/collections/{id}/items/{fid}`.
//! One collection per edition's territories and per kind of unit, in CRS84.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::atlas::Atlas;
use crate::atlas::features::{Collection, FeatureRef};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{ApiQuery, Ctx, parse_bbox};

/// Conformance classes this API implements.
pub const CONFORMANCE: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// Default and largest page sizes.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 10_000;

/// Parameters of the metadata routes: only `f`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatParams {
    /// Output format: `json` (the only one).
    pub f: Option<String>,
}

/// Parameters of `/items`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemsParams {
    /// Page size, 1 to 10,000 (default 100).
    pub limit: Option<String>,
    /// Features to skip.
    pub offset: Option<String>,
    /// `minlon,minlat,maxlon,maxlat` (CRS84), or with heights (6 numbers).
    pub bbox: Option<String>,
    /// Accepted for conformance; the features have no time, so it selects nothing out.
    pub datetime: Option<String>,
    /// Output format: `json`/`geojson`.
    pub f: Option<String>,
}

fn check_format(f: Option<&str>) -> Result<(), ApiError> {
    match f {
        None | Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(()),
        Some(other) => Err(ApiError::BadRequest(format!("f={other}: only json is available"))),
    }
}

fn json_response(value: &Value, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], value.to_string()).into_response()
}

/// The landing page: links to the API description, conformance and collections.
#[utoipa::path(get, path = "/ogc", tag = "ogc", params(FormatParams),
    responses((status = 200, description = "Landing page", content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_landing(Ctx { state, headers, query: p }: Ctx<FormatParams>) -> Result<Response, ApiError> {
    check_format(p.f.as_deref())?;
    let b = state.base_url(&headers);
    Ok(json_response(
        &json!({
            "title": "Territoires d'industrie",
            "description": "France's Territoires d'industrie (ANCT) and the intercommunalities, EPT and communes they are made of, as OGC API – Features collections.",
            "links": [
                {"href": format!("{b}/ogc"), "rel": "self", "type": "application/json", "title": "This document"},
                {"href": format!("{b}/api/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI definition"},
                {"href": format!("{b}/ogc/conformance"), "rel": "conformance", "type": "application/json", "title": "Conformance classes"},
                {"href": format!("{b}/ogc/collections"), "rel": "data", "type": "application/json", "title": "Collections"}
            ]
        }),
        "application/json",
    ))
}

/// The conformance classes implemented.
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc", params(FormatParams),
    responses((status = 200, description = "Conformance classes", content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_conformance(ApiQuery(p): ApiQuery<FormatParams>) -> Result<Response, ApiError> {
    check_format(p.f.as_deref())?;
    Ok(json_response(&json!({ "conformsTo": CONFORMANCE }), "application/json"))
}

fn collection_json(atlas: &Atlas, c: &Collection, b: &str) -> Value {
    let bbox = atlas.collection_bbox(c.source).map_or_else(
        || vec![-180.0, -90.0, 180.0, 90.0],
        |r| vec![r.min().x, r.min().y, r.max().x, r.max().y],
    );
    let mut links = vec![
        json!({"href": format!("{b}/ogc/collections/{}", c.id), "rel": "self", "type": "application/json", "title": c.title}),
        json!({"href": format!("{b}/ogc/collections/{}/items", c.id), "rel": "items", "type": "application/geo+json", "title": format!("{} (GeoJSON)", c.title)}),
    ];
    if let Some(licence) = &c.licence
        && let Some(url) = &licence.url
    {
        links.push(json!({"href": url, "rel": "license", "type": "text/html", "title": licence.name}));
    }
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "attribution": c.attribution,
        "license": c.licence.as_ref().map(|l| l.name.clone()),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": { "spatial": { "bbox": [bbox], "crs": CRS84 } },
        "links": links
    })
}

/// Every collection: one per edition's territories and per kind of unit.
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc", params(FormatParams),
    responses((status = 200, description = "Collections", content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_collections(cx: Ctx<FormatParams>) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    let atlas = cx.state.atlas();
    let b = cx.state.base_url(&cx.headers);
    let collections: Vec<Value> =
        atlas.collections().iter().map(|c| collection_json(&atlas, c, &b)).collect();
    Ok(json_response(
        &json!({
            "links": [{"href": format!("{b}/ogc/collections"), "rel": "self", "type": "application/json", "title": "Collections"}],
            "collections": collections
        }),
        "application/json",
    ))
}

fn find(atlas: &Atlas, id: &str) -> Result<Collection, ApiError> {
    atlas
        .collection(id)
        .ok_or_else(|| ApiError::NotFound(format!("no collection {id:?}; see /ogc/collections")))
}

/// One collection's description.
#[utoipa::path(get, path = "/ogc/collections/{id}", tag = "ogc", params(("id" = String, Path, description = "Collection id"), FormatParams),
    responses((status = 200, description = "Collection", content_type = "application/json"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such collection or feature", body = ErrorBody)))]
pub async fn get_collection(cx: Ctx<FormatParams>, Path(id): Path<String>) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    let atlas = cx.state.atlas();
    let c = find(&atlas, &id)?;
    Ok(json_response(&collection_json(&atlas, &c, &cx.state.base_url(&cx.headers)), "application/json"))
}

fn parse_count(
    name: &str,
    value: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    let Some(v) = value else { return Ok(default) };
    let n: usize = v
        .trim()
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("{name}={v:?}: expected a whole number")))?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(ApiError::BadRequest(format!(
            "{name}={n}: must be between {} and {}",
            range.start(),
            range.end()
        )))
    }
}

fn feature_json(f: &FeatureRef<'_>, collection: &str, b: &str) -> Value {
    let geometry = geojson::Geometry::from(f.geometry);
    json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geometry,
        "properties": f.properties,
        "links": [
            {"href": format!("{b}/ogc/collections/{collection}/items/{}", f.id), "rel": "self", "type": "application/geo+json"},
            {"href": format!("{b}/ogc/collections/{collection}"), "rel": "collection", "type": "application/json"}
        ]
    })
}

/// A page of a collection's features, optionally within a bbox.
#[utoipa::path(get, path = "/ogc/collections/{id}/items", tag = "ogc", params(("id" = String, Path, description = "Collection id"), ItemsParams),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such collection or feature", body = ErrorBody)))]
pub async fn get_items(cx: Ctx<ItemsParams>, Path(id): Path<String>) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    let limit = parse_count("limit", cx.query.limit.as_deref(), DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let offset = parse_count("offset", cx.query.offset.as_deref(), 0, 0..=usize::MAX)?;
    let bbox = cx
        .query
        .bbox
        .as_deref()
        .map(|b| {
            // Six numbers carry heights, which 2D features ignore.
            let parts: Vec<&str> = b.split(',').collect();
            if parts.len() == 6 {
                parse_bbox(&[parts[0], parts[1], parts[3], parts[4]].join(","))
            } else {
                parse_bbox(b)
            }
        })
        .transpose()?;
    if let Some(dt) = cx.query.datetime.as_deref() {
        let ok = dt.split('/').all(|part| {
            part == ".."
                || part.is_empty()
                || part.len() >= 4 && part[..4].bytes().all(|c| c.is_ascii_digit())
        });
        if !ok {
            return Err(ApiError::BadRequest(format!(
                "datetime={dt:?}: expected RFC 3339 instant or interval"
            )));
        }
    }
    let atlas = cx.state.atlas();
    let c = find(&atlas, &id)?;
    let b = cx.state.base_url(&cx.headers);
    let page_base = b.clone();
    let (features, matched) = tokio::task::spawn_blocking(move || {
        let matching = atlas.features_matching(c.source, bbox);
        let features: Vec<Value> = matching
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|&i| atlas.feature(c.source, i))
            .map(|f| feature_json(&f, &c.id, &page_base))
            .collect();
        (features, matching.len())
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let returned = features.len();
    let mut query = Vec::new();
    if let Some(bb) = &cx.query.bbox {
        query.push(format!("bbox={bb}"));
    }
    if let Some(dt) = &cx.query.datetime {
        query.push(format!("datetime={dt}"));
    }
    let page = |off: usize| {
        let mut q = query.clone();
        q.push(format!("limit={limit}"));
        q.push(format!("offset={off}"));
        format!("{b}/ogc/collections/{id}/items?{}", q.join("&"))
    };
    let mut links = vec![
        json!({"href": page(offset), "rel": "self", "type": "application/geo+json", "title": "This page"}),
        json!({"href": format!("{b}/ogc/collections/{id}"), "rel": "collection", "type": "application/json"}),
    ];
    if offset + returned < matched {
        links.push(json!({"href": page(offset + returned), "rel": "next", "type": "application/geo+json", "title": "Next page"}));
    }
    if offset > 0 {
        links.push(json!({"href": page(offset.saturating_sub(limit)), "rel": "prev", "type": "application/geo+json", "title": "Previous page"}));
    }
    Ok(json_response(
        &json!({
            "type": "FeatureCollection",
            "features": features,
            "links": links,
            "numberMatched": matched,
            "numberReturned": returned,
            "timeStamp": now_rfc3339(),
        }),
        "application/geo+json",
    ))
}

/// Now as RFC 3339 (UTC, seconds).
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// One feature of a collection.
#[utoipa::path(get, path = "/ogc/collections/{id}/items/{fid}", tag = "ogc", params(("id" = String, Path, description = "Collection id"), ("fid" = String, Path, description = "Feature id"), FormatParams),
    responses((status = 200, description = "GeoJSON Feature", content_type = "application/geo+json"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such collection or feature", body = ErrorBody)))]
pub async fn get_item(
    cx: Ctx<FormatParams>,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_format(cx.query.f.as_deref())?;
    let atlas = cx.state.atlas();
    let c = find(&atlas, &id)?;
    let f = atlas
        .feature_position(c.source, &fid)
        .and_then(|i| atlas.feature(c.source, i))
        .ok_or_else(|| ApiError::NotFound(format!("no feature {fid:?} in collection {id}")))?;
    Ok(json_response(&feature_json(&f, &c.id, &cx.state.base_url(&cx.headers)), "application/geo+json"))
}
