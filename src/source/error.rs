//! `LoadError`: why a unit boundary file could not be read, naming the file and the record.

/// A unit file that could not be read; every variant names the file, and the record when there is one.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The extension is neither `.shp` nor `.geojson`/`.json`.
    #[error("{file}: unsupported format (expected .shp or .geojson)")]
    UnsupportedFormat {
        /// The file.
        file: String,
    },
    /// The Shapefile (or its .shx/.dbf) is malformed or truncated.
    #[error("{file}: {message}")]
    Shapefile {
        /// The file.
        file: String,
        /// What the reader said.
        message: String,
    },
    /// `.shp` and `.dbf` do not have the same number of records.
    #[error("{file}: {shapes} shapes in .shp but {records} records in .dbf")]
    RecordCountMismatch {
        /// The file.
        file: String,
        /// Shapes read.
        shapes: usize,
        /// dBase records read.
        records: usize,
    },
    /// The GeoJSON is not a FeatureCollection of polygons.
    #[error("{file}: {message}")]
    Json {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// One record or feature is unusable.
    #[error("{file}: {place}: {message}")]
    Record {
        /// The file.
        file: String,
        /// `record N` (1-based) or `feature N` (0-based).
        place: String,
        /// What is wrong, quoting the value.
        message: String,
    },
    /// The `.prj` or `crs` names a CRS we do not know.
    #[error(
        "{file}: unknown CRS {crs:?}; supported: WGS84 (EPSG:4326), Lambert-93 (EPSG:2154), Web Mercator (EPSG:3857), UTM 20N/22N/40S/38S (EPSG:5490, 2972, 2975, 4471)"
    )]
    UnknownCrs {
        /// The file.
        file: String,
        /// The start of the CRS text.
        crs: String,
    },
    /// A Shapefile without `.prj`.
    #[error("{file}: no .prj beside it, so its CRS is unknown (add a .prj)")]
    MissingCrs {
        /// The file.
        file: String,
    },
    /// Reprojection failed.
    #[error("{file}: {place}: cannot reproject: {message}")]
    Projection {
        /// The file.
        file: String,
        /// The record or feature.
        place: String,
        /// Why.
        message: String,
    },
}
