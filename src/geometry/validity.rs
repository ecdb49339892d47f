//! A fast validity check of multipolygons with typed, displayable reasons (as geo's `validation` gives):
//! rings crossing themselves or each other, holes outside their polygon, overlapping parts. Touching at a
//! point is allowed, as OGC allows it between rings. No I/O, no repair.
//!
//! A sort-and-sweep check of the problems that matter to point lookups, fast enough to run on every
//! geometry at start-up (geo's `Validation` tests every pair of segments of a ring).

use std::fmt;

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, LineString, MultiPolygon, Polygon};

/// A ring of a multipolygon, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ring {
    /// The exterior of the polygon at this index.
    Exterior {
        /// Polygon index.
        polygon: usize,
    },
    /// A hole of a polygon.
    Hole {
        /// Polygon index.
        polygon: usize,
        /// Hole index within the polygon.
        hole: usize,
    },
}

impl Ring {
    fn new(polygon: usize, ring: usize) -> Self {
        match ring.checked_sub(1) {
            None => Self::Exterior { polygon },
            Some(hole) => Self::Hole { polygon, hole },
        }
    }
}

impl fmt::Display for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exterior { polygon } => write!(f, "exterior of polygon {polygon}"),
            Self::Hole { polygon, hole } => write!(f, "hole {hole} of polygon {polygon}"),
        }
    }
}

/// How two segments meet wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meeting {
    /// They cross at a point inside both.
    Crosses,
    /// They are collinear and share a stretch of positive length.
    Overlaps,
}

impl fmt::Display for Meeting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Crosses => "crosses",
            Self::Overlaps => "overlaps",
        })
    }
}

/// Why a multipolygon is not valid, naming where.
///
/// ```
/// use territoires::geometry::validity::{Problem, problem};
/// let bow_tie = geo::wkt! { MULTIPOLYGON(((0. 0.,4. 4.,4. 0.,0. 4.,0. 0.))) };
/// let found = problem(&bow_tie).expect("invalid");
/// assert!(matches!(found, Problem::RingCrossesItself { .. }));
/// assert!(found.to_string().starts_with("exterior of polygon 0 crosses itself"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Two segments of one ring cross or overlap.
    #[error("{ring} {how} itself near ({:.6}, {:.6})", near.x, near.y)]
    RingCrossesItself {
        /// The ring.
        ring: Ring,
        /// Crossing or overlapping.
        how: Meeting,
        /// A vertex of one of the segments.
        near: Coord<f64>,
    },
    /// Segments of two rings cross or overlap.
    #[error("{first} and {second} {how} near ({:.6}, {:.6})", near.x, near.y)]
    RingsCross {
        /// One ring.
        first: Ring,
        /// The other ring.
        second: Ring,
        /// Crossing or overlapping.
        how: Meeting,
        /// A vertex of one of the segments.
        near: Coord<f64>,
    },
    /// A hole lies outside its polygon's exterior.
    #[error("hole {hole} of polygon {polygon} is outside its exterior")]
    HoleOutside {
        /// Polygon index.
        polygon: usize,
        /// Hole index within the polygon.
        hole: usize,
    },
    /// One polygon lies inside another's area.
    #[error("polygons {first} and {second} overlap")]
    PolygonsOverlap {
        /// The first polygon's index.
        first: usize,
        /// The second polygon's index.
        second: usize,
    },
}

struct Segment {
    a: Coord<f64>,
    b: Coord<f64>,
    min_x: f64,
    max_x: f64,
    ring: Ring,
}

/// The first problem found, or `None` when `mp` is valid for these checks.
#[must_use]
pub fn problem(mp: &MultiPolygon<f64>) -> Option<Problem> {
    if let Some(found) = crossing(mp) {
        return Some(found);
    }
    for (polygon, poly) in mp.0.iter().enumerate() {
        for (hole, ring) in poly.interiors().iter().enumerate() {
            if position(&ring.0, poly.exterior()) == Some(Position::Outside) {
                return Some(Problem::HoleOutside { polygon, hole });
            }
        }
    }
    let rects: Vec<_> = mp.0.iter().map(|p| geo::BoundingRect::bounding_rect(p.exterior())).collect();
    for i in 0..mp.0.len() {
        for j in i + 1..mp.0.len() {
            let (Some(a), Some(b)) = (rects[i], rects[j]) else { continue };
            let disjoint = a.max().x < b.min().x
                || b.max().x < a.min().x
                || a.max().y < b.min().y
                || b.max().y < a.min().y;
            if !disjoint && (inside_polygon(&mp.0[i], &mp.0[j]) || inside_polygon(&mp.0[j], &mp.0[i])) {
                return Some(Problem::PolygonsOverlap { first: i, second: j });
            }
        }
    }
    None
}

