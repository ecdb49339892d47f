//! Map layers: GeoJSON of territory outlines and unit boundaries, simplified per zoom level with the
//! topology kept (a border shared by two features is simplified once, so neighbours never gain gaps or
//! overlaps), coordinates rounded to what the zoom needs, valid by OGC rules on that grid and never
//! empty, serialised once at build; vector tiles clipped by a polygon overlay on the tile grid.
//!
//! Handlers only pick pre-serialised features (optionally by bounding box) and concatenate them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use super::encoded::Encoded;
use super::tiles::{TileCache, TileCoord, TileError};

/// Vector tile grid size.
pub const TILE_EXTENT: u32 = 4096;
/// Grid units drawn beyond each tile edge, so outlines do not show seams.
const TILE_BUFFER: f64 = 64.0;

/// Media type of GeoJSON answers.
pub const GEOJSON: &str = "application/geo+json";

use geo::orient::{Direction, Orient};
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect, Simplify};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{IntOverlayOptions, Overlay};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::core::solver::Solver;
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::{IntContour, IntShapes};
use rayon::prelude::*;

/// Zoom levels a layer is prepared for; a request uses the first one at or above its zoom.
pub const ZOOMS: [u8; 5] = [4, 6, 8, 10, 12];

/// One feature to draw: an id, its properties (a JSON object) and its geometry.
#[derive(Debug, Clone)]
pub struct LayerFeature {
    /// Feature id (territory id, SIREN).
    pub id: String,
    /// Properties, as a JSON object.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Full-detail geometry in WGS84.
    pub geometry: MultiPolygon<f64>,
}

/// One feature prepared for one zoom level.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Prepared {
    /// Position in the layer's feature list.
    feature: usize,
    /// Bounding box of the full-detail geometry.
    bbox: Rect<f64>,
    /// Where its GeoJSON Feature text is in the level's whole collection (kept once, there).
    json: std::ops::Range<usize>,
    /// The simplified geometry, for vector tiles.
    geometry: MultiPolygon<f64>,
}

/// Arcs making one ring: (arc index, walked backwards?).
type RingArcs = Vec<(usize, bool)>;

/// A layer ready to serve: per zoom level, every feature serialised, with its bounding box.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Layer {
    /// Feature ids and properties, in input order.
    #[serde(with = "json_objects")]
    meta: Vec<(String, serde_json::Map<String, serde_json::Value>)>,
    /// `(zoom, features)` in [`ZOOMS`] order.
    levels: Vec<(u8, Vec<Prepared>)>,
    /// The whole collection per level, ready to serve.
    #[serde(with = "geojson_bodies")]
    full: Vec<Encoded>,
    /// Tiles made so far, kept up to [`super::tiles::TILE_CACHE_BYTES`].
    #[serde(skip)]
    tiles: TileCache,
}

/// Serde for a layer's properties: each object as its JSON text, because compact binary formats (the
/// snapshot's) cannot read a self-describing `serde_json::Value` back.
mod json_objects {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Meta = Vec<(String, serde_json::Map<String, serde_json::Value>)>;

