//! Dissolving adjacent polygons into one outline (communes into an EPCI, members into a territory).
//!
//! Borders shared vertex for vertex are cancelled exactly, so outlines keep the input vertices and
//! neighbouring outlines still share their borders (which topology-preserving simplification needs).
//! Where a vertex of one part sits on (or within a millimetre of) an edge of another — a T-junction left
//! by the data's own rounding — it is first inserted into that edge, so the border still cancels and no
//! sliver hole is left. Rings follow `geo`'s convention (exteriors counter-clockwise, holes clockwise),
//! and no ring passes twice through a vertex (OGC validity). No I/O, no units.

use std::collections::{HashMap, HashSet};

use geo::orient::{Direction, Orient};
use geo::{Area, Contains, Coord, InteriorPoint, LineString, MultiPolygon, Polygon, unary_union};
use rstar::RTree;
use rstar::primitives::GeomWithData;

/// How far (degrees, about 1 mm) a vertex may lie from another part's edge and still be taken as on it.
/// The commune borders of ADMIN EXPRESS COG carto match to within 1e-9° where they do not match exactly.
const ON_EDGE_DEGREES: f64 = 1e-8;

/// The union of `parts` as one valid MultiPolygon, the same whatever the order of the parts.
///
/// Parts that share borders vertex for vertex (as the communes of ADMIN EXPRESS do) are merged exactly:
/// every kept vertex is an input vertex, so neighbouring outlines still share their border. When that
/// gives an invalid result (borders that do not match), the general boolean union is used instead.
///
/// ```
/// use geo::{MultiPolygon, Area, polygon};
/// use territoires::geometry::dissolve::dissolve;
/// let a = MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)]]);
/// let b = MultiPolygon(vec![polygon![(x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.)]]);
/// let union = dissolve(&[&a, &b]);
/// assert_eq!(union.0.len(), 1);
/// assert!((union.unsigned_area() - 2.0).abs() < 1e-9);
/// ```
#[must_use]
pub fn dissolve(parts: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    if let [one] = parts {
        return sorted((*one).clone().orient(Direction::Default));
    }
    // Rings oriented the geo way (exteriors counter-clockwise, holes clockwise), so that a border
    // between two parts is walked once in each direction, and borders made to match where they nearly do.
    let owned: Vec<MultiPolygon<f64>> = parts.iter().map(|mp| (*mp).clone()).collect();
    let (noded, _) = snap_shared_borders(&owned);
    match dissolve_shared_edges(&noded) {
        // The sweep finds what mismatched borders leave (crossing or overlapping rings) in n log n;
        // `geo::Validation` would compare every pair of edges.
        Some(union) if super::validity::problem(&union).is_none() => union,
        // Borders that cross each other (a few estuaries of the source data): the boolean union
        // computes the crossings, then its vertices go back onto the input vertices it moved by its
        // rounding, so the outline still meets its neighbours exactly.
        _ => {
            let union = unary_union(noded.iter().flat_map(|mp| mp.0.iter()));
            let back = onto_input_vertices(&union, &noded);
            sorted(if super::validity::problem(&back).is_none() { back } else { union })
        }
    }
}

/// Coordinates as exact bit patterns, so equal vertices hash equal.
type Key = (u64, u64);

/// A directed edge.
type Edge = (Coord<f64>, Coord<f64>);

fn key(c: Coord<f64>) -> Key {
    (c.x.to_bits(), c.y.to_bits())
}

/// What [`snap_shared_borders`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapReport {
    /// Vertices moved onto a vertex of another part within 1 mm (`ON_EDGE_DEGREES`).
    pub snapped: usize,
    /// Vertices of other parts inserted into an edge they lay on.
    pub inserted: usize,
}

