//! A table's header and first rows, and the column each role would be read from, without answering
//! anything: what the web page shows before a batch runs, so a person can check the columns and pick
//! them where the names leave doubt. The same rules as a batch (`rows::Columns`), so the two agree.

use serde::Serialize;

use super::rows::Columns;
use super::table::Chunk;
use super::{BatchError, TableFormat};
use crate::tabular::columns::{COLUMNS, ColumnChoice, ColumnRole, candidates};
use crate::tabular::{detect_encoding, first_line, sniff_separator, strip_bom};

/// Data rows given back as a sample.
const SAMPLE_ROWS: usize = 5;

/// What a table would be read by.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// `csv`, `xlsx` or `parquet`.
    pub format: &'static str,
    /// The sheet read (spreadsheets).
    pub sheet: Option<String>,
    /// The field separator (CSV).
    pub separator: Option<String>,
    /// `UTF-8` or `Windows-1252` (CSV).
    pub encoding: Option<&'static str>,
    /// The header, in order.
    pub header: Vec<String>,
    /// The first data rows as text.
    pub sample: Vec<Vec<String>>,
    /// Data rows, when the format says it without reading them all (spreadsheets, Parquet).
    pub rows: Option<u64>,
    /// Each role and the column it is read from.
    pub columns: Vec<RoleColumn>,
    /// The point geometry column of a GeoParquet read for lon/lat, when no column is named for them.
    pub geometry: Option<String>,
    /// Why a person should check the columns (empty when the names leave no doubt).
    pub unsure: Vec<Doubt>,
}

/// One role, the column read for it and every column that could be.
#[derive(Debug, Clone, Serialize)]
pub struct RoleColumn {
    /// The role.
    pub role: ColumnRole,
    /// Its short name (`lon`, `commune_code`...), as in `?lon=COLUMN`.
    pub key: &'static str,
    /// The column read, if any.
    pub column: Option<String>,
    /// Every column whose name is accepted for the role.
    pub candidates: Vec<String>,
}

/// A reason to check the columns, for the page to word in its language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Doubt {
    /// No column locates the rows: coordinates or a code must be chosen.
    NoLocation,
    /// Several columns are accepted for a role; the first by priority is read.
    Several {
        /// The role's key.
        key: &'static str,
        /// The candidates.
        columns: Vec<String>,
        /// The one read.
        read: String,
    },
    /// One coordinate of a pair found, not the other.
    HalfPair {
        /// The role found.
        key: &'static str,
        /// The role missing.
        missing: &'static str,
    },
    /// Both x/y and lon/lat: x/y are read first, lon/lat on rows where x/y are empty.
    BothPairs,
}

