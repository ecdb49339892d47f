//! `import-list`: ANCT's territory lists as they really come (CSV, commune-level CSV, GeoJSON, XLSX) turned
//! into the normalised list the service ships, with every repair and every unfixable problem located.
//!
//! Repairs are made on the cells before the list parser sees them, so the parser's own checks apply to
//! repaired values; nothing is written here (the CLI writes what [`import_list`] returns).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::composition::{
    ColumnRole, Composition, CompositionError, Rows, column_role, csv_rows, is_commune_level, parse_geojson,
    parse_rows,
};
use super::{LoadError, ReadOptions};
use crate::model::{ErrorList, InseeCode, MemberCode, Siren, SourcePos, TerritoryId, UnitKind, trim_name};

/// The columns of the normalised list, in order.
pub const NORMALISED_HEADER: [&str; 7] =
    ["id_ti", "lib_ti", "insee_reg", "member_siren", "member_name", "member_kind", "member_insee_com"];

/// One repair made to the input, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// `file:line` (or `file (feature N)`).
    pub at: String,
    /// What was wrong.
    pub what: &'static str,
    /// The value as read.
    pub old: String,
    /// The value kept.
    pub new: String,
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {:?} -> {:?}", self.at, self.what, self.old, self.new)
    }
}

/// A problem `import-list` cannot repair (or, with `--strict`, a repair it refuses to make).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A file cannot be read or is not a spreadsheet.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// A problem the list parser found (format, malformed code, missing field, empty territory...).
    #[error(transparent)]
    List(Box<CompositionError>),
    /// A member no geodata unit has.
    #[error("{pos}: member {code} ({name}) matches no EPCI, EPT or commune of the geodata")]
    UnknownMember {
        /// Where.
        pos: SourcePos,
        /// The code.
        code: String,
        /// The name listed.
        name: String,
    },
    /// One unit listed in two territories (or twice in one, under two codes).
    #[error("{pos}: {unit} is in territory {territory} here and in {first_territory} at {first}")]
    MemberTwice {
        /// Where it is listed again.
        pos: SourcePos,
        /// Kind, code and name of the unit.
        unit: String,
        /// The territory here.
        territory: String,
        /// The territory it was first listed in.
        first_territory: String,
        /// Where.
        first: SourcePos,
    },
    /// A territory left with no member.
    #[error("{pos}: territory {id} has no members")]
    EmptyTerritory {
        /// Where the territory is first listed.
        pos: SourcePos,
        /// Its id.
        id: String,
    },
    /// `--strict`: a repair that would have been needed.
    #[error("{0} (refused: --strict)")]
    Strict(Repair),
    /// The geodata units cannot be read.
    #[error(transparent)]
    Geodata(Box<LoadError>),
}

impl From<CompositionError> for ImportError {
    fn from(e: CompositionError) -> Self {
        Self::List(Box::new(e))
    }
}

/// Every problem found, all at once.
pub type ImportErrors = ErrorList<ImportError>;

/// A unit of the geodata, as far as an import needs it.
#[derive(Debug, Clone)]
pub struct KnownUnit {
    /// EPCI, EPT or commune.
    pub kind: UnitKind,
    /// SIREN.
    pub siren: Option<Siren>,
    /// INSEE code (communes).
    pub insee: Option<InseeCode>,
    /// Official name.
    pub name: String,
}

/// The units member codes are checked against: EPCI, EPT and communes of a geodata directory.
#[derive(Debug, Clone, Default)]
pub struct UnitRegistry {
    units: Vec<KnownUnit>,
    by_siren: HashMap<Siren, usize>,
    by_insee: HashMap<InseeCode, usize>,
    /// The communes of each EPCI/EPT (unit indexes), for commune-level lists.
    communes_of: HashMap<usize, Vec<usize>>,
}