/// `parts` with their borders made to match exactly where they match to within 1 mm (`ON_EDGE_DEGREES`):
/// vertices that close are merged into one (the smallest of them), and a vertex lying on another
/// part's edge is inserted into that edge. Then two sides of a border are the same edges, walked in
/// opposite directions, and cancel in a dissolve. Rings are oriented the `geo` way.
///
/// ```
/// use geo::{MultiPolygon, polygon};
/// use territoires::geometry::dissolve::snap_shared_borders;
/// // b's corner at x = 1 + 1e-10 is meant to be a's corner, and a's edge misses b's vertex (1, 0.5).
/// let a = MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)]]);
/// let b = MultiPolygon(vec![polygon![(x: 1.0000000001, y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.), (x: 1., y: 0.5)]]);
/// let (parts, report) = snap_shared_borders(&[a, b]);
/// assert_eq!((report.snapped, report.inserted), (1, 1));
/// assert_eq!(parts[0].0[0].exterior().0.len(), 6, "a gained b's vertex (1, 0.5)");
/// ```
#[must_use]
pub fn snap_shared_borders(parts: &[MultiPolygon<f64>]) -> (Vec<MultiPolygon<f64>>, SnapReport) {
    let oriented: Vec<MultiPolygon<f64>> =
        parts.iter().map(|mp| mp.clone().orient(Direction::Default)).collect();
    let (snapped, moved) = snap_vertices(&oriented);
    let (noded, inserted) = insert_t_junctions(&snapped);
    (noded, SnapReport { snapped: moved, inserted })
}

/// Merges vertices of different parts lying within 1 mm (`ON_EDGE_DEGREES`) of each other into the smallest.
fn snap_vertices(parts: &[MultiPolygon<f64>]) -> (Vec<MultiPolygon<f64>>, usize) {
    let mut owner: HashMap<Key, u32> = HashMap::new();
    let mut shared: HashSet<Key> = HashSet::new();
    for (i, mp) in parts.iter().enumerate() {
        #[allow(clippy::cast_possible_truncation)]
        let i = i as u32;
        for c in mp.0.iter().flat_map(rings).flat_map(|r| r.0.iter()) {
            if let Some(&o) = owner.get(&key(*c)) {
                if o != i {
                    shared.insert(key(*c));
                }
            } else {
                owner.insert(key(*c), i);
            }
        }
    }
    let mut unique: Vec<(Coord<f64>, u32)> =
        owner.iter().map(|(k, &o)| (Coord { x: f64::from_bits(k.0), y: f64::from_bits(k.1) }, o)).collect();
    unique.sort_by(|a, b| a.0.x.total_cmp(&b.0.x).then(a.0.y.total_cmp(&b.0.y)));
    #[allow(clippy::cast_possible_truncation)]
    let tree = RTree::bulk_load(
        unique.iter().enumerate().map(|(i, (c, _))| GeomWithData::new([c.x, c.y], i as u32)).collect(),
    );
    let mut target: HashMap<Key, Coord<f64>> = HashMap::new();
    let mut taken = vec![false; unique.len()];
    for (i, &(c, o)) in unique.iter().enumerate() {
        if taken[i] {
            continue;
        }
        for near in tree.locate_within_distance([c.x, c.y], ON_EDGE_DEGREES * ON_EDGE_DEGREES) {
            let j = near.data as usize;
            // Only across parts, or onto a vertex two parts already share: a part's own close vertices
            // are its own business.
            if j != i && !taken[j] && (unique[j].1 != o || shared.contains(&key(c))) {
                taken[j] = true;
                target.insert(key(unique[j].0), c);
            }
        }
    }
    if target.is_empty() {
        return (parts.to_vec(), 0);
    }
    let moved = target.len();
    let snap_ring = |ring: &LineString<f64>| -> LineString<f64> {
        let mut out: Vec<Coord<f64>> =
            ring.0.iter().map(|c| target.get(&key(*c)).copied().unwrap_or(*c)).collect();
        out.dedup();
        LineString(out)
    };
    let snapped = parts
        .iter()
        .map(|mp| {
            MultiPolygon(
                mp.0.iter()
                    .filter_map(|p| {
                        let exterior = snap_ring(p.exterior());
                        (exterior.0.len() >= 4).then(|| {
                            let holes =
                                p.interiors().iter().map(snap_ring).filter(|r| r.0.len() >= 4).collect();
                            Polygon::new(exterior, holes)
                        })
                    })
                    .collect(),
            )
        })
        .collect();
    (snapped, moved)
}

