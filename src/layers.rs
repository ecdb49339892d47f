//! Map layers: GeoJSON of territory outlines and unit boundaries, simplified per zoom level with the
//! topology kept (a border shared by two features is simplified once, so neighbours never gain gaps or
//! overlaps), coordinates rounded to what the zoom needs, serialised once at build.
//!
//! Handlers only pick pre-serialised features (optionally by bounding box) and concatenate them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use crate::encoded::Encoded;

/// Vector tile grid size.
pub const TILE_EXTENT: u32 = 4096;
/// Grid units drawn beyond each tile edge, so outlines do not show seams.
const TILE_BUFFER: f64 = 64.0;

/// Media type of GeoJSON answers.
pub const GEOJSON: &str = "application/geo+json";

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect, Simplify};
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
#[derive(Debug)]
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
#[derive(Debug)]
pub struct Layer {
    /// Feature ids and properties, in input order.
    meta: Vec<(String, serde_json::Map<String, serde_json::Value>)>,
    /// `(zoom, features)` in [`ZOOMS`] order.
    levels: Vec<(u8, Vec<Prepared>)>,
    /// The whole collection per level, ready to serve.
    full: Vec<Encoded>,
    /// Tiles made so far, by `(z, x, y)`; emptied when it grows past [`TILE_CACHE`].
    tiles: Mutex<HashMap<(u8, u32, u32), Arc<Encoded>>>,
}

/// Tiles kept per layer (a few hundred MB at most in the worst case, far less in practice).
const TILE_CACHE: usize = 20_000;
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
                let simplified = topology.simplify(tolerance(zoom));
                let decimals = decimals(zoom);
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
        Self { meta, levels, full, tiles: Mutex::default() }
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
        let body = self.full(zoom).body(crate::encoded::Encoding::Identity);
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
    /// the tile, simplified for its zoom, in a 4096 grid with a 64-unit buffer.
    ///
    /// # Errors
    /// A tile address outside the grid, or an encoding failure.
    pub fn tile(&self, name: &str, z: u8, x: u32, y: u32) -> Result<Vec<u8>, String> {
        if z > 24 || x >= 1 << z || y >= 1 << z {
            return Err(format!("tile {z}/{x}/{y} is outside the grid"));
        }
        let n = f64::from(1u32 << z);
        let lon = |px: f64| px / n * 360.0 - 180.0;
        let lat = |py: f64| (std::f64::consts::PI * (1.0 - 2.0 * py / n)).sinh().atan().to_degrees();
        let margin = TILE_BUFFER / f64::from(TILE_EXTENT);
        let (fx, fy) = (f64::from(x), f64::from(y));
        let bounds =
            Rect::new((lon(fx - margin), lat(fy + 1.0 + margin)), (lon(fx + 1.0 + margin), lat(fy - margin)));
        let extent = f64::from(TILE_EXTENT);
        let project = |c: &Coord<f64>| -> (f64, f64) {
            let phi = c.y.clamp(-85.051_128, 85.051_128).to_radians();
            let mx = (c.x + 180.0) / 360.0 * n;
            let my = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
            ((mx - fx) * extent, (my - fy) * extent)
        };
        let clip =
            pointy::BBox::new([(-TILE_BUFFER, -TILE_BUFFER), (extent + TILE_BUFFER, extent + TILE_BUFFER)]);
        let mut tile = mvt::Tile::new(TILE_EXTENT);
        let mut layer = tile.create_layer(name);
        for p in self.level(Some(f64::from(z))) {
            if !intersects(bounds, p.bbox) {
                continue;
            }
            let mut encoder = mvt::GeomEncoder::new(mvt::GeomType::Polygon).bbox(clip);
            for polygon in &p.geometry.0 {
                for (r, ring) in rings_of(polygon).enumerate() {
                    // The closing point is implied by ClosePath.
                    // geo's counter-clockwise exteriors are counter-clockwise on screen too; MVT wants them
                    // clockwise, hence the reversal.
                    let points: Vec<(f64, f64)> =
                        ring.0[..ring.0.len().saturating_sub(1)].iter().rev().map(project).collect();
                    // Readers tell exteriors from holes by winding (exteriors positive in the y-down grid), so
                    // a ring that simplification or rounding flipped or flattened would turn a whole
                    // polygon inside out: leave it out instead (it is under a pixel).
                    let area = shoelace(&points);
                    let keep = if r == 0 { area > 0.5 } else { area < -0.5 };
                    if !keep {
                        if r == 0 {
                            break;
                        }
                        continue;
                    }
                    for (tx, ty) in points {
                        encoder.add_point(tx, ty).map_err(|e| e.to_string())?;
                    }
                    encoder.complete_geom().map_err(|e| e.to_string())?;
                }
            }
            let data = encoder.encode().map_err(|e| e.to_string())?;
            if data.is_empty() {
                continue;
            }
            let (id, properties) = &self.meta[p.feature];
            let mut feature = layer.into_feature(data);
            feature.add_tag_string("id", id);
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
            layer = feature.into_layer();
        }
        tile.add_layer(layer).map_err(|e| e.to_string())?;
        tile.to_bytes().map_err(|e| e.to_string())
    }

    /// [`Layer::tile`], made once and then served from memory with its ETag and gzip form.
    ///
    /// # Errors
    /// As [`Layer::tile`].
    pub fn tile_encoded(&self, name: &str, z: u8, x: u32, y: u32) -> Result<Arc<Encoded>, String> {
        if let Some(hit) = self.tiles.lock().ok().and_then(|t| t.get(&(z, x, y)).cloned()) {
            return Ok(hit);
        }
        let encoded = Arc::new(Encoded::new(self.tile(name, z, x, y)?, MVT));
        if let Ok(mut tiles) = self.tiles.lock() {
            if tiles.len() >= TILE_CACHE {
                tiles.clear();
            }
            tiles.insert((z, x, y), encoded.clone());
        }
        Ok(encoded)
    }

    fn level(&self, zoom: Option<f64>) -> &[Prepared] {
        let z = Self::level_zoom(zoom);
        self.levels.iter().find(|(l, _)| *l == z).map_or(&[], |(_, f)| f.as_slice())
    }
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
        let rings = geometries
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
        Self { arcs, rings }
    }

    /// Every geometry with each arc simplified by Douglas-Peucker at `epsilon` degrees; rings that
    /// collapse are dropped, polygons whose exterior collapses too.
    fn simplify(&self, epsilon: f64) -> Vec<MultiPolygon<f64>> {
        let arcs: Vec<Vec<Coord<f64>>> =
            self.arcs.iter().map(|a| LineString(a.clone()).simplify(epsilon).0).collect();
        self.rings
            .iter()
            .map(|polygons| {
                MultiPolygon(
                    polygons
                        .iter()
                        .filter_map(|rings| {
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
                                if let Some(&f) = pts.first().filter(|f| Some(*f) != pts.last()) {
                                    pts.push(f);
                                }
                                LineString(pts)
                            });
                            // A ring that simplification flattened or turned over is dropped (it is
                            // smaller than the tolerance); holes are clockwise, exteriors not.
                            let exterior = built.next()?;
                            if exterior.0.len() < 4 || ring_area(&exterior) <= 0.0 {
                                return None;
                            }
                            let holes = built.filter(|r| r.0.len() >= 4 && ring_area(r) < 0.0).collect();
                            Some(Polygon::new(exterior, holes))
                        })
                        .collect(),
                )
            })
            .collect()
    }
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
        let simplified = topology.simplify(0.01);
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