impl UnitRegistry {
    /// Reads `epci`, `ept` and `communes` (Shapefile or GeoJSON) from a geodata directory.
    ///
    /// # Errors
    /// A layer that cannot be read, or a directory with none.
    pub fn from_geodata(dir: &Path) -> Result<Self, ImportErrors> {
        let files = super::unit_layer_files(dir);
        if files.is_empty() {
            return Err(ErrorList(vec![ImportError::Read {
                file: dir.display().to_string(),
                message: "no unit layer found (expected epci.shp, ept.shp, communes.shp)".into(),
            }]));
        }
        let mut units = Vec::new();
        let mut parents = Vec::new();
        for file in &files {
            let read = super::read_units(file, &ReadOptions::default())
                .map_err(|e| ErrorList(vec![ImportError::Geodata(Box::new(e))]))?;
            for u in read {
                parents.push(u.parents.clone());
                units.push(KnownUnit { kind: u.kind, siren: u.siren, insee: u.insee, name: u.name });
            }
        }
        Ok(Self::new(units, &parents))
    }

    /// A registry of these units; `parents` gives each unit's parent SIRENs (a commune's EPCI and EPT).
    #[must_use]
    pub fn new(units: Vec<KnownUnit>, parents: &[Vec<Siren>]) -> Self {
        let mut by_siren = HashMap::new();
        let mut by_insee = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            if let Some(s) = &u.siren {
                by_siren.entry(s.clone()).or_insert(i);
            }
            if let Some(c) = &u.insee {
                by_insee.entry(c.clone()).or_insert(i);
            }
        }
        let mut communes_of: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, ps) in parents.iter().enumerate() {
            for p in ps {
                if let Some(&p) = by_siren.get(p) {
                    communes_of.entry(p).or_default().push(i);
                }
            }
        }
        Self { units, by_siren, by_insee, communes_of }
    }

    fn resolve(&self, code: &MemberCode) -> Option<usize> {
        match code {
            MemberCode::Siren(s) => self.by_siren.get(s),
            MemberCode::Insee(c) => self.by_insee.get(c),
        }
        .copied()
    }
}

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The sheet of an XLSX file (default: the first).
    pub sheet: Option<String>,
    /// Every repair is an error.
    pub strict: bool,
}

/// One row of the normalised list.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct NormalisedRow {
    /// Territory id.
    pub id_ti: String,
    /// Territory name.
    pub lib_ti: String,
    /// INSEE region code (from the `ti-RRNN` id).
    pub insee_reg: String,
    /// The member's SIREN.
    pub member_siren: String,
    /// The member's name as the list gives it (the official name when the list gives none).
    pub member_name: String,
    /// `EPCI`, `EPT` or `COM`, from the geodata.
    pub member_kind: String,
    /// The commune's INSEE code (`COM` members only).
    pub member_insee_com: String,
}

/// An imported list.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// Rows sorted by territory id, then member SIREN.
    pub rows: Vec<NormalisedRow>,
    /// Every repair made, in reading order.
    pub repairs: Vec<Repair>,
    /// Notes that are neither repairs nor errors (commune-level lists grouped into members...).
    pub notes: Vec<String>,
}

impl Imported {
    /// Number of distinct territories.
    #[must_use]
    pub fn territory_count(&self) -> usize {
        self.rows.iter().map(|r| &r.id_ti).collect::<BTreeSet<_>>().len()
    }

    /// Members by kind (`EPCI`, `EPT`, `COM`).
    #[must_use]
    pub fn members_by_kind(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in &self.rows {
            *out.entry(r.member_kind.clone()).or_insert(0) += 1;
        }
        out
    }

    /// The list as CSV text (LF line ends, UTF-8, no BOM).
    #[must_use]
    pub fn to_csv(&self) -> String {
        rows_to_csv(&self.rows)
    }
}

