//! OGC API – Features, Part 1 (Core, GeoJSON): `/ogc`, `/ogc/conformance`, `/ogc/collections`,
//! `/ogc/collections/{id}`, `/ogc/collections/{id}/items`, `/ogc/collections/{id}/items/{fid}`.
//! One collection per edition's territories and per kind of unit, stored in CRS84 and answered in any CRS of
//! [`OgcCrs::all`] (Part 2: `crs`, `bbox-crs`, `Content-Crs`).

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::atlas::Atlas;
use crate::atlas::features::{Collection, FeatureRef, Source};
use crate::atlas::filter::{Filter, FilterError, Kind, SortBy, queryables};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Ctx, parse_bbox};
use crate::render::ogc_html;
use crate::render::ogc_tiles::has_tiles;
use crate::source::crs::{Crs, CrsError, OgcCrs, Reprojection};

/// Conformance classes this API implements.
pub const CONFORMANCE: [&str; 17] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
];
const CRS84: &str = crate::source::crs::CRS84_URI;
/// Default and largest page sizes.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page: a larger `limit` is answered with this many features.
pub const MAX_LIMIT: usize = 10_000;

/// The values of `f` that ask for JSON (GeoJSON for features).
pub const JSON_FORMATS: [&str; 4] = ["json", "geojson", "application/json", "application/geo+json"];
/// The values of `f` that ask for HTML.
pub const HTML_FORMATS: [&str; 2] = ["html", "text/html"];
/// The values of `f` the queryables take (they are a JSON Schema, whoever asks).
pub const QUERYABLES_FORMATS: [&str; 2] = ["json", "application/schema+json"];
/// The filter languages (Part 3).
pub const FILTER_LANGS: [&str; 2] = ["cql2-text", "cql2-json"];

/// Parameters of the metadata routes: only `f`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatParams {
    /// Output format: `json` or `html` (a browser asking for `text/html` gets HTML by default).
    #[param(schema_with = crate::http::openapi::json_or_html)]
    pub f: Option<String>,
}

/// Parameters of `/queryables`: only `f`, JSON.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueryablesParams {
    /// Output format: the queryables are a JSON Schema (`json`).
    #[param(schema_with = crate::http::openapi::schema_json_only)]
    pub f: Option<String>,
}

/// Parameters of `/items`. Any other parameter must be a queryable of the collection (`?region=32`): it
/// selects the features whose property equals it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemsParams {
    /// Page size, at least 1 (default 100). The maximum is 10,000, and a larger value is not an error: it
    /// is answered with 10,000 features (OGC API – Features, /req/core/limit-response).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000, default = 100)]
    pub limit: Option<String>,
    /// Features to skip.
    #[param(value_type = Option<u64>, minimum = 0)]
    pub offset: Option<String>,
    /// `minlon,minlat,maxlon,maxlat` (CRS84), or with heights (6 numbers); in `bbox-crs` when given. A
    /// west edge east of the east edge crosses the antimeridian.
    #[param(
        pattern = r"^\s*-?[0-9]+(\.[0-9]+)?\s*(,\s*-?[0-9]+(\.[0-9]+)?\s*){3}((,\s*-?[0-9]+(\.[0-9]+)?\s*){2})?$"
    )]
    pub bbox: Option<String>,
    /// The CRS of `bbox` (a URI of the collection's `crs` list); CRS84 by default.
    #[serde(rename = "bbox-crs")]
    pub bbox_crs: Option<String>,
    /// The CRS of the answer's geometries (a URI of the collection's `crs` list); CRS84 by default.
    pub crs: Option<String>,
    /// A CQL2 condition on the queryables (`/queryables`), e.g. `region = '32' AND population > 100000`.
    pub filter: Option<String>,
    /// `cql2-text` (default) or `cql2-json`.
    #[serde(rename = "filter-lang")]
    #[param(schema_with = crate::http::openapi::filter_langs)]
    pub filter_lang: Option<String>,
    /// The CRS of the filter's geometries; CRS84 by default.
    #[serde(rename = "filter-crs")]
    pub filter_crs: Option<String>,
    /// Order of the features: queryables, comma-separated, `-` before one for descending (`-population,name`).
    pub sortby: Option<String>,
    /// Equality on a queryable (`region=32`, `edition=2023`).
    #[serde(flatten)]
    #[param(ignore)]
    pub properties: std::collections::BTreeMap<String, String>,
    /// Accepted for conformance; the features have no time, so it selects nothing out.
    // An RFC 3339 date or date-time, or an interval of two (`..` or empty for an open end).
    #[param(
        pattern = r"^(\.\.|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?)?(/(\.\.|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?)?)?$"
    )]
    pub datetime: Option<String>,
    /// Output format: `json`/`geojson` or `html`.
    #[param(schema_with = crate::http::openapi::json_or_html)]
    pub f: Option<String>,
}