/// Sort-and-sweep along x: only segments whose x ranges overlap are compared.
fn crossing(mp: &MultiPolygon<f64>) -> Option<Problem> {
    let mut segments = Vec::new();
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
            for line in ring.lines().filter(|l| l.start != l.end) {
                let (a, b) = (line.start, line.end);
                segments.push(Segment {
                    a,
                    b,
                    min_x: a.x.min(b.x),
                    max_x: a.x.max(b.x),
                    ring: Ring::new(pi, ri),
                });
            }
        }
    }
    segments.sort_by(|s, t| s.min_x.total_cmp(&t.min_x));
    let mut active: Vec<usize> = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        active.retain(|&j| segments[j].max_x >= s.min_x);
        for &j in &active {
            let t = &segments[j];
            if s.a.y.max(s.b.y) < t.a.y.min(t.b.y) || t.a.y.max(t.b.y) < s.a.y.min(s.b.y) {
                continue;
            }
            if let Some(how) = intersect(s, t) {
                return Some(if s.ring == t.ring {
                    Problem::RingCrossesItself { ring: s.ring, how, near: s.a }
                } else {
                    Problem::RingsCross { first: s.ring, second: t.ring, how, near: s.a }
                });
            }
        }
        active.push(i);
    }
    None
}

/// A proper crossing, or a collinear overlap of positive length; touching is fine.
fn intersect(s: &Segment, t: &Segment) -> Option<Meeting> {
    let o1 = RobustKernel::orient2d(s.a, s.b, t.a);
    let o2 = RobustKernel::orient2d(s.a, s.b, t.b);
    let o3 = RobustKernel::orient2d(t.a, t.b, s.a);
    let o4 = RobustKernel::orient2d(t.a, t.b, s.b);
    use Orientation::{Clockwise as Cw, Collinear, CounterClockwise as Ccw};
    let opposite = |p, q| matches!((p, q), (Cw, Ccw) | (Ccw, Cw));
    if opposite(o1, o2) && opposite(o3, o4) {
        return Some(Meeting::Crosses);
    }
    if [o1, o2, o3, o4].iter().all(|o| *o == Collinear) {
        // Project on the longer axis and compare intervals.
        let use_x = (s.b.x - s.a.x).abs() >= (s.b.y - s.a.y).abs();
        let k = |c: Coord<f64>| if use_x { c.x } else { c.y };
        let (s0, s1) = (k(s.a).min(k(s.b)), k(s.a).max(k(s.b)));
        let (t0, t1) = (k(t.a).min(k(t.b)), k(t.a).max(k(t.b)));
        if s1.min(t1) > s0.max(t0) {
            return Some(Meeting::Overlaps);
        }
    }
    None
}

#[derive(Debug, PartialEq, Eq)]
enum Position {
    Inside,
    Outside,
}

/// Where a ring lies relative to another, judged on its first vertex not on the other's boundary
/// (without crossings, one vertex decides for all); `None` if every vertex is on the boundary.
fn position(points: &[Coord<f64>], ring: &LineString<f64>) -> Option<Position> {
    points.iter().find_map(|p| point_in_ring(*p, ring))
}

/// Crossing-number test; `None` on the boundary.
fn point_in_ring(p: Coord<f64>, ring: &LineString<f64>) -> Option<Position> {
    let mut inside = false;
    for line in ring.lines() {
        let (a, b) = (line.start, line.end);
        if RobustKernel::orient2d(a, b, p) == Orientation::Collinear
            && p.x >= a.x.min(b.x)
            && p.x <= a.x.max(b.x)
            && p.y >= a.y.min(b.y)
            && p.y <= a.y.max(b.y)
        {
            return None;
        }
        if (a.y > p.y) != (b.y > p.y) && p.x < a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y) {
            inside = !inside;
        }
    }
    Some(if inside { Position::Inside } else { Position::Outside })
}

