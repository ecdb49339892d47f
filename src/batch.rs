//! Batch lookups: CSV (streams rows in, appends each edition's territory columns, streams rows out) and
//! GeoJSON FeatureCollections of Points (each feature answered in place).
//!
//! Every input row gives exactly one output row, in order; a row whose coordinates cannot be read keeps
//! its fields and gets a message in the `error` column. Memory is bounded by the chunk size, whatever the
//! input length.

use std::io::{BufRead, Write};

use rayon::prelude::*;

use serde_json::{Map, Value, json};

use crate::atlas::{Atlas, checked_point};
use crate::tabular::columns::{ColumnRole, find_column, names_of};
use crate::tabular::{TextEncoding, UTF8_BOM, detect_encoding, field_to_utf8, first_line, sniff_separator};

/// Rows looked up together (in parallel) before being written.
const CHUNK_ROWS: usize = 16_384;

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchStats {
    /// Data rows read (and written).
    pub rows: u64,
    /// Rows inside at least one territory of some edition.
    pub inside: u64,
    /// Rows answered with an error.
    pub errors: u64,
}

/// A batch that cannot be processed at all (bad header, unreadable stream).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No header line.
    #[error("{0}: empty input, expected a header line with lon/lat columns")]
    Empty(String),
    /// No longitude or latitude column.
    #[error("{source_name}: no {missing} column; accepted names: {accepted}; found: {found}")]
    MissingColumn {
        /// The input's name.
        source_name: String,
        /// `longitude` or `latitude`.
        missing: &'static str,
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
        error: csv::Error,
    },
    /// More data rows than the caller allows.
    #[error("{source_name}: more than {max} rows; split the file")]
    TooManyRows {
        /// The input's name.
        source_name: String,
        /// The limit.
        max: u64,
    },
    /// A GeoJSON batch that is not a FeatureCollection.
    #[error("{0}")]
    NotGeoJson(String),
    /// Writing failed.
    #[error("writing output: {0}")]
    Write(#[from] std::io::Error),
}

/// The column of `role`, else of `fallback` (x/y read as degrees when no lon/lat column is given).
fn find_role(headers: &[String], role: ColumnRole, fallback: ColumnRole) -> Option<usize> {
    find_column(headers.iter().map(String::as_str), role)
        .or_else(|| find_column(headers.iter().map(String::as_str), fallback))
}

/// Rewrites a record's fields in UTF-8 (no-op for the usual ASCII or UTF-8 row).
fn record_to_utf8(record: &mut csv::ByteRecord, encoding: TextEncoding) {
    if record.as_slice().is_ascii() {
        return;
    }
    let fields: Vec<Vec<u8>> = record.iter().map(|f| field_to_utf8(f, encoding).into_owned()).collect();
    if fields.iter().zip(record.iter()).all(|(new, old)| new == old) {
        return;
    }
    record.clear();
    for f in &fields {
        record.push_field(f);
    }
}

/// Reads a coordinate, accepting a decimal comma when the separator is not a comma.
fn parse_coordinate(field: &[u8], decimal_comma: bool) -> Option<f64> {
    let s = std::str::from_utf8(field).ok()?.trim();
    if decimal_comma && s.contains(',') { s.replace(',', ".").parse().ok() } else { s.parse().ok() }
}

/// Looks up every row of `input` (CSV with a header) and writes it to `output` with, for each edition
/// `E`, the columns `territory_E` (ids, `;`-joined) and `territory_E_name`, then `error`.
///
/// # Errors
/// A missing header or coordinate column, an unreadable stream, a failed write. Bad rows are not errors:
/// they are answered in the `error` column.
pub fn annotate_csv<R: BufRead, W: Write>(
    atlas: &Atlas,
    input: R,
    output: W,
    source_name: &str,
) -> Result<BatchStats, BatchError> {
    annotate_csv_limited(atlas, input, output, source_name, u64::MAX)
}

