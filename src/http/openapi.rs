//! The OpenAPI document as served at `/api/openapi.json`: utoipa's description of the route registry,
//! completed with what only the loaded data knows (edition ids, collection ids, tile layers, as enums),
//! then written down as OpenAPI 3.0.3.
//!
//! Why 3.0.3 and not utoipa's 3.1: the OGC landing page claims the `oas30` conformance class and links the
//! document as `application/vnd.oai.openapi+json;version=3.0`, which GIS clients (GDAL's OAPIF driver asks
//! for exactly that type) and OGC's own test suite read as a 3.0 document. The down-conversion is small and
//! mechanical ([`to_openapi_30`]): a `type` list with `null` becomes `nullable`, a schema's `examples`
//! becomes `example`, `const` becomes a one-value `enum`, numeric exclusive bounds become the boolean form.
//!
//! Also here: the schemas of bodies the handlers read or write by hand (GeoJSON in and out, the health
//! answer), so the document describes them without the handlers building types they do not need.

use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::atlas::Atlas;
use crate::render::glyphs::FONTSTACK;
use crate::source::crs::{ALL as ALL_CRS, OgcCrs};

/// The OpenAPI version served.
pub const OPENAPI_VERSION: &str = "3.0.3";

/// The document served for one loaded Atlas: the registry's description with the data's ids as enums,
/// in OpenAPI 3.0.3.
#[must_use]
pub fn served(doc: &utoipa::openapi::OpenApi, atlas: &Atlas) -> Value {
    let mut value = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    with_data(&mut value, atlas);
    to_openapi_30(value)
}

/// A string schema with these values only.
fn string_enum<I: IntoIterator<Item = String>>(values: I) -> Value {
    json!({ "type": "string", "enum": values.into_iter().collect::<Vec<_>>() })
}

/// Puts the loaded data's ids into the parameters that take them: `edition` (everywhere), the OGC
/// collection `id`, the tile `layer`; and the CRS lists, which come from [`OgcCrs::all`] and
/// [`ALL_CRS`]. A value outside these is refused by the server (400, or 404 for a path), so the enums
/// say what the server accepts.
pub fn with_data(doc: &mut Value, atlas: &Atlas) {
    let editions: Vec<String> = atlas.editions().iter().map(|e| e.edition.id.to_string()).collect();
    let collections: Vec<String> = atlas.collections().iter().map(|c| c.id.clone()).collect();
    let mut layers: Vec<String> = editions.iter().map(|e| format!("territories-{e}")).collect();
    layers.extend(["epci", "ept", "places"].map(String::from));
    let ogc_crs: Vec<String> = OgcCrs::all().into_iter().map(OgcCrs::uri).collect();
    let batch_crs: Vec<String> =
        ALL_CRS.iter().flat_map(|c| [format!("EPSG:{}", c.epsg()), c.epsg().to_string()]).collect();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for operation in item.values_mut() {
            let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for parameter in parameters {
                let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                let schema = match name.as_str() {
                    "edition" => string_enum(editions.clone()),
                    "id" if path.starts_with("/ogc/collections/{id}") => string_enum(collections.clone()),
                    "layer" if path.starts_with("/tiles/") => string_enum(layers.clone()),
                    "crs" | "bbox-crs" | "filter-crs" if path.starts_with("/ogc/") => {
                        string_enum(ogc_crs.clone())
                    }
                    "crs" if path == "/api/lookup" => string_enum(batch_crs.clone()),
                    "fontstack" if path.starts_with("/fonts/") => string_enum([FONTSTACK.to_owned()]),
                    // 256 code points a range, the last ending at U+FFFF.
                    "range" if path.starts_with("/fonts/") => {
                        string_enum((0..256u32).map(|i| format!("{}-{}", i * 256, i * 256 + 255)))
                    }
                    _ => continue,
                };
                parameter["schema"] = schema;
            }
        }
    }
}