/// Parameters of a single feature: `crs` and `f`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeatureParams {
    /// The CRS of the answer's geometry (a URI of the collection's `crs` list); CRS84 by default.
    pub crs: Option<String>,
    /// Output format: `json`/`geojson` or `html`.
    #[param(schema_with = crate::http::openapi::json_or_html)]
    pub f: Option<String>,
}

/// A `crs` or `bbox-crs` value; CRS84 when absent.
fn parse_crs(name: &str, value: Option<&str>) -> Result<OgcCrs, ApiError> {
    let Some(v) = value else { return Ok(OgcCrs::CRS84) };
    OgcCrs::parse(v).map_err(|_| {
        let list: Vec<String> = OgcCrs::all().into_iter().map(OgcCrs::uri).collect();
        ApiError::BadRequest(format!("{name}={v:?}: not a supported CRS; use one of {}", list.join(", ")))
    })
}

/// Geometries in the CRS asked for: reprojected from the stored CRS84 and put in its axis order.
struct Output {
    crs: OgcCrs,
    reprojection: Option<Reprojection>,
}

impl Output {
    fn new(crs: OgcCrs) -> Result<Self, ApiError> {
        let reprojection = if crs.crs == Crs::Wgs84 {
            None
        } else {
            Some(Reprojection::new(Crs::Wgs84, crs.crs).map_err(|e| ApiError::Internal(e.to_string()))?)
        };
        Ok(Self { crs, reprojection })
    }

    fn geometry(&self, g: &geo::MultiPolygon<f64>, fid: &str) -> Result<geojson::Geometry, ApiError> {
        if self.crs == OgcCrs::CRS84 {
            return Ok(geojson::Geometry::from(g));
        }
        let mut g = g.clone();
        if let Some(r) = &self.reprojection {
            r.multipolygon(&mut g).map_err(|e: CrsError| {
                ApiError::BadRequest(format!("feature {fid} cannot be given in {}: {e}", self.crs.uri()))
            })?;
        }
        self.crs.order_multipolygon(&mut g);
        Ok(geojson::Geometry::from(&g))
    }

    /// The `Content-Crs` header (Part 2, /req/crs/ogc-crs-header): the URI in angle brackets.
    fn header(&self) -> (header::HeaderName, String) {
        (header::HeaderName::from_static("content-crs"), format!("<{}>", self.crs.uri()))
    }
}

/// `bbox` in `bbox-crs` as a CRS84 rectangle: four (or six, with heights) numbers in that CRS's axis order,
/// the reprojected envelope of the box.
fn parse_bbox_in(bbox: &str, crs: OgcCrs) -> Result<geo::Rect<f64>, ApiError> {
    // Six numbers carry heights, which 2D features ignore.
    let parts: Vec<&str> = bbox.split(',').collect();
    let four =
        if parts.len() == 6 { [parts[0], parts[1], parts[3], parts[4]].join(",") } else { bbox.to_owned() };
    if crs == OgcCrs::CRS84 {
        return parse_bbox(&four);
    }
    let bad = |why: &str| ApiError::BadRequest(format!("bbox={bbox:?} in {}: {why}", crs.uri()));
    let v: Vec<f64> = four
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("expected four numbers"))?;
    let [a, b, c, d] = v[..] else { return Err(bad("expected four numbers")) };
    if !v.iter().all(|x| x.is_finite()) {
        return Err(bad("expected four finite numbers"));
    }
    let (lo, hi) = (crs.order(geo::Coord { x: a, y: b }), crs.order(geo::Coord { x: c, y: d }));
    if lo.x > hi.x || lo.y > hi.y {
        return Err(bad("the lower corner comes first"));
    }
    let rect = geo::Rect::new(lo, hi);
    if crs.crs == Crs::Wgs84 {
        return parse_bbox(&format!("{},{},{},{}", lo.x, lo.y, hi.x, hi.y));
    }
    Reprojection::new(crs.crs, Crs::Wgs84).and_then(|r| r.rect(rect)).map_err(|e| bad(&e.to_string()))
}

