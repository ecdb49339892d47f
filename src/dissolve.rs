//! Dissolving adjacent polygons into one outline (communes into an EPCI, members into a territory).
//!
//! Borders shared vertex for vertex are cancelled exactly, so outlines keep the input vertices and
//! neighbouring outlines still share their borders (which topology-preserving simplification needs).
//! Rings follow `geo`'s convention (exteriors counter-clockwise, holes clockwise). No I/O, no units.

use std::collections::HashMap;

use geo::orient::{Direction, Orient};
use geo::{Area, Contains, Coord, InteriorPoint, LineString, MultiPolygon, Polygon, unary_union};

/// The union of `parts` as one valid MultiPolygon, the same whatever the order of the parts.
///
/// Parts that share borders vertex for vertex (as the communes of ADMIN EXPRESS do) are merged exactly:
/// every kept vertex is an input vertex, so neighbouring outlines still share their border. When that
/// gives an invalid result (borders that do not match), the general boolean union is used instead.
///
/// ```
/// use geo::{MultiPolygon, Area, polygon};
/// use territoires::dissolve::dissolve;
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
    match dissolve_shared_edges(parts) {
        // The sweep finds what mismatched borders leave (crossing or overlapping rings) in n log n;
        // `geo::Validation` would compare every pair of edges.
        Some(union) if crate::source::validity::problem(&union).is_none() => union,
        _ => sorted(unary_union(parts.iter().flat_map(|mp| mp.0.iter()))),
    }
}

/// Coordinates as exact bit patterns, so equal vertices hash equal.
type Key = (u64, u64);

/// A directed edge.
type Edge = (Coord<f64>, Coord<f64>);

fn key(c: Coord<f64>) -> Key {
    (c.x.to_bits(), c.y.to_bits())
}

/// Cancels every edge that appears once in each direction (a border between two parts), then stitches
/// what is left into rings; `None` when the left edges do not close into rings.
fn dissolve_shared_edges(parts: &[&MultiPolygon<f64>]) -> Option<MultiPolygon<f64>> {
    // Orient every ring the geo way (exteriors counter-clockwise, holes clockwise) so that a border
    // between two parts is walked once in each direction.
    let mut edges: HashMap<(Key, Key), (Edge, i32)> = HashMap::new();
    for mp in parts {
        for polygon in &(*mp).clone().orient(Direction::Default).0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
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
    let mut rings: Vec<LineString<f64>> = Vec::new();
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
            rings.push(LineString(ring));
        }
    }
    let (mut exteriors, mut holes): (Vec<Polygon<f64>>, Vec<LineString<f64>>) = (Vec::new(), Vec::new());
    for ring in rings {
        let polygon = Polygon::new(ring, vec![]);
        if polygon.signed_area() > 0.0 {
            exteriors.push(polygon);
        } else {
            holes.push(polygon.into_inner().0);
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
    use geo::polygon;

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size)
        ]])
    }

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
    fn nothing_dissolves_to_nothing() {
        assert!(dissolve(&[]).0.is_empty());
    }
}