/// Rewrites an OpenAPI 3.1 document (as utoipa 5 writes it) as OpenAPI 3.0.3.
#[must_use]
pub fn to_openapi_30(mut doc: Value) -> Value {
    if let Some(root) = doc.as_object_mut() {
        root.insert("openapi".into(), Value::String(OPENAPI_VERSION.into()));
        root.remove("jsonSchemaDialect");
        root.remove("webhooks");
        if let Some(info) = root.get_mut("info").and_then(Value::as_object_mut) {
            info.remove("summary");
            if let Some(licence) = info.get_mut("license").and_then(Value::as_object_mut) {
                licence.remove("identifier");
            }
        }
        if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
            components.remove("pathItems");
            if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
                schemas.values_mut().for_each(schema_30);
            }
        }
        for (key, value) in root.iter_mut() {
            if key != "components" {
                walk(value);
            }
        }
        if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
            for (key, value) in components.iter_mut() {
                if key != "schemas" {
                    walk(value);
                }
            }
        }
    }
    doc
}

/// Finds the schemas outside `components.schemas` (parameters, media types, headers) and converts them.
fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "schema" {
                    schema_30(child);
                } else {
                    walk(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

/// One JSON Schema 2020-12 schema as an OpenAPI 3.0 Schema Object, recursively.
fn schema_30(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else { return };
    map.remove("$schema");
    if let Some(Value::Array(types)) = map.get("type").cloned() {
        let nullable = types.iter().any(|t| t == "null");
        let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        map.remove("type");
        match rest.len() {
            0 => {}
            1 => {
                map.insert("type".into(), rest[0].clone());
            }
            _ => {
                let one_of: Vec<Value> = rest.into_iter().map(|t| json!({ "type": t })).collect();
                map.insert("oneOf".into(), Value::Array(one_of));
            }
        }
        if nullable {
            map.insert("nullable".into(), Value::Bool(true));
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(options)) = map.get(key).cloned() {
            let rest: Vec<Value> = options.iter().filter(|o| !is_null_schema(o)).cloned().collect();
            if rest.len() != options.len() {
                map.insert("nullable".into(), Value::Bool(true));
                if rest.len() == 1 {
                    // `nullable` beside a lone `$ref` would be ignored in 3.0: the ref goes in an allOf.
                    map.remove(key);
                    map.insert("allOf".into(), Value::Array(rest));
                } else {
                    map.insert(key.into(), Value::Array(rest));
                }
            }
        }
    }
    if let Some(value) = map.remove("const") {
        map.insert("enum".into(), Value::Array(vec![value]));
    }
    if let Some(Value::Array(examples)) = map.remove("examples")
        && let Some(first) = examples.into_iter().next()
    {
        map.insert("example".into(), first);
    }
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(n) = map.get(exclusive).filter(|v| v.is_number()).cloned() {
            map.insert(bound.into(), n);
            map.insert(exclusive.into(), Value::Bool(true));
        }
    }
    if map.remove("contentMediaType").is_some() | map.remove("contentEncoding").is_some() {
        map.insert("format".into(), Value::String("binary".into()));
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(schema_30);
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            schema_30(child);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(schema_30);
        }
    }
}

/// A string parameter taking one of these values (for `schema_with`).
fn one_of_strings(values: &[&str]) -> utoipa::openapi::Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).build()
}

/// `f` of the OGC documents that come as JSON or HTML.
pub fn json_or_html() -> utoipa::openapi::Object {
    one_of_strings(&[super::routes::ogc::JSON_FORMATS.as_slice(), &super::routes::ogc::HTML_FORMATS].concat())
}

/// `f` of the OGC documents that come as JSON only.
pub fn json_only() -> utoipa::openapi::Object {
    one_of_strings(&super::routes::ogc_tiles::FORMATS)
}

/// `f` of the queryables (a JSON Schema).
pub fn schema_json_only() -> utoipa::openapi::Object {
    one_of_strings(&super::routes::ogc::QUERYABLES_FORMATS)
}

/// `filter-lang`.
pub fn filter_langs() -> utoipa::openapi::Object {
    one_of_strings(&super::routes::ogc::FILTER_LANGS)
}

/// `"FeatureCollection"`.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only: the handlers read and write this JSON themselves.
pub enum FeatureCollectionType {
    /// The one value.
    FeatureCollection,
}

/// `"Feature"`.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub enum FeatureType {
    /// The one value.
    Feature,
}

/// `"Polygon"`.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub enum PolygonType {
    /// The one value.
    Polygon,
}

/// `"MultiPolygon"`.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub enum MultiPolygonType {
    /// The one value.
    MultiPolygon,
}

