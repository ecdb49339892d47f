//! Batch lookups: tables (CSV streamed row by row, XLSX, Parquet/GeoParquet streamed by record batch),
//! each row located and answered by `rows`, the answer columns appended in the table's own format; and
//! GeoJSON FeatureCollections of Points (each feature answered in place).
//!
//! Every input row gives exactly one output row, in order; a row whose coordinates cannot be read keeps
//! its fields and gets a message in the `error` column. Memory is bounded by the chunk size, whatever the
//! input length.

mod csv;
mod geojson;
mod inspect;
mod parquet;
mod rows;
mod table;
mod xlsx;

pub use self::csv::annotate_csv;
pub use self::geojson::annotate_feature_collection;
pub use self::inspect::{Inspection, RoleColumn, inspect_table};
pub use self::parquet::annotate_parquet;
pub use self::xlsx::annotate_xlsx;
use crate::source::crs::Crs;
use crate::tabular::columns::ColumnChoice;

/// Rows looked up together (in parallel, sorted by site) before being written.
pub(crate) const CHUNK_ROWS: usize = 65_536;

/// Rows one worker reads into records at a time (a Parquet chunk is cut into these; the chunk's rows
/// are then answered together).
pub(crate) const PIECE_ROWS: usize = 2_048;

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchStats {
    /// Data rows read (and written).
    pub rows: u64,
    /// Rows inside at least one territory of some edition.
    pub inside: u64,
    /// Rows answered with an error.
    pub errors: u64,
    /// Rows with something worth a second look in `check`.
    pub to_check: u64,
}

impl BatchStats {
    /// Adds the counts of another part of the same batch.
    pub fn add(&mut self, other: &Self) {
        self.rows += other.rows;
        self.inside += other.inside;
        self.errors += other.errors;
        self.to_check += other.to_check;
    }
}

/// A batch that cannot be processed at all (bad header, unreadable stream).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No header line.
    #[error("{0}: empty input, expected a header line with lon/lat columns")]
    Empty(String),
    /// No column to locate rows by.
    #[error(
        "{source_name}: no column to locate the sites by (lon/lat, x/y, commune code, SIREN or postal code); \
         accepted names: {accepted}; found: {found}"
    )]
    NoLocation {
        /// The input's name.
        source_name: String,
        /// Accepted header names.
        accepted: String,
        /// Header names found.
        found: String,
    },
    /// The CSV could not be read or written.
    #[error("{source_name}:{line}: {error}")]
    Csv {
        /// The input's name.
        source_name: String,
        /// 1-based line.
        line: u64,
        /// What the CSV reader said.
        error: ::csv::Error,
    },
    /// More data rows than the caller allows.
    #[error("{source_name}: more than {max} rows; split the file")]
    TooManyRows {
        /// The input's name.
        source_name: String,
        /// The limit.
        max: u64,
    },
    /// A column chosen by name that cannot be used.
    #[error("{source_name}: {error}")]
    Columns {
        /// The input's name.
        source_name: String,
        /// What is wrong with the choice.
        error: crate::tabular::columns::ColumnChoiceError,
    },
    /// One coordinate column chosen and its partner nowhere.
    #[error("{source_name}: a {given} column needs a {missing} column: choose it too ({missing}=COLUMN)")]
    HalfPair {
        /// The input's name.
        source_name: String,
        /// The role given.
        given: &'static str,
        /// The role missing.
        missing: &'static str,
    },
    /// An input column the answer's format cannot hold.
    #[error(
        "{source_name}: column {column:?} is {kind}, which a {format} answer cannot hold; ask for Parquet"
    )]
    Unconvertible {
        /// The input's name.
        source_name: String,
        /// The column.
        column: String,
        /// Its type.
        kind: String,
        /// The answer's format.
        format: &'static str,
    },
    /// A spreadsheet that cannot be read or written.
    #[error("{0}")]
    Spreadsheet(String),
    /// A Parquet file that cannot be read or written.
    #[error("{0}")]
    Parquet(String),
    /// A GeoJSON batch that is not a FeatureCollection.
    #[error("{0}")]
    NotGeoJson(String),
    /// Writing failed.
    #[error("writing output: {0}")]
    Write(#[from] std::io::Error),
}