/// `union` with each vertex within 1 mm (`ON_EDGE_DEGREES`) of a vertex of `parts` put back on it.
fn onto_input_vertices(union: &MultiPolygon<f64>, parts: &[MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let tree = RTree::bulk_load(
        parts
            .iter()
            .flat_map(|mp| mp.0.iter())
            .flat_map(rings)
            .flat_map(|r| r.0.iter())
            .map(|c| [c.x, c.y])
            .collect(),
    );
    let ring = |r: &LineString<f64>| -> LineString<f64> {
        let mut out: Vec<Coord<f64>> =
            r.0.iter()
                .map(|c| {
                    tree.nearest_neighbor(&[c.x, c.y])
                        .filter(|n| (n[0] - c.x).hypot(n[1] - c.y) <= ON_EDGE_DEGREES)
                        .map_or(*c, |n| Coord { x: n[0], y: n[1] })
                })
                .collect();
        out.dedup();
        LineString(out)
    };
    MultiPolygon(
        union
            .0
            .iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

/// Every part with, inserted into each of its edges, the vertices of other parts lying on that edge
/// (within 1 mm (`ON_EDGE_DEGREES`)), and how many were inserted.
fn insert_t_junctions(parts: &[MultiPolygon<f64>]) -> (Vec<MultiPolygon<f64>>, usize) {
    let mut vertices: Vec<GeomWithData<[f64; 2], u32>> = Vec::new();
    let mut own: Vec<HashSet<Key>> = Vec::with_capacity(parts.len());
    for (i, mp) in parts.iter().enumerate() {
        let mut keys = HashSet::new();
        for c in mp.0.iter().flat_map(rings).flat_map(|r| r.0.iter()) {
            if keys.insert(key(*c)) {
                #[allow(clippy::cast_possible_truncation)]
                vertices.push(GeomWithData::new([c.x, c.y], i as u32));
            }
        }
        own.push(keys);
    }
    let tree = RTree::bulk_load(vertices);
    let inserted = std::sync::atomic::AtomicUsize::new(0);
    let noded = parts
        .iter()
        .zip(&own)
        .map(|(mp, own)| {
            let node = |ring: &LineString<f64>| -> LineString<f64> {
                let mut out = Vec::with_capacity(ring.0.len());
                for w in ring.0.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    out.push(a);
                    let envelope = rstar::AABB::from_corners(
                        [a.x.min(b.x) - ON_EDGE_DEGREES, a.y.min(b.y) - ON_EDGE_DEGREES],
                        [a.x.max(b.x) + ON_EDGE_DEGREES, a.y.max(b.y) + ON_EDGE_DEGREES],
                    );
                    let mut on_edge: Vec<(f64, Coord<f64>)> = tree
                        .locate_in_envelope(&envelope)
                        .filter_map(|v| {
                            let c = Coord { x: v.geom()[0], y: v.geom()[1] };
                            if own.contains(&key(c)) {
                                return None;
                            }
                            Some((along(a, b, c)?, c))
                        })
                        .collect();
                    on_edge.sort_by(|x, y| x.0.total_cmp(&y.0));
                    on_edge.dedup_by_key(|(_, c)| key(*c));
                    inserted.fetch_add(on_edge.len(), std::sync::atomic::Ordering::Relaxed);
                    out.extend(on_edge.into_iter().map(|(_, c)| c));
                }
                if let Some(last) = ring.0.last() {
                    out.push(*last);
                }
                LineString(out)
            };
            MultiPolygon(
                mp.0.iter()
                    .map(|p| Polygon::new(node(p.exterior()), p.interiors().iter().map(node).collect()))
                    .collect(),
            )
        })
        .collect();
    (noded, inserted.into_inner())
}

/// Where `c` projects on the segment `a`-`b`, as a fraction strictly between its ends, when it lies
/// within 1 mm (`ON_EDGE_DEGREES`) of it.
fn along(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> Option<f64> {
    let (d, e) = (b - a, c - a);
    let length2 = d.x * d.x + d.y * d.y;
    if length2 == 0.0 {
        return None;
    }
    let t = (d.x * e.x + d.y * e.y) / length2;
    if t <= 0.0 || t >= 1.0 {
        return None;
    }
    let (px, py) = (a.x + t * d.x - c.x, a.y + t * d.y - c.y);
    (px * px + py * py <= ON_EDGE_DEGREES * ON_EDGE_DEGREES).then_some(t)
}

fn rings(p: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(p.exterior()).chain(p.interiors())
}

/// Cancels every edge that appears once in each direction (a border between two parts), then stitches
/// what is left into rings; `None` when the left edges do not close into rings.
fn dissolve_shared_edges(parts: &[MultiPolygon<f64>]) -> Option<MultiPolygon<f64>> {
    let mut edges: HashMap<(Key, Key), (Edge, i32)> = HashMap::new();
    for mp in parts {
        for polygon in &mp.0 {
            for ring in rings(polygon) {
                for line in ring.lines() {
                    if line.start == line.end {
                        continue;
                    }
                    let (a, b) = (key(line.start), key(line.end));
                    if let Some(reverse) = edges.get_mut(&(b, a)).filter(|e| e.1 > 0) {
                        reverse.1 -= 1;
                    } else {
                        edges.entry((a, b)).or_insert(((line.start, line.end), 0)).1 += 1;
                    }
                }
            }
        }
    }
    // Outgoing edges by start vertex, sorted so the walk below is deterministic.
    let mut outgoing: HashMap<Key, Vec<Edge>> = HashMap::new();
    let mut left = 0usize;
    for ((start, end), count) in edges.into_values() {
        for _ in 0..count {
            outgoing.entry(key(start)).or_default().push((start, end));
            left += 1;
        }
    }
    for list in outgoing.values_mut() {
        list.sort_unstable_by_key(|(_, end)| key(*end));
    }
    let mut starts: Vec<Key> = outgoing.keys().copied().collect();
    starts.sort_unstable();
    let mut loops: Vec<LineString<f64>> = Vec::new();
    for start in starts {
        while let Some(first) = outgoing.get_mut(&start).and_then(Vec::pop) {
            let mut ring = vec![first.0, first.1];
            let mut incoming = first;
            while key(incoming.1) != start {
                let candidates = outgoing.get_mut(&key(incoming.1))?;
                // At a vertex where the outline touches itself, take the sharpest left turn: it keeps
                // each ring on its own side and never makes a ring cross itself.
                let back = incoming.0 - incoming.1;
                let pick = (0..candidates.len()).max_by(|&i, &j| {
                    let (di, dj) = (candidates[i].1 - candidates[i].0, candidates[j].1 - candidates[j].0);
                    ccw_angle(back, di).total_cmp(&ccw_angle(back, dj))
                })?;
                incoming = candidates.swap_remove(pick);
                ring.push(incoming.1);
                if ring.len() > left + 1 {
                    return None;
                }
            }
            split_at_repeated_vertices(ring, &mut loops);
        }
    }
    // Every edge has the union's interior on its left, so the union covers a point as many times as
    // the counter-clockwise loops around it outnumber the clockwise ones. Where two parts overlap a
    // little (borders that cross in the source data), the overlap comes back as an extra
    // counter-clockwise loop inside the union: already covered, so no ring of the outline. Likewise a
    // clockwise loop where nothing is covered.
    let polygons: Vec<Polygon<f64>> = loops.into_iter().map(|ring| Polygon::new(ring, vec![])).collect();
    let signs: Vec<f64> = polygons.iter().map(|p| p.signed_area().signum()).collect();
    let boxes: Vec<Option<geo::Rect<f64>>> = polygons.iter().map(geo::BoundingRect::bounding_rect).collect();
    let cover_by_others = |i: usize, point: geo::Point<f64>| -> f64 {
        (0..polygons.len())
            .filter(|&j| j != i)
            .filter(|&j| boxes[j].is_some_and(|b| b.contains(&point)))
            .filter(|&j| polygons[j].contains(&point))
            .map(|j| signs[j])
            .sum()
    };
    let (mut exteriors, mut holes): (Vec<Polygon<f64>>, Vec<LineString<f64>>) = (Vec::new(), Vec::new());
    for (i, polygon) in polygons.iter().enumerate() {
        let inside = polygon.interior_point()?;
        let others = cover_by_others(i, inside);
        if signs[i] > 0.0 && others < 0.5 {
            exteriors.push(polygon.clone());
        } else if signs[i] < 0.0 && others > 0.5 {
            holes.push(polygon.exterior().clone());
        }
    }
    exteriors.sort_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()));
    for hole in holes {
        let inside = Polygon::new(hole.clone(), vec![]).interior_point()?;
        let owner = exteriors.iter_mut().find(|e| e.contains(&inside))?;
        owner.interiors_push(hole);
    }
    Some(sorted(MultiPolygon(exteriors)))
}

/// Cuts a closed walk that passes twice through a vertex (where the outline touches itself) into simple
/// rings, each closed: OGC forbids a ring touching itself, but allows two rings to touch at a point.
fn split_at_repeated_vertices(walk: Vec<Coord<f64>>, out: &mut Vec<LineString<f64>>) {
    let mut stack: Vec<Coord<f64>> = Vec::with_capacity(walk.len());
    let mut at: HashMap<Key, usize> = HashMap::new();
    for c in walk {
        if let Some(&i) = at.get(&key(c)) {
            // Close the loop that started at the first visit; the vertex stays, ending the walk so far.
            let mut ring: Vec<Coord<f64>> = stack.drain(i..).collect();
            for v in &ring[1..] {
                at.remove(&key(*v));
            }
            ring.push(c);
            stack.push(c);
            if ring.len() >= 4 {
                out.push(LineString(ring));
            }
        } else {
            at.insert(key(c), stack.len());
            stack.push(c);
        }
    }
}

/// Counter-clockwise angle from `from` to `to`, in [0, 2π).
fn ccw_angle(from: Coord<f64>, to: Coord<f64>) -> f64 {
    let angle = (from.x * to.y - from.y * to.x).atan2(from.x * to.x + from.y * to.y);
    if angle < 0.0 { angle + std::f64::consts::TAU } else { angle }
}

/// Polygons ordered by their first vertex, so the output does not depend on input order.
fn sorted(mut mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let first = |p: &Polygon<f64>| p.exterior().0.first().map_or((0.0, 0.0), |c| (c.x, c.y));
    mp.0.sort_by(|a, b| first(a).partial_cmp(&first(b)).unwrap_or(std::cmp::Ordering::Equal));
    mp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::test_shapes::square;
    use geo::polygon;

    #[test]
    fn a_ring_of_eight_squares_keeps_its_hole() {
        // Eight unit squares around an empty centre: the union is one polygon with one hole, like
        // Llívia inside its EPCI.
        let parts: Vec<_> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .filter(|&(i, j)| (i, j) != (1, 1))
            .map(|(i, j)| square(f64::from(i), f64::from(j), 1.0))
            .collect();
        let union = dissolve(&parts.iter().collect::<Vec<_>>());
        assert_eq!(union.0.len(), 1);
        assert_eq!(union.0[0].interiors().len(), 1);
        assert!((union.unsigned_area() - 8.0).abs() < 1e-9);
        assert!(geo::Validation::is_valid(&union));
    }

    #[test]
    fn disjoint_parts_stay_separate_and_order_does_not_matter() {
        let (a, b) = (square(0.0, 0.0, 1.0), square(5.0, 5.0, 1.0));
        let ab = dissolve(&[&a, &b]);
        let ba = dissolve(&[&b, &a]);
        assert_eq!(ab.0.len(), 2);
        assert_eq!(ab, ba);
    }

    #[test]
    fn overlapping_parts_fall_back_to_the_boolean_union() {
        // Borders that do not match vertex for vertex: edge cancellation leaves crossing rings, the
        // sweep sees it, and the general union answers.
        let (a, b) = (square(0.0, 0.0, 2.0), square(1.0, 1.0, 2.0));
        let union = dissolve(&[&a, &b]);
        assert_eq!(union.0.len(), 1);
        assert!((union.unsigned_area() - 7.0).abs() < 1e-9);
        assert!(geo::Validation::is_valid(&union));
    }

    #[test]
    fn a_vertex_on_a_neighbours_edge_leaves_no_sliver() {
        // b's left side has a vertex at (1, 0.5 + 1e-12) that a's right side does not: without it,
        // the border would not cancel and leave a needle-thin hole.
        let a = square(0.0, 0.0, 1.0);
        let b = MultiPolygon(vec![polygon![
            (x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.), (x: 1.000_000_000_001, y: 0.5)
        ]]);
        let union = dissolve(&[&a, &b]);
        assert_eq!(union.0.len(), 1);
        assert!(union.0[0].interiors().is_empty(), "{union:?}");
        assert!(geo::Validation::is_valid(&union));
    }

    #[test]
    fn a_small_overlap_of_two_parts_is_no_extra_ring() {
        // Two squares whose border disagrees by a triangle (a's side bulges into b): the triangle is
        // covered twice and must not come back as a second exterior inside the union.
        let a = MultiPolygon(vec![polygon![
            (x: 0., y: 0.), (x: 1., y: 0.), (x: 1.1, y: 0.5), (x: 1., y: 1.), (x: 0., y: 1.)
        ]]);
        let b = MultiPolygon(vec![polygon![
            (x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.)
        ]]);
        let union = dissolve(&[&a, &b]);
        assert_eq!(union.0.len(), 1, "{union:?}");
        assert!(geo::Validation::is_valid(&union));
        assert!((union.unsigned_area() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn an_outline_touching_itself_is_cut_into_valid_rings() {
        // Two squares meeting at one corner, plus a third making an L around it: the outline passes
        // twice through (1, 1); OGC wants two rings touching there, not one ring touching itself.
        let (a, b) = (square(0.0, 0.0, 1.0), square(1.0, 1.0, 1.0));
        let union = dissolve(&[&a, &b]);
        assert_eq!(union.0.len(), 2);
        assert!(geo::Validation::is_valid(&union), "{:?}", geo::Validation::validation_errors(&union));
        let mut ring = Vec::new();
        split_at_repeated_vertices(
            vec![
                Coord { x: 0., y: 0. },
                Coord { x: 1., y: 0. },
                Coord { x: 1., y: 1. },
                Coord { x: 2., y: 1. },
                Coord { x: 2., y: 2. },
                Coord { x: 1., y: 2. },
                Coord { x: 1., y: 1. },
                Coord { x: 0., y: 1. },
                Coord { x: 0., y: 0. },
            ],
            &mut ring,
        );
        assert_eq!(ring.len(), 2);
        assert!(ring.iter().all(|r| r.0.len() == 5 && r.0.first() == r.0.last()));
    }

    #[test]
    fn nothing_dissolves_to_nothing() {
        assert!(dissolve(&[]).0.is_empty());
    }
}
