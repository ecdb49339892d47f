//! OGC API – Tiles (Core, TileSet, TileSets list, GeoData tilesets, MVT) over the server's own vector tiles,
//! in the one tiling scheme they use, `WebMercatorQuad` (OGC 17-083r4, the 2D Tile Matrix Set standard):
//! the tile matrix set definition, each collection's tilesets and tileset metadata, with the limits of the
//! tiles that hold its features at every zoom. The tiles themselves are the `/tiles` ones.

use geo::Rect;
use serde_json::{Value, json};

use super::LayerSet;
use super::tilejson::{FINEST_ZOOM, bounds_of, tile_layers, vector_layer};
use super::tiles::MAX_ZOOM;
use crate::atlas::Atlas;
use crate::model::UnitKind;

/// The one tiling scheme.
pub const WEB_MERCATOR_QUAD: &str = "WebMercatorQuad";
/// Its URI in the OGC register.
pub const WEB_MERCATOR_QUAD_URI: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
const EPSG_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";
const MVT: &str = "application/vnd.mapbox-vector-tile";
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";
/// Half the extent of Web Mercator, metres.
const ORIGIN: f64 = 20_037_508.342_789_244;
/// Scale denominator and cell size of zoom 0 (256-pixel tiles, 0.28 mm pixels).
const SCALE_0: f64 = 559_082_264.028_717_8;
const CELL_0: f64 = 156_543.033_928_041;

/// Conformance classes of OGC API – Tiles this server implements.
pub const CONFORMANCE: [&str; 6] = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
];

/// `/ogc/tileMatrixSets`: the schemes offered.
#[must_use]
pub fn tile_matrix_sets(base: &str) -> Value {
    json!({
        "tileMatrixSets": [{
            "id": WEB_MERCATOR_QUAD,
            "title": "Google Maps Compatible for the World",
            "uri": WEB_MERCATOR_QUAD_URI,
            "links": [{"href": format!("{base}/ogc/tileMatrixSets/{WEB_MERCATOR_QUAD}"), "rel": "self", "type": "application/json", "title": "WebMercatorQuad"}]
        }]
    })
}

/// `/ogc/tileMatrixSets/WebMercatorQuad`: the definition, zooms 0 to [`MAX_ZOOM`] (the tiles the server
/// answers; the data is prepared up to [`FINEST_ZOOM`]).
#[must_use]
pub fn web_mercator_quad() -> Value {
    let matrices: Vec<Value> = (0..=MAX_ZOOM)
        .map(|z| {
            let n = 1u64 << z;
            #[allow(clippy::cast_precision_loss)]
            let f = n as f64;
            json!({
                "id": z.to_string(),
                "scaleDenominator": SCALE_0 / f,
                "cellSize": CELL_0 / f,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-ORIGIN, ORIGIN],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": n,
                "matrixHeight": n,
            })
        })
        .collect();
    json!({
        "id": WEB_MERCATOR_QUAD,
        "title": "Google Maps Compatible for the World",
        "uri": WEB_MERCATOR_QUAD_URI,
        "boundingBox": {"lowerLeft": [-ORIGIN, -ORIGIN], "upperRight": [ORIGIN, ORIGIN], "crs": EPSG_3857},
        "crs": EPSG_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    })
}

/// The tile `(col, row)` at zoom `z` holding `(lon, lat)`, clamped to the grid.
fn tile_of(z: u8, lon: f64, lat: f64) -> (u64, u64) {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let clamp = |v: f64| v.floor().clamp(0.0, n - 1.0) as u64;
    (clamp(x), clamp(y))
}

/// Whether `collection` has vector tiles.
#[must_use]
pub fn has_tiles(atlas: &Atlas, layers: &LayerSet, collection: &str) -> bool {
    match collection {
        "epci" => layers.units(UnitKind::Epci).is_some(),
        "ept" => layers.units(UnitKind::Ept).is_some(),
        other => other
            .strip_prefix("territories-")
            .is_some_and(|e| atlas.edition(e).is_some() && layers.territories(e).is_some()),
    }
}

fn tileset_links(base: &str, collection: &str) -> Vec<Value> {
    let here = format!("{base}/ogc/collections/{collection}/tiles/{WEB_MERCATOR_QUAD}");
    vec![
        json!({"href": here, "rel": "self", "type": "application/json", "title": format!("{collection} tiles, WebMercatorQuad")}),
        json!({"href": format!("{base}/ogc/tileMatrixSets/{WEB_MERCATOR_QUAD}"), "rel": REL_TILING_SCHEME, "type": "application/json", "title": "WebMercatorQuad"}),
        json!({"href": format!("{here}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"), "rel": "item", "type": MVT, "templated": true, "title": "Vector tiles"}),
        json!({"href": format!("{base}/tiles/{collection}.json"), "rel": "describedby", "type": "application/json", "title": "TileJSON"}),
        json!({"href": format!("{base}/ogc/collections/{collection}"), "rel": "collection", "type": "application/json"}),
    ]
}