/// A table format batches read and answer in (GeoJSON FeatureCollections have their own path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableFormat {
    /// CSV or TSV (any separator, UTF-8 or Windows-1252).
    Csv,
    /// An XLSX (or XLS, ODS) workbook; answered as XLSX.
    Xlsx,
    /// Parquet or GeoParquet.
    Parquet,
}

impl TableFormat {
    /// The format a file name says (`.xlsx`, `.xlsm`, `.xls`, `.ods`, `.parquet`, `.geoparquet`; else CSV).
    #[must_use]
    pub fn of_path(path: &std::path::Path) -> Self {
        match path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
            Some("xlsx" | "xlsm" | "xls" | "ods") => Self::Xlsx,
            Some("parquet" | "geoparquet") => Self::Parquet,
            _ => Self::Csv,
        }
    }

    /// The format of a request's media type, if it is a table.
    #[must_use]
    pub fn of_media_type(media: &str) -> Option<Self> {
        let media = media.split(';').next().unwrap_or_default().trim();
        match media {
            "text/csv" | "application/csv" | "text/tab-separated-values" => Some(Self::Csv),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.ms-excel" => Some(Self::Xlsx),
            "application/vnd.apache.parquet" | "application/x-parquet" | "application/parquet" => {
                Some(Self::Parquet)
            }
            _ => None,
        }
    }

    /// The format's short name (`csv`, `xlsx`, `parquet`), as in a file extension.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Parquet => "parquet",
        }
    }

    /// The media type of an answer in this format.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// How a batch reads its input and writes its answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchOptions {
    /// The answer's format; `None`: the input's (`--output FILE`'s extension, `Accept`).
    pub output: Option<TableFormat>,
    /// Columns named for roles over the recognised names (`--column lon=Longitude`, `?lon=Longitude`).
    pub columns: ColumnChoice,
    /// The CRS of `x`/`y` columns on rows whose `epsg` column is empty or absent (`--crs`, `?crs=`);
    /// `None`: such values must be degrees.
    pub crs: Option<Crs>,
    /// Whether a CSV answer starts with a UTF-8 BOM (the default: Excel and LibreOffice then read the
    /// accents right).
    pub bom: bool,
    /// Most data rows accepted.
    pub max_rows: u64,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self { output: None, columns: ColumnChoice::default(), crs: None, bom: true, max_rows: u64::MAX }
    }
}

impl BatchOptions {
    /// The CRS of `x`/`y` columns.
    #[must_use]
    pub fn with_crs(self, crs: Option<Crs>) -> Self {
        Self { crs, ..self }
    }

    /// The answer's format (`None`: the input's).
    #[must_use]
    pub fn with_output(self, output: Option<TableFormat>) -> Self {
        Self { output, ..self }
    }

    /// Columns named for roles.
    #[must_use]
    pub fn with_columns(self, columns: ColumnChoice) -> Self {
        Self { columns, ..self }
    }

    /// Whether a CSV answer starts with a UTF-8 BOM.
    #[must_use]
    pub fn with_bom(self, bom: bool) -> Self {
        Self { bom, ..self }
    }

    /// Most data rows accepted.
    #[must_use]
    pub fn with_max_rows(self, max_rows: u64) -> Self {
        Self { max_rows, ..self }
    }
}

/// Within this distance of a territory border, a point answer is flagged for a second look: the
/// communes are IGN's generalised ADMIN EXPRESS COG carto, whose simplification moved borders by up to
/// about this much (measured in `tests/reference/test_precision.py`; README, "Batch lookups").
pub const BORDER_PRECISION_M: f64 = 100.0;

/// `name`, or `name_2`, `name_3`... when the header already has it (a file answered before and sent
/// again keeps its columns, and ours stay distinguishable).
fn unique_name(taken: impl Fn(&str) -> bool, name: String) -> String {
    if !taken(&name) {
        return name;
    }
    // Ends: only finitely many names are taken.
    #[allow(clippy::maybe_infinite_iter)]
    (2..).map(|i| format!("{name}_{i}")).find(|n| !taken(n)).unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_columns_never_repeat_a_name() {
        let header = ::csv::ByteRecord::from(vec!["lon", "lat", "territory_2023", "territory_2023_2"]);
        let taken = |n: &str| header.iter().any(|h| h == n.as_bytes());
        assert_eq!(unique_name(taken, "territory_2023".into()), "territory_2023_3");
        assert_eq!(unique_name(taken, "error".into()), "error");
    }
}