/// Normalised rows as CSV text.
#[must_use]
pub fn rows_to_csv(rows: &[NormalisedRow]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to memory does not fail.
    let _ = w.write_record(NORMALISED_HEADER);
    for r in rows {
        let _ = w.serialize(r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Reads a normalised list (as written by [`rows_to_csv`]), for comparisons; `None` if it is not one.
#[must_use]
pub fn read_normalised(bytes: &[u8]) -> Option<Vec<NormalisedRow>> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().ok()?.iter().map(str::to_owned).collect();
    if header != NORMALISED_HEADER {
        return None;
    }
    r.deserialize().collect::<Result<Vec<NormalisedRow>, _>>().ok()
}

/// Reads every file, repairs what can be repaired, checks members against `registry`, and returns the
/// normalised list.
///
/// # Errors
/// Every unfixable problem (and, with `strict`, every repair), all at once.
pub fn import_list(
    files: &[PathBuf],
    registry: &UnitRegistry,
    opts: &ImportOptions,
) -> Result<Imported, ImportErrors> {
    let mut errors: Vec<ImportError> = Vec::new();
    let mut out = Imported::default();
    // unit index → (territory id, where)
    let mut placed: HashMap<usize, (String, SourcePos)> = HashMap::new();
    // id → (name, members as (unit, listed name))
    let mut territories: BTreeMap<String, (String, Vec<(usize, String)>)> = BTreeMap::new();
    for file in files {
        let name = file.display().to_string();
        let (composition, commune_level) = match read_file(file, &name, opts, &mut out.repairs) {
            Ok(c) => c,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let already_empty: BTreeSet<String> = composition
            .errors
            .iter()
            .filter_map(|e| match e {
                CompositionError::EmptyTerritory { id, .. } => Some(id.clone()),
                _ => None,
            })
            .collect();
        for e in composition.errors {
            if e.is_warning() {
                out.notes.push(format!("warning: {e}"));
            } else {
                errors.push(e.into());
            }
        }
        for t in composition.territories {
            let mut resolved: Vec<(usize, String, SourcePos)> = Vec::new();
            for m in &t.members {
                match registry.resolve(&m.code) {
                    Some(u) => resolved.push((u, m.name.clone(), m.pos.clone())),
                    None => errors.push(ImportError::UnknownMember {
                        pos: m.pos.clone(),
                        code: m.code.to_string(),
                        name: m.name.clone(),
                    }),
                }
            }
            if commune_level && !resolved.is_empty() {
                let before = resolved.len();
                resolved = group_communes(registry, resolved);
                out.notes.push(format!(
                    "{}: territory {}: {before} communes listed, grouped into {} members",
                    t.pos,
                    t.id,
                    resolved.len()
                ));
            }
            if t.members.is_empty() && !already_empty.contains(t.id.as_str()) {
                errors.push(ImportError::EmptyTerritory { pos: t.pos.clone(), id: t.id.to_string() });
            }
            let entry = territories.entry(t.id.to_string()).or_insert_with(|| (t.name.clone(), Vec::new()));
            for (u, listed, pos) in resolved {
                if let Some((first_territory, first)) = placed.get(&u) {
                    let unit = &registry.units[u];
                    let code = unit.siren.as_ref().map_or_else(String::new, ToString::to_string);
                    errors.push(ImportError::MemberTwice {
                        pos,
                        unit: format!("{} {code} {}", unit.kind, unit.name),
                        territory: t.id.to_string(),
                        first_territory: first_territory.clone(),
                        first: first.clone(),
                    });
                    continue;
                }
                placed.insert(u, (t.id.to_string(), pos));
                entry.1.push((u, listed));
            }
        }
    }
    if opts.strict {
        errors.extend(out.repairs.iter().cloned().map(ImportError::Strict));
    }
    if !errors.is_empty() {
        return Err(ErrorList(errors));
    }
    for (id, (name, members)) in territories {
        let region =
            TerritoryId::parse(&id).and_then(|t| t.region_code().map(str::to_owned)).unwrap_or_default();
        for (u, listed) in members {
            let unit = &registry.units[u];
            out.rows.push(NormalisedRow {
                id_ti: id.clone(),
                lib_ti: name.clone(),
                insee_reg: region.clone(),
                member_siren: unit.siren.as_ref().map_or_else(String::new, ToString::to_string),
                member_name: if listed.is_empty() { unit.name.clone() } else { listed },
                member_kind: unit.kind.label().to_owned(),
                member_insee_com: match unit.kind {
                    UnitKind::Commune => unit.insee.as_ref().map_or_else(String::new, ToString::to_string),
                    _ => String::new(),
                },
            });
        }
    }
    out.rows.sort_by(|a, b| {
        (&a.id_ti, &a.member_siren, &a.member_insee_com).cmp(&(
            &b.id_ti,
            &b.member_siren,
            &b.member_insee_com,
        ))
    });
    Ok(out)
}

/// Groups a territory's communes into members: an EPCI, then an EPT, whose communes are all listed becomes
/// the member; the communes left are members on their own.
fn group_communes(
    registry: &UnitRegistry,
    communes: Vec<(usize, String, SourcePos)>,
) -> Vec<(usize, String, SourcePos)> {
    let mut left: BTreeMap<usize, (String, SourcePos)> =
        communes.into_iter().map(|(u, name, pos)| (u, (name, pos))).collect();
    let mut out = Vec::new();
    for kind in [UnitKind::Epci, UnitKind::Ept] {
        let mut candidates: Vec<usize> = registry
            .communes_of
            .iter()
            .filter(|(p, cs)| registry.units[**p].kind == kind && cs.iter().any(|c| left.contains_key(c)))
            .map(|(p, _)| *p)
            .collect();
        candidates.sort_unstable();
        for p in candidates {
            let cs = &registry.communes_of[&p];
            if cs.iter().all(|c| left.contains_key(c)) {
                let pos = cs.iter().find_map(|c| left.get(c).map(|(_, pos)| pos.clone()));
                for c in cs {
                    left.remove(c);
                }
                if let Some(pos) = pos {
                    out.push((p, String::new(), pos));
                }
            }
        }
    }
    out.extend(left.into_iter().map(|(u, (name, pos))| (u, name, pos)));
    out
}

/// Reads one file into a composition, repairing its text and cells; true when it lists communes.
#[allow(clippy::result_large_err)] // private, one per file read
fn read_file(
    path: &Path,
    name: &str,
    opts: &ImportOptions,
    repairs: &mut Vec<Repair>,
) -> Result<(Composition, bool), ImportError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ImportError::Read { file: name.to_owned(), message: e.to_string() })?;
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if bytes.starts_with(b"PK\x03\x04") || matches!(ext.as_deref(), Some("xlsx" | "xlsm" | "xls" | "ods")) {
        let (header, rows) = read_sheet(path, name, opts.sheet.as_deref(), repairs)?;
        let commune_level = is_commune_level(&header);
        return Ok((parse_rows(name, &header, rows), commune_level));
    }
    let text = decode_text(name, &bytes, repairs);
    let first = text.chars().find(|c| !c.is_whitespace());
    if matches!(first, Some('{' | '[')) || matches!(ext.as_deref(), Some("geojson" | "json")) {
        let repaired = repair_geojson(name, &text, repairs);
        return Ok((parse_geojson(name, repaired.as_bytes()), false));
    }
    let delimiter = crate::tabular::sniff_separator(text.lines().next().unwrap_or("").as_bytes());
    if delimiter != b',' {
        repairs.push(Repair {
            at: format!("{name}:1"),
            what: "separator",
            old: char::from(delimiter).to_string(),
            new: ",".into(),
        });
    }
    let (header, rows) =
        csv_rows(&text).map_err(|message| ImportError::Read { file: name.to_owned(), message })?;
    let roles: Vec<ColumnRole> = header.iter().map(|h| column_role(h)).collect();
    let rows = rows
        .into_iter()
        .map(|(line, cells)| {
            let at = format!("{name}:{line}");
            let cells = cells
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    repair_cell(&at, roles.get(i).copied().unwrap_or(ColumnRole::Other), c, repairs)
                })
                .collect();
            (line, cells)
        })
        .collect();
    let commune_level = is_commune_level(&header);
    Ok((parse_rows(name, &header, rows), commune_level))
}