/// `/ogc/collections/{id}/tiles`: its tilesets (one, in WebMercatorQuad), or `None` without tiles.
#[must_use]
pub fn tilesets(atlas: &Atlas, layers: &LayerSet, collection: &str, base: &str) -> Option<Value> {
    has_tiles(atlas, layers, collection).then(|| {
        json!({
            "links": [{"href": format!("{base}/ogc/collections/{collection}/tiles"), "rel": "self", "type": "application/json"}],
            "tilesets": [{
                "title": format!("{collection} (vector tiles)"),
                "dataType": "vector",
                "crs": EPSG_3857,
                "tileMatrixSetURI": WEB_MERCATOR_QUAD_URI,
                "links": tileset_links(base, collection),
            }]
        })
    })
}

/// `/ogc/collections/{id}/tiles/WebMercatorQuad`: the tileset's metadata, with the limits of the tiles
/// that hold features at each zoom the data is prepared for, and the layer's fields.
#[must_use]
pub fn tileset(atlas: &Atlas, layers: &LayerSet, collection: &str, base: &str) -> Option<Value> {
    let (name, layer, boxes) = tile_layers(atlas, layers).into_iter().find(|(n, _, _)| n == collection)?;
    let [w, s, e, n] = bounds_of(&boxes);
    let limits: Vec<Value> = (0..=FINEST_ZOOM)
        .map(|z| {
            let (min_col, min_row) = tile_of(z, w, n);
            let (max_col, max_row) = tile_of(z, e, s);
            json!({"tileMatrix": z.to_string(), "minTileRow": min_row, "maxTileRow": max_row, "minTileCol": min_col, "maxTileCol": max_col})
        })
        .collect();
    let described = vector_layer(&name, layer);
    let properties: serde_json::Map<String, Value> = described["fields"]
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(k, t)| {
                    let ty = match t.as_str() {
                        Some("Number") => "number",
                        Some("Boolean") => "boolean",
                        _ => "string",
                    };
                    (k.clone(), json!({ "type": ty }))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(json!({
        "title": format!("{collection} (vector tiles)"),
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": WEB_MERCATOR_QUAD_URI,
        "boundingBox": {"lowerLeft": [w, s], "upperRight": [e, n], "crs": crate::source::crs::CRS84_URI},
        "tileMatrixSetLimits": limits,
        "layers": [{
            "id": name,
            "dataType": "vector",
            "geometryDimension": 2,
            "minTileMatrix": "0",
            "maxTileMatrix": FINEST_ZOOM.to_string(),
            "propertiesSchema": {"type": "object", "properties": properties},
        }],
        "links": tileset_links(base, collection),
    }))
}

/// `/ogc/tiles`: every collection's tileset, for clients that start from the dataset.
#[must_use]
pub fn dataset_tilesets(atlas: &Atlas, layers: &LayerSet, base: &str) -> Value {
    let tilesets: Vec<Value> = tile_layers(atlas, layers)
        .into_iter()
        .map(|(name, _, _)| {
            json!({
                "title": format!("{name} (vector tiles)"),
                "dataType": "vector",
                "crs": EPSG_3857,
                "tileMatrixSetURI": WEB_MERCATOR_QUAD_URI,
                "links": tileset_links(base, &name),
            })
        })
        .collect();
    json!({
        "links": [{"href": format!("{base}/ogc/tiles"), "rel": "self", "type": "application/json"}],
        "tilesets": tilesets,
    })
}

/// The box of a tile of WebMercatorQuad, in degrees (for tests and clients' checks).
#[must_use]
pub fn tile_bounds(z: u8, col: u32, row: u32) -> Rect<f64> {
    let n = f64::from(1u32 << z);
    let lon = |c: f64| c / n * 360.0 - 180.0;
    let lat = |r: f64| (std::f64::consts::PI * (1.0 - 2.0 * r / n)).sinh().atan().to_degrees();
    Rect::new((lon(f64::from(col)), lat(f64::from(row + 1))), (lon(f64::from(col + 1)), lat(f64::from(row))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_and_their_bounds_agree() {
        // Soissons at zoom 12: the tile holding it contains it.
        let (col, row) = tile_of(12, 3.3235, 49.3817);
        #[allow(clippy::cast_possible_truncation)]
        let b = tile_bounds(12, col as u32, row as u32);
        assert!(b.min().x <= 3.3235 && 3.3235 <= b.max().x && b.min().y <= 49.3817 && 49.3817 <= b.max().y);
        let quad = web_mercator_quad();
        assert_eq!(quad["tileMatrices"][0]["matrixWidth"], 1);
        assert_eq!(quad["tileMatrices"][12]["matrixWidth"], 4096);
    }
}
