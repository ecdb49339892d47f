//! One row of any batch table, answered: the columns it is located by, the point (reprojected when
//! needed) or the code, the territories, the border distance and what is worth a second look; and the
//! added columns every output format writes, in one order.

use geo::Point;
use rayon::prelude::*;
use smallvec::SmallVec;

use super::{BORDER_PRECISION_M, BatchError, BatchOptions, BatchStats};
use crate::atlas::{Atlas, CodePlace, PlacedBy, TerritoryHits, checked_point};
use crate::model::{UnitIx, UnitKind};
use crate::source::crs::{self, Crs, Reprojection};
use crate::tabular::columns::{ColumnChoice, ColumnRole, names_of};

/// Reads a coordinate, accepting a decimal comma when the separator is not a comma.
pub(super) fn parse_coordinate(field: &[u8], decimal_comma: bool) -> Option<f64> {
    let s = std::str::from_utf8(field).ok()?.trim();
    if decimal_comma && s.contains(',') { s.replace(',', ".").parse().ok() } else { s.parse().ok() }
}

/// The columns a batch reads, by position in the header.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Columns {
    pub(super) lon_lat: Option<(usize, usize)>,
    pub(super) xy: Option<(usize, usize)>,
    pub(super) epsg: Option<usize>,
    pub(super) commune: Option<usize>,
    pub(super) siren: Option<usize>,
    pub(super) postal: Option<usize>,
    pub(super) quality: Option<usize>,
}

impl Columns {
    /// The columns of `names`: those `choice` names, else those recognised by name.
    ///
    /// # Errors
    /// A chosen column the header does not have; one coordinate of a pair chosen without the other
    /// being there.
    pub(super) fn find(
        names: &[String],
        choice: &ColumnChoice,
        source_name: &str,
    ) -> Result<Self, BatchError> {
        let find = |role| {
            choice
                .column(names.iter().map(String::as_str), role)
                .map_err(|error| BatchError::Columns { source_name: source_name.to_owned(), error })
        };
        let pair = |a: ColumnRole, b: ColumnRole| -> Result<Option<(usize, usize)>, BatchError> {
            match (find(a)?, find(b)?) {
                (Some(x), Some(y)) => Ok(Some((x, y))),
                (Some(_), None) if choice.chosen(a).is_some() => Err(half_pair(source_name, a, b)),
                (None, Some(_)) if choice.chosen(b).is_some() => Err(half_pair(source_name, b, a)),
                _ => Ok(None),
            }
        };
        Ok(Self {
            lon_lat: pair(ColumnRole::Longitude, ColumnRole::Latitude)?,
            xy: pair(ColumnRole::X, ColumnRole::Y)?,
            epsg: find(ColumnRole::Epsg)?,
            commune: find(ColumnRole::CommuneCode)?,
            siren: find(ColumnRole::Siren)?,
            postal: find(ColumnRole::PostalCode)?,
            quality: find(ColumnRole::PositionQuality)?,
        })
    }

    /// Whether any column can locate a row.
    pub(super) fn locates(&self) -> bool {
        self.lon_lat.is_some()
            || self.xy.is_some()
            || self.commune.is_some()
            || self.siren.is_some()
            || self.postal.is_some()
    }
}

/// What every row is answered with: the Atlas, the columns, and one reprojection per supported CRS.
pub(super) struct RowReader<'a> {
    atlas: &'a Atlas,
    columns: Columns,
    /// Fields of the header; a row with another count is answered with an error.
    pub(super) width: usize,
    decimal_comma: bool,
    default_crs: Option<Crs>,
    /// To WGS84 from each CRS of [`crs::ALL`], built once per batch.
    to_wgs84: Vec<(Crs, Reprojection)>,
}

/// An added field, as each format writes it.
pub(super) enum Field<'a> {
    /// Text (UTF-8).
    Text(&'a [u8]),
    /// A distance in metres, absent when the row has no point.
    Metres(Option<f64>),
}

/// The names of the added columns, for each edition `E`: `territory_E`, `territory_E_name`,
/// `border_m_E`; then `commune`, `located_by`, `check`, `error`. `true` marks the metre columns.
pub(super) fn added_names(atlas: &Atlas) -> Vec<(String, bool)> {
    let mut added: Vec<(String, bool)> = atlas
        .editions()
        .iter()
        .flat_map(|e| {
            let id = &e.edition.id;
            [
                (format!("territory_{id}"), false),
                (format!("territory_{id}_name"), false),
                (format!("border_m_{id}"), true),
            ]
        })
        .collect();
    added.extend(["commune", "located_by", "check", "error"].map(|n| (n.to_owned(), false)));
    added
}