/// The text of a CSV or GeoJSON file: BOM removed, Windows-1252 decoded when it is not UTF-8, CRLF made LF;
/// each change recorded.
fn decode_text(name: &str, bytes: &[u8], repairs: &mut Vec<Repair>) -> String {
    let body = crate::tabular::strip_bom(bytes);
    if body.len() != bytes.len() {
        repairs.push(Repair {
            at: format!("{name}:1"),
            what: "UTF-8 byte-order mark removed",
            old: "U+FEFF".into(),
            new: String::new(),
        });
    }
    let text = if let Ok(s) = std::str::from_utf8(body) {
        s.to_owned()
    } else {
        let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(body);
        for (i, (raw, line)) in body.split(|&b| b == b'\n').zip(decoded.split('\n')).enumerate() {
            if !raw.is_ascii() {
                let old: String = raw
                    .iter()
                    .map(|&b| if b.is_ascii() { char::from(b).to_string() } else { format!("\\x{b:02X}") })
                    .collect();
                repairs.push(Repair {
                    at: format!("{name}:{}", i + 1),
                    what: "Windows-1252 text converted to UTF-8",
                    old: shorten(old.trim_end_matches('\r')),
                    new: shorten(line.trim_end_matches('\r')),
                });
            }
        }
        decoded.into_owned()
    };
    let crlf = text.matches("\r\n").count();
    if crlf > 0 {
        repairs.push(Repair {
            at: format!("{name}:1"),
            what: "CRLF line ends made LF",
            old: format!("{crlf} × \\r\\n"),
            new: "\\n".into(),
        });
        return text.replace("\r\n", "\n");
    }
    text
}

