//! Pure geometry on WGS84 lon/lat: dissolving parts into outlines, validity with typed reasons, areas.
//! No I/O, no units, no HTTP.

pub mod area;
pub mod dissolve;
pub mod validity;