/// Reads the header and first rows of `input` in `format` and says which column each role is read
/// from, with `choice` applied as a batch would.
///
/// # Errors
/// An unreadable or empty input; a chosen column the header does not have.
pub fn inspect_table(
    input: bytes::Bytes,
    format: TableFormat,
    sheet: Option<&str>,
    source_name: &str,
    choice: &ColumnChoice,
) -> Result<Inspection, BatchError> {
    let mut inspection = Inspection {
        format: format.name(),
        sheet: None,
        separator: None,
        encoding: None,
        header: Vec::new(),
        sample: Vec::new(),
        rows: None,
        columns: Vec::new(),
        geometry: None,
        unsure: Vec::new(),
    };
    // Names the rows are read by: the header, then (GeoParquet) the geometry's virtual lon/lat.
    let mut names: Vec<String>;
    match format {
        TableFormat::Csv => {
            let body = strip_bom(&input);
            if body.is_empty() {
                return Err(BatchError::Empty(source_name.to_owned()));
            }
            // The page may send only the first bytes of a large CSV: a last character may be cut.
            let encoding = detect_encoding(&body[..body.len().min(1 << 16)], false);
            let delimiter = sniff_separator(first_line(body));
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .has_headers(false)
                .from_reader(body);
            let mut records = reader.byte_records();
            let text = |record: csv::ByteRecord| -> Vec<String> {
                let mut record = record;
                super::csv::record_to_utf8(&mut record, encoding);
                record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect()
            };
            let csv_error = |error: csv::Error| BatchError::Csv {
                source_name: source_name.to_owned(),
                line: error.position().map_or(0, csv::Position::line),
                error,
            };
            let header = records.next().ok_or_else(|| BatchError::Empty(source_name.to_owned()))?;
            inspection.header = text(header.map_err(csv_error)?);
            for record in records.take(SAMPLE_ROWS) {
                inspection.sample.push(text(record.map_err(csv_error)?));
            }
            inspection.separator = Some(char::from(delimiter).to_string());
            inspection.encoding = Some(encoding.label());
            names = inspection.header.clone();
        }
        TableFormat::Xlsx => {
            let (name, range) = super::xlsx::read_sheet(&input, sheet, source_name)?;
            let rows: Vec<&[calamine::Data]> = range.rows().collect();
            let (header, data) = rows
                .split_first()
                .ok_or_else(|| BatchError::Empty(format!("{source_name}, sheet {name:?}")))?;
            inspection.header = super::xlsx::header_names(header);
            let sample = super::xlsx::Cells(&data[..data.len().min(SAMPLE_ROWS)]);
            inspection.sample = chunk_text(&sample, inspection.header.len());
            inspection.rows = Some(data.len() as u64);
            inspection.sheet = Some(name);
            names = inspection.header.clone();
        }
        TableFormat::Parquet => {
            let failed = |message: String| BatchError::Parquet(format!("{source_name}: {message}"));
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(input)
                .map_err(|e| failed(format!("not Parquet: {e}")))?;
            let schema = builder.schema().clone();
            let metadata: Vec<parquet::file::metadata::KeyValue> =
                builder.metadata().file_metadata().key_value_metadata().cloned().unwrap_or_default();
            inspection.rows = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
            inspection.header = schema.fields().iter().map(|f| f.name().clone()).collect();
            names = inspection.header.clone();
            if let Some((index, crs)) = super::parquet::point_geometry(&metadata, &schema, &names) {
                let geographic = crs.is_none_or(crate::source::crs::Crs::is_geographic);
                names.extend(if geographic { ["lon", "lat"] } else { ["x", "y"] }.map(String::from));
                inspection.geometry = Some(inspection.header[index].clone());
            }
            let mut batches =
                builder.with_batch_size(SAMPLE_ROWS).build().map_err(|e| failed(e.to_string()))?;
            if let Some(batch) = batches.next() {
                let batch = batch.map_err(|e| failed(e.to_string()))?;
                let sample = super::parquet::Batch(&batch);
                inspection.sample = chunk_text(&sample, inspection.header.len());
            }
        }
    }
    let columns = Columns::find(&names, choice, source_name)?;
    let width = inspection.header.len();
    let name_of = |c: Option<usize>| {
        c.map(|c| if c < width { names[c].clone() } else { inspection.geometry.clone().unwrap_or_default() })
    };
    let read = |role: ColumnRole| match role {
        ColumnRole::Longitude => columns.lon_lat.map(|p| p.0),
        ColumnRole::Latitude => columns.lon_lat.map(|p| p.1),
        ColumnRole::X => columns.xy.map(|p| p.0),
        ColumnRole::Y => columns.xy.map(|p| p.1),
        ColumnRole::Epsg => columns.epsg,
        ColumnRole::CommuneCode => columns.commune,
        ColumnRole::Siren => columns.siren,
        ColumnRole::PostalCode => columns.postal,
        ColumnRole::PositionQuality => columns.quality,
    };
    let header = || inspection.header.iter().map(String::as_str);
    let mut roles = Vec::new();
    let mut unsure = Vec::new();
    for c in COLUMNS {
        let found: Vec<String> = candidates(header(), c.role).into_iter().map(|i| names[i].clone()).collect();
        let column = name_of(read(c.role));
        if choice.chosen(c.role).is_none()
            && found.len() > 1
            && let Some(read) = &column
        {
            unsure.push(Doubt::Several { key: c.key, columns: found.clone(), read: read.clone() });
        }
        roles.push(RoleColumn { role: c.role, key: c.key, column, candidates: found });
    }
    for (a, b) in [(ColumnRole::Longitude, ColumnRole::Latitude), (ColumnRole::X, ColumnRole::Y)] {
        let has = |r| roles.iter().any(|x: &RoleColumn| x.role == r && !x.candidates.is_empty());
        let pair_read = read(a).is_some();
        if !pair_read && has(a) != has(b) {
            let (key, missing) = if has(a) { (a.key(), b.key()) } else { (b.key(), a.key()) };
            unsure.push(Doubt::HalfPair { key, missing });
        }
    }
    if columns.lon_lat.is_some() && columns.xy.is_some() {
        unsure.push(Doubt::BothPairs);
    }
    if !columns.locates() {
        unsure.insert(0, Doubt::NoLocation);
    }
    inspection.columns = roles;
    inspection.unsure = unsure;
    Ok(inspection)
}

/// The rows of a chunk as text, `width` cells each.
fn chunk_text(chunk: &dyn Chunk, width: usize) -> Vec<Vec<String>> {
    (0..chunk.rows()).map(|r| (0..width).map(|c| chunk.cell(r, c).text().into_owned()).collect()).collect()
}