fn shorten(s: &str) -> String {
    const MAX: usize = 100;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}...", s.chars().take(MAX).collect::<String>())
    }
}

/// The first (or named) sheet of a spreadsheet as header and rows of text cells, numbers written back
/// as the codes they stand for; rows carry their 1-based sheet row number.
#[allow(clippy::result_large_err)] // private, one per file read
fn read_sheet(
    path: &Path,
    name: &str,
    sheet: Option<&str>,
    repairs: &mut Vec<Repair>,
) -> Result<(Vec<String>, Rows), ImportError> {
    use calamine::{Data, open_workbook_auto};
    let read_error = |message: String| ImportError::Read { file: name.to_owned(), message };
    let mut book =
        open_workbook_auto(path).map_err(|e| read_error(format!("not a readable spreadsheet: {e}")))?;
    let (chosen, range) = crate::tabular::sheet::first_or_named(&mut book, sheet).map_err(read_error)?;
    let first_row = range.start().map_or(0, |(r, _)| u64::from(r));
    let mut rows_iter = range.rows().enumerate();
    let Some((_, header_cells)) = rows_iter.next() else {
        return Err(read_error(format!("sheet {chosen:?} is empty")));
    };
    let header: Vec<String> = header_cells.iter().map(ToString::to_string).collect();
    let roles: Vec<ColumnRole> = header.iter().map(|h| column_role(h)).collect();
    let mut rows = Vec::new();
    for (i, cells) in rows_iter {
        let line = first_row + i as u64 + 1;
        let at = format!("{name}:{line}");
        let cells = cells
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let role = roles.get(c).copied().unwrap_or(ColumnRole::Other);
                let text = match cell {
                    Data::Float(f) if matches!(role, ColumnRole::Siren | ColumnRole::Insee) => {
                        let text = number_text(*f);
                        repairs.push(Repair {
                            at: at.clone(),
                            what: "code stored as a number",
                            old: format!("{f:?}"),
                            new: text.clone(),
                        });
                        text
                    }
                    Data::Int(n) if matches!(role, ColumnRole::Siren | ColumnRole::Insee) => {
                        repairs.push(Repair {
                            at: at.clone(),
                            what: "code stored as a number",
                            old: n.to_string(),
                            new: n.to_string(),
                        });
                        n.to_string()
                    }
                    Data::Empty => String::new(),
                    other => other.to_string(),
                };
                repair_cell(&at, role, text, repairs)
            })
            .collect();
        rows.push((line, cells));
    }
    Ok((header, rows))
}

/// A whole number as digits (`240200477.0` → `240200477`); other numbers as written.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 { format!("{f:.0}") } else { f.to_string() }
}

/// Repairs one cell by the role of its column, recording each change at `at`.
fn repair_cell(at: &str, role: ColumnRole, value: String, repairs: &mut Vec<Repair>) -> String {
    let mut v = value;
    let mut fix = |what: &'static str, old: &str, new: String| {
        repairs.push(Repair { at: at.to_owned(), what, old: old.to_owned(), new: new.clone() });
        new
    };
    if let Some(inner) = excel_text_formula(&v) {
        v = fix("Excel =\"...\" wrapping removed", &v, inner.to_owned());
    }
    match role {
        ColumnRole::Siren | ColumnRole::Insee => {
            let t = trim_name(&v);
            if t != v {
                v = fix("spaces around a code", &v, t.to_owned());
            }
            if let Some(digits) = whole_number_text(&v) {
                v = fix("code stored as a number", &v, digits);
            }
            if role == ColumnRole::Insee {
                if v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit())
                    || (v.len() == 4
                        && v.starts_with('2')
                        && matches!(v.as_bytes()[1], b'A' | b'B' | b'a' | b'b'))
                {
                    v = fix("INSEE code lost its leading zero", &v, format!("0{v}"));
                }
                if let Some(commune) = arrondissement_commune(&v) {
                    v = fix("arrondissement code replaced by its commune", &v, commune.to_owned());
                }
            }
        }
        ColumnRole::Name | ColumnRole::TerritoryId => {
            v = repair_name(&v, &mut fix);
        }
        ColumnRole::Other => {}
    }
    v
}