/// The error of a chosen coordinate column whose partner is missing.
fn half_pair(source_name: &str, given: ColumnRole, missing: ColumnRole) -> BatchError {
    BatchError::HalfPair { source_name: source_name.to_owned(), given: given.key(), missing: missing.key() }
}

/// The error a table gets when no column can locate its rows.
pub(super) fn no_location(source_name: &str, names: &[String]) -> BatchError {
    let roles = [
        ColumnRole::Longitude,
        ColumnRole::Latitude,
        ColumnRole::X,
        ColumnRole::Y,
        ColumnRole::CommuneCode,
        ColumnRole::Siren,
        ColumnRole::PostalCode,
    ];
    BatchError::NoLocation {
        source_name: source_name.to_owned(),
        accepted: roles.iter().flat_map(|&r| names_of(r)).copied().collect::<Vec<_>>().join(", "),
        found: names.join(", "),
    }
}

/// A row's point in WGS84 (`None`: no coordinates), or why its coordinates cannot be read.
type PointResult = Result<Option<Point<f64>>, String>;

/// Sites in site order one worker answers at least, when a batch is answered in parallel.
const SITES_PER_TASK: usize = 1_024;

/// A key that keeps nearby sites near in order: longitude and latitude on 16 bits each (about 600 m),
/// bits interleaved (Z-order); rows without a site last.
fn site_key(point: &PointResult) -> u32 {
    match point {
        Ok(Some(p)) => z_order(*p),
        _ => u32::MAX,
    }
}

fn z_order(p: Point<f64>) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let q = |v: f64, lo: f64, span: f64| (((v - lo) / span * 65_536.0) as u32).min(65_535);
    let spread = |v: u32| {
        let mut v = v & 0xffff;
        v = (v | (v << 8)) & 0x00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    spread(q(p.x(), -180.0, 360.0)) | (spread(q(p.y(), -90.0, 180.0)) << 1)
}

/// One row's answer.
#[derive(Default)]
pub(super) struct RowAnswer {
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
    /// Counts this answer in `stats`.
    pub(super) fn count(&self, stats: &mut BatchStats) {
        stats.rows += 1;
        stats.inside += u64::from(!self.hits.is_empty());
        stats.errors += u64::from(self.error.is_some());
        stats.to_check += u64::from(!self.check.is_empty());
    }

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

/// The kinds of code column, in the order a row is located by them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeColumn {
    Commune,
    Siren,
    Postal,
}

impl std::fmt::Display for CodeColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Commune => "commune code",
            Self::Siren => "SIREN",
            Self::Postal => "postal code",
        })
    }
}

/// What answering a row needs of it: its point, its code, whether SIRENE says the point is the
/// commune's centre, and its number of fields.
struct Site {
    point: PointResult,
    code: Option<CodeAnswer>,
    commune_centre: bool,
    fields: usize,
}

/// A code column's value; it is placed (`RowReader::place`) only when the answer needs it. A copy:
/// codes are short, and the answers, worked out in site order, then need not fetch them from records
/// all over memory.
struct CodeAnswer {
    column: CodeColumn,
    text: SmallVec<[u8; 16]>,
}

impl CodeAnswer {
    fn new(column: CodeColumn, value: &str) -> Self {
        Self { column, text: SmallVec::from_slice(value.as_bytes()) }
    }

