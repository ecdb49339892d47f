//! Errors raised while reading unit boundary files, each naming the file and the record or feature.

use std::fmt;

/// Where in a file a problem is: the whole file, a Shapefile record or a GeoJSON feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// The file as a whole (header, CRS, encoding).
    File,
    /// A Shapefile record, 1-based as GIS tools number them.
    Record(usize),
    /// A GeoJSON feature, 0-based like `model::Place::Feature`.
    Feature(usize),
}

impl fmt::Display for Loc {
    /// Renders as a prefix (`record 12: `) so messages read `file: record 12: what went wrong`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => Ok(()),
            Self::Record(n) => write!(f, "record {n}: "),
            Self::Feature(n) => write!(f, "feature {n}: "),
        }
    }
}

/// Why a unit file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file (or a companion file) could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The `.shp` (or `.shx`) is malformed; the shapefile crate's message.
    #[error("{path}: {loc}{message}")]
    Shapefile {
        /// The `.shp` file.
        path: String,
        /// The record being read.
        loc: Loc,
        /// What the shapefile crate said.
        message: String,
    },
    /// The `.dbf` attribute table is missing or malformed.
    #[error("{path}: {loc}{message}")]
    Dbf {
        /// The `.dbf` file.
        path: String,
        /// The record being read.
        loc: Loc,
        /// What went wrong.
        message: String,
    },
    /// The `.shp` and `.dbf` disagree on the number of records.
    #[error(
        "{path}: {shp} shapes in the .shp but {dbf} records in the .dbf (record {} has no match)",
        shp.min(dbf) + 1
    )]
    RecordCountMismatch {
        /// The `.shp` file.
        path: String,
        /// Number of shapes in the `.shp`.
        shp: usize,
        /// Number of records in the `.dbf`.
        dbf: usize,
    },
    /// A record or feature has no geometry.
    #[error("{path}: {loc}no geometry (null shape)")]
    NullShape {
        /// The file.
        path: String,
        /// The record or feature.
        loc: Loc,
    },
    /// A geometry that is not a usable polygon.
    #[error("{path}: {loc}{message}")]
    BadGeometry {
        /// The file.
        path: String,
        /// The record or feature.
        loc: Loc,
        /// What is wrong with it.
        message: String,
    },
    /// A required attribute is absent.
    #[error("{path}: {loc}missing field {field}")]
    MissingField {
        /// The file.
        path: String,
        /// The record or feature.
        loc: Loc,
        /// The accepted field names, e.g. `SIREN (or CODE_SIREN)`.
        field: String,
    },
    /// A required code (SIREN, INSEE) is malformed.
    #[error("{path}: {loc}field {field} \"{value}\": {expected}")]
    BadCode {
        /// The file.
        path: String,
        /// The record or feature.
        loc: Loc,
        /// The field it was read from.
        field: String,
        /// The value as found.
        value: String,
        /// What was expected, e.g. `not a 9-digit SIREN`.
        expected: String,
    },
    /// The declared CRS is not one this crate can reproject.
    #[error("{path}: {error}")]
    UnknownCrs {
        /// The `.prj` or GeoJSON file.
        path: String,
        /// Which CRS was found, or why it cannot be used.
        #[source]
        error: super::crs::CrsError,
    },
    /// The file declares no CRS and none was assumed.
    #[error("{path}: {message}")]
    MissingCrs {
        /// The file.
        path: String,
        /// The hint on how to fix it.
        message: String,
    },
    /// Whether the units are EPCI, EPT or communes cannot be told.
    #[error("{path}: {loc}{message}")]
    UnknownKind {
        /// The file.
        path: String,
        /// The record or feature (or the whole file).
        loc: Loc,
        /// Why.
        message: String,
    },
    /// The file extension is neither `.shp`, `.geojson` nor `.json`.
    #[error("{path}: unsupported format (expected .shp, .geojson or .json)")]
    UnsupportedFormat {
        /// The file.
        path: String,
    },
    /// The GeoJSON could not be parsed or is not a feature collection.
    #[error("{path}: {loc}{message}")]
    Json {
        /// The file.
        path: String,
        /// The feature, if one is to blame.
        loc: Loc,
        /// The parser's message.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_record_and_value() {
        let e = LoadError::BadCode {
            path: "geodata/epci.shp".into(),
            loc: Loc::Record(12),
            field: "SIREN".into(),
            value: "12ab".into(),
            expected: "not a 9-digit SIREN".into(),
        };
        assert_eq!(e.to_string(), "geodata/epci.shp: record 12: field SIREN \"12ab\": not a 9-digit SIREN");
        let e = LoadError::RecordCountMismatch { path: "a.shp".into(), shp: 3, dbf: 2 };
        assert_eq!(
            e.to_string(),
            "a.shp: 3 shapes in the .shp but 2 records in the .dbf (record 3 has no match)"
        );
    }
}
