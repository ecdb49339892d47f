//! TileJSON 3.0.0 for each tile layer (`territories-EDITION`, `epci`, `ept`), as martin serves it, so
//! MapLibre, QGIS and other clients add a layer from one URL: the tile URL template, bounds, zooms and
//! the `vector_layers` with their fields. The same `vector_layers` describe the PMTiles export.

use geo::Rect;
use serde_json::{Value, json};

use super::LayerSet;
use super::layers::Layer;
use super::places::{PLACES, Places};
use crate::atlas::Atlas;
use crate::atlas::features::Source;
use crate::model::UnitKind;

/// Finest zoom the layers are simplified for; clients overzoom beyond it (the server still answers
/// deeper tiles, up to [`super::tiles::MAX_ZOOM`]).
pub const FINEST_ZOOM: u8 = 12;

/// The tile layers, as the server names them (`territories-EDITION`, `epci`, `ept`), each with its layer
/// and the bounding boxes of its features.
#[must_use]
pub fn tile_layers<'a>(atlas: &Atlas, layers: &'a LayerSet) -> Vec<(String, &'a Layer, Vec<Rect<f64>>)> {
    let boxes = |source: Source| {
        (0..atlas.collection_len(source)).filter_map(|i| atlas.feature_bbox(source, i)).collect::<Vec<_>>()
    };
    let mut out: Vec<(String, &Layer, Vec<Rect<f64>>)> = atlas
        .positioned_editions()
        .filter_map(|(i, e)| {
            Some((
                format!("territories-{}", e.edition.id),
                layers.territories(e.edition.id.as_str())?,
                boxes(Source::Territories(i)),
            ))
        })
        .collect();
    for (kind, name) in [(UnitKind::Epci, "epci"), (UnitKind::Ept, "ept")] {
        if let Some(layer) = layers.units(kind) {
            out.push((name.to_owned(), layer, boxes(Source::Units(kind))));
        }
    }
    out
}

/// One entry of `vector_layers`: the MVT layer's name, its fields and types, its zooms.
#[must_use]
pub fn vector_layer(name: &str, layer: &Layer) -> Value {
    let fields: serde_json::Map<String, Value> =
        layer.fields().into_iter().map(|(k, t)| (k, t.into())).collect();
    json!({ "id": name, "fields": fields, "minzoom": 0, "maxzoom": FINEST_ZOOM })
}

/// TileJSON of the `places` layer: commune names (points) and, from zoom 10, commune boundaries.
fn places_tilejson(layers: &LayerSet, base: &str) -> Value {
    let places = layers.places();
    let vector_layers: Vec<Value> = Places::vector_layers()
        .into_iter()
        .map(|(id, fields, minzoom)| {
            let fields: serde_json::Map<String, Value> =
                fields.into_iter().map(|(k, t)| (k.to_owned(), t.into())).collect();
            json!({ "id": id, "fields": fields, "minzoom": minzoom, "maxzoom": FINEST_ZOOM })
        })
        .collect();
    json!({
        "tilejson": "3.0.0",
        "name": PLACES,
        "description": "Commune names, most important first (regional capitals, prefectures, then by population), and commune boundaries from zoom 10",
        "tiles": [format!("{base}/tiles/{PLACES}/{{z}}/{{x}}/{{y}}.mvt")],
        "scheme": "xyz",
        "minzoom": 0,
        "maxzoom": FINEST_ZOOM,
        "bounds": bounds_of(&places.bounds().into_iter().collect::<Vec<_>>()),
        "center": [2.5, 46.6, 5],
        "attribution": crate::atlas::features::UNITS_ATTRIBUTION,
        "vector_layers": vector_layers,
    })
}

/// `[west, south, east, north]` around all these boxes; the whole world when there is none.
#[must_use]
pub fn bounds_of(boxes: &[Rect<f64>]) -> [f64; 4] {
    if boxes.is_empty() {
        return [-180.0, -85.051_128_78, 180.0, 85.051_128_78];
    }
    boxes.iter().fold([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], |b, r| {
        [b[0].min(r.min().x), b[1].min(r.min().y), b[2].max(r.max().x), b[3].max(r.max().y)]
    })
}

/// The TileJSON document of the tile layer `name`, its tile URLs under `base` (`https://host`), or
/// `None` when no layer has that name.
#[must_use]
pub fn tilejson(atlas: &Atlas, layers: &LayerSet, name: &str, base: &str) -> Option<Value> {
    if name == PLACES {
        return Some(places_tilejson(layers, base));
    }
    let (name, layer, boxes) = tile_layers(atlas, layers).into_iter().find(|(n, _, _)| n == name)?;
    let attribution = match name.strip_prefix("territories-").and_then(|id| atlas.edition(id)) {
        Some(e) => e.edition.meta.attribution.clone().unwrap_or_default(),
        None => crate::atlas::features::UNITS_ATTRIBUTION.to_owned(),
    };
    Some(json!({
        "tilejson": "3.0.0",
        "name": name,
        "tiles": [format!("{base}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt")],
        "scheme": "xyz",
        "minzoom": 0,
        "maxzoom": FINEST_ZOOM,
        "bounds": bounds_of(&boxes),
        "center": [2.5, 46.6, 5],
        "attribution": attribution,
        "vector_layers": [vector_layer(&name, layer)],
    }))
}