/// [`annotate_csv`], refusing inputs of more than `max_rows` data rows.
///
/// # Errors
/// As [`annotate_csv`], and [`BatchError::TooManyRows`].
pub fn annotate_csv_limited<R: BufRead, W: Write>(
    atlas: &Atlas,
    mut input: R,
    output: W,
    source_name: &str,
    max_rows: u64,
) -> Result<BatchStats, BatchError> {
    if input.fill_buf()?.starts_with(UTF8_BOM) {
        input.consume(UTF8_BOM.len());
    }
    let peek = input.fill_buf()?;
    if peek.is_empty() {
        return Err(BatchError::Empty(source_name.to_owned()));
    }
    // The encoding is told by the first buffer; a later field that is not UTF-8 is still converted
    // (`field_to_utf8`), so the output is UTF-8 throughout.
    let encoding = detect_encoding(peek, false);
    let delimiter = sniff_separator(first_line(peek));
    let decimal_comma = delimiter != b',';
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(input);
    let csv_error = |error: csv::Error| BatchError::Csv {
        source_name: source_name.to_owned(),
        line: error.position().map_or(0, csv::Position::line),
        error,
    };
    let mut headers = reader.byte_headers().map_err(csv_error)?.clone();
    record_to_utf8(&mut headers, encoding);
    let names: Vec<String> = headers.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    let missing = |missing: &'static str, roles: [ColumnRole; 2]| BatchError::MissingColumn {
        source_name: source_name.to_owned(),
        missing,
        accepted: roles.iter().flat_map(|&r| names_of(r)).copied().collect::<Vec<_>>().join(", "),
        found: names.join(", "),
    };
    let lon_col = find_role(&names, ColumnRole::Longitude, ColumnRole::X)
        .ok_or_else(|| missing("longitude", [ColumnRole::Longitude, ColumnRole::X]))?;
    let lat_col = find_role(&names, ColumnRole::Latitude, ColumnRole::Y)
        .ok_or_else(|| missing("latitude", [ColumnRole::Latitude, ColumnRole::Y]))?;

    let mut writer = csv::WriterBuilder::new().delimiter(delimiter).flexible(true).from_writer(output);
    let mut out_header = headers.clone();
    let mut added: Vec<String> = atlas
        .editions()
        .iter()
        .flat_map(|e| [format!("territory_{}", e.edition.id), format!("territory_{}_name", e.edition.id)])
        .collect();
    added.push("error".into());
    for name in added {
        out_header.push_field(unique_name(&out_header, name).as_bytes());
    }
    writer.write_byte_record(&out_header).map_err(csv_error)?;

    let width = headers.len();
    let mut stats = BatchStats::default();
    // Records are read into the same buffers chunk after chunk, and answers hold no strings of their
    // own but for errors: a batch allocates per chunk, not per row.
    let mut chunk: Vec<csv::ByteRecord> = Vec::with_capacity(CHUNK_ROWS);
    let mut joined = Vec::new();
    loop {
        let mut filled = 0;
        while filled < CHUNK_ROWS {
            if chunk.len() == filled {
                chunk.push(csv::ByteRecord::new());
            }
            if !reader.read_byte_record(&mut chunk[filled]).map_err(csv_error)? {
                break;
            }
            filled += 1;
        }
        if filled == 0 {
            break;
        }
        if stats.rows + filled as u64 > max_rows {
            return Err(BatchError::TooManyRows { source_name: source_name.to_owned(), max: max_rows });
        }
        let answers: Vec<RowAnswer> = chunk[..filled]
            .par_iter_mut()
            .map(|record| {
                record_to_utf8(record, encoding);
                answer_row(atlas, record, lon_col, lat_col, width, decimal_comma)
            })
            .collect();
        for (record, answer) in chunk[..filled].iter_mut().zip(answers) {
            stats.rows += 1;
            stats.inside += u64::from(!answer.hits.is_empty());
            stats.errors += u64::from(answer.error.is_some());
            while record.len() < width {
                record.push_field(b"");
            }
            for (e, entry) in atlas.positioned_editions() {
                let territories =
                    || answer.hits.iter().filter(|h| h.edition == e).map(|h| entry.territory(h.territory));
                for name in [false, true] {
                    joined.clear();
                    for (i, t) in territories().enumerate() {
                        if i > 0 {
                            joined.push(b';');
                        }
                        joined.extend_from_slice(if name {
                            t.name.as_bytes()
                        } else {
                            t.id.as_str().as_bytes()
                        });
                    }
                    record.push_field(&joined);
                }
            }
            record.push_field(answer.error.as_deref().unwrap_or_default().as_bytes());
            writer.write_byte_record(record).map_err(csv_error)?;
        }
    }
    writer.flush()?;
    Ok(stats)
}