/// Repairs a name: mojibake, typographic apostrophes, non-breaking and repeated spaces, outer spaces.
fn repair_name(v: &str, fix: &mut impl FnMut(&'static str, &str, String) -> String) -> String {
    let mut v = v.to_owned();
    if let Some(fixed) = undo_mojibake(&v) {
        v = fix("mojibake (UTF-8 read as Latin-1) repaired", &v, fixed);
    }
    if v.contains(['\u{2019}', '\u{2018}']) {
        v = fix("typographic apostrophe made '", &v, v.replace(['\u{2019}', '\u{2018}'], "'"));
    }
    let spaced: String = v
        .split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if spaced != v {
        v = fix("trailing, repeated or non-breaking spaces", &v, spaced);
    }
    v
}

/// `="240200477"` (Excel's way to keep leading zeros in CSV) → `240200477`.
fn excel_text_formula(v: &str) -> Option<&str> {
    let t = v.trim();
    t.strip_prefix("=\"").and_then(|r| r.strip_suffix('"'))
}

/// `240200477.0`, `240200477,0` or `2.40200477E+08` → `240200477`; `None` for anything else.
fn whole_number_text(v: &str) -> Option<String> {
    if v.bytes().all(|b| b.is_ascii_digit()) || !v.bytes().any(|b| matches!(b, b'.' | b',' | b'e' | b'E')) {
        return None;
    }
    let f: f64 = v.replace(',', ".").parse().ok()?;
    (f.fract() == 0.0 && f > 0.0 && f < 1e10).then(|| format!("{f:.0}"))
}

/// The commune of a Paris, Lyon or Marseille municipal arrondissement code.
fn arrondissement_commune(code: &str) -> Option<&'static str> {
    let n: u32 = code.parse().ok()?;
    match n {
        75101..=75120 => Some("75056"),
        69381..=69389 => Some("69123"),
        13201..=13216 => Some("13055"),
        _ => None,
    }
}

/// The text a UTF-8 string became once read as Latin-1 (or Windows-1252) and saved again, undone:
/// `CaraÃ¯be` → `Caraïbe`. `None` when the text does not read as such mojibake.
fn undo_mojibake(s: &str) -> Option<String> {
    if s.is_ascii() {
        return None;
    }
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        let code = u32::from(c);
        if code < 0x100 {
            bytes.push(u8::try_from(code).ok()?);
        } else {
            // Windows-1252's characters above U+00FF (€, ™, ’...) stand for one byte each.
            let mut buf = [0u8; 4];
            let (encoded, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
            if unmappable || encoded.len() != 1 {
                return None;
            }
            bytes.push(encoded[0]);
        }
    }
    let fixed = String::from_utf8(bytes).ok()?;
    (fixed != s && !fixed.is_ascii()).then_some(fixed)
}