/// The answer's format: JSON, or HTML for people (`?f=html`, or a browser's `Accept: text/html` when `f`
/// is not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
}

fn format_of(f: Option<&str>, headers: &axum::http::HeaderMap) -> Result<Format, ApiError> {
    match f {
        Some(f) if JSON_FORMATS.contains(&f) => Ok(Format::Json),
        Some(f) if HTML_FORMATS.contains(&f) => Ok(Format::Html),
        Some(other) => Err(ApiError::BadRequest(format!("f={other}: use json or html"))),
        None => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
            Ok(if accept.contains("text/html") { Format::Html } else { Format::Json })
        }
    }
}

fn html_response(html: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::VARY, "Accept")], html).into_response()
}

/// The same document as HTML: a `rel="alternate"` link for the JSON documents.
fn html_alternate(href: &str) -> Value {
    let sep = if href.contains('?') { '&' } else { '?' };
    json!({"href": format!("{href}{sep}f=html"), "rel": "alternate", "type": "text/html", "title": "This document as HTML"})
}

fn json_response(value: &Value, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], value.to_string()).into_response()
}

/// The landing page: links to the API description, conformance and collections.
#[utoipa::path(get, path = "/ogc", tag = "ogc", params(FormatParams),
    responses((status = 200, description = "Landing page", content((serde_json::Value = "application/json"), (String = "text/html"))), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_landing(Ctx { state, headers, query: p }: Ctx<FormatParams>) -> Result<Response, ApiError> {
    let format = format_of(p.f.as_deref(), &headers)?;
    let b = state.base_url(&headers);
    let doc = json!({
        "title": "Territoires d'industrie",
        "description": "France's Territoires d'industrie (ANCT) and the intercommunalities, EPT and communes they are made of, as OGC API – Features collections.",
        "links": [
            {"href": format!("{b}/ogc"), "rel": "self", "type": "application/json", "title": "This document"},
            {"href": format!("{b}/api/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI definition"},
            {"href": format!("{b}/ogc/conformance"), "rel": "conformance", "type": "application/json", "title": "Conformance classes"},
            {"href": format!("{b}/ogc/collections"), "rel": "data", "type": "application/json", "title": "Collections"},
            {"href": format!("{b}/ogc/tiles"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": "application/json", "title": "Vector tilesets"},
            {"href": format!("{b}/ogc/tileMatrixSets"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "type": "application/json", "title": "Tiling schemes"},
            html_alternate(&format!("{b}/ogc"))
        ]
    });
    Ok(match format {
        Format::Html => html_response(ogc_html::landing(&doc)),
        Format::Json => json_response(&doc, "application/json"),
    })
}

/// The conformance classes implemented.
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc", params(FormatParams),
    responses((status = 200, description = "Conformance classes", content((serde_json::Value = "application/json"), (String = "text/html"))), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_conformance(cx: Ctx<FormatParams>) -> Result<Response, ApiError> {
    let format = format_of(cx.query.f.as_deref(), &cx.headers)?;
    let classes: Vec<&str> =
        CONFORMANCE.iter().chain(&crate::render::ogc_tiles::CONFORMANCE).copied().collect();
    Ok(match format {
        Format::Html => html_response(ogc_html::conformance(&classes)),
        Format::Json => json_response(&json!({ "conformsTo": classes }), "application/json"),
    })
}

fn collection_json(atlas: &Atlas, c: &Collection, b: &str, tiled: bool) -> Value {
    let bbox = atlas.collection_bbox(c.source).map_or_else(
        || vec![-180.0, -90.0, 180.0, 90.0],
        |r| vec![r.min().x, r.min().y, r.max().x, r.max().y],
    );
    let mut links = vec![
        json!({"href": format!("{b}/ogc/collections/{}", c.id), "rel": "self", "type": "application/json", "title": c.title}),
        html_alternate(&format!("{b}/ogc/collections/{}", c.id)),
        json!({"href": format!("{b}/ogc/collections/{}/items", c.id), "rel": "items", "type": "application/geo+json", "title": format!("{} (GeoJSON)", c.title)}),
        json!({"href": format!("{b}/ogc/collections/{}/items?f=html", c.id), "rel": "items", "type": "text/html", "title": format!("{} (HTML)", c.title)}),
        json!({"href": format!("{b}/ogc/collections/{}/queryables", c.id), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json", "title": "Queryables"}),
    ];
    if tiled {
        links.push(json!({"href": format!("{b}/ogc/collections/{}/tiles", c.id), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": "application/json", "title": "Vector tilesets"}));
    }
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
        "crs": OgcCrs::all().into_iter().map(OgcCrs::uri).collect::<Vec<_>>(),
        "storageCrs": CRS84,
        "extent": { "spatial": { "bbox": [bbox], "crs": CRS84 } },
        "links": links
    })
}

/// Every collection: one per edition's territories and per kind of unit.
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc", params(FormatParams),
    responses((status = 200, description = "Collections", content((serde_json::Value = "application/json"), (String = "text/html"))), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn get_collections(cx: Ctx<FormatParams>) -> Result<Response, ApiError> {
    let format = format_of(cx.query.f.as_deref(), &cx.headers)?;
    let loaded = cx.state.loaded();
    let atlas = &loaded.atlas;
    let b = cx.state.base_url(&cx.headers);
    let collections: Vec<Value> = atlas
        .collections()
        .iter()
        .map(|c| collection_json(atlas, c, &b, has_tiles(atlas, &loaded.layers, &c.id)))
        .collect();
    let doc = json!({
        "links": [
            {"href": format!("{b}/ogc/collections"), "rel": "self", "type": "application/json", "title": "Collections"},
            html_alternate(&format!("{b}/ogc/collections"))
        ],
        "collections": collections
    });
    Ok(match format {
        Format::Html => html_response(ogc_html::collections(&doc)),
        Format::Json => json_response(&doc, "application/json"),
    })
}

fn find(atlas: &Atlas, id: &str) -> Result<Collection, ApiError> {
    atlas
        .collection(id)
        .ok_or_else(|| ApiError::NotFound(format!("no collection {id:?}; see /ogc/collections")))
}

/// One collection's description.
#[utoipa::path(get, path = "/ogc/collections/{id}", tag = "ogc", params(("id" = String, Path, description = "Collection id"), FormatParams),
    responses((status = 200, description = "Collection", content((serde_json::Value = "application/json"), (String = "text/html"))), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such collection or feature", body = ErrorBody)))]
pub async fn get_collection(cx: Ctx<FormatParams>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let format = format_of(cx.query.f.as_deref(), &cx.headers)?;
    let loaded = cx.state.loaded();
    let c = find(&loaded.atlas, &id)?;
    let tiled = has_tiles(&loaded.atlas, &loaded.layers, &c.id);
    let doc = collection_json(&loaded.atlas, &c, &cx.state.base_url(&cx.headers), tiled);
    Ok(match format {
        Format::Html => html_response(ogc_html::collection(&doc)),
        Format::Json => json_response(&doc, "application/json"),
    })
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

/// `offset`: 0 or more; one past any count (even too long for a machine word) is past the last feature.
fn parse_offset(value: Option<&str>) -> Result<usize, ApiError> {
    match value.map(str::trim) {
        Some(v) if v.len() > 1 && v.bytes().all(|c| c.is_ascii_digit()) && v.parse::<usize>().is_err() => {
            Ok(usize::MAX)
        }
        v => parse_count("offset", v, 0, 0..=usize::MAX),
    }
}

/// Whether `datetime` is what its documented pattern describes: an RFC 3339 date or date-time, or an
/// interval of two, each end possibly open (`..` or empty).
fn is_datetime(value: &str) -> bool {
    fn digits(s: &str, n: usize) -> bool {
        s.len() == n && s.bytes().all(|c| c.is_ascii_digit())
    }
    fn date(s: &str) -> bool {
        let mut parts = s.split('-');
        let ok = parts.next().is_some_and(|y| digits(y, 4))
            && parts.next().is_some_and(|m| digits(m, 2))
            && parts.next().is_some_and(|d| digits(d, 2));
        ok && parts.next().is_none()
    }
    fn time(s: &str) -> bool {
        let (clock, zone) = match s.strip_suffix('Z') {
            Some(clock) => (clock, None),
            None if s.len() > 6 => {
                let (clock, zone) = s.split_at(s.len() - 6);
                (clock, Some(zone))
            }
            None => return false,
        };
        let zone_ok = zone.is_none_or(|z| {
            let b = z.as_bytes();
            matches!(b[0], b'+' | b'-') && digits(&z[1..3], 2) && b[3] == b':' && digits(&z[4..], 2)
        });
        let (hms, fraction) = clock.split_once('.').map_or((clock, None), |(a, b)| (a, Some(b)));
        let mut parts = hms.split(':');
        let hms_ok = (0..3).all(|_| parts.next().is_some_and(|p| digits(p, 2))) && parts.next().is_none();
        zone_ok && hms_ok && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()))
    }
    fn end(s: &str) -> bool {
        s.is_empty()
            || s == ".."
            || match s.split_once('T') {
                Some((d, t)) => date(d) && time(t),
                None => date(s),
            }
    }
    let mut ends = value.split('/');
    let first = ends.next().is_some_and(end);
    let second = ends.next().is_none_or(end);
    first && second && ends.next().is_none()
}

/// `limit`: 1 or more, [`DEFAULT_LIMIT`] when absent, and [`MAX_LIMIT`] for anything larger (even a
/// number too long for a machine word).
fn parse_limit(value: Option<&str>) -> Result<usize, ApiError> {
    match value.map(str::trim) {
        Some(v) if v.len() > 1 && v.bytes().all(|c| c.is_ascii_digit()) && v.parse::<usize>().is_err() => {
            Ok(MAX_LIMIT)
        }
        v => Ok(parse_count("limit", v, DEFAULT_LIMIT, 1..=usize::MAX)?.min(MAX_LIMIT)),
    }
}

fn feature_json(f: &FeatureRef<'_>, collection: &str, b: &str, out: &Output) -> Result<Value, ApiError> {
    let geometry = out.geometry(f.geometry, &f.id)?;
    Ok(json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geometry,
        "properties": f.properties,
        "links": [
            {"href": format!("{b}/ogc/collections/{collection}/items/{}", f.id), "rel": "self", "type": "application/geo+json"},
            html_alternate(&format!("{b}/ogc/collections/{collection}/items/{}", f.id)),
            {"href": format!("{b}/ogc/collections/{collection}"), "rel": "collection", "type": "application/json"}
        ]
    }))
}

/// A page of a collection's features, optionally within a bbox.
#[utoipa::path(get, path = "/ogc/collections/{id}/items", tag = "ogc", params(("id" = String, Path, description = "Collection id"), ItemsParams),
    responses((status = 200, description = "GeoJSON FeatureCollection", content((crate::http::openapi::GeoJsonFeatureCollection = "application/geo+json"), (String = "text/html"))), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such collection or feature", body = ErrorBody)))]
pub async fn get_items(cx: Ctx<ItemsParams>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let format = format_of(cx.query.f.as_deref(), &cx.headers)?;
    // Over the maximum is not an error: the OGC specification asks servers to answer at most their
    // maximum (clients such as GDAL ask for more and follow the `next` links).
    let limit = parse_limit(cx.query.limit.as_deref())?;
    let offset = parse_offset(cx.query.offset.as_deref())?;
    let crs = parse_crs("crs", cx.query.crs.as_deref())?;
    // Checked even without a bbox, which it would apply to; alone it changes nothing.
    let bbox_crs = parse_crs("bbox-crs", cx.query.bbox_crs.as_deref())?;
    let bbox = cx.query.bbox.as_deref().map(|b| parse_bbox_in(b, bbox_crs)).transpose()?;
    let out = Output::new(crs)?;
    let header = out.header();
    let filter_crs = parse_crs("filter-crs", cx.query.filter_crs.as_deref())?;
    if let Some(dt) = cx.query.datetime.as_deref()
        && !is_datetime(dt)
    {
        return Err(ApiError::BadRequest(format!("datetime={dt:?}: expected RFC 3339 instant or interval")));
    }
    let atlas = cx.state.atlas();
    let c = find(&atlas, &id)?;
    let filter = items_filter(&cx.query, c.source, filter_crs)?;
    let sort = cx
        .query
        .sortby
        .as_deref()
        .map(|s| SortBy::parse(s, c.source))
        .transpose()
        .map_err(filter_error("sortby"))?;
    let b = cx.state.base_url(&cx.headers);
    let page_base = b.clone();
    let (source, collection_id, collection_title) = (c.source, c.id.clone(), c.title.clone());
    let atlas_for_page = atlas.clone();
    let (features, matched, positions) = tokio::task::spawn_blocking(move || {
        let matching = atlas.features_filtered(c.source, bbox, filter.as_ref(), sort.as_ref());
        let positions: Vec<usize> = matching.iter().skip(offset).take(limit).copied().collect();
        let features = positions
            .iter()
            .filter_map(|&i| atlas.feature(c.source, i))
            .map(|f| feature_json(&f, &c.id, &page_base, &out))
            .collect::<Result<Vec<Value>, ApiError>>();
        features.map(|f| (f, matching.len(), positions))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let returned = features.len();
    // The other pages keep every parameter of this one, as given.
    let kept: Vec<(&str, &str)> = [
        ("bbox", cx.query.bbox.as_deref()),
        ("bbox-crs", cx.query.bbox_crs.as_deref()),
        ("datetime", cx.query.datetime.as_deref()),
        ("crs", cx.query.crs.as_deref()),
        ("filter", cx.query.filter.as_deref()),
        ("filter-lang", cx.query.filter_lang.as_deref()),
        ("filter-crs", cx.query.filter_crs.as_deref()),
        ("sortby", cx.query.sortby.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .chain(cx.query.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    .collect();
    let page = |off: usize| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.extend_pairs(kept.iter().copied());
        q.append_pair("limit", &limit.to_string());
        q.append_pair("offset", &off.to_string());
        format!("{b}/ogc/collections/{id}/items?{}", q.finish())
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
    links.push(html_alternate(&page(offset)));
    let body = json!({
        "type": "FeatureCollection",
        "features": features,
        "links": links,
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": now_rfc3339(),
    });
    if format == Format::Html {
        let geometries: Vec<&geo::MultiPolygon<f64>> =
            positions.iter().filter_map(|&i| atlas_for_page.feature(source, i).map(|f| f.geometry)).collect();
        return Ok(html_response(ogc_html::items(&collection_id, &collection_title, &body, &geometries)));
    }
    Ok(([header], json_response(&body, "application/geo+json")).into_response())
}

fn filter_error(param: &'static str) -> impl Fn(FilterError) -> ApiError {
    move |e| ApiError::BadRequest(format!("{param}: {e}"))
}

/// The `filter` of an items request, and its equality parameters (`?region=32`), as one filter.
fn items_filter(q: &ItemsParams, source: Source, crs: OgcCrs) -> Result<Option<Filter>, ApiError> {
    let lang = q.filter_lang.as_deref().unwrap_or("cql2-text");
    // Without a filter, `filter-lang` (checked here) and `filter-crs` (checked by the caller) change nothing.
    if !FILTER_LANGS.contains(&lang) {
        return Err(ApiError::BadRequest(format!("filter-lang={lang:?} (use cql2-text or cql2-json)")));
    }
    let mut parts: Vec<String> = Vec::new();
    for (name, value) in &q.properties {
        let known = queryables(source);
        let Some(queryable) = known.iter().find(|k| k.name == name && k.kind != Kind::Geometry) else {
            let names: Vec<&str> =
                known.iter().filter(|k| k.kind != Kind::Geometry).map(|k| k.name).collect();
            return Err(ApiError::BadRequest(format!(
                "unknown parameter {name:?}: the parameters are limit, offset, bbox, bbox-crs, crs, datetime, filter, filter-lang, filter-crs, sortby, f, and the queryables {}",
                names.join(", ")
            )));
        };
        let literal = match queryable.kind {
            Kind::String => format!("'{}'", value.replace('\'', "''")),
            _ => match value.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => v.to_string(),
                _ => return Err(ApiError::BadRequest(format!("{name}={value:?}: expected a number"))),
            },
        };
        parts.push(format!("\"{name}\" = {literal}"));
    }
    let equalities = (!parts.is_empty())
        .then(|| Filter::parse(&parts.join(" AND "), "cql2-text", source, OgcCrs::CRS84))
        .transpose()
        .map_err(filter_error("property parameters"))?;
    let given = q
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, lang, source, crs))
        .transpose()
        .map_err(filter_error("filter"))?;
    Ok(match (given, equalities) {
        (Some(a), Some(b)) => Some(a.and(b)),
        (a, b) => a.or(b),
    })
}

/// The queryables of a collection as a JSON Schema (Part 3, /req/queryables).
#[utoipa::path(get, path = "/ogc/collections/{id}/queryables", tag = "ogc", params(("id" = String, Path, description = "Collection id"), QueryablesParams),
    responses((status = 200, description = "JSON Schema of the queryables", body = serde_json::Value, content_type = "application/schema+json"), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such collection", body = ErrorBody)))]
pub async fn get_queryables(cx: Ctx<QueryablesParams>, Path(id): Path<String>) -> Result<Response, ApiError> {
    // A JSON Schema, whoever asks (a browser shows it as JSON).
    if let Some(f) = cx.query.f.as_deref().filter(|f| !QUERYABLES_FORMATS.contains(f)) {
        return Err(ApiError::BadRequest(format!("f={f}: the queryables are a JSON Schema (f=json)")));
    }
    let atlas = cx.state.atlas();
    let c = find(&atlas, &id)?;
    let b = cx.state.base_url(&cx.headers);
    let mut properties = serde_json::Map::new();
    for q in queryables(c.source) {
        let schema = match q.kind {
            Kind::Geometry => {
                json!({"title": q.description, "format": "geometry-multipolygon", "x-ogc-role": "primary-geometry"})
            }
            kind => {
                let t = match kind {
                    Kind::String => "string",
                    Kind::Integer => "integer",
                    _ => "number",
                };
                if q.nullable {
                    json!({"title": q.description, "type": [t, "null"]})
                } else {
                    json!({"title": q.description, "type": t})
                }
            }
        };
        properties.insert(q.name.to_owned(), schema);
    }
    let body = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{b}/ogc/collections/{}/queryables", c.id),
        "type": "object",
        "title": c.title,
        "properties": properties,
        "additionalProperties": false,
    });
    Ok(json_response(&body, "application/schema+json"))
}

/// Now as RFC 3339 (UTC, seconds).
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// One feature of a collection.
#[utoipa::path(get, path = "/ogc/collections/{id}/items/{fid}", tag = "ogc", params(("id" = String, Path, description = "Collection id"), ("fid" = String, Path, description = "Feature id"), FeatureParams),
    responses((status = 200, description = "GeoJSON Feature", content((serde_json::Value = "application/geo+json"), (String = "text/html"))), (status = 400, description = "Malformed request", body = ErrorBody), (status = 404, description = "No such collection or feature", body = ErrorBody)))]
pub async fn get_item(
    cx: Ctx<FeatureParams>,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let format = format_of(cx.query.f.as_deref(), &cx.headers)?;
    let out = Output::new(parse_crs("crs", cx.query.crs.as_deref())?)?;
    let atlas = cx.state.atlas();
    let c = find(&atlas, &id)?;
    let f = atlas
        .feature_position(c.source, &fid)
        .and_then(|i| atlas.feature(c.source, i))
        .ok_or_else(|| ApiError::NotFound(format!("no feature {fid:?} in collection {id}")))?;
    let body = feature_json(&f, &c.id, &cx.state.base_url(&cx.headers), &out)?;
    if format == Format::Html {
        return Ok(html_response(ogc_html::feature(&c.id, &c.title, &body, f.geometry)));
    }
    Ok(([out.header()], json_response(&body, "application/geo+json")).into_response())
}