    /// The value (UTF-8: it was copied from a `str`).
    fn value(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

impl<'a> RowReader<'a> {
    /// The reader of a table with these header names.
    ///
    /// # Errors
    /// [`BatchError::NoLocation`] when no column can locate a row.
    pub(super) fn new(
        atlas: &'a Atlas,
        names: &[String],
        decimal_comma: bool,
        options: &BatchOptions,
        source_name: &str,
    ) -> Result<Self, BatchError> {
        let columns = Columns::find(names, &options.columns, source_name)?;
        if !columns.locates() {
            return Err(no_location(source_name, names));
        }
        // Border distances through candidate cells, each made as the first site falls in it.
        atlas.prepare_border_distances();
        Ok(Self {
            atlas,
            columns,
            width: names.len(),
            decimal_comma,
            default_crs: options.crs,
            to_wgs84: crs::ALL
                .iter()
                .filter(|c| !c.is_geographic())
                .filter_map(|&c| Some((c, c.to_wgs84().ok()?)))
                .collect(),
        })
    }

    /// The columns rows are read by (a format may leave the others empty).
    pub(super) fn used_columns(&self) -> Vec<usize> {
        let c = &self.columns;
        let pairs = [c.lon_lat, c.xy].into_iter().flatten().flat_map(|(a, b)| [a, b]);
        pairs.chain([c.epsg, c.commune, c.siren, c.postal, c.quality].into_iter().flatten()).collect()
    }

    /// The added fields of one answer, in the order of [`added_names`].
    pub(super) fn emit(&self, answer: &RowAnswer, scratch: &mut Vec<u8>, mut emit: impl FnMut(Field<'_>)) {
        let atlas = self.atlas;
        for (e, entry) in atlas.positioned_editions() {
            let territories =
                || answer.hits.iter().filter(|h| h.edition == e).map(|h| entry.territory(h.territory));
            for name in [false, true] {
                scratch.clear();
                for (i, t) in territories().enumerate() {
                    if i > 0 {
                        scratch.push(b';');
                    }
                    scratch.extend_from_slice(if name {
                        t.name.as_bytes()
                    } else {
                        t.id.as_str().as_bytes()
                    });
                }
                emit(Field::Text(scratch));
            }
            emit(Field::Metres(answer.borders.get(e.get()).copied().flatten()));
        }
        scratch.clear();
        for (i, &c) in answer.communes.iter().enumerate() {
            if i > 0 {
                scratch.push(b';');
            }
            scratch.extend_from_slice(atlas.unit(c).code().as_bytes());
        }
        emit(Field::Text(scratch));
        emit(Field::Text(answer.located_by.as_bytes()));
        emit(Field::Text(answer.check.as_bytes()));
        emit(Field::Text(answer.error.as_deref().unwrap_or_default().as_bytes()));
    }

    /// Answers the rows of several pieces of a table (each piece's answers by row), all together and
    /// in parallel, nearby sites one after the other (Z-order): each worker takes a stretch of sites
    /// close to one another, so the indexes' memory one row reads is often in cache for the next. The
    /// more rows sorted together, the nearer the neighbours: for 1M SIRENE-like sites scattered over
    /// France, border distances took about 940 ns a site sorted 2,000 at a time, 550 ns sorted 65,000
    /// at a time, 1,100 ns in the file's order.
    pub(super) fn answer_pieces(&self, pieces: &[&[csv::ByteRecord]]) -> Vec<Vec<RowAnswer>> {
        // What the answers need of each row, read in the table's order: read in site order, the
        // records would be fetched from all over memory.
        let sites: Vec<Vec<Site>> =
            pieces.par_iter().map(|records| records.iter().map(|r| self.site(r)).collect()).collect();
        let index = |i: usize| u32::try_from(i).expect("fewer than 2^32 rows and pieces");
        let mut order: Vec<(u32, u32, u32)> = sites
            .iter()
            .enumerate()
            .flat_map(|(p, sites)| {
                sites.iter().enumerate().map(move |(r, site)| (site_key(&site.point), p, r))
            })
            .map(|(key, p, r)| (key, index(p), index(r)))
            .collect();
        order.par_sort_unstable();
        // Contiguous stretches of the order, one per task: neighbours stay with one worker.
        let answered: Vec<RowAnswer> = order
            .par_iter()
            .with_min_len(SITES_PER_TASK)
            .map(|&(_, p, r)| self.answer_at(&sites[p as usize][r as usize]))
            .collect();
        let mut answers: Vec<Vec<RowAnswer>> = pieces
            .iter()
            .map(|records| std::iter::repeat_with(RowAnswer::default).take(records.len()).collect())
            .collect();
        for (&(_, p, r), answer) in order.iter().zip(answered) {
            answers[p as usize][r as usize] = answer;
        }
        answers
    }

    /// What answering a row needs of it.
    fn site(&self, record: &csv::ByteRecord) -> Site {
        Site {
            point: self.point(record),
            code: self.code(record),
            commune_centre: field(record, self.columns.quality) == Some("33"),
            fields: record.len(),
        }
    }

    /// The answer of one row, from what was read of it.
    fn answer_at(&self, site: &Site) -> RowAnswer {
        let mut answer = RowAnswer::default();
        match (&site.point, &site.code) {
            // SIRENE's quality 33: the coordinates are the commune's centre, the code says more.
            (Ok(Some(_)), Some(code)) if site.commune_centre && self.place(code).is_some() => {
                answer.note("qualite_xy 33: the point is the commune's centre, answered by commune code");
                self.by_code(&mut answer, code);
            }
            (&Ok(Some(point)), code) => {
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
                    // Most rows name the commune their point is in: that agrees without placing the code.
                    let same_commune = code.column == CodeColumn::Commune
                        && answer.communes.iter().any(|&c| self.atlas.unit(c).code() == code.value());
                    let place = if same_commune { None } else { self.place(code) };
                    match &place {
                        _ if same_commune => answer.located_by = "point+code_agrees",
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
                                code.column,
                                code.value()
                            ));
                        }
                        None => answer.note(format!("{} {} is unknown", code.column, code.value())),
                    }
                }
            }
            (Ok(None), Some(code)) => self.by_code(&mut answer, code),
            (Err(message), Some(code)) if self.place(code).is_some() => {
                answer.note(format!("{message}; answered by {}", code.column));
                self.by_code(&mut answer, code);
            }
            (Err(message), _) => answer.error = Some(message.clone()),
            (Ok(None), None) => answer.error = Some("no coordinates and no code to locate the row by".into()),
        }
        if answer.error.is_none() && site.fields != self.width {
            answer.error = Some(format!("row has {} fields, header has {}", site.fields, self.width));
        }
        answer
    }

    /// Answers a row by its code.
    fn by_code(&self, answer: &mut RowAnswer, code: &CodeAnswer) {
        let Some(place) = &self.place(code) else {
            answer.error =
                Some(format!("{} {:?} matches no loaded commune or unit", code.column, code.value()));
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
                code.value(),
                place.units.len()
            ));
        }
    }

    /// The row's point in WGS84, `None` when it has no coordinates.
    fn point(&self, record: &csv::ByteRecord) -> PointResult {
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
                Some(code) => {
                    let code = code.strip_suffix(".0").unwrap_or(code);
                    // A number (every SIRENE row) needs no name matching.
                    let crs = match code.parse::<u32>() {
                        Ok(n) => Crs::from_epsg(n),
                        Err(_) => code.parse::<Crs>(),
                    };
                    Some(crs.map_err(|e| format!("epsg: {e}"))?)
                }
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
    fn code(&self, record: &csv::ByteRecord) -> Option<CodeAnswer> {
        if let Some(value) = field(record, self.columns.commune) {
            return Some(CodeAnswer::new(CodeColumn::Commune, value));
        }
        if let Some(value) = field(record, self.columns.siren) {
            return Some(CodeAnswer::new(CodeColumn::Siren, value));
        }
        let value = field(record, self.columns.postal)?;
        Some(CodeAnswer::new(CodeColumn::Postal, value))
    }

    /// What a code column's value places, `None` when it designates nothing loaded.
    fn place(&self, code: &CodeAnswer) -> Option<CodePlace> {
        match code.column {
            CodeColumn::Commune => self.atlas.place_commune_code(code.value()),
            CodeColumn::Siren => self.atlas.place_siren(code.value()),
            CodeColumn::Postal => self.atlas.place_postal_code(code.value()),
        }
    }
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
    fn columns_are_found_case_insensitively_with_bom() {
        let headers: Vec<String> =
            ["\u{feff}Name", "Longitude", "LATITUDE", "X", "y", "EPSG"].map(String::from).into();
        let none = ColumnChoice::default();
        let columns = Columns::find(&headers, &none, "t").expect("valid");
        assert_eq!((columns.lon_lat, columns.xy, columns.epsg), (Some((1, 2)), Some((3, 4)), Some(5)));
        let codes: Vec<String> = ["siret", "codeCommuneEtablissement", "CP"].map(String::from).into();
        let columns = Columns::find(&codes, &none, "t").expect("valid");
        assert_eq!((columns.commune, columns.postal, columns.lon_lat), (Some(1), Some(2), None));
        assert!(columns.locates());
        assert!(!Columns::find(&["name".to_owned(), "lon".to_owned()], &none, "t").expect("valid").locates());
    }

    #[test]
    fn chosen_columns_replace_recognised_ones_and_pairs_stay_whole() {
        let headers: Vec<String> = ["Long GPS", "Lat GPS", "lon", "lat", "CP"].map(String::from).into();
        let mut choice = ColumnChoice::default();
        choice.parse_assignment("lon=Long GPS").expect("valid");
        choice.parse_assignment("lat=Lat GPS").expect("valid");
        choice.parse_assignment("postal_code=").expect("valid");
        let columns = Columns::find(&headers, &choice, "t").expect("valid");
        assert_eq!((columns.lon_lat, columns.postal), (Some((0, 1)), None));
        let mut half = ColumnChoice::default();
        half.parse_assignment("x=Long GPS").expect("valid");
        let error = Columns::find(&headers, &half, "t").expect_err("refused").to_string();
        assert!(error.contains('x') && error.contains('y'), "{error}");
    }
}