/// Repairs the text properties of a GeoJSON list (names and member lists) before parsing; returns the
/// text unchanged when it is not JSON (the parser then says why).
fn repair_geojson(name: &str, text: &str, repairs: &mut Vec<Repair>) -> String {
    let Ok(mut root) = serde_json::from_str::<Value>(text) else {
        return text.to_owned();
    };
    let features = match &mut root {
        Value::Object(o) => match o.get_mut("features") {
            Some(Value::Array(a)) => a,
            _ => return text.to_owned(),
        },
        Value::Array(a) => a,
        _ => return text.to_owned(),
    };
    for (i, feature) in features.iter_mut().enumerate() {
        let at = format!("{name} (feature {i})");
        if let Some(geometry) = feature.get_mut("geometry") {
            // Geometry is ignored by the list parser; dropping it keeps the reparse cheap.
            *geometry = Value::Null;
        }
        let Some(Value::Object(props)) = feature.get_mut("properties") else { continue };
        for (key, value) in props.iter_mut() {
            let Value::String(s) = value else { continue };
            let key = key.to_lowercase();
            let role = match key.as_str() {
                "liste_geo" | "lib_groupement" => ColumnRole::Name,
                other => column_role(other),
            };
            let mut fix = |what: &'static str, old: &str, new: String| {
                repairs.push(Repair {
                    at: format!("{at} {key}"),
                    what,
                    old: old.to_owned(),
                    new: new.clone(),
                });
                new
            };
            let repaired = match role {
                ColumnRole::Name | ColumnRole::TerritoryId
                    if key == "liste_geo" || key == "lib_groupement" =>
                {
                    // Lists: repair each entry's spaces, keep the separators as they are.
                    let sep = if key == "liste_geo" { ';' } else { ',' };
                    let mut v = s.clone();
                    if let Some(fixed) = undo_mojibake(&v) {
                        v = fix("mojibake (UTF-8 read as Latin-1) repaired", &v, fixed);
                    }
                    if v.contains(['\u{2019}', '\u{2018}']) {
                        v = fix(
                            "typographic apostrophe made '",
                            &v,
                            v.replace(['\u{2019}', '\u{2018}'], "'"),
                        );
                    }
                    let entries: Vec<String> = v
                        .split(sep)
                        .map(|e| {
                            e.split(|c: char| c.is_whitespace() || c == '\u{a0}')
                                .filter(|w| !w.is_empty())
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .collect();
                    let joined = entries.join(&format!("{sep} "));
                    let joined = joined.trim_end_matches([sep, ' ']).to_owned();
                    let plain = v.trim_end_matches([sep, ' ']);
                    if joined.replace(&format!("{sep} "), &sep.to_string())
                        != plain.replace(&format!("{sep} "), &sep.to_string())
                    {
                        v = fix("trailing, repeated or non-breaking spaces", &v, joined);
                    }
                    v
                }
                ColumnRole::Name | ColumnRole::TerritoryId => repair_name(s, &mut fix),
                ColumnRole::Siren | ColumnRole::Insee | ColumnRole::Other => continue,
            };
            *s = repaired;
        }
    }
    serde_json::to_string(&root).unwrap_or_else(|_| text.to_owned())
}

/// What changed between two versions of an edition's list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListChanges {
    /// Territories only in the new list: (id, name).
    pub added: Vec<(String, String)>,
    /// Territories only in the old list: (id, name).
    pub removed: Vec<(String, String)>,
    /// Territories renamed: (id, old name, new name).
    pub renamed: Vec<(String, String, String)>,
    /// Members in another territory now: (member, old territory, new territory).
    pub moved: Vec<(String, String, String)>,
    /// Members that joined: (member, territory).
    pub joined: Vec<(String, String)>,
    /// Members that left: (member, territory).
    pub left: Vec<(String, String)>,
}

impl ListChanges {
    /// True when the two lists have the same territories, names and members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl fmt::Display for ListChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "  no change (same territories, names and members)");
        }
        for (id, name) in &self.added {
            writeln!(f, "  territory added: {id} {name}")?;
        }
        for (id, name) in &self.removed {
            writeln!(f, "  territory removed: {id} {name}")?;
        }
        for (id, old, new) in &self.renamed {
            writeln!(f, "  territory renamed: {id} {old:?} -> {new:?}")?;
        }
        for (m, from, to) in &self.moved {
            writeln!(f, "  member moved: {m} from {from} to {to}")?;
        }
        for (m, t) in &self.joined {
            writeln!(f, "  member joined: {m} in {t}")?;
        }
        for (m, t) in &self.left {
            writeln!(f, "  member left: {m} from {t}")?;
        }
        Ok(())
    }
}

