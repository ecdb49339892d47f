//! Pure geometry on WGS84 lon/lat: areas and ring orientation. No I/O, no units, no HTTP.

pub mod area;
