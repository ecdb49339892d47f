//! Batch lookups: CSV (streams rows in, appends each edition's territory columns, streams rows out) and
//! GeoJSON FeatureCollections of Points (each feature answered in place).
//!
//! Every input row gives exactly one output row, in order; a row whose coordinates cannot be read keeps
//! its fields and gets a message in the `error` column. Memory is bounded by the chunk size, whatever the
//! input length.

use std::io::{BufRead, Write};

use rayon::prelude::*;

use serde_json::{Map, Value, json};

use geo::Point;
use smallvec::SmallVec;

use crate::atlas::{Atlas, CodePlace, PlacedBy, TerritoryHits, checked_point};
use crate::model::{UnitIx, UnitKind};
use crate::source::crs::{self, Crs, Reprojection};
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
    /// Rows with something worth a second look in `check`.
    pub to_check: u64,
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

/// How a batch reads its input and writes its answer.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct BatchOptions {
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
        Self { crs: None, bom: true, max_rows: u64::MAX }
    }
}

impl BatchOptions {
    /// The CRS of `x`/`y` columns.
    #[must_use]
    pub fn with_crs(self, crs: Option<Crs>) -> Self {
        Self { crs, ..self }
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

/// The columns a batch reads, by position in the header.
#[derive(Debug, Default, Clone, Copy)]
struct Columns {
    lon_lat: Option<(usize, usize)>,
    xy: Option<(usize, usize)>,
    epsg: Option<usize>,
    commune: Option<usize>,
    siren: Option<usize>,
    postal: Option<usize>,
    quality: Option<usize>,
}

impl Columns {
    fn find(names: &[String]) -> Self {
        let find = |role| find_column(names.iter().map(String::as_str), role);
        let pair = |a, b| Some((find(a)?, find(b)?));
        Self {
            lon_lat: pair(ColumnRole::Longitude, ColumnRole::Latitude),
            xy: pair(ColumnRole::X, ColumnRole::Y),
            epsg: find(ColumnRole::Epsg),
            commune: find(ColumnRole::CommuneCode),
            siren: find(ColumnRole::Siren),
            postal: find(ColumnRole::PostalCode),
            quality: find(ColumnRole::PositionQuality),
        }
    }

    /// Whether any column can locate a row.
    fn locates(&self) -> bool {
        self.lon_lat.is_some()
            || self.xy.is_some()
            || self.commune.is_some()
            || self.siren.is_some()
            || self.postal.is_some()
    }
}

/// What every row is answered with: the Atlas, the columns, and one reprojection per supported CRS.
struct RowReader<'a> {
    atlas: &'a Atlas,
    columns: Columns,
    width: usize,
    decimal_comma: bool,
    default_crs: Option<Crs>,
    /// To WGS84 from each CRS of [`crs::ALL`], built once per batch.
    to_wgs84: Vec<(Crs, Reprojection)>,
}

/// Looks up every row of `input` (CSV with a header) and writes it to `output` with, for each edition
/// `E`, the columns `territory_E` (ids, `;`-joined), `territory_E_name` and `border_m_E` (metres from
/// the site to the nearest territory border of `E`, point answers only), then `commune` (the current
/// INSEE code the row lands in), `located_by` (`point`, `point+code_agrees`, `point+code_disagrees`,
/// `commune_code`, `siren`, `postal_code`), `check` (why the row is worth a second look, empty when
/// not) and `error`.
///
/// A row is located by its point (`lon`/`lat`, or `x`/`y` in the CRS of its `epsg` column or of
/// [`BatchOptions::crs`]), else by a commune code, a SIREN or a postal code column; with both a point
/// and a code it is answered by the point and says whether the code agrees. SIRENE's `qualite_xy` 33
/// (the point is the commune's centre) is answered by the commune code.
///
/// # Errors
/// A missing header or no column to locate rows by, an unreadable stream, more rows than
/// [`BatchOptions::max_rows`], a failed write. Bad rows are not errors: they are answered in `error`.
pub fn annotate_csv<R: BufRead, W: Write>(
    atlas: &Atlas,
    mut input: R,
    mut output: W,
    source_name: &str,
    options: &BatchOptions,
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
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(input);
    let csv_error = |error: csv::Error| BatchError::Csv {
        source_name: source_name.to_owned(),
        line: error.position().map_or(0, csv::Position::line),
        error,
    };
    let mut headers = reader.byte_headers().map_err(csv_error)?.clone();
    record_to_utf8(&mut headers, encoding);
    let names: Vec<String> = headers.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    let columns = Columns::find(&names);
    if !columns.locates() {
        let roles = [
            ColumnRole::Longitude,
            ColumnRole::Latitude,
            ColumnRole::X,
            ColumnRole::Y,
            ColumnRole::CommuneCode,
            ColumnRole::Siren,
            ColumnRole::PostalCode,
        ];
        return Err(BatchError::NoLocation {
            source_name: source_name.to_owned(),
            accepted: roles.iter().flat_map(|&r| names_of(r)).copied().collect::<Vec<_>>().join(", "),
            found: names.join(", "),
        });
    }
    let rows = RowReader {
        atlas,
        columns,
        width: headers.len(),
        decimal_comma: delimiter != b',',
        default_crs: options.crs,
        to_wgs84: crs::ALL
            .iter()
            .filter(|c| !c.is_geographic())
            .filter_map(|&c| Some((c, c.to_wgs84().ok()?)))
            .collect(),
    };

    if options.bom {
        output.write_all(UTF8_BOM)?;
    }
    let mut writer = csv::WriterBuilder::new().delimiter(delimiter).flexible(true).from_writer(output);
    let mut out_header = headers.clone();
    let mut added: Vec<String> = atlas
        .editions()
        .iter()
        .flat_map(|e| {
            let id = &e.edition.id;
            [format!("territory_{id}"), format!("territory_{id}_name"), format!("border_m_{id}")]
        })
        .collect();
    added.extend(["commune", "located_by", "check", "error"].map(String::from));
    for name in added {
        out_header.push_field(unique_name(&out_header, name).as_bytes());
    }
    writer.write_byte_record(&out_header).map_err(csv_error)?;

    let mut stats = BatchStats::default();
    // Records are read into the same buffers chunk after chunk: a batch allocates per chunk and for
    // messages, not per row.
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
        if stats.rows + filled as u64 > options.max_rows {
            return Err(BatchError::TooManyRows {
                source_name: source_name.to_owned(),
                max: options.max_rows,
            });
        }
        let answers: Vec<RowAnswer> = chunk[..filled]
            .par_iter_mut()
            .map(|record| {
                record_to_utf8(record, encoding);
                rows.answer(record)
            })
            .collect();
        for (record, answer) in chunk[..filled].iter_mut().zip(answers) {
            stats.rows += 1;
            stats.inside += u64::from(!answer.hits.is_empty());
            stats.errors += u64::from(answer.error.is_some());
            stats.to_check += u64::from(!answer.check.is_empty());
            while record.len() < rows.width {
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
                match answer.borders.get(e.get()).copied().flatten() {
                    Some(d) => record.push_field(format!("{d:.0}").as_bytes()),
                    None => record.push_field(b""),
                }
            }
            joined.clear();
            for (i, &c) in answer.communes.iter().enumerate() {
                if i > 0 {
                    joined.push(b';');
                }
                joined.extend_from_slice(atlas.unit(c).code().as_bytes());
            }
            record.push_field(&joined);
            record.push_field(answer.located_by.as_bytes());
            record.push_field(answer.check.as_bytes());
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

/// One row's answer.
#[derive(Default)]
struct RowAnswer {
    /// The territories of the site, by positions.
    hits: TerritoryHits,
    /// Metres to the nearest territory border, by edition position (point answers only).
    borders: SmallVec<[Option<f64>; 2]>,
    /// The current communes the row lands in.
    communes: SmallVec<[UnitIx; 1]>,
    /// How the row was located; empty when it was not.
    located_by: &'static str,
    /// Why the row is worth a second look, `; `-joined; empty when it is not.
    check: String,
    error: Option<String>,
}

impl RowAnswer {
    fn note(&mut self, note: impl AsRef<str>) {
        if !self.check.is_empty() {
            self.check.push_str("; ");
        }
        self.check.push_str(note.as_ref());
    }
}

/// A field as text, trimmed; `None` when absent, empty or not UTF-8.
fn field(record: &csv::ByteRecord, column: Option<usize>) -> Option<&str> {
    let f = std::str::from_utf8(record.get(column?)?).ok()?.trim();
    (!f.is_empty()).then_some(f)
}

/// A code column's value and what it places.
struct CodeAnswer<'f> {
    column: &'static str,
    value: &'f str,
    place: Option<CodePlace>,
}

impl RowReader<'_> {
    fn answer(&self, record: &csv::ByteRecord) -> RowAnswer {
        let mut answer = RowAnswer::default();
        let point = self.point(record);
        let code = self.code(record);
        let commune_centre = field(record, self.columns.quality) == Some("33");
        match (point, code) {
            // SIRENE's quality 33: the coordinates are the commune's centre, the code says more.
            (Ok(Some(_)), Some(code)) if commune_centre && code.place.is_some() => {
                answer.note("qualite_xy 33: the point is the commune's centre, answered by commune code");
                self.by_code(&mut answer, &code);
            }
            (Ok(Some(point)), code) => {
                let (units, hits) = self.atlas.site_at(point);
                answer.hits = hits;
                answer.communes =
                    units.iter().copied().filter(|&u| self.atlas.unit(u).kind == UnitKind::Commune).collect();
                answer.borders = self.atlas.border_distances_m(point);
                answer.located_by = "point";
                if let Some(nearest) = answer.borders.iter().flatten().copied().reduce(f64::min)
                    && nearest < BORDER_PRECISION_M
                {
                    answer.note(format!(
                        "{nearest:.0} m from a territory border, within the boundary data's precision \
                         ({BORDER_PRECISION_M:.0} m)"
                    ));
                }
                if let Some(code) = code {
                    match &code.place {
                        Some(place) if place.units.iter().any(|u| units.contains(u)) => {
                            answer.located_by = "point+code_agrees";
                        }
                        Some(_) => {
                            answer.located_by = "point+code_disagrees";
                            let here = answer.communes.first().map_or("no commune".to_owned(), |&c| {
                                let unit = self.atlas.unit(c);
                                format!("{} {}", unit.code(), unit.name)
                            });
                            answer.note(format!(
                                "{} {} is elsewhere: the point is in {here}",
                                code.column, code.value
                            ));
                        }
                        None => answer.note(format!("{} {} is unknown", code.column, code.value)),
                    }
                }
            }
            (Ok(None), Some(code)) => self.by_code(&mut answer, &code),
            (Err(message), Some(code)) if code.place.is_some() => {
                answer.note(format!("{message}; answered by {}", code.column));
                self.by_code(&mut answer, &code);
            }
            (Err(message), _) => answer.error = Some(message),
            (Ok(None), None) => answer.error = Some("no coordinates and no code to locate the row by".into()),
        }
        if answer.error.is_none() && record.len() != self.width {
            answer.error = Some(format!("row has {} fields, header has {}", record.len(), self.width));
        }
        answer
    }

    /// Answers a row by its code.
    fn by_code(&self, answer: &mut RowAnswer, code: &CodeAnswer<'_>) {
        let Some(place) = &code.place else {
            answer.error =
                Some(format!("{} {:?} matches no loaded commune or unit", code.column, code.value));
            return;
        };
        answer.hits.clone_from(&place.territories);
        answer.located_by = match place.by {
            PlacedBy::Siren => "siren",
            PlacedBy::PostalCode => "postal_code",
            _ => "commune_code",
        };
        let communes = place.units.iter().copied().filter(|&u| self.atlas.unit(u).kind == UnitKind::Commune);
        answer.communes = communes.collect();
        if place.by == PlacedBy::PostalCode && place.units.len() > 1 {
            answer.note(format!(
                "ambiguous: postal code {} serves {} communes, the territories of all of them are given",
                code.value,
                place.units.len()
            ));
        }
    }

    /// The row's point in WGS84, `None` when it has no coordinates.
    fn point(&self, record: &csv::ByteRecord) -> Result<Option<Point<f64>>, String> {
        let number = |column: usize, what: &str| {
            let raw = record.get(column).unwrap_or_default();
            parse_coordinate(raw, self.decimal_comma)
                .ok_or_else(|| format!("{what} {:?} is not a number", String::from_utf8_lossy(raw)))
        };
        if let Some((xc, yc)) = self.columns.xy
            && field(record, Some(xc)).is_some()
            && field(record, Some(yc)).is_some()
        {
            let (x, y) = (number(xc, "x")?, number(yc, "y")?);
            let crs = match field(record, self.columns.epsg) {
                Some(code) => Some(
                    code.strip_suffix(".0")
                        .unwrap_or(code)
                        .parse::<Crs>()
                        .map_err(|e| format!("epsg: {e}"))?,
                ),
                None => self.default_crs,
            };
            let (lon, lat) = match crs.filter(|c| !c.is_geographic()) {
                Some(crs) => {
                    let (_, reprojection) = self
                        .to_wgs84
                        .iter()
                        .find(|(c, _)| *c == crs)
                        .ok_or_else(|| format!("{crs:?}: no reprojection"))?;
                    reprojection.point(x, y).map_err(|e| e.to_string())?
                }
                None if crs.is_none() && (x.abs() > 180.0 || y.abs() > 90.0) => {
                    return Err(format!(
                        "x {x} and y {y} cannot be degrees: give their CRS with --crs EPSG:2154 (command line), \
                         ?crs=EPSG:2154 (API) or an epsg column"
                    ));
                }
                None => (x, y),
            };
            return checked_point(lon, lat).map(Some).map_err(|e| e.to_string());
        }
        let Some((lonc, latc)) = self.columns.lon_lat else { return Ok(None) };
        if field(record, Some(lonc)).is_none() && field(record, Some(latc)).is_none() {
            return Ok(None);
        }
        let (lon, lat) = (number(lonc, "longitude")?, number(latc, "latitude")?);
        checked_point(lon, lat).map(Some).map_err(|e| {
            if lon.abs() > 180.0 || lat.abs() > 90.0 {
                format!(
                    "{e}: projected coordinates belong in x/y columns, with --crs or ?crs= saying their CRS"
                )
            } else {
                e.to_string()
            }
        })
    }

    /// The first code column the row fills: commune code, SIREN, postal code.
    fn code<'r>(&self, record: &'r csv::ByteRecord) -> Option<CodeAnswer<'r>> {
        let atlas = self.atlas;
        if let Some(value) = field(record, self.columns.commune) {
            return Some(CodeAnswer {
                column: "commune code",
                value,
                place: atlas.place_commune_code(value),
            });
        }
        if let Some(value) = field(record, self.columns.siren) {
            return Some(CodeAnswer { column: "SIREN", value, place: atlas.place_siren(value) });
        }
        let value = field(record, self.columns.postal)?;
        Some(CodeAnswer { column: "postal code", value, place: atlas.place_postal_code(value) })
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
        let headers: Vec<String> =
            ["\u{feff}Name", "Longitude", "LATITUDE", "X", "y", "EPSG"].map(String::from).into();
        let columns = Columns::find(&headers);
        assert_eq!((columns.lon_lat, columns.xy, columns.epsg), (Some((1, 2)), Some((3, 4)), Some(5)));
        let codes: Vec<String> = ["siret", "codeCommuneEtablissement", "CP"].map(String::from).into();
        let columns = Columns::find(&codes);
        assert_eq!((columns.commune, columns.postal, columns.lon_lat), (Some(1), Some(2), None));
        assert!(columns.locates());
        assert!(!Columns::find(&["name".to_owned(), "lon".to_owned()]).locates());
    }

    #[test]
    fn windows_1252_records_come_out_in_utf8() {
        let mut record = csv::ByteRecord::from(vec![&b"Villers-Cotter\xeats"[..], b"3.09"]);
        record_to_utf8(&mut record, TextEncoding::Windows1252);
        assert_eq!(&record[0], "Villers-Cotterêts".as_bytes());
        assert_eq!(&record[1], b"3.09");
    }
}
