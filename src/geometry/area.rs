//! Geodesic areas on the WGS84 ellipsoid (Karney's algorithm) that depend neither on the winding of the
//! rings nor on how many holes a polygon has: each ring is measured on its own, signed, and its absolute
//! value taken, so a clockwise exterior or a counter-clockwise hole is never read as the rest of the Earth.

use geo::{LineString, MultiPolygon, Polygon};
use geographiclib_rs::{Geodesic, PolygonArea, Winding};

/// The area enclosed by one ring, m², whatever its winding (for rings enclosing less than half the Earth).
///
/// ```
/// use geo::LineString;
/// use territoires::geometry::area::ring_area_m2;
/// let ccw = LineString::from(vec![(2.0, 48.0), (2.01, 48.0), (2.01, 48.01), (2.0, 48.01), (2.0, 48.0)]);
/// let mut cw = ccw.clone();
/// cw.0.reverse();
/// assert!((ring_area_m2(&ccw) - ring_area_m2(&cw)).abs() < 1e-6);
/// // PROJ (pyproj Geod, WGS84) gives 829,682 m² for this ring.
/// assert!((ring_area_m2(&ccw) - 829_682.0).abs() < 1.0);
/// ```
#[must_use]
pub fn ring_area_m2(ring: &LineString<f64>) -> f64 {
    let geodesic = Geodesic::wgs84();
    let mut area = PolygonArea::new(&geodesic, Winding::CounterClockwise);
    let points = ring.0.as_slice();
    // The closing vertex repeats the first: a zero-length edge, harmless but skipped.
    let open = match points {
        [first, .., last] if first == last => &points[..points.len() - 1],
        _ => points,
    };
    if open.len() < 3 {
        return 0.0;
    }
    for c in open {
        area.add_point(c.y, c.x);
    }
    // Signed: in (-A/2, A/2], so its magnitude is the small side whichever way the ring turns.
    area.compute(true).1.abs()
}

/// A polygon's area, m²: its exterior's minus its holes', each ring measured whatever its winding.
///
/// ```
/// use geo::polygon;
/// use territoires::geometry::area::polygon_area_m2;
/// let with_hole = polygon!(
///     exterior: [(x: 2.0, y: 48.0), (x: 2.02, y: 48.0), (x: 2.02, y: 48.02), (x: 2.0, y: 48.02)],
///     interiors: [[(x: 2.005, y: 48.005), (x: 2.015, y: 48.005), (x: 2.015, y: 48.015), (x: 2.005, y: 48.015)]],
/// );
/// // A 1.5 km × 2.2 km box less a quarter of it.
/// let area = polygon_area_m2(&with_hole);
/// assert!(area > 2.4e6 && area < 2.6e6, "{area}");
/// ```
#[must_use]
pub fn polygon_area_m2(polygon: &Polygon<f64>) -> f64 {
    let holes: f64 = polygon.interiors().iter().map(ring_area_m2).sum();
    (ring_area_m2(polygon.exterior()) - holes).max(0.0)
}

/// A multipolygon's area, m²: the sum of its polygons' (which must not overlap, as in any valid
/// MultiPolygon).
#[must_use]
pub fn multi_polygon_area_m2(mp: &MultiPolygon<f64>) -> f64 {
    mp.0.iter().map(polygon_area_m2).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{GeodesicArea, polygon};

    #[test]
    fn agrees_with_geo_on_well_wound_polygons_and_ignores_winding() {
        let p = polygon!(
            exterior: [(x: 3.0, y: 49.0), (x: 3.5, y: 49.0), (x: 3.5, y: 49.4), (x: 3.0, y: 49.4)],
            interiors: [[(x: 3.1, y: 49.1), (x: 3.1, y: 49.2), (x: 3.2, y: 49.2), (x: 3.2, y: 49.1)]],
        );
        let reference = p.geodesic_area_unsigned();
        assert!((polygon_area_m2(&p) - reference).abs() < 1e-3 * reference);
        // Every ring turned the other way: geo reads them as the rest of the Earth, this does not.
        let (mut exterior, mut holes) = p.into_inner();
        exterior.0.reverse();
        for h in &mut holes {
            h.0.reverse();
        }
        let flipped = Polygon::new(exterior, holes);
        assert!((polygon_area_m2(&flipped) - reference).abs() < 1e-3 * reference);
    }

    #[test]
    fn a_degenerate_hole_counts_for_nothing() {
        // A hole of three points on one meridian (a geodesic), as slivers from mismatched borders can be.
        let p = polygon!(
            exterior: [(x: 0.0, y: 45.0), (x: 1.0, y: 45.0), (x: 1.0, y: 46.0), (x: 0.0, y: 46.0)],
            interiors: [[(x: 0.5, y: 45.2), (x: 0.5, y: 45.5), (x: 0.5, y: 45.8)]],
        );
        let outer = ring_area_m2(p.exterior());
        assert!((polygon_area_m2(&p) - outer).abs() < 1.0);
    }
}
