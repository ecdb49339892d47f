//! Spatial indexes: an R-tree of unit polygon pieces for exact point-in-polygon lookups, and an R-tree of
//! outline edges on the unit sphere for "nearest territory" distances.
//!
//! Point queries go through a cell grid ([`grid`]) that decides almost every point from one cell; the
//! R-tree and `geo`'s exact tests answer the rest.
//!
//! This module knows geometry only: it maps points to indexes of the things it was built from and never
//! looks at names, editions or codes.

use std::sync::Arc;

use geo::{BoundingRect, Coord, Intersects, MultiPolygon, Point, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

pub mod grid;
mod nearest;

use grid::{CellGrid, Hits};

/// Mean Earth radius (IUGG), in metres, used for all distances.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// One polygon of a unit's `MultiPolygon`, with its bounding box in the tree.
type Piece = GeomWithData<Rectangle<[f64; 2]>, (u32, u32)>;

/// R-tree over polygon pieces; answers which geometries cover a point, boundary included.
///
/// ```
/// use geo::{polygon, MultiPolygon, Point};
/// use territoires::index::PolygonIndex;
/// let square = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)]]);
/// let index = PolygonIndex::build(&[&square]);
/// assert_eq!(index.covering(Point::new(0.5, 0.5)).to_vec(), vec![0]);
/// assert!(index.covering(Point::new(2.0, 0.5)).is_empty());
/// ```
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PolygonIndex {
    tree: RTree<Piece>,
    /// The geometries, addressed by (geometry, polygon) from the tree's data: shared with their owner
    /// (the Atlas's units), so indexing costs no second copy, and not written to a snapshot, which
    /// attaches them again ([`PolygonIndex::attach`]).
    #[serde(skip)]
    geometries: Vec<Arc<MultiPolygon<f64>>>,
    /// The fast path for point queries.
    grid: CellGrid,
}

impl PolygonIndex {
    /// Bulk-loads one entry per polygon of each geometry; geometry `i` answers as `i`.
    #[must_use]
    pub fn build(geometries: &[&MultiPolygon<f64>]) -> Self {
        Self::build_shared(geometries.iter().map(|g| Arc::new((*g).clone())).collect())
    }

    /// [`PolygonIndex::build`] over geometries the caller keeps too.
    #[must_use]
    pub fn build_shared(geometries: Vec<Arc<MultiPolygon<f64>>>) -> Self {
        let mut pieces = Vec::new();
        for (g, mp) in geometries.iter().enumerate() {
            let g = u32::try_from(g).expect("fewer than 2^32 geometries");
            for (p, poly) in mp.0.iter().enumerate() {
                if let Some(rect) = poly.bounding_rect() {
                    let p = u32::try_from(p).expect("fewer than 2^32 polygons");
                    pieces.push(GeomWithData::new(
                        Rectangle::from_corners(rect.min().into(), rect.max().into()),
                        (g, p),
                    ));
                }
            }
        }
        let grid_pieces: Vec<(u32, &Polygon<f64>)> = pieces
            .iter()
            .map(|piece| {
                let (g, p) = piece.data;
                (g, &geometries[g as usize].0[p as usize])
            })
            .collect();
        let grid = CellGrid::build(&grid_pieces);
        Self { tree: RTree::bulk_load(pieces), geometries, grid }
    }

    /// Gives an index read back from a snapshot the geometries it was built over, in the same order.
    ///
    /// # Errors
    /// When they are not as many as the index was built over.
    pub fn attach(&mut self, geometries: Vec<Arc<MultiPolygon<f64>>>) -> Result<(), String> {
        let wanted = self.tree.iter().map(|piece| piece.data.0 as usize + 1).max().unwrap_or(0);
        let fits =
            |(g, p): (u32, u32)| geometries.get(g as usize).is_some_and(|mp| (p as usize) < mp.0.len());
        if geometries.len() < wanted || !self.tree.iter().all(|piece| fits(piece.data)) {
            return Err(format!("{} geometries do not fit an index of {wanted}", geometries.len()));
        }
        self.geometries = geometries;
        Ok(())
    }

    /// Indexes of the geometries whose closed polygons (boundary included) contain `point`, ascending.
    #[must_use]
    pub fn covering(&self, point: Point<f64>) -> Hits {
        self.grid.covering(point.0).unwrap_or_else(|| self.covering_by_tree(point))
    }

    /// The same answer from the R-tree and `geo`'s exact test on each candidate polygon.
    #[must_use]
    pub fn covering_by_tree(&self, point: Point<f64>) -> Hits {
        let c = [point.x(), point.y()];
        let mut hits: Hits = self
            .tree
            .locate_all_at_point(&c)
            .filter(|piece| {
                let (g, p) = piece.data;
                self.geometries[g as usize].0[p as usize].intersects(&point)
            })
            .map(|piece| piece.data.0)
            .collect();
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    /// The grid's words, which a snapshot stores apart (see [`grid::CellGrid::words`]).
    #[must_use]
    pub fn grid_words(&self) -> &[u8] {
        self.grid.words()
    }

    /// Gives an index read back from a snapshot its grid words.
    ///
    /// # Errors
    /// When they do not fit the grid.
    pub fn attach_grid_words(&mut self, words: std::borrow::Cow<'static, [u8]>) -> Result<(), String> {
        self.grid.attach_words(words)
    }

    /// Cells, mixed cells and edges of the grid.
    #[must_use]
    pub fn grid_stats(&self) -> (usize, usize, usize) {
        self.grid.stats()
    }

    /// Number of polygon pieces in the tree.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    /// True when nothing was indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }
}

/// Consecutive edges per R-tree entry: the tree is built over far fewer objects, and a query tests a
/// few more edges once it reaches a leaf.
const EDGES_PER_RUN: usize = 16;

/// A run of consecutive outline edges on the unit sphere (chords between vertices), with its owner.
#[derive(Debug, Clone)]
struct EdgeRun {
    /// Shared by the tree and [`EdgeIndex::runs`], so keeping both costs no second copy of the points.
    points: std::sync::Arc<[[f64; 3]]>,
    owner: u32,
    envelope: AABB<[f64; 3]>,
    /// Position in [`EdgeIndex::runs`].
    id: u32,
}

impl rstar::RTreeObject for EdgeRun {
    type Envelope = AABB<[f64; 3]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl rstar::PointDistance for EdgeRun {
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        self.points.windows(2).map(|w| segment_distance_2(w[0], w[1], *point)).fold(f64::INFINITY, f64::min)
    }

    // The nearest-neighbour search asks this of every run in the nodes it opens: most runs are farther
    // than the best so far by their box alone, so their edges are never walked.
    fn distance_2_if_less_or_equal(&self, point: &[f64; 3], max_distance_2: f64) -> Option<f64> {
        if self.envelope.distance_2(point) > max_distance_2 {
            return None;
        }
        let d2 = self.distance_2(point);
        (d2 <= max_distance_2).then_some(d2)
    }
}

/// Squared distance from `p` to the segment `a`–`b` in 3-D.
fn segment_distance_2(a: [f64; 3], b: [f64; 3], p: [f64; 3]) -> f64 {
    let d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let v = [p[0] - a[0], p[1] - a[1], p[2] - a[2]];
    let len2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    let t = if len2 > 0.0 { ((v[0] * d[0] + v[1] * d[1] + v[2] * d[2]) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let q = [v[0] - t * d[0], v[1] - t * d[1], v[2] - t * d[2]];
    q[0] * q[0] + q[1] * q[1] + q[2] * q[2]
}

/// R-tree of boundary edges in 3-D unit-sphere coordinates, for nearest-boundary distances in metres.
///
/// Chords are within centimetres of the arcs for edges of a few kilometres, so the nearest chord is the
/// nearest boundary and its distance converts to a great-circle distance on a sphere of radius
/// [`EARTH_RADIUS_M`].
#[derive(Debug)]
pub struct EdgeIndex {
    tree: RTree<EdgeRun>,
    /// The runs again, by id, for the cells' candidate lists.
    runs: Vec<EdgeRun>,
    /// Candidate runs per cell of a lon/lat grid, laid out by [`EdgeIndex::prepare_cells`] (a batch)
    /// and filled as points fall in them; single lookups use the tree, which answers in microseconds.
    cells: std::sync::OnceLock<nearest::CandidateCells>,
}

/// A point given both as lon/lat degrees and on the unit sphere: converted once, asked of every
/// edition's [`EdgeIndex`].
#[derive(Debug, Clone, Copy)]
pub struct SpherePoint {
    lon_lat: Coord<f64>,
    xyz: [f64; 3],
}

impl SpherePoint {
    /// The point at `point`'s longitude and latitude.
    #[must_use]
    pub fn new(point: Point<f64>) -> Self {
        Self { lon_lat: point.0, xyz: to_unit_sphere(point.0) }
    }
}

/// The nearest boundary found: owner index and distance in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// Index of the geometry the edge belongs to.
    pub owner: usize,
    /// Great-circle distance in metres to its boundary.
    pub distance_m: f64,
}

impl EdgeIndex {
    /// Indexes every ring edge of every geometry; geometry `i` answers as `i`.
    #[must_use]
    pub fn build(geometries: &[&MultiPolygon<f64>]) -> Self {
        let mut runs = Vec::new();
        for (g, mp) in geometries.iter().enumerate() {
            let owner = u32::try_from(g).expect("fewer than 2^32 geometries");
            for poly in &mp.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    let mut points: Vec<[f64; 3]> = ring.0.iter().map(|c| to_unit_sphere(*c)).collect();
                    points.dedup();
                    // Runs overlap by one vertex so that every edge belongs to one run.
                    for start in (0..points.len().saturating_sub(1)).step_by(EDGES_PER_RUN) {
                        let run: std::sync::Arc<[[f64; 3]]> =
                            points[start..(start + EDGES_PER_RUN + 1).min(points.len())].into();
                        let envelope = AABB::from_points(run.iter());
                        let id = u32::try_from(runs.len()).expect("fewer than 2^32 edge runs");
                        runs.push(EdgeRun { points: run, owner, envelope, id });
                    }
                }
            }
        }
        Self { tree: RTree::bulk_load(runs.clone()), runs, cells: std::sync::OnceLock::new() }
    }

    /// Lays out the candidate cells that answer [`EdgeIndex::distance_m`] several times faster; each
    /// cell's list is made the first time a point falls in it. Worth it for a batch, not for one lookup.
    pub fn prepare_cells(&self) {
        self.cells.get_or_init(|| nearest::CandidateCells::new(&self.runs));
    }

    /// The geometry whose boundary is nearest to `point`, or `None` when nothing was indexed.
    #[must_use]
    pub fn nearest(&self, point: Point<f64>) -> Option<Nearest> {
        let q = to_unit_sphere(point.0);
        let run = self.tree.nearest_neighbor(&q)?;
        let d2 = rstar::PointDistance::distance_2(run, &q);
        Some(Nearest { owner: run.owner as usize, distance_m: chord_to_metres(d2.sqrt()) })
    }

    /// The distance in metres from `point` to the nearest boundary, or `None` when nothing was indexed:
    /// [`EdgeIndex::nearest`]'s distance, through the cells once they are prepared. (Only the distance:
    /// among boundaries at the same distance, the cells and the tree may meet a different one first.)
    #[must_use]
    pub fn distance_m(&self, point: &SpherePoint) -> Option<f64> {
        let q = point.xyz;
        let by_cells = self.cells.get().and_then(|cells| {
            let candidates = cells.candidates(point.lon_lat, &self.tree, &self.runs)?;
            Some(cells.nearest_of(candidates, q))
        });
        let d2 = match by_cells {
            Some(d2) => d2,
            None => rstar::PointDistance::distance_2(self.tree.nearest_neighbor(&q)?, &q),
        };
        Some(chord_to_metres(d2.sqrt()))
    }
}

/// Converts lon/lat degrees to a point on the unit sphere.
fn to_unit_sphere(c: Coord<f64>) -> [f64; 3] {
    let (lon, lat) = (c.x.to_radians(), c.y.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Converts a chord length on the unit sphere to the great-circle distance in metres.
fn chord_to_metres(chord: f64) -> f64 {
    2.0 * (chord / 2.0).min(1.0).asin() * EARTH_RADIUS_M
}

/// The lon/lat box of a geometry as an rstar envelope (for callers that filter by bbox).
#[must_use]
pub fn envelope(mp: &MultiPolygon<f64>) -> Option<AABB<[f64; 2]>> {
    mp.bounding_rect().map(|r| AABB::from_corners(r.min().into(), r.max().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::test_shapes::square;
    use geo::{Distance, Haversine};

    #[test]
    fn shared_border_points_are_covered_by_both_neighbours() {
        let a = square(0.0, 0.0, 1.0);
        let b = square(1.0, 0.0, 1.0);
        let index = PolygonIndex::build(&[&a, &b]);
        assert_eq!(index.covering(Point::new(1.0, 0.5)).to_vec(), vec![0, 1]);
        assert_eq!(index.covering(Point::new(0.25, 0.5)).to_vec(), vec![0]);
        assert_eq!(index.covering(Point::new(1.75, 0.5)).to_vec(), vec![1]);
        assert!(index.covering(Point::new(3.0, 3.0)).is_empty());
    }

    #[test]
    fn holes_are_not_covered() {
        let with_hole = MultiPolygon(vec![Polygon::new(
            square(0.0, 0.0, 3.0).0[0].exterior().clone(),
            vec![square(1.0, 1.0, 1.0).0[0].exterior().clone()],
        )]);
        let index = PolygonIndex::build(&[&with_hole]);
        assert!(index.covering(Point::new(1.5, 1.5)).is_empty());
        assert_eq!(index.covering(Point::new(0.5, 0.5)).to_vec(), vec![0]);
    }

    #[test]
    fn nearest_edge_distance_matches_haversine() {
        // A 0.1° square near Soissons; a point 0.05° of latitude north of its top edge.
        let a = square(3.3, 49.3, 0.1);
        let far = square(10.0, 40.0, 0.1);
        let index = EdgeIndex::build(&[&far, &a]);
        let p = Point::new(3.35, 49.45);
        let nearest = index.nearest(p).expect("indexed");
        assert_eq!(nearest.owner, 1);
        let expected = Haversine.distance(p, Point::new(3.35, 49.4));
        // Edges are great-circle arcs here, which bow ~1.2 m north of the 49.4° parallel over 7 km.
        assert!((nearest.distance_m - expected).abs() < 2.0, "{} vs {expected}", nearest.distance_m);
    }
}