/// A GeoJSON FeatureCollection as the layers and `/items` answer it.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub struct GeoJsonFeatureCollection {
    /// Always `FeatureCollection`.
    #[schema(inline)]
    pub r#type: FeatureCollectionType,
    /// The features: `type`, `id`, `geometry` (MultiPolygon), `properties`.
    pub features: Vec<Value>,
}

/// The body of `POST /api/lookup` as GeoJSON: a FeatureCollection whose features are Points (lon, lat in
/// WGS84). A feature that is not a Point, or whose coordinates are out of range, is answered with an
/// `error` property in its place (the batch goes on).
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub struct PointFeatureCollection {
    /// Always `FeatureCollection`.
    #[schema(inline)]
    pub r#type: FeatureCollectionType,
    /// `{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": {...}}`,
    /// up to 1,000,000.
    pub features: Vec<Value>,
}

/// A GeoJSON Polygon: rings of at least four positions, the first the outer ring.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub struct GeoJsonPolygon {
    /// Always `Polygon`.
    #[schema(inline)]
    pub r#type: PolygonType,
    /// Rings of `[lon, lat]` positions.
    #[schema(min_items = 1)]
    pub coordinates: Vec<Vec<Vec<f64>>>,
}

/// A GeoJSON MultiPolygon.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub struct GeoJsonMultiPolygon {
    /// Always `MultiPolygon`.
    #[schema(inline)]
    pub r#type: MultiPolygonType,
    /// Polygons, each rings of `[lon, lat]` positions.
    #[schema(min_items = 1)]
    pub coordinates: Vec<Vec<Vec<Vec<f64>>>>,
}

/// A polygon geometry.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
#[serde(untagged)]
pub enum PolygonGeometry {
    /// A Polygon.
    Polygon(GeoJsonPolygon),
    /// A MultiPolygon.
    MultiPolygon(GeoJsonMultiPolygon),
}

/// A GeoJSON Feature holding a Polygon or MultiPolygon.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
pub struct PolygonFeature {
    /// Always `Feature`.
    #[schema(inline)]
    pub r#type: FeatureType,
    /// The site's outline.
    pub geometry: PolygonGeometry,
    /// Anything; not read.
    pub properties: Option<Map<String, Value>>,
}

/// The body of `POST /api/intersects`: a Polygon or MultiPolygon, or a Feature holding one.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code)] // Documentation only.
#[serde(untagged)]
pub enum IntersectsBody {
    /// A Polygon.
    Polygon(GeoJsonPolygon),
    /// A MultiPolygon.
    MultiPolygon(GeoJsonMultiPolygon),
    /// A Feature holding one.
    Feature(PolygonFeature),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_31_schema_becomes_a_30_schema() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "license": {"name": "MIT", "identifier": "MIT"}},
            "paths": {"/a": {"get": {"parameters": [
                {"name": "q", "in": "query", "schema": {"type": ["string", "null"], "examples": ["x"]}}
            ], "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/S"}]},
                "examples": {"one": {"value": 1}}
            }}}}}}},
            "components": {"schemas": {"S": {"type": "object", "properties": {
                "n": {"type": ["integer", "null"], "exclusiveMinimum": 0},
                "k": {"const": "K"},
                "schema": {"type": "array", "items": {"type": ["number", "null"]}}
            }}}}
        });
        let out = to_openapi_30(doc);
        assert_eq!(out["openapi"], "3.0.3");
        assert!(out["info"]["license"].get("identifier").is_none());
        let q = &out["paths"]["/a"]["get"]["parameters"][0]["schema"];
        assert_eq!(q, &json!({"type": "string", "nullable": true, "example": "x"}));
        let content = &out["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"];
        assert_eq!(
            content["schema"],
            json!({"allOf": [{"$ref": "#/components/schemas/S"}], "nullable": true})
        );
        // A media type's `examples` is a map in 3.0 too: left alone.
        assert_eq!(content["examples"], json!({"one": {"value": 1}}));
        let s = &out["components"]["schemas"]["S"]["properties"];
        assert_eq!(
            s["n"],
            json!({"type": "integer", "nullable": true, "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(s["k"], json!({"enum": ["K"]}));
        // A property named `schema` is a property, converted as one.
        assert_eq!(s["schema"]["items"], json!({"type": "number", "nullable": true}));
    }
}