/// `name`, or `name_2`, `name_3`... when the header already has it (a file answered before and sent
/// again keeps its columns, and ours stay distinguishable).
fn unique_name(header: &csv::ByteRecord, name: String) -> String {
    let taken = |n: &str| header.iter().any(|h| h == n.as_bytes());
    if !taken(&name) {
        return name;
    }
    // Ends: only finitely many names are taken.
    #[allow(clippy::maybe_infinite_iter)]
    (2..).map(|i| format!("{name}_{i}")).find(|n| !taken(n)).unwrap_or(name)
}

struct RowAnswer {
    /// The territories containing the site, by positions.
    hits: crate::atlas::TerritoryHits,
    error: Option<String>,
}

fn answer_row(
    atlas: &Atlas,
    record: &csv::ByteRecord,
    lon_col: usize,
    lat_col: usize,
    width: usize,
    decimal_comma: bool,
) -> RowAnswer {
    let field = |i: usize| record.get(i).unwrap_or_default();
    let parsed = match (
        parse_coordinate(field(lon_col), decimal_comma),
        parse_coordinate(field(lat_col), decimal_comma),
    ) {
        (Some(lon), Some(lat)) => checked_point(lon, lat).map_err(|e| e.to_string()),
        (None, _) => Err(format!("longitude {:?} is not a number", String::from_utf8_lossy(field(lon_col)))),
        (_, None) => Err(format!("latitude {:?} is not a number", String::from_utf8_lossy(field(lat_col)))),
    };
    match parsed {
        Ok(point) => {
            let hits = atlas.territories_containing(point);
            let error = (record.len() != width)
                .then(|| format!("row has {} fields, header has {width}", record.len()));
            RowAnswer { hits, error }
        }
        Err(message) => RowAnswer { hits: crate::atlas::TerritoryHits::new(), error: Some(message) },
    }
}

/// The parts of a batch body read up front; each feature is parsed on its own, in parallel.
#[derive(serde::Deserialize)]
struct FeatureCollectionBody<'a> {
    #[serde(rename = "type")]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    features: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// Answers a GeoJSON FeatureCollection of Points into `output`: the same features in the same order, each