/// Whether `a`'s exterior lies in `b`'s area (inside `b`'s exterior and in none of its holes).
fn inside_polygon(a: &Polygon<f64>, b: &Polygon<f64>) -> bool {
    a.exterior().0.iter().find_map(|p| {
        let outer = point_in_ring(*p, b.exterior())?;
        if outer == Position::Outside {
            return Some(false);
        }
        for hole in b.interiors() {
            match point_in_ring(*p, hole) {
                None => return None,
                Some(Position::Inside) => return Some(false),
                Some(Position::Outside) => {}
            }
        }
        Some(true)
    }) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn says(found: Option<Problem>, word: &str) -> bool {
        found.is_some_and(|p| p.to_string().contains(word))
    }

    #[test]
    fn finds_crossings_overlaps_and_stray_holes() {
        let square = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)];
        assert_eq!(problem(&MultiPolygon::new(vec![square.clone()])), None);
        let bow_tie = polygon![(x: 0., y: 0.), (x: 4., y: 4.), (x: 4., y: 0.), (x: 0., y: 4.)];
        let crossed = problem(&MultiPolygon::new(vec![bow_tie]));
        assert!(says(crossed, "crosses"));
        assert!(matches!(crossed, Some(Problem::RingCrossesItself { how: Meeting::Crosses, .. })));
        let inner = polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)];
        let nested = problem(&MultiPolygon::new(vec![square.clone(), inner.clone()]));
        assert!(says(nested, "overlap"));
        assert_eq!(nested, Some(Problem::PolygonsOverlap { first: 0, second: 1 }));
        // The same small square as a hole is fine; as a part inside the hole too (an island).
        let holed = Polygon::new(square.exterior().clone(), vec![inner.exterior().clone()]);
        let island = polygon![(x: 1.2, y: 1.2), (x: 1.8, y: 1.2), (x: 1.8, y: 1.8), (x: 1.2, y: 1.8)];
        assert_eq!(problem(&MultiPolygon::new(vec![holed.clone(), island])), None);
        let stray = Polygon::new(
            square.exterior().clone(),
            vec![LineString::from(vec![(5., 5.), (6., 5.), (6., 6.)])],
        );
        let outside = problem(&MultiPolygon::new(vec![stray]));
        assert!(says(outside, "outside"));
        assert_eq!(outside, Some(Problem::HoleOutside { polygon: 0, hole: 0 }));
        // Two squares sharing an edge are invalid for OGC (parts may only touch at points); union merges them.
        let next = polygon![(x: 4., y: 0.), (x: 8., y: 0.), (x: 8., y: 4.), (x: 4., y: 4.)];
        let shared = problem(&MultiPolygon::new(vec![square.clone(), next]));
        assert!(says(shared, "overlaps"));
        assert!(matches!(shared, Some(Problem::RingsCross { how: Meeting::Overlaps, .. })));
        // Touching at a corner is fine.
        let corner = polygon![(x: 4., y: 4.), (x: 8., y: 4.), (x: 8., y: 8.), (x: 4., y: 8.)];
        assert_eq!(problem(&MultiPolygon::new(vec![square.clone(), corner])), None);
        let overlapping = polygon![(x: 3., y: 1.), (x: 8., y: 1.), (x: 8., y: 3.), (x: 3., y: 3.)];
        assert!(problem(&MultiPolygon::new(vec![square, overlapping])).is_some());
    }

    #[test]
    fn reasons_name_rings_as_before() {
        assert_eq!(Ring::new(2, 0).to_string(), "exterior of polygon 2");
        assert_eq!(Ring::new(2, 3).to_string(), "hole 2 of polygon 2");
        let p = Problem::RingsCross {
            first: Ring::new(0, 0),
            second: Ring::new(1, 1),
            how: Meeting::Crosses,
            near: Coord { x: 1.5, y: 2.25 },
        };
        assert_eq!(
            p.to_string(),
            "exterior of polygon 0 and hole 0 of polygon 1 crosses near (1.500000, 2.250000)"
        );
    }
}