/// The changes from `old` to `new`, territories by id and members by SIREN (or INSEE code).
#[must_use]
pub fn list_changes(old: &[NormalisedRow], new: &[NormalisedRow]) -> ListChanges {
    let names = |rows: &[NormalisedRow]| -> BTreeMap<String, String> {
        rows.iter().map(|r| (r.id_ti.clone(), r.lib_ti.clone())).collect()
    };
    let members = |rows: &[NormalisedRow]| -> BTreeMap<String, (String, String)> {
        rows.iter()
            .map(|r| {
                let code = if r.member_siren.is_empty() {
                    r.member_insee_com.clone()
                } else {
                    r.member_siren.clone()
                };
                (code, (r.id_ti.clone(), r.member_name.clone()))
            })
            .collect()
    };
    let (old_t, new_t) = (names(old), names(new));
    let (old_m, new_m) = (members(old), members(new));
    let mut c = ListChanges::default();
    for (id, name) in &new_t {
        match old_t.get(id) {
            None => c.added.push((id.clone(), name.clone())),
            Some(o) if o != name => c.renamed.push((id.clone(), o.clone(), name.clone())),
            Some(_) => {}
        }
    }
    c.removed = old_t
        .iter()
        .filter(|(id, _)| !new_t.contains_key(*id))
        .map(|(i, n)| (i.clone(), n.clone()))
        .collect();
    for (code, (t, name)) in &new_m {
        let label = format!("{code} {name}");
        match old_m.get(code) {
            None => c.joined.push((label, t.clone())),
            Some((o, _)) if o != t => c.moved.push((label, o.clone(), t.clone())),
            Some(_) => {}
        }
    }
    c.left = old_m
        .iter()
        .filter(|(code, _)| !new_m.contains_key(*code))
        .map(|(code, (t, name))| (format!("{code} {name}"), t.clone()))
        .collect();
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mojibake_is_undone_and_clean_text_left_alone() {
        assert_eq!(undo_mojibake("CaraÃ¯be").as_deref(), Some("Caraïbe"));
        assert_eq!(undo_mojibake("d\u{e2}\u{80}\u{99}Avenir").as_deref(), Some("d\u{2019}Avenir"));
        assert_eq!(undo_mojibake("dâ€™Avenir").as_deref(), Some("d\u{2019}Avenir"));
        for clean in ["Caraïbe", "Châteauroux", "Cœur de Flandre", "Saint-Omer", "Â"] {
            assert_eq!(undo_mojibake(clean), None, "{clean}");
        }
    }

    #[test]
    fn codes_are_repaired_by_column_role() {
        let mut r = Vec::new();
        assert_eq!(repair_cell("f:2", ColumnRole::Siren, "=\"240200477\"".into(), &mut r), "240200477");
        assert_eq!(repair_cell("f:3", ColumnRole::Siren, "240200477.0".into(), &mut r), "240200477");
        assert_eq!(repair_cell("f:4", ColumnRole::Insee, "1053".into(), &mut r), "01053");
        assert_eq!(repair_cell("f:5", ColumnRole::Insee, "75108".into(), &mut r), "75056");
        assert_eq!(repair_cell("f:6", ColumnRole::Insee, "13055".into(), &mut r), "13055");
        assert_eq!(repair_cell("f:7", ColumnRole::Name, "Nevers\u{a0} ".into(), &mut r), "Nevers");
        assert_eq!(repair_cell("f:8", ColumnRole::Other, "=\"CA\"".into(), &mut r), "CA");
        let at: Vec<&str> = r.iter().map(|x| x.at.as_str()).collect();
        assert_eq!(at, ["f:2", "f:3", "f:4", "f:5", "f:7", "f:8"]);
        assert_eq!(
            r[0].to_string(),
            "f:2: Excel =\"...\" wrapping removed: \"=\\\"240200477\\\"\" -> \"240200477\""
        );
    }

    #[test]
    fn changes_name_added_removed_renamed_and_moved() {
        let row = |id: &str, name: &str, siren: &str| NormalisedRow {
            id_ti: id.into(),
            lib_ti: name.into(),
            member_siren: siren.into(),
            member_name: format!("M{siren}"),
            ..NormalisedRow::default()
        };
        let old = [row("ti-1", "Un", "1"), row("ti-1", "Un", "2"), row("ti-2", "Deux", "3")];
        let new = [row("ti-1", "Un bis", "1"), row("ti-3", "Trois", "2"), row("ti-3", "Trois", "4")];
        let c = list_changes(&old, &new);
        assert_eq!(c.added, [("ti-3".into(), "Trois".into())]);
        assert_eq!(c.removed, [("ti-2".into(), "Deux".into())]);
        assert_eq!(c.renamed, [("ti-1".into(), "Un".into(), "Un bis".into())]);
        assert_eq!(c.moved, [("2 M2".into(), "ti-1".into(), "ti-3".into())]);
        assert_eq!(c.joined, [("4 M4".into(), "ti-3".into())]);
        assert_eq!(c.left, [("3 M3".into(), "ti-2".into())]);
        assert!(list_changes(&new, &new).is_empty());
    }
}
