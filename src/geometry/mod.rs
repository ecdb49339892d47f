//! Pure geometry on WGS84 lon/lat: dissolving parts into outlines, validity with typed reasons, areas.
//! No I/O, no units, no HTTP.

pub mod area;
pub mod dissolve;
pub mod validity;

/// Shapes for unit tests of this layer and the index beside it.
#[cfg(test)]
pub(crate) mod test_shapes {
    use geo::{MultiPolygon, polygon};

    /// An axis-aligned square with its south-west corner at `(x, y)`, counter-clockwise.
    pub(crate) fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side)
        ]])
    }
}