    pub fn serialize<S: Serializer>(meta: &Meta, serializer: S) -> Result<S::Ok, S::Error> {
        let texts: Result<Vec<(&str, String)>, _> =
            meta.iter().map(|(id, p)| serde_json::to_string(p).map(|t| (id.as_str(), t))).collect();
        texts.map_err(serde::ser::Error::custom)?.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Meta, D::Error> {
        Vec::<(String, String)>::deserialize(deserializer)?
            .into_iter()
            .map(|(id, text)| serde_json::from_str(&text).map(|p| (id, p)).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Serde for a layer's whole collections: the GeoJSON bodies only; their ETags are made again on reading.
mod geojson_bodies {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Encoded, GEOJSON};

    pub fn serialize<S: Serializer>(full: &[Encoded], serializer: S) -> Result<S::Ok, S::Error> {
        full.iter().map(|e| &e.identity).collect::<Vec<&Bytes>>().serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Encoded>, D::Error> {
        Ok(Vec::<Bytes>::deserialize(deserializer)?.into_iter().map(|b| Encoded::new(b, GEOJSON)).collect())
    }
}

/// Media type of vector tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

impl Layer {
    /// Simplifies and serialises `features` for every zoom in [`ZOOMS`].
    #[must_use]
    pub fn build(features: &[LayerFeature]) -> Self {
        let geometries: Vec<&MultiPolygon<f64>> = features.iter().map(|f| &f.geometry).collect();
        let topology = Topology::new(&geometries);
        // Per level: the features, simplified and serialised once into the whole collection.
        let (levels, full): (Vec<(u8, Vec<Prepared>)>, Vec<Encoded>) = ZOOMS
            .par_iter()
            .map(|&zoom| {
                let decimals = decimals(zoom);
                let simplified = topology.simplify_valid(tolerance(zoom), Grid::new(decimals));
                let mut body = String::from(COLLECTION_START);
                let mut prepared = Vec::new();
                for (feature, (f, geometry)) in features.iter().zip(simplified).enumerate() {
                    if geometry.0.is_empty() {
                        continue;
                    }
                    if !prepared.is_empty() {
                        body.push(',');
                    }
                    let start = body.len();
                    push_feature_json(&mut body, f, &geometry, decimals);
                    let bbox =
                        f.geometry.bounding_rect().unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)));
                    prepared.push(Prepared { feature, bbox, json: start..body.len(), geometry });
                }
                body.push_str(COLLECTION_END);
                ((zoom, prepared), Encoded::new(body, GEOJSON))
            })
            .unzip();
        let meta = features.iter().map(|f| (f.id.clone(), f.properties.clone())).collect();
        Self { meta, levels, full, tiles: TileCache::default() }
    }

    /// The properties its features carry in tiles, with their TileJSON type (`String`, `Number`,
    /// `Boolean`), `id` first, in first-seen order.
    #[must_use]
    pub fn fields(&self) -> Vec<(String, &'static str)> {
        let mut fields: Vec<(String, &'static str)> = vec![("id".into(), "String")];
        for (_, properties) in &self.meta {
            for (key, value) in properties {
                let kind = match value {
                    serde_json::Value::String(_) => "String",
                    serde_json::Value::Number(_) => "Number",
                    serde_json::Value::Bool(_) => "Boolean",
                    _ => continue,
                };
                if !fields.iter().any(|(k, _)| k == key) {
                    fields.push((key.clone(), kind));
                }
            }
        }
        fields
    }

    /// The whole layer at `zoom`, pre-serialised, with its ETag and compressed forms.
    #[must_use]
    pub fn full(&self, zoom: Option<f64>) -> &Encoded {
        let z = Self::level_zoom(zoom);
        let i = ZOOMS.iter().position(|&l| l == z).unwrap_or(ZOOMS.len() - 1);
        &self.full[i]
    }

    /// A FeatureCollection for `zoom` (the prepared level at or above it), limited to features whose
    /// bounding box meets `bbox` when given.
    #[must_use]
    pub fn collection(&self, zoom: Option<f64>, bbox: Option<Rect<f64>>) -> String {
        let body = self.full(zoom).body(super::encoded::Encoding::Identity);
        let level = self.level(zoom);
        let mut out = String::from(COLLECTION_START);
        let mut first = true;
        for p in level {
            if bbox.is_some_and(|b| !intersects(b, p.bbox)) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            // The ranges were cut at feature boundaries of a UTF-8 string.
            out.push_str(std::str::from_utf8(&body[p.json.clone()]).unwrap_or_default());
        }
        out.push_str(COLLECTION_END);
        out
    }

    /// The prepared zoom level used for a requested zoom.
    #[must_use]
    pub fn level_zoom(zoom: Option<f64>) -> u8 {
        let z = zoom.unwrap_or(f64::from(ZOOMS[ZOOMS.len() - 1]));
        ZOOMS.iter().copied().find(|&l| f64::from(l) >= z).unwrap_or(ZOOMS[ZOOMS.len() - 1])
    }

    /// Vector tile `z/x/y` (Web Mercator XYZ scheme) with one layer named `name`: the features meeting
    /// the tile, simplified for its zoom, in a 4096 grid with a 64-unit buffer, clipped by a polygon
    /// intersection so every polygon is valid on the grid, exteriors positive by the surveyor's formula.
    ///
    /// # Errors
    /// An encoding failure.
    pub fn tile(&self, name: &str, coord: TileCoord) -> Result<Vec<u8>, TileError> {
        let bounds = coord.bounds(TILE_BUFFER / f64::from(TILE_EXTENT));
        let mut tile = mvt::Tile::new(TILE_EXTENT);
        let mut layer = tile.create_layer(name);
        for p in self.level(Some(f64::from(coord.z()))) {
            if !intersects(bounds, p.bbox) {
                continue;
            }
            let data = polygon_tile_geometry(&p.geometry, coord)?;
            if data.is_empty() {
                continue;
            }
            let (id, properties) = &self.meta[p.feature];
            let mut feature = layer.into_feature(data);
            feature.add_tag_string("id", id);
            add_tags(&mut feature, properties);
            layer = feature.into_layer();
        }
        tile.add_layer(layer).map_err(encode_error)?;
        tile.to_bytes().map_err(encode_error)
    }

    /// [`Layer::tile`], made once and then served from memory with its ETag and compressed forms while
    /// the layer's tile cache has room.
    ///
    /// # Errors
    /// As [`Layer::tile`].
    pub fn tile_encoded(&self, name: &str, coord: TileCoord) -> Result<Arc<Encoded>, TileError> {
        self.tiles.get_or_make(coord, || Ok(Encoded::new(self.tile(name, coord)?, MVT)))
    }

    fn level(&self, zoom: Option<f64>) -> &[Prepared] {
        let z = Self::level_zoom(zoom);
        self.levels.iter().find(|(l, _)| *l == z).map_or(&[], |(_, f)| f.as_slice())
    }
}

pub(super) fn encode_error(e: impl std::fmt::Display) -> TileError {
    TileError::Encode(e.to_string())
}

/// `geometry` (WGS84) as the geometry of a polygon feature of tile `coord`: in a 4096 grid with a 64-unit
/// buffer, clipped by a polygon intersection so every polygon is valid on the grid, exteriors positive by
/// the surveyor's formula. Empty when nothing of it is in the tile.
///
/// # Errors
/// An encoding failure.
pub(super) fn polygon_tile_geometry(
    geometry: &MultiPolygon<f64>,
    coord: TileCoord,
) -> Result<mvt::GeomData, TileError> {
    let extent = f64::from(TILE_EXTENT);
    let project = |c: &Coord<f64>| coord.project(c, extent);
    // Clipped to the buffered tile on the integer grid by a polygon overlay: the output is valid on the
    // grid the tile stores (no clamped points, no self-touching rings), rings under a grid unit of area
    // are left out, exteriors come out positive by the surveyor's formula (clockwise on screen, y down),
    // each followed by its holes.
    let (lo, hi) = (-TILE_BUFFER, extent + TILE_BUFFER);
    #[allow(clippy::cast_possible_truncation)]
    // One unit inside the buffer line: the overlay snaps points within a unit of an edge onto it.
    let (ilo, ihi) = (lo as i32 + 1, hi as i32 - 1);
    let tile_box: IntContour = vec![
        IntPoint::new(ilo, ilo),
        IntPoint::new(ihi, ilo),
        IntPoint::new(ihi, ihi),
        IntPoint::new(ilo, ihi),
    ];
    let subject: Vec<IntContour> = geometry
        .0
        .iter()
        .flat_map(rings_of)
        .filter_map(|ring| {
            let points: Vec<(f64, f64)> =
                ring.0[..ring.0.len().saturating_sub(1)].iter().map(project).collect();
            // Far-away parts are cut off in floating point first, so the grid stays small.
            let points = clip_ring_to_square(points, lo - PRECLIP_MARGIN, hi + PRECLIP_MARGIN);
            #[allow(clippy::cast_possible_truncation)]
            let mut contour: IntContour =
                points.iter().map(|&(x, y)| IntPoint::new(x.round() as i32, y.round() as i32)).collect();
            contour.dedup();
            while contour.len() > 1 && contour.first() == contour.last() {
                contour.pop();
            }
            (contour.len() >= 3).then_some(contour)
        })
        .collect();
    let mut encoder = mvt::GeomEncoder::new(mvt::GeomType::Polygon);
    if subject.is_empty() {
        return encoder.encode().map_err(encode_error);
    }
    let shapes = Overlay::with_contours_custom(
        &subject,
        std::slice::from_ref(&tile_box),
        valid_output(1),
        Solver::default(),
    )
    .overlay(OverlayRule::Intersect, FillRule::NonZero);
    let mut last: Option<(f64, f64)> = None;
    for shape in &shapes {
        for (r, contour) in shape.iter().enumerate() {
            let mut points: Vec<(f64, f64)> =
                contour.iter().map(|q| (f64::from(q.x), f64::from(q.y))).collect();
            let area = shoelace(&points);
            if (r == 0) != (area > 0.0) {
                points.reverse();
            }
            // A ring starting where the previous one ended would be written without its MoveTo
            // (the encoder elides repeated points), which readers take apart differently.
            if last.is_some() && points.first() == last.as_ref() {
                points.rotate_left(1);
            }
            last = points.last().copied();
            for (tx, ty) in points {
                encoder.add_point(tx, ty).map_err(encode_error)?;
            }
            encoder.complete_geom().map_err(encode_error)?;
        }
    }
    encoder.encode().map_err(encode_error)
}

/// Writes JSON properties as tile tags (strings, integers, doubles, booleans; others left out).
pub(super) fn add_tags(feature: &mut mvt::Feature, properties: &serde_json::Map<String, serde_json::Value>) {
    for (key, value) in properties {
        match value {
            serde_json::Value::String(s) => feature.add_tag_string(key, s),
            serde_json::Value::Number(v) => {
                if let Some(i) = v.as_i64() {
                    feature.add_tag_int(key, i);
                } else if let Some(f) = v.as_f64() {
                    feature.add_tag_double(key, f);
                }
            }
            serde_json::Value::Bool(b) => feature.add_tag_bool(key, *b),
            _ => {}
        }
    }
}

/// Tile grid units kept beyond the buffer when cutting far-away parts off before the exact clip.
const PRECLIP_MARGIN: f64 = 1024.0;

/// The part of closed `ring` inside the square `[lo, hi]²` (Sutherland–Hodgman): exact inside the square,
/// possibly with zero-width runs along its edges, which the exact clip against the smaller tile box drops.
fn clip_ring_to_square(ring: Vec<(f64, f64)>, lo: f64, hi: f64) -> Vec<(f64, f64)> {
    if ring.iter().all(|&(x, y)| (lo..=hi).contains(&x) && (lo..=hi).contains(&y)) {
        return ring;
    }
    let mut points = ring;
    // Edges of the square: (coordinate 0 = x / 1 = y, limit, inside when below the limit?).
    for (axis, limit, below) in [(0, lo, false), (0, hi, true), (1, lo, false), (1, hi, true)] {
        let value = |p: (f64, f64)| if axis == 0 { p.0 } else { p.1 };
        let inside = |p: (f64, f64)| if below { value(p) <= limit } else { value(p) >= limit };
        let crossing = |a: (f64, f64), b: (f64, f64)| {
            let t = (limit - value(a)) / (value(b) - value(a));
            if axis == 0 { (limit, a.1 + t * (b.1 - a.1)) } else { (a.0 + t * (b.0 - a.0), limit) }
        };
        let mut out = Vec::with_capacity(points.len());
        for i in 0..points.len() {
            let (prev, cur) = (points[(i + points.len() - 1) % points.len()], points[i]);
            match (inside(prev), inside(cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(crossing(prev, cur)),
                (false, true) => {
                    out.push(crossing(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
        points = out;
        if points.is_empty() {
            break;
        }
    }
    points
}

/// Signed area by the surveyor's formula (positive for clockwise rings in a y-down grid).
fn shoelace(points: &[(f64, f64)]) -> f64 {
    let n = points.len();
    (0..n)
        .map(|i| {
            let (a, b) = (points[i], points[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum::<f64>()
        / 2.0
}

fn intersects(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
}

/// Half a screen pixel at `zoom`, in degrees (256-pixel tiles).
fn tolerance(zoom: u8) -> f64 {
    0.5 * 360.0 / (256.0 * f64::from(1u32 << zoom))
}

/// Decimals that keep coordinates within a tenth of a pixel at `zoom`.
fn decimals(zoom: u8) -> usize {
    let per_degree = 256.0 * f64::from(1u32 << zoom) / 360.0 * 10.0;
    // Bounded: at most 7 decimals (1 cm), at least 2.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let d = per_degree.log10().ceil().clamp(2.0, 7.0) as usize;
    d
}

const COLLECTION_START: &str = r#"{"type":"FeatureCollection","features":["#;
const COLLECTION_END: &str = "]}";

/// Appends one GeoJSON Feature to `out`.
fn push_feature_json(out: &mut String, f: &LayerFeature, g: &MultiPolygon<f64>, decimals: usize) {
    let id = serde_json::to_string(&f.id).unwrap_or_default();
    let props = serde_json::to_string(&f.properties).unwrap_or_else(|_| "{}".into());
    let _ = write!(
        out,
        r#"{{"type":"Feature","id":{id},"properties":{props},"geometry":{{"type":"MultiPolygon","coordinates":["#
    );
    for (i, p) in g.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        for (j, ring) in std::iter::once(p.exterior()).chain(p.interiors()).enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push('[');
            for (k, c) in ring.0.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push('[');
                push_rounded(out, c.x, decimals);
                out.push(',');
                push_rounded(out, c.y, decimals);
                out.push(']');
            }
            out.push(']');
        }
        out.push(']');
    }
    out.push_str("]}}");
}

/// `x` rounded to `decimals`, printed without trailing zeros.
#[cfg(test)]
fn round(x: f64, decimals: usize) -> String {
    let mut s = String::new();
    push_rounded(&mut s, x, decimals);
    s
}

/// Appends `x` rounded to `decimals` (at most 9), without trailing zeros. Layers print millions of
/// coordinates, so this goes through integers rather than float formatting.
fn push_rounded(out: &mut String, x: f64, decimals: usize) {
    const POW10: [i64; 10] =
        [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];
    let decimals = decimals.min(9);
    let scale = POW10[decimals];
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let scaled = (x * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 9e15 {
        let _ = write!(out, "{x}");
        return;
    }
    #[allow(clippy::cast_possible_truncation)]
    let v = scaled as i64;
    if v < 0 {
        out.push('-');
    }
    let (int, mut frac) = (v.unsigned_abs() / scale.unsigned_abs(), v.unsigned_abs() % scale.unsigned_abs());
    let _ = write!(out, "{int}");
    if frac != 0 {
        let mut digits = decimals;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, ".{frac:0digits$}");
    }
}

type Key = (u64, u64);

fn key(c: Coord<f64>) -> Key {
    (c.x.to_bits(), c.y.to_bits())
}

/// Rings split into arcs at the vertices where borders meet, so shared arcs are simplified once.
#[derive(Debug)]
struct Topology {
    /// Every arc once, in a canonical direction.
    arcs: Vec<Vec<Coord<f64>>>,
    /// Per feature, per polygon, per ring: the arcs (index, reversed?) that make it.
    rings: Vec<Vec<Vec<RingArcs>>>,
    /// Per arc: the features using it.
    users: Vec<Vec<usize>>,
    /// Per feature: its polygon with the largest exterior, kept when everything else collapses.
    largest: Vec<usize>,
    /// Per feature: its full-detail bounding box, its outline of last resort.
    bboxes: Vec<Option<Rect<f64>>>,
}

impl Topology {
    fn new(geometries: &[&MultiPolygon<f64>]) -> Self {
        // A vertex is a node where the border it sits on changes: it has neighbours other than the
        // two of one ring, i.e. three or more distinct neighbours over all rings.
        let mut neighbours: HashMap<Key, Vec<Key>> = HashMap::new();
        for ring in geometries.iter().flat_map(|g| g.0.iter()).flat_map(rings_of) {
            for w in ring.0.windows(2) {
                let (a, b) = (key(w[0]), key(w[1]));
                if a == b {
                    continue;
                }
                for (x, y) in [(a, b), (b, a)] {
                    let list = neighbours.entry(x).or_default();
                    if !list.contains(&y) {
                        list.push(y);
                    }
                }
            }
        }
        let is_node = |c: Coord<f64>| neighbours.get(&key(c)).is_some_and(|n| n.len() > 2);
        let mut arc_index: HashMap<Vec<Key>, usize> = HashMap::new();
        let mut arcs: Vec<Vec<Coord<f64>>> = Vec::new();
        let mut add_arc = |points: Vec<Coord<f64>>| -> (usize, bool) {
            let forward: Vec<Key> = points.iter().map(|c| key(*c)).collect();
            let mut backward = forward.clone();
            backward.reverse();
            let reversed = backward < forward;
            let canonical = if reversed { backward } else { forward };
            if let Some(&i) = arc_index.get(&canonical) {
                return (i, reversed);
            }
            let mut points = points;
            if reversed {
                points.reverse();
            }
            arcs.push(points);
            arc_index.insert(canonical, arcs.len() - 1);
            (arcs.len() - 1, reversed)
        };
        let rings: Vec<Vec<Vec<RingArcs>>> = geometries
            .iter()
            .map(|g| {
                g.0.iter()
                    .map(|p| {
                        rings_of(p)
                            .map(|ring| {
                                let mut pts: Vec<Coord<f64>> = ring.0.clone();
                                pts.dedup();
                                if pts.len() > 1 && pts.first() == pts.last() {
                                    pts.pop();
                                }
                                // Start the ring at a node (if any) so arcs end at nodes.
                                if let Some(start) = pts.iter().position(|c| is_node(*c)) {
                                    pts.rotate_left(start);
                                }
                                let mut out = Vec::new();
                                let mut current = vec![];
                                for (i, c) in pts.iter().enumerate() {
                                    current.push(*c);
                                    if i > 0 && is_node(*c) {
                                        out.push(add_arc(std::mem::replace(&mut current, vec![*c])));
                                    }
                                }
                                if let Some(first) = pts.first() {
                                    current.push(*first);
                                }
                                if current.len() > 1 {
                                    out.push(add_arc(current));
                                }
                                out
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); arcs.len()];
        for (f, polygons) in rings.iter().enumerate() {
            for &(arc, _) in polygons.iter().flatten().flatten() {
                if users[arc].last() != Some(&f) {
                    users[arc].push(f);
                }
            }
        }
        let largest = geometries
            .iter()
            .map(|g| {
                let areas = g.0.iter().map(|p| ring_area(p.exterior()).abs());
                areas.enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).map_or(0, |(i, _)| i)
            })
            .collect();
        let bboxes = geometries.iter().map(|g| g.bounding_rect()).collect();
        Self { arcs, rings, users, largest, bboxes }
    }

    /// Every geometry with each arc simplified by Douglas-Peucker at `epsilon` degrees and snapped to `grid`
    /// (what the GeoJSON prints), valid by OGC rules and never empty.
    ///
    /// Shared arcs are simplified once, so neighbours keep one border. A feature whose simplified form is
    /// invalid (a ring crossing itself or another, a hole out of its exterior, parts overlapping) or empty
    /// gets the arcs of its faulty polygons simplified again at a quarter of the tolerance, then a sixteenth,
    /// then not at all, re-checking every feature sharing them, until it is valid. What is still invalid
    /// then (the exact outline breaks on the grid) is repaired on the integer grid by an overlay; a feature
    /// smaller than the grid everywhere is drawn as its bounding box widened to one grid cell.
    fn simplify_valid(&self, epsilon: f64, grid: Grid) -> Vec<MultiPolygon<f64>> {
        const FACTORS: [f64; 4] = [1.0, 0.25, 1.0 / 16.0, 0.0];
        const EXACT: u8 = 3;
        let arc_at = |arc: usize, level: u8| -> Vec<Coord<f64>> {
            let factor = FACTORS[usize::from(level)];
            let points = if factor > 0.0 {
                LineString(self.arcs[arc].clone()).simplify(epsilon * factor).0
            } else {
                self.arcs[arc].clone()
            };
            let mut snapped: Vec<Coord<f64>> = points.into_iter().map(|c| grid.snap(c)).collect();
            snapped.dedup();
            snapped
        };
        let mut levels = vec![0u8; self.arcs.len()];
        let mut arcs: Vec<Vec<Coord<f64>>> =
            (0..self.arcs.len()).into_par_iter().map(|a| arc_at(a, 0)).collect();
        let mut geometries = vec![MultiPolygon(Vec::new()); self.rings.len()];
        let mut stuck = vec![false; self.rings.len()];
        let mut dirty: Vec<usize> = (0..self.rings.len()).collect();
        while !dirty.is_empty() {
            let checked: Vec<(usize, MultiPolygon<f64>, Vec<usize>)> = dirty
                .par_iter()
                .map(|&f| {
                    let (geometry, sources) = self.assemble(f, &arcs);
                    let faulty = self.faulty_polygons(f, &geometry, &sources, grid);
                    (f, geometry, faulty)
                })
                .collect();
            let mut refine: Vec<usize> = Vec::new();
            for (f, geometry, faulty) in checked {
                geometries[f] = geometry;
                let before = refine.len();
                for &p in &faulty {
                    for &(arc, _) in self.rings[f][p].iter().flatten() {
                        if levels[arc] < EXACT {
                            refine.push(arc);
                        }
                    }
                }
                stuck[f] = !faulty.is_empty() && refine.len() == before;
            }
            refine.sort_unstable();
            refine.dedup();
            for &arc in &refine {
                levels[arc] += 1;
            }
            let refined: Vec<(usize, Vec<Coord<f64>>)> =
                refine.par_iter().map(|&arc| (arc, arc_at(arc, levels[arc]))).collect();
            dirty.clear();
            for (arc, points) in refined {
                arcs[arc] = points;
                dirty.extend_from_slice(&self.users[arc]);
            }
            dirty.sort_unstable();
            dirty.dedup();
        }
        geometries
            .into_par_iter()
            .zip(stuck)
            .enumerate()
            .map(|(f, (geometry, stuck))| {
                let geometry =
                    if stuck { keep_valid_parts(repair_on_grid(&geometry, grid)) } else { geometry };
                if geometry.0.is_empty() {
                    self.bboxes[f].map_or(geometry, |b| MultiPolygon(vec![grid.cell_cover(b)]))
                } else {
                    geometry
                }
            })
            .collect()
    }

    /// Feature `f` made of `arcs` (already simplified and snapped), with, per polygon kept, the index of the
    /// polygon it comes from. Rings that simplification flattened or turned over are dropped (they are
    /// under the tolerance; holes are clockwise, exteriors not), polygons whose exterior collapses too.
    fn assemble(&self, f: usize, arcs: &[Vec<Coord<f64>>]) -> (MultiPolygon<f64>, Vec<usize>) {
        let mut sources = Vec::new();
        let polygons = self.rings[f]
            .iter()
            .enumerate()
            .filter_map(|(p, rings)| {
                let mut built = rings.iter().map(|ring| {
                    let mut pts: Vec<Coord<f64>> = Vec::new();
                    for &(arc, reversed) in ring {
                        let a = &arcs[arc];
                        let seq: Box<dyn Iterator<Item = &Coord<f64>>> =
                            if reversed { Box::new(a.iter().rev()) } else { Box::new(a.iter()) };
                        for c in seq {
                            if pts.last() != Some(c) {
                                pts.push(*c);
                            }
                        }
                    }
                    if pts.len() > 1 && pts.first() == pts.last() {
                        pts.pop();
                    }
                    if let Some(&first) = pts.first() {
                        pts.push(first);
                    }
                    LineString(pts)
                });
                let exterior = built.next()?;
                if exterior.0.len() < 4 || ring_area(&exterior) <= 0.0 {
                    return None;
                }
                let holes = built.filter(|r| r.0.len() >= 4 && ring_area(r) < 0.0).collect();
                sources.push(p);
                Some(Polygon::new(exterior, holes))
            })
            .collect();
        (MultiPolygon(polygons), sources)
    }

    /// The polygons of feature `f` (indices in its full-detail geometry) to draw with more detail: those
    /// that are not valid on the grid (see [`is_valid_on_grid`]), the parts that overlap or touch along a
    /// line, or its largest polygon when nothing is left.
    fn faulty_polygons(
        &self,
        f: usize,
        geometry: &MultiPolygon<f64>,
        sources: &[usize],
        grid: Grid,
    ) -> Vec<usize> {
        if geometry.0.is_empty() {
            return if self.rings[f].is_empty() { Vec::new() } else { vec![self.largest[f]] };
        }
        let contours: Vec<Vec<IntContour>> = geometry.0.iter().map(|p| grid_contours(p, grid)).collect();
        let mut faulty: Vec<usize> =
            (0..contours.len()).filter(|&i| !is_valid_on_grid(&contours[i])).collect();
        if faulty.is_empty() && contours.len() > 1 && !is_valid_on_grid(&contours.concat()) {
            // Valid parts that overlap or touch along a line: those whose boxes meet another's.
            let boxes: Vec<Option<Rect<f64>>> = geometry.0.iter().map(BoundingRect::bounding_rect).collect();
            let meets = |i: usize, j: usize| match (boxes[i], boxes[j]) {
                (Some(a), Some(b)) => intersects(a, b),
                _ => false,
            };
            faulty = (0..boxes.len()).filter(|&i| (0..boxes.len()).any(|j| j != i && meets(i, j))).collect();
            if faulty.is_empty() {
                faulty = (0..boxes.len()).collect();
            }
        }
        faulty.into_iter().filter_map(|i| sources.get(i).copied()).collect()
    }
}

/// `geometry` without the smaller parts that make it invalid for `geo` (and GEOS) where the grid overlay
/// saw none: two parts snapped onto one grid point, one's vertex on the other's edge. Such a part is
/// under a few pixels at the zoom where it happens; the feature keeps its largest part.
fn keep_valid_parts(geometry: MultiPolygon<f64>) -> MultiPolygon<f64> {
    if geometry.0.len() < 2 || geo::Validation::is_valid(&geometry) {
        return geometry;
    }
    let mut parts = geometry.0;
    parts.sort_by(|a, b| ring_area(b.exterior()).total_cmp(&ring_area(a.exterior())));
    let mut kept: Vec<Polygon<f64>> = Vec::with_capacity(parts.len());
    for part in parts {
        let Some(bbox) = part.bounding_rect() else { continue };
        let near: Vec<Polygon<f64>> = kept
            .iter()
            .filter(|k| k.bounding_rect().is_some_and(|b| intersects(b, bbox)))
            .cloned()
            .chain(std::iter::once(part.clone()))
            .collect();
        if geo::Validation::is_valid(&MultiPolygon(near)) {
            kept.push(part);
        }
    }
    MultiPolygon(kept)
}

/// The rings of `polygon` (on `grid`) as integer contours, without their closing points.
fn grid_contours(polygon: &Polygon<f64>, grid: Grid) -> Vec<IntContour> {
    rings_of(polygon)
        .map(|r| r.0[..r.0.len().saturating_sub(1)].iter().map(|c| grid.to_int(*c)).collect())
        .collect()
}

/// Whether `contours` (the rings of polygons, exteriors and holes wound oppositely) form OGC-valid
/// polygons: the integer overlay, asked to keep every point and give OGC-valid output, gives back as
/// many rings, as many points and the same area. A crossing adds points, a spike loses them, a ring
/// touching itself or parts touching along a line change the ring count, a hole outside its exterior or
/// overlapping parts change the area. Exact on the integer grid, and O(n log n), unlike a pairwise check.
fn is_valid_on_grid(contours: &[IntContour]) -> bool {
    let options = IntOverlayOptions {
        preserve_input_collinear: true,
        preserve_output_collinear: true,
        ..IntOverlayOptions::ogc()
    };
    let shapes = Overlay::with_contours_custom(contours, &[], options, Solver::default())
        .overlay(OverlayRule::Subject, FillRule::NonZero);
    let summary = |rings: &mut dyn Iterator<Item = &IntContour>| {
        rings.fold((0usize, 0usize, 0i128), |(n, points, area), r| {
            (n + 1, points + r.len(), area + double_area(r).abs())
        })
    };
    summary(&mut contours.iter()) == summary(&mut shapes.iter().flatten())
}

/// Twice the signed area of an integer contour (positive counter-clockwise, y up).
fn double_area(contour: &IntContour) -> i128 {
    let n = contour.len();
    (0..n)
        .map(|i| {
            let (a, b) = (contour[i], contour[(i + 1) % n]);
            i128::from(a.x) * i128::from(b.y) - i128::from(b.x) * i128::from(a.y)
        })
        .sum()
}

/// The decimal grid a zoom level's coordinates are printed on.
#[derive(Debug, Clone, Copy)]
struct Grid {
    /// Grid cells per degree (a power of ten).
    scale: f64,
}

impl Grid {
    fn new(decimals: usize) -> Self {
        Self { scale: 10f64.powi(i32::try_from(decimals).unwrap_or(7)) }
    }

    /// `c` on the grid: exactly the value a client parses from [`push_rounded`]'s text.
    fn snap(self, c: Coord<f64>) -> Coord<f64> {
        Coord { x: (c.x * self.scale).round() / self.scale, y: (c.y * self.scale).round() / self.scale }
    }

    #[allow(clippy::cast_possible_truncation)]
    fn to_int(self, c: Coord<f64>) -> IntPoint {
        IntPoint::new((c.x * self.scale).round() as i32, (c.y * self.scale).round() as i32)
    }

    fn coord_of(self, p: IntPoint) -> Coord<f64> {
        Coord { x: f64::from(p.x) / self.scale, y: f64::from(p.y) / self.scale }
    }

    /// The grid cells covering `r` (at least one): the outline kept for a feature under the grid.
    fn cell_cover(self, r: Rect<f64>) -> Polygon<f64> {
        let (x0, y0) = ((r.min().x * self.scale).floor(), (r.min().y * self.scale).floor());
        let (x1, y1) = (
            ((r.max().x * self.scale).ceil()).max(x0 + 1.0),
            ((r.max().y * self.scale).ceil()).max(y0 + 1.0),
        );
        let s = self.scale;
        Polygon::new(
            LineString::from(vec![(x0 / s, y0 / s), (x1 / s, y0 / s), (x1 / s, y1 / s), (x0 / s, y1 / s)]),
            vec![],
        )
        .orient(Direction::Default)
    }
}

/// Overlay options giving OGC-valid output (holes touching their exterior at a point split off, no
/// collinear points), exteriors counter-clockwise in a y-up frame.
fn valid_output(min_area: u64) -> IntOverlayOptions {
    IntOverlayOptions { min_output_area: min_area, ..IntOverlayOptions::ogc() }
}

/// Polygons from overlay shapes (outer contour first, then holes), rings closed.
fn polygons_from_shapes(shapes: &IntShapes, to_coord: &impl Fn(IntPoint) -> Coord<f64>) -> MultiPolygon<f64> {
    let ring = |contour: &IntContour| {
        let mut pts: Vec<Coord<f64>> = contour.iter().map(|p| to_coord(*p)).collect();
        if let Some(&first) = pts.first() {
            pts.push(first);
        }
        LineString(pts)
    };
    MultiPolygon(
        shapes
            .iter()
            .filter(|shape| !shape.is_empty())
            .map(|shape| Polygon::new(ring(&shape[0]), shape[1..].iter().map(ring).collect()))
            .collect(),
    )
}

/// `geometry` (on `grid`) made valid on the same grid: its rings resolved by the non-zero rule with an
/// integer overlay, whose output vertices are grid points, so printing them changes nothing.
fn repair_on_grid(geometry: &MultiPolygon<f64>, grid: Grid) -> MultiPolygon<f64> {
    let contours: Vec<IntContour> = geometry.0.iter().flat_map(|p| grid_contours(p, grid)).collect();
    let shapes = Overlay::with_contours_custom(&contours, &[], valid_output(0), Solver::default())
        .overlay(OverlayRule::Subject, FillRule::NonZero);
    polygons_from_shapes(&shapes, &|p| grid.coord_of(p))
}

fn ring_area(ring: &LineString<f64>) -> f64 {
    ring.0.windows(2).map(|w| w[0].x * w[1].y - w[1].x * w[0].y).sum::<f64>() / 2.0
}

fn rings_of(p: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(p.exterior()).chain(p.interiors())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn feature(id: &str, geometry: Polygon<f64>) -> LayerFeature {
        LayerFeature {
            id: id.into(),
            properties: serde_json::Map::new(),
            geometry: MultiPolygon(vec![geometry]),
        }
    }

    #[test]
    fn a_shared_border_is_simplified_the_same_on_both_sides() {
        // Two squares sharing a wiggly border: x = 1 + tiny noise.
        let border: Vec<(f64, f64)> =
            (0..=20).map(|i| (1.0 + if i % 2 == 0 { 0.0 } else { 1e-4 }, f64::from(i) / 20.0)).collect();
        let mut left: Vec<(f64, f64)> = vec![(0.0, 1.0), (0.0, 0.0)];
        left.extend(border.iter().copied());
        let mut right: Vec<(f64, f64)> = border.iter().rev().copied().collect();
        right.extend([(2.0, 0.0), (2.0, 1.0)]);
        let geoms = [
            MultiPolygon(vec![Polygon::new(LineString::from(left), vec![])]),
            MultiPolygon(vec![Polygon::new(LineString::from(right), vec![])]),
        ];
        let topology = Topology::new(&geoms.iter().collect::<Vec<_>>());
        let simplified = topology.simplify_valid(0.01, Grid::new(7));
        let border_points = |mp: &MultiPolygon<f64>| -> Vec<Key> {
            let mut v: Vec<Key> =
                mp.0[0].exterior().0.iter().filter(|c| c.x > 0.5 && c.x < 1.5).map(|c| key(*c)).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        assert_eq!(border_points(&simplified[0]), border_points(&simplified[1]));
        assert!(simplified[0].0[0].exterior().0.len() < 10, "the wiggles are gone");
    }

    #[test]
    fn collections_filter_by_bbox_and_round_by_zoom() {
        let layer = Layer::build(&[
            feature(
                "a",
                polygon![(x: 0.123_456_789, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)],
            ),
            feature(
                "b",
                polygon![(x: 10.0, y: 10.0), (x: 11.0, y: 10.0), (x: 11.0, y: 11.0), (x: 10.0, y: 11.0)],
            ),
        ]);
        let all: serde_json::Value = serde_json::from_str(&layer.collection(None, None)).expect("json");
        assert_eq!(all["features"].as_array().map(Vec::len), Some(2));
        let some = layer.collection(Some(4.0), Some(Rect::new((9.0, 9.0), (12.0, 12.0))));
        let some: serde_json::Value = serde_json::from_str(&some).expect("json");
        assert_eq!(some["features"][0]["id"], "b");
        assert!(layer.collection(Some(12.0), None).contains("[0.12346,0]"), "5 decimals at zoom 12");
        assert_eq!(Layer::level_zoom(Some(5.0)), 6);
        assert_eq!(Layer::level_zoom(Some(19.0)), 12);
    }

    #[test]
    fn a_tile_answered_twice_is_the_same_arc() {
        let layer = Layer::build(&[feature(
            "a",
            polygon![(x: 2.0, y: 48.0), (x: 3.0, y: 48.0), (x: 3.0, y: 49.0), (x: 2.0, y: 49.0)],
        )]);
        let coord = TileCoord::new(6, 32, 22).expect("on the grid");
        let first = layer.tile_encoded("t", coord).expect("tile");
        let again = layer.tile_encoded("t", coord).expect("tile");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!first.identity.is_empty(), "the square is in the tile");
        assert_eq!(first.identity, layer.tile("t", coord).expect("tile"));
    }

    #[test]
    fn rounding_prints_short_numbers() {
        assert_eq!(round(2.500_000_1, 3), "2.5");
        assert_eq!(round(-0.000_01, 3), "0");
        assert_eq!(round(3.0, 3), "3");
        assert_eq!(round(-1.25, 1), "-1.3");
        assert_eq!(round(-0.05, 2), "-0.05");
        assert_eq!(round(55.123_456_7, 7), "55.1234567");
        assert_eq!(round(-61.000_000_04, 7), "-61");
        assert_eq!(round(1e300, 3), format!("{}", 1e300));
    }
}