/// with `territories` and `nearest` (as in [`Atlas::lookup`]) added to its properties, or `error` when it
/// is not a usable Point. Features are parsed one at a time, answered in parallel chunks and written as
/// they are done.
///
/// # Errors
/// A body that is not a FeatureCollection, more than `max_features` features, a failed write. A bad
/// feature is not an error: it is answered with `error`.
pub fn annotate_feature_collection(
    atlas: &Atlas,
    body: &[u8],
    output: &mut dyn Write,
    max_features: usize,
) -> Result<BatchStats, BatchError> {
    let collection: FeatureCollectionBody<'_> =
        serde_json::from_slice(body).map_err(|e| BatchError::NotGeoJson(format!("body is not JSON: {e}")))?;
    if collection.kind.as_deref() != Some("FeatureCollection") {
        return Err(BatchError::NotGeoJson("expected a GeoJSON FeatureCollection".into()));
    }
    let Some(features) = collection.features else {
        return Err(BatchError::NotGeoJson("FeatureCollection without a \"features\" array".into()));
    };
    if features.len() > max_features {
        return Err(BatchError::TooManyRows {
            source_name: format!("body ({} features)", features.len()),
            max: max_features as u64,
        });
    }
    let mut stats = BatchStats::default();
    let mut write = |bytes: &[u8]| output.write_all(bytes);
    write(br#"{"type":"FeatureCollection","features":["#)?;
    for (c, chunk) in features.chunks(CHUNK_ROWS).enumerate() {
        let answered: Vec<(Vec<u8>, bool, bool)> = chunk
            .par_iter()
            .map(|raw| {
                let feature: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                let answer = answer_feature(atlas, &feature);
                let inside = answer["properties"]["territories"].as_array().is_some_and(|t| !t.is_empty());
                let error = answer["properties"].get("error").is_some();
                (serde_json::to_vec(&answer).unwrap_or_default(), inside, error)
            })
            .collect();
        for (i, (feature, inside, error)) in answered.iter().enumerate() {
            if c > 0 || i > 0 {
                write(b",")?;
            }
            write(feature)?;
            stats.rows += 1;
            stats.inside += u64::from(*inside);
            stats.errors += u64::from(*error);
        }
    }
    write(b"]}")?;
    Ok(stats)
}

fn answer_feature(atlas: &Atlas, feature: &Value) -> Value {
    let mut properties: Map<String, Value> =
        feature.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let geometry = feature.get("geometry").cloned().unwrap_or(Value::Null);
    let point = match geometry.get("type").and_then(Value::as_str) {
        Some("Point") => match geometry.get("coordinates").and_then(Value::as_array).map(Vec::as_slice) {
            Some([lon, lat, ..]) => match (lon.as_f64(), lat.as_f64()) {
                (Some(lon), Some(lat)) => Ok((lon, lat)),
                _ => Err("coordinates must be numbers".to_owned()),
            },
            _ => Err("a Point needs [lon, lat] coordinates".to_owned()),
        },
        Some(other) => Err(format!("geometry is a {other}, expected a Point")),
        None => Err("feature without a Point geometry".to_owned()),
    };
    match point.and_then(|(lon, lat)| atlas.lookup(lon, lat).map_err(|e| e.to_string())) {
        Ok(lookup) => {
            properties.insert("territories".into(), json!(lookup.territories));
            properties.insert("nearest".into(), json!(lookup.nearest));
        }
        Err(message) => {
            properties.insert("territories".into(), json!([]));
            properties.insert("nearest".into(), json!([]));
            properties.insert("error".into(), Value::String(message));
        }
    }
    let mut out = Map::new();
    out.insert("type".into(), "Feature".into());
    if let Some(id) = feature.get("id") {
        out.insert("id".into(), id.clone());
    }
    out.insert("geometry".into(), geometry);
    out.insert("properties".into(), Value::Object(properties));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_accept_decimal_commas_only_when_unambiguous() {
        assert_eq!(parse_coordinate(b" 3.5 ", false), Some(3.5));
        assert_eq!(parse_coordinate(b"3,5", true), Some(3.5));
        assert_eq!(parse_coordinate(b"3,5", false), None);
        assert_eq!(parse_coordinate(b"\xff", false), None);
        assert_eq!(parse_coordinate(b"", false), None);
    }

    proptest::proptest! {
        /// Any finite number printed either way reads back exactly; any bytes at all never panic.
        #[test]
        fn coordinates_read_back_and_never_panic(x in proptest::num::f64::NORMAL | proptest::num::f64::ZERO, bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24)) {
            let printed = format!("{x}");
            proptest::prop_assert_eq!(parse_coordinate(printed.as_bytes(), false), Some(x));
            let comma = printed.replace('.', ",");
            proptest::prop_assert_eq!(parse_coordinate(comma.as_bytes(), true), Some(x));
            let _ = parse_coordinate(&bytes, true);
            let _ = parse_coordinate(&bytes, false);
        }
    }

    #[test]
    fn added_columns_never_repeat_a_name() {
        let header = csv::ByteRecord::from(vec!["lon", "lat", "territory_2023", "territory_2023_2"]);
        assert_eq!(unique_name(&header, "territory_2023".into()), "territory_2023_3");
        assert_eq!(unique_name(&header, "error".into()), "error");
    }

    #[test]
    fn columns_are_found_case_insensitively_with_bom() {
        let headers: Vec<String> = ["\u{feff}Name", "Longitude", "LATITUDE"].map(String::from).into();
        assert_eq!(find_role(&headers, ColumnRole::Longitude, ColumnRole::X), Some(1));
        assert_eq!(find_role(&headers, ColumnRole::Latitude, ColumnRole::Y), Some(2));
        let xy: Vec<String> = ["id", "x", "y"].map(String::from).into();
        assert_eq!(find_role(&xy, ColumnRole::Longitude, ColumnRole::X), Some(1));
    }

    #[test]
    fn windows_1252_records_come_out_in_utf8() {
        let mut record = csv::ByteRecord::from(vec![&b"Villers-Cotter\xeats"[..], b"3.09"]);
        record_to_utf8(&mut record, TextEncoding::Windows1252);
        assert_eq!(&record[0], "Villers-Cotterêts".as_bytes());
        assert_eq!(&record[1], b"3.09");
    }
}
