//! Territory composition lists (CSV or ANCT GeoJSON) read into [`ListedTerritory`] values, with every problem located.
//!
//! Only syntax is checked here: whether a code names a loaded unit is the atlas's job. Parsing never stops
//! at the first problem, so one run reports everything wrong with a file and still returns what it could read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::tabular::{self, TextEncoding};

use crate::model::{
    InseeCode, ListedMember, ListedTerritory, MemberCode, Place, Siren, SourcePos, TerritoryId, trim_name,
};

/// What a list file gave: the territories read (possibly partial) and every problem found.
#[derive(Debug, Default)]
pub struct Composition {
    /// Territories in file order, members in list order.
    pub territories: Vec<ListedTerritory>,
    /// Every problem found, in reading order.
    pub errors: Vec<CompositionError>,
}

impl Composition {
    /// Number of members over all territories.
    #[must_use]
    pub fn member_count(&self) -> usize {
        self.territories.iter().map(|t| t.members.len()).sum()
    }
}

/// A problem in a composition list, located by file and line or feature.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompositionError {
    /// The file could not be read at all.
    #[error("{file}: cannot read file: {message}")]
    Io {
        /// The file as given.
        file: String,
        /// The system's reason.
        message: String,
    },
    /// The file as a whole is not a usable list: not CSV/GeoJSON, bad JSON, not UTF-8, missing columns.
    #[error("{file}: {message}")]
    Format {
        /// The file as given.
        file: String,
        /// What is wrong, naming what was found and what was expected.
        message: String,
    },
    /// One record cannot be read (a feature that is not an object, a CSV record the reader rejects).
    #[error("{pos}: {message}")]
    BadRecord {
        /// Where.
        pos: SourcePos,
        /// What is wrong.
        message: String,
    },
    /// A required value is empty.
    #[error("{pos}: empty {field}")]
    MissingField {
        /// Where.
        pos: SourcePos,
        /// Which value, with the column or property it was looked for in.
        field: String,
    },
    /// A territory id that cannot be used (control characters).
    #[error("{pos}: malformed territory id {value:?}")]
    BadTerritoryId {
        /// Where.
        pos: SourcePos,
        /// The id as written.
        value: String,
    },
    /// A member code that is neither a SIREN nor an INSEE commune code.
    #[error("{pos}: malformed member code {value:?} (expected a 9-digit SIREN or 5-character INSEE code)")]
    BadCode {
        /// Where.
        pos: SourcePos,
        /// The code as written.
        value: String,
    },
    /// The same member code appears a second time in the file; the repeat is dropped.
    #[error("{pos}: member {code:?} listed twice (first at {first})")]
    DuplicateMember {
        /// Where the repeat is.
        pos: SourcePos,
        /// The code.
        code: String,
        /// Where it was first listed.
        first: SourcePos,
    },
    /// The same territory id is given two different names; the first name is kept (a warning).
    #[error("{pos}: territory {id:?} named {name:?} here but {first_name:?} at {first}")]
    ConflictingName {
        /// Where the second name is.
        pos: SourcePos,
        /// The territory id.
        id: String,
        /// The name given here.
        name: String,
        /// The name kept.
        first_name: String,
        /// Where the kept name was read.
        first: SourcePos,
    },
    /// A territory without any member.
    #[error("{pos}: territory {id:?} has no members")]
    EmptyTerritory {
        /// Where.
        pos: SourcePos,
        /// The territory id.
        id: String,
    },
    /// A `liste_geo` entry without a parenthesised code.
    #[error("{pos}: member list entry {entry:?} has no parenthesised code (expected \"Name (SIREN)\")")]
    BadMemberList {
        /// Where.
        pos: SourcePos,
        /// The entry as written.
        entry: String,
    },
}

impl CompositionError {
    /// Where the problem is, unless it concerns the whole file.
    #[must_use]
    pub fn pos(&self) -> Option<&SourcePos> {
        match self {
            Self::Io { .. } | Self::Format { .. } => None,
            Self::BadRecord { pos, .. }
            | Self::MissingField { pos, .. }
            | Self::BadTerritoryId { pos, .. }
            | Self::BadCode { pos, .. }
            | Self::DuplicateMember { pos, .. }
            | Self::ConflictingName { pos, .. }
            | Self::EmptyTerritory { pos, .. }
            | Self::BadMemberList { pos, .. } => Some(pos),
        }
    }

    /// True for problems that leave the list usable as read (a second name for a territory is ignored).
    #[must_use]
    pub fn is_warning(&self) -> bool {
        matches!(self, Self::ConflictingName { .. })
    }
}

/// Reads a list file, choosing the parser from its content (a JSON object or array is GeoJSON) or extension.
#[must_use]
pub fn read_composition(path: &Path) -> Composition {
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Composition {
                territories: Vec::new(),
                errors: vec![CompositionError::Io { file: name, message: e.to_string() }],
            };
        }
    };
    let first = tabular::strip_bom(&bytes).iter().copied().find(|b| !b.is_ascii_whitespace());
    let json_ext = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"));
    // Content first: a CSV header cannot start with `{` or `[`, and files are often misnamed.
    if matches!(first, Some(b'{' | b'[')) || json_ext {
        parse_geojson(&name, &bytes)
    } else {
        parse_csv(&name, &bytes)
    }
}

/// Parses a CSV list (one row per member); `name` is the file name used in messages.
#[must_use]
pub fn parse_csv(name: &str, bytes: &[u8]) -> Composition {
    let mut b = Builder::new(name);
    // The BOM goes before decoding (in `tabular::decode`), so a file that is not UTF-8 after all still
    // has a clean first header.
    let text = b.decode(bytes);
    if text.trim().is_empty() {
        b.format_error("empty file (expected a CSV header line or a GeoJSON FeatureCollection)".into());
        return b.finish();
    }
    match csv_rows(&text) {
        Ok((header, rows)) => parse_rows_into(b, &header, rows),
        Err(e) => {
            b.format_error(e);
            b.finish()
        }
    }
}

/// The cells of a CSV text, header first, each data record with its 1-based physical line; the separator
/// is sniffed from the first line. Records the reader cannot split are dropped (reading from memory,
/// with flexible records, this does not happen in practice).
///
/// # Errors
/// A text without a header line, as a message.
pub(crate) fn csv_rows(text: &str) -> Result<(Vec<String>, Rows), String> {
    let header_line = text.lines().next().unwrap_or("");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(tabular::sniff_separator(header_line.as_bytes()))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.byte_records();
    let lines = LineIndex::new(text);
    let cells = |r: &csv::ByteRecord| r.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => cells(&h),
        Some(Err(e)) => return Err(format!("cannot read the CSV header: {e}")),
        None => return Err("no CSV header line".into()),
    };
    let rows = records
        .filter_map(Result::ok)
        .map(|r| (r.position().map_or(0, |p| lines.line_at(p.byte())), cells(&r)))
        .collect();
    Ok((header, rows))
}

/// Rows of text cells, each with the 1-based line (or sheet row) it was read from.
pub type Rows = Vec<(u64, Vec<String>)>;

/// Parses a table of cells (a CSV or a spreadsheet sheet): `header` names the columns, each row carries
/// the 1-based line (or sheet row) it was read from. `name` is the file name used in messages.
#[must_use]
pub fn parse_rows(name: &str, header: &[String], rows: Rows) -> Composition {
    parse_rows_into(Builder::new(name), header, rows)
}

/// Whether a header names a commune-level list: a commune code column and no member SIREN column.
#[must_use]
pub fn is_commune_level(header: &[String]) -> bool {
    let header: Vec<String> = header.iter().map(|h| trim_name(h).to_lowercase()).collect();
    let has = |names: &[&str]| names.iter().any(|n| header.iter().any(|h| h == n));
    has(INSEE_COLUMNS) && !has(SIREN_COLUMNS)
}

/// The role of a column, by its header name, for cell repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// Territory id.
    TerritoryId,
    /// A territory or member name.
    Name,
    /// A member SIREN.
    Siren,
    /// A commune INSEE code.
    Insee,
    /// Anything else.
    Other,
}

/// What a column holds, from its header name (as the list parsers read it).
#[must_use]
pub fn column_role(header: &str) -> ColumnRole {
    let h = trim_name(header).to_lowercase();
    let is = |names: &[&str]| names.contains(&h.as_str());
    if is(ID_COLUMNS) {
        ColumnRole::TerritoryId
    } else if is(NAME_COLUMNS) || is(MEMBER_NAME_COLUMNS) {
        ColumnRole::Name
    } else if is(SIREN_COLUMNS) {
        ColumnRole::Siren
    } else if is(INSEE_COLUMNS) {
        ColumnRole::Insee
    } else {
        ColumnRole::Other
    }
}

/// Column names (lower case) accepted for each role, in order of preference.
const ID_COLUMNS: &[&str] = &["id_ti", "id_territoire"];
const NAME_COLUMNS: &[&str] = &["lib_ti", "lib_territoire"];
const SIREN_COLUMNS: &[&str] = &["member_siren", "siren_groupement", "siren", "siren_membre"];
const INSEE_COLUMNS: &[&str] =
    &["member_insee_com", "insee_com", "code_insee", "codgeo", "code_commune", "insee"];
const MEMBER_NAME_COLUMNS: &[&str] =
    &["member_name", "lib_groupement", "lib_membre", "nom_groupement", "lib_com", "nom_commune"];
const KIND_COLUMNS: &[&str] = &["member_kind", "nature_juridique"];

fn parse_rows_into(mut b: Builder, header: &[String], rows: Rows) -> Composition {
    let header: Vec<String> = header.iter().map(|h| trim_name(h).to_lowercase()).collect();
    let find = |names: &[&str]| names.iter().find_map(|n| header.iter().position(|h| h == n));
    let (id_col, name_col) = (find(ID_COLUMNS), find(NAME_COLUMNS));
    let (siren_col, insee_col) = (find(SIREN_COLUMNS), find(INSEE_COLUMNS));
    let (member_name_col, kind_col) = (find(MEMBER_NAME_COLUMNS), find(KIND_COLUMNS));
    let (Some(id_col), Some(name_col), true) = (id_col, name_col, siren_col.is_some() || insee_col.is_some())
    else {
        let mut missing = Vec::new();
        if id_col.is_none() {
            missing.push(ID_COLUMNS.join(" or "));
        }
        if name_col.is_none() {
            missing.push(NAME_COLUMNS.join(" or "));
        }
        if siren_col.is_none() && insee_col.is_none() {
            missing.push([SIREN_COLUMNS, INSEE_COLUMNS].concat().join(" or "));
        }
        b.format_error(format!(
            "not a territory list: missing column {}; found columns: {}",
            missing.join(", and "),
            quoted_list(&header)
        ));
        return b.finish();
    };
    let code_columns =
        [siren_col, insee_col].iter().flatten().map(|&c| header[c].as_str()).collect::<Vec<_>>();
    let code_field = format!("member code ({})", code_columns.join(", "));

    for (line, record) in rows {
        let pos = b.pos(Place::Line(line));
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).map(|f| trim_name(f).to_owned());
        // Spreadsheet exports often end with rows of bare delimiters: nothing to report there.
        if record.iter().all(|f| trim_name(f).is_empty()) {
            continue;
        }
        let Some(territory) = b.territory(
            &field(Some(id_col)).unwrap_or_default(),
            &header[id_col],
            field(Some(name_col)),
            &pos,
        ) else {
            continue;
        };
        let siren = field(siren_col).unwrap_or_default();
        let insee = field(insee_col).unwrap_or_default();
        let code = match (siren.is_empty(), insee.is_empty()) {
            (true, true) => {
                b.errors_push(CompositionError::MissingField { pos: pos.clone(), field: code_field.clone() });
                None
            }
            (false, _) => {
                let code = parse_member_code(&siren);
                if code.is_none() {
                    b.errors_push(CompositionError::BadCode { pos: pos.clone(), value: siren.clone() });
                }
                // A malformed SIREN next to a good INSEE code still lets the member be matched.
                code.or_else(|| InseeCode::parse(&insee).map(MemberCode::Insee))
            }
            (true, false) => {
                let code = parse_member_code(&insee);
                if code.is_none() {
                    b.errors_push(CompositionError::BadCode { pos: pos.clone(), value: insee.clone() });
                }
                code
            }
        };
        if let Some(code) = code {
            let member = ListedMember {
                code,
                name: field(member_name_col).unwrap_or_default(),
                kind_hint: field(kind_col).filter(|k| !k.is_empty()),
                pos,
            };
            b.member(territory, member);
        }
    }
    b.finish()
}

/// Property names (lower case) accepted in GeoJSON features.
const ID_PROPS: &[&str] = &["id_territoire", "id_ti"];
const NAME_PROPS: &[&str] = &["lib_territoire", "lib_ti"];
const LIST_PROPS: &[&str] = &["liste_geo"];
const SIREN_LIST_PROPS: &[&str] = &["siren_groupement", "siren", "member_siren"];
const NAME_LIST_PROPS: &[&str] = &["lib_groupement", "member_name"];
const KIND_LIST_PROPS: &[&str] = &["nature_juridique", "member_kind"];

/// A GeoJSON object as far as a territory list needs it; other members (geometry, bbox, crs) are
/// skipped by the parser without being built.
#[derive(serde::Deserialize)]
struct LeanFeature {
    #[serde(rename = "type")]
    kind: Option<String>,
    properties: Option<Value>,
    features: Option<Vec<LeanFeature>>,
}

/// The features of a FeatureCollection, a Feature or an array of features, each reduced to its type and
/// properties; `None` when the text is anything else (the caller then parses it fully to explain).
fn lean_features(text: &str) -> Option<Vec<Value>> {
    let reduce = |f: LeanFeature| serde_json::json!({ "type": f.kind, "properties": f.properties });
    if text.trim_start().starts_with('[') {
        let list: Vec<LeanFeature> = serde_json::from_str(text).ok()?;
        return Some(list.into_iter().map(reduce).collect());
    }
    let root: LeanFeature = serde_json::from_str(text).ok()?;
    if root.kind.as_deref() == Some("Feature") {
        return Some(vec![reduce(root)]);
    }
    root.features.map(|features| features.into_iter().map(reduce).collect())
}

/// Parses an ANCT GeoJSON list (one feature per territory; members in `liste_geo` or in comma-separated
/// `siren_groupement`/`lib_groupement`); geometry is ignored. `name` is the file name used in messages.
#[must_use]
pub fn parse_geojson(name: &str, bytes: &[u8]) -> Composition {
    let mut b = Builder::new(name);
    // serde_json rejects a BOM, and some exports start with one (`tabular::decode` drops it).
    let text = b.decode(bytes);
    // Fast path: features' properties only, geometries skipped unparsed (they are most of the file).
    // Anything unexpected takes the full parse below, which says precisely what is wrong.
    let lean = lean_features(&text);
    let root: Value = match &lean {
        Some(_) => Value::Null,
        None => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                b.format_error(format!("not GeoJSON: invalid JSON: {e}"));
                return b.finish();
            }
        },
    };
    let features: Vec<&Value> = match (&lean, &root) {
        (Some(lean), _) => lean.iter().collect(),
        (None, root) => match root {
            Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("Feature") => vec![&root],
            Value::Object(o) => {
                if let Some(Value::Array(a)) = o.get("features") {
                    a.iter().collect()
                } else {
                    b.format_error(format!(
                        "not GeoJSON: expected a FeatureCollection with a \"features\" array; found keys: {}",
                        quoted_list(&o.keys().cloned().collect::<Vec<_>>())
                    ));
                    return b.finish();
                }
            }
            Value::Array(a) => a.iter().collect(),
            _ => {
                b.format_error("not GeoJSON: expected a FeatureCollection object".into());
                return b.finish();
            }
        },
    };

    // The schema is judged once, on the first feature with properties, so a wrong kind of file gives one
    // error naming its properties rather than one per feature.
    if let Some(props) = features.iter().find_map(|f| f.get("properties").and_then(Value::as_object)) {
        let has = |names: &[&'static str]| prop(props, names).is_some();
        let has_members = has(LIST_PROPS) || has(SIREN_LIST_PROPS);
        if !has(ID_PROPS) || !has_members {
            let mut missing = Vec::new();
            if !has(ID_PROPS) {
                missing.push(ID_PROPS.join(" or "));
            }
            if !has_members {
                missing.push([LIST_PROPS, SIREN_LIST_PROPS].concat().join(" or "));
            }
            b.format_error(format!(
                "not a territory list: missing property {}; found properties: {}",
                missing.join(", and "),
                quoted_list(&props.keys().cloned().collect::<Vec<_>>())
            ));
            return b.finish();
        }
    }

    for (i, feature) in features.into_iter().enumerate() {
        let pos = b.pos(Place::Feature(i));
        let Some(props) = feature.get("properties").and_then(Value::as_object) else {
            b.errors_push(CompositionError::BadRecord {
                pos,
                message: "feature without a \"properties\" object".into(),
            });
            continue;
        };
        let id_key = prop(props, ID_PROPS).map_or(ID_PROPS[0], |(k, _)| k);
        let id = prop_string(props, ID_PROPS);
        let Some(territory) = b.territory(&id, id_key, Some(prop_string(props, NAME_PROPS)), &pos) else {
            continue;
        };
        // Entries listed by this feature, good or bad: only a feature listing nothing is an empty territory.
        let mut entries = 0;
        if let Some((_, list)) = prop(props, LIST_PROPS) {
            let list = value_string(list);
            for entry in list.split(';') {
                let entry = trim_name(entry);
                if entry.is_empty() {
                    continue; // "A (1); B (2);" ends with an empty entry
                }
                entries += 1;
                let Some((member_name, code)) = split_entry(entry) else {
                    b.errors_push(CompositionError::BadMemberList { pos: pos.clone(), entry: entry.into() });
                    continue;
                };
                match parse_member_code(code) {
                    Some(code) => {
                        let m = ListedMember {
                            code,
                            name: member_name.into(),
                            kind_hint: None,
                            pos: pos.clone(),
                        };
                        b.member(territory, m);
                    }
                    None => b.errors_push(CompositionError::BadCode { pos: pos.clone(), value: code.into() }),
                }
            }
        } else {
            let codes = prop_list(props, SIREN_LIST_PROPS);
            // Names may contain commas, so they are only trusted when they split into as many parts as the codes.
            let names = paired(prop_list(props, NAME_LIST_PROPS), codes.len()).or_else(|| {
                paired(split_before_legal_forms(&prop_string(props, NAME_LIST_PROPS)), codes.len())
            });
            let kinds = paired(prop_list(props, KIND_LIST_PROPS), codes.len());
            entries += codes.len();
            for (j, code) in codes.iter().enumerate() {
                match parse_member_code(code) {
                    Some(c) => {
                        let m = ListedMember {
                            code: c,
                            name: names.as_ref().and_then(|n| n.get(j)).cloned().unwrap_or_default(),
                            kind_hint: kinds
                                .as_ref()
                                .and_then(|k| k.get(j))
                                .filter(|k| !k.is_empty())
                                .cloned(),
                            pos: pos.clone(),
                        };
                        b.member(territory, m);
                    }
                    None => {
                        b.errors_push(CompositionError::BadCode { pos: pos.clone(), value: code.clone() });
                    }
                }
            }
        }
        if entries == 0 {
            let id = b.out.territories[territory].id.to_string();
            b.errors_push(CompositionError::EmptyTerritory { pos, id });
        }
    }
    b.finish()
}

/// Accumulates territories and errors, grouping rows by territory id and catching repeated members.
struct Builder {
    file: String,
    out: Composition,
    by_id: HashMap<TerritoryId, usize>,
    seen: HashMap<MemberCode, SourcePos>,
}

impl Builder {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            out: Composition::default(),
            by_id: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    fn pos(&self, place: Place) -> SourcePos {
        SourcePos { file: self.file.clone(), place }
    }

    fn errors_push(&mut self, e: CompositionError) {
        self.out.errors.push(e);
    }

    fn format_error(&mut self, message: String) {
        self.out.errors.push(CompositionError::Format { file: self.file.clone(), message });
    }

    /// The result; a file that gave nothing and no reason why is reported, as it cannot be a useful list.
    fn finish(mut self) -> Composition {
        if self.out.territories.is_empty() && self.out.errors.is_empty() {
            self.format_error("no territory in the file".into());
        }
        self.out
    }

    /// Text of the file; invalid UTF-8 is reported and read as Latin-1 so the codes can still be checked.
    fn decode<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, str> {
        let decoded = tabular::decode(bytes);
        if decoded.encoding != TextEncoding::Utf8 {
            // A list is an official record: a non-UTF-8 file is read, but reported.
            let at = std::str::from_utf8(bytes).err().map_or(0, |e| e.valid_up_to());
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            self.format_error(format!(
                "not valid UTF-8 (byte 0x{:02x} on line {line}); read as {}",
                bytes.get(at).copied().unwrap_or(0),
                decoded.encoding.label()
            ));
        }
        decoded.text
    }

    /// The index of the territory `id`, created at `pos` if new; `None` (after reporting) if the id is unusable.
    fn territory(
        &mut self,
        id: &str,
        id_field: &str,
        name: Option<String>,
        pos: &SourcePos,
    ) -> Option<usize> {
        let id = trim_name(id);
        let Some(tid) = TerritoryId::parse(id) else {
            let err = if id.is_empty() {
                CompositionError::MissingField {
                    pos: pos.clone(),
                    field: format!("territory id ({id_field})"),
                }
            } else {
                CompositionError::BadTerritoryId { pos: pos.clone(), value: id.to_owned() }
            };
            self.errors_push(err);
            return None;
        };
        let name = name.map(|n| trim_name(&n).to_owned()).unwrap_or_default();
        if name.is_empty() {
            self.errors_push(CompositionError::MissingField {
                pos: pos.clone(),
                field: format!("name of territory {:?}", tid.as_str()),
            });
        }
        if let Some(&i) = self.by_id.get(&tid) {
            let t = &mut self.out.territories[i];
            if t.name.is_empty() {
                t.name = name;
            } else if !name.is_empty() && name != t.name {
                let err = CompositionError::ConflictingName {
                    pos: pos.clone(),
                    id: tid.to_string(),
                    name,
                    first_name: t.name.clone(),
                    first: t.pos.clone(),
                };
                self.errors_push(err);
            }
            return Some(i);
        }
        let i = self.out.territories.len();
        self.by_id.insert(tid.clone(), i);
        self.out.territories.push(ListedTerritory { id: tid, name, members: Vec::new(), pos: pos.clone() });
        Some(i)
    }

    /// Adds a member unless its code was already listed, in which case the repeat is reported and dropped.
    fn member(&mut self, territory: usize, m: ListedMember) {
        if let Some(first) = self.seen.get(&m.code) {
            let err = CompositionError::DuplicateMember {
                pos: m.pos,
                code: m.code.to_string(),
                first: first.clone(),
            };
            self.errors_push(err);
            return;
        }
        self.seen.insert(m.code.clone(), m.pos.clone());
        self.out.territories[territory].members.push(m);
    }
}

/// Physical line numbers from byte offsets.
///
/// The csv crate's own line counter is off after CRLF endings and quoted newlines, so lines are counted
/// here from the record's start offset instead.
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let text = text.as_bytes();
        Self {
            text,
            newlines: text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect(),
        }
    }

    /// 1-based line of the record starting at `byte`; the offset may still point at the previous record's
    /// terminator or at skipped blank lines, which are stepped over.
    fn line_at(&self, byte: u64) -> u64 {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        while self.text.get(at).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            at += 1;
        }
        1 + self.newlines.partition_point(|&n| n < at) as u64
    }
}

/// A SIREN (9 digits) or, failing that, an INSEE commune code (5 characters).
fn parse_member_code(s: &str) -> Option<MemberCode> {
    let s = trim_name(s);
    Siren::parse(s).map(MemberCode::Siren).or_else(|| InseeCode::parse(s).map(MemberCode::Insee))
}

/// Splits `Name (code)` on its last parenthesised group (names may contain parentheses themselves).
fn split_entry(entry: &str) -> Option<(&str, &str)> {
    let close = entry.rfind(')')?;
    let open = entry[..close].rfind('(')?;
    // Text after the code is not expected; keeping the code and dropping it is the useful reading.
    Some((trim_name(&entry[..open]), trim_name(&entry[open + 1..close])))
}

/// The first property among `names`, matched case-insensitively after trimming; returns the name matched.
fn prop<'a>(props: &'a Map<String, Value>, names: &[&'static str]) -> Option<(&'static str, &'a Value)> {
    names
        .iter()
        .find_map(|&n| props.iter().find(|(k, _)| trim_name(k).eq_ignore_ascii_case(n)).map(|(_, v)| (n, v)))
}

/// A property as text (numbers as written, null or absent as empty).
fn prop_string(props: &Map<String, Value>, names: &[&'static str]) -> String {
    prop(props, names).map(|(_, v)| value_string(v)).unwrap_or_default()
}

fn value_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A list property: a JSON array, or a comma-separated string; parts trimmed, empty parts dropped.
fn prop_list(props: &Map<String, Value>, names: &[&'static str]) -> Vec<String> {
    let parts: Vec<String> = match prop(props, names).map(|(_, v)| v) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(value_string).collect(),
        Some(v) => value_string(v).split(',').map(str::to_owned).collect(),
    };
    parts.iter().map(|p| trim_name(p).to_owned()).filter(|p| !p.is_empty()).collect()
}

/// Legal forms that start ANCT group names, used to split name lists whose names contain commas.
const LEGAL_FORMS: &[&str] = &["CC", "CA", "CU", "EPT", "Métropole", "Eurométropole"];

/// Splits `"CC Entre Arroux, Loire et Somme, CA de Nevers"` only at commas followed by a legal form
/// (`["CC Entre Arroux, Loire et Somme", "CA de Nevers"]`); the result is used only if the count matches.
fn split_before_legal_forms(list: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, _) in list.match_indices(',') {
        let rest = list[i + 1..].trim_start();
        let starts_form =
            LEGAL_FORMS.iter().any(|f| rest.strip_prefix(f).is_some_and(|r| r.starts_with(' ')));
        if starts_form {
            parts.push(trim_name(&list[start..i]).to_owned());
            start = i + 1;
        }
    }
    parts.push(trim_name(&list[start..]).to_owned());
    parts.retain(|p| !p.is_empty());
    parts
}

/// `parts` if there is one per member, else nothing.
fn paired(parts: Vec<String>, n: usize) -> Option<Vec<String>> {
    (parts.len() == n).then_some(parts)
}

/// Names for a message, quoted; shortened, since a binary file read as CSV can have a huge "header".
fn quoted_list(items: &[String]) -> String {
    const MAX_ITEMS: usize = 20;
    const MAX_CHARS: usize = 40;
    if items.is_empty() {
        return "none".into();
    }
    let mut out = items
        .iter()
        .take(MAX_ITEMS)
        .map(|s| {
            let short: String = s.chars().take(MAX_CHARS).collect();
            if short.len() < s.len() { format!("{short:?}...") } else { format!("{s:?}") }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_ITEMS {
        let _ = std::fmt::Write::write_fmt(&mut out, format_args!(" and {} more", items.len() - MAX_ITEMS));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Siren;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn messages(c: &Composition) -> Vec<String> {
        c.errors.iter().map(ToString::to_string).collect()
    }

    fn codes(t: &ListedTerritory) -> Vec<String> {
        t.members.iter().map(|m| m.code.to_string()).collect()
    }

    fn names(t: &ListedTerritory) -> Vec<&str> {
        t.members.iter().map(|m| m.name.as_str()).collect()
    }

    /// The first territory of a list read with no error and holding `count` territories.
    fn first_of(c: &Composition, count: usize) -> &ListedTerritory {
        assert!(c.errors.is_empty(), "{:?}", messages(c));
        assert_eq!(c.territories.len(), count);
        &c.territories[0]
    }

    #[test]
    fn normalised_csv_with_quoted_names_and_kinds() {
        let csv = "id_ti,lib_ti,insee_reg,member_siren,member_name,member_kind,member_insee_com\n\
                   ti-2707,Nevers Val de Loire,27,215800467,Cercy-la-Tour,COM,58046\n\
                   ti-1101,\"Boucle Nord, de Seine\",11,200057990,\"EPT Boucle Nord, de Seine\",EPT,\n\
                   ti-2707,Nevers Val de Loire,27,,Decize,COM,58095\n\
                   ti-2707,Nevers Val de Loire,27,245804406,CA de Nevers,EPCI,\n";
        let c = parse_csv("m.csv", csv.as_bytes());
        assert!(c.errors.is_empty(), "{:?}", messages(&c));
        assert_eq!(c.territories.len(), 2);
        let nevers = &c.territories[0];
        assert_eq!((nevers.id.as_str(), nevers.name.as_str()), ("ti-2707", "Nevers Val de Loire"));
        assert_eq!(nevers.pos.to_string(), "m.csv:2");
        assert_eq!(codes(nevers), ["215800467", "58095", "245804406"]);
        assert!(matches!(&nevers.members[0].code, MemberCode::Siren(s) if s.looks_like_commune()));
        assert!(matches!(&nevers.members[1].code, MemberCode::Insee(_)));
        assert_eq!(nevers.members[1].pos.to_string(), "m.csv:4");
        assert_eq!(nevers.members[2].kind_hint.as_deref(), Some("EPCI"));
        let boucle = &c.territories[1];
        assert_eq!(boucle.name, "Boucle Nord, de Seine");
        assert_eq!(boucle.members[0].name, "EPT Boucle Nord, de Seine");
        assert_eq!(boucle.members[0].kind_hint.as_deref(), Some("EPT"));
    }

    #[test]
    fn anct_csv_with_semicolons_bom_and_nbsp() {
        let csv = "\u{feff}ID_Territoire ; Lib_Territoire;siren_groupement;lib_groupement;nature_juridique;autre\r\n\
                   ti-3214;Soissonnais et Valois\u{a0};240200477;CA du Soissonnais\u{a0};CA;x\r\n\
                   ti-3214;Soissonnais et Valois;200067981;\"CC Retz; en Valois\";CC;y\r\n";
        let c = parse_csv("anct.csv", csv.as_bytes());
        let t = first_of(&c, 1);
        assert_eq!(t.name, "Soissonnais et Valois");
        assert_eq!(codes(t), ["240200477", "200067981"]);
        assert_eq!(names(t), ["CA du Soissonnais", "CC Retz; en Valois"]);
        assert_eq!(t.members[1].kind_hint.as_deref(), Some("CC"));
        assert_eq!(t.members[1].pos.to_string(), "anct.csv:3");
    }

    #[test]
    fn anct_csv_with_siren_and_insee_columns() {
        let csv = "id_ti,lib_ti,SIREN,code_insee\nti-1,A,,2A004\nti-1,A,240200477,\n";
        let c = parse_csv("x.csv", csv.as_bytes());
        assert!(c.errors.is_empty(), "{:?}", messages(&c));
        assert_eq!(codes(&c.territories[0]), ["2A004", "240200477"]);
    }

    #[test]
    fn csv_errors_carry_their_lines() {
        let csv = "id_ti,lib_ti,member_siren\n\
                   ti-1,Un,240200477\n\
                   ti-1,Un,299999999\n\
                   ti-2,Deux,24020047X\n\
                   ti-2,Deux,240200477\n";
        let c = parse_csv("list.csv", csv.as_bytes());
        let msgs = messages(&c);
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert_eq!(
            msgs[0],
            "list.csv:4: malformed member code \"24020047X\" (expected a 9-digit SIREN or 5-character INSEE code)"
        );
        assert!(msgs[1].starts_with("list.csv:5: "), "{}", msgs[1]);
        assert!(msgs[1].contains("\"240200477\"") && msgs[1].contains("first at list.csv:2"), "{}", msgs[1]);
        assert!(matches!(c.errors[1], CompositionError::DuplicateMember { .. }));
        // Everything parseable is kept: the unknown-but-well-formed code too, the repeat is not.
        assert_eq!(codes(&c.territories[0]), ["240200477", "299999999"]);
        assert!(c.territories[1].members.is_empty());
    }

    #[test]
    fn csv_missing_fields_and_conflicting_names() {
        let csv = "id_ti,lib_ti,member_siren,member_insee_com\n\
                   ,Sans id,240200477,\n\
                   ti-1,,200067981,\n\
                   ti-1,Un,,\n\
                   ti-1,Autre,200041788,\n\
                   ,,,\n";
        let c = parse_csv("f.csv", csv.as_bytes());
        let msgs = messages(&c);
        assert_eq!(msgs.len(), 4, "{msgs:?}");
        assert_eq!(msgs[0], "f.csv:2: empty territory id (id_ti)");
        assert!(msgs[1].starts_with("f.csv:3: empty name"), "{}", msgs[1]);
        assert_eq!(msgs[2], "f.csv:4: empty member code (member_siren, member_insee_com)");
        assert!(msgs[3].starts_with("f.csv:5: territory \"ti-1\" named \"Autre\""), "{}", msgs[3]);
        assert!(c.errors[3].is_warning());
        // The first name given is kept, filled in from a later row when the first one had none.
        assert_eq!(c.territories[0].name, "Un");
        assert_eq!(codes(&c.territories[0]), ["200067981", "200041788"]);
    }

    #[test]
    fn csv_line_numbers_count_quoted_newlines_and_blank_lines() {
        let csv =
            "id_ti,lib_ti,member_siren\n\"ti-1\",\"Deux\nlignes\",240200477\n\nti-1,\"Deux\nlignes\",bad\n";
        let c = parse_csv("n.csv", csv.as_bytes());
        let msgs = messages(&c);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].starts_with("n.csv:5: malformed member code \"bad\""), "{}", msgs[0]);
    }

    #[test]
    fn csv_without_required_columns_names_them() {
        let c = parse_csv("w.csv", b"code,nom\n1,a\n");
        assert!(c.territories.is_empty());
        let msgs = messages(&c);
        assert_eq!(msgs.len(), 1);
        assert!(matches!(c.errors[0], CompositionError::Format { .. }));
        assert!(msgs[0].starts_with("w.csv: not a territory list: missing column id_ti"), "{}", msgs[0]);
        assert!(msgs[0].contains("found columns: \"code\", \"nom\""), "{}", msgs[0]);
        assert!(parse_csv("e.csv", b"").errors.iter().all(|e| matches!(e, CompositionError::Format { .. })));
    }

    #[test]
    fn invalid_utf8_is_a_format_error_but_reading_goes_on() {
        let c = parse_csv("l1.csv", b"\xef\xbb\xbfid_ti;lib_ti;siren\nti-1;Ch\xe2teauroux;243600327\n");
        assert!(
            matches!(&c.errors[..], [CompositionError::Format { message, .. }] if message.contains("line 2"))
        );
        assert_eq!(c.territories[0].name, "Châteauroux");
        assert_eq!(codes(&c.territories[0]), ["243600327"]);
        let g = parse_geojson("l1.geojson", b"{\"features\": [\xff]}");
        assert!(g.territories.is_empty());
        assert!(
            g.errors.iter().all(|e| matches!(e, CompositionError::Format { .. })) && !g.errors.is_empty()
        );
    }

    fn feature(props: &str) -> String {
        format!(r#"{{"type":"Feature","properties":{props},"geometry":null}}"#)
    }

    fn collection(features: &[String]) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","))
    }

    #[test]
    fn geojson_phase2_liste_geo_with_parentheses_in_names() {
        let json = collection(&[
            feature(
                r#"{"id_territoire":"ti-1109","lib_territoire":"Versailles\u00a0","liste_geo":"CA Versailles Grand Parc (CAVGP) (247800584); CC du Pays (de) Limours (249100074);"}"#,
            ),
            feature(
                r#"{"id_territoire":"ti-2707","lib_territoire":"Nevers","liste_geo":"Decize (215800954)"}"#,
            ),
        ]);
        let c = parse_geojson("g.geojson", json.as_bytes());
        let t = first_of(&c, 2);
        assert_eq!(t.name, "Versailles");
        assert_eq!(codes(t), ["247800584", "249100074"]);
        assert_eq!(names(t), ["CA Versailles Grand Parc (CAVGP)", "CC du Pays (de) Limours"]);
        assert_eq!(c.territories[1].pos.to_string(), "g.geojson (feature 1)");
    }

    #[test]
    fn geojson_errors_carry_their_feature() {
        let json = collection(&[
            feature(
                r#"{"id_territoire":"ti-1","lib_territoire":"Un","liste_geo":"A (240200477); B sans code; C (2402)"}"#,
            ),
            feature(r#"{"id_territoire":"ti-2","lib_territoire":"Deux","liste_geo":""}"#),
            feature(r#"{"id_territoire":"ti-3","lib_territoire":"Trois","liste_geo":"A bis (240200477)"}"#),
            r#"{"type":"Feature","geometry":null}"#.to_owned(),
            feature(r#"{"id_territoire":"","lib_territoire":"Vide","liste_geo":"D (200067981)"}"#),
        ]);
        let c = parse_geojson("e.geojson", json.as_bytes());
        let msgs = messages(&c);
        assert_eq!(msgs.len(), 6, "{msgs:?}");
        assert!(matches!(c.errors[0], CompositionError::BadMemberList { .. }));
        assert_eq!(
            msgs[0],
            "e.geojson (feature 0): member list entry \"B sans code\" has no parenthesised code (expected \"Name (SIREN)\")"
        );
        assert!(msgs[1].starts_with("e.geojson (feature 0): malformed member code \"2402\""), "{}", msgs[1]);
        assert_eq!(msgs[2], "e.geojson (feature 1): territory \"ti-2\" has no members");
        assert!(matches!(c.errors[2], CompositionError::EmptyTerritory { .. }));
        assert_eq!(
            msgs[3],
            "e.geojson (feature 2): member \"240200477\" listed twice (first at e.geojson (feature 0))"
        );
        assert!(msgs[4].starts_with("e.geojson (feature 3): "), "{}", msgs[4]);
        assert!(msgs[5].starts_with("e.geojson (feature 4): empty territory id"), "{}", msgs[5]);
        // Empty territories are still listed, so the caller sees every id.
        assert_eq!(c.territories.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["ti-1", "ti-2", "ti-3"]);
    }

    #[test]
    fn geojson_phase1_comma_lists() {
        let json = collection(&[
            feature(
                r#"{"id_ti":"ti-1106","lib_ti":"Montereau","lib_groupement":"CC Pays de Nemours, CC Pays de Montereau","siren_groupement":"200023240, 247700107"}"#,
            ),
            feature(
                r#"{"id_ti":"ti-3204","lib_ti":"Béthune","lib_groupement":"CA de Béthune-Bruay, Artois-Lys Romane, CA d'Hénin-Carvin","siren_groupement":"200072460, 246200299"}"#,
            ),
            feature(r#"{"id_ti":"ti-1","lib_ti":"Nombre","siren_groupement":200041788}"#),
            feature(
                r#"{"id_ti":"ti-4","lib_ti":"Quatre","lib_groupement":"A, B, C","siren_groupement":"200066280, 200071850"}"#,
            ),
        ]);
        let c = parse_geojson("p1.geojson", json.as_bytes());
        assert!(c.errors.is_empty(), "{:?}", messages(&c));
        let names = |t: &ListedTerritory| t.members.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&c.territories[0]), ["200023240", "247700107"]);
        assert_eq!(names(&c.territories[0]), ["CC Pays de Nemours", "CC Pays de Montereau"]);
        assert_eq!(codes(&c.territories[1]), ["200072460", "246200299"]);
        assert_eq!(names(&c.territories[1]), ["CA de Béthune-Bruay, Artois-Lys Romane", "CA d'Hénin-Carvin"]);
        assert_eq!(codes(&c.territories[2]), ["200041788"]);
        // Names that cannot be paired with codes are left empty rather than guessed.
        assert_eq!(names(&c.territories[3]), ["", ""]);
    }

    #[test]
    fn geojson_of_the_wrong_kind_is_a_format_error() {
        let c = parse_geojson("z.geojson", collection(&[feature(r#"{"nom":"x"}"#)]).as_bytes());
        let msgs = messages(&c);
        assert_eq!(msgs.len(), 1);
        assert!(
            msgs[0].starts_with("z.geojson: not a territory list: missing property id_territoire"),
            "{}",
            msgs[0]
        );
        assert!(msgs[0].contains("found properties: \"nom\""), "{}", msgs[0]);
        for bad in ["", "[1, 2", "42", "{\"type\":\"Topology\"}"] {
            let c = parse_geojson("z.geojson", bad.as_bytes());
            assert!(matches!(c.errors.first(), Some(CompositionError::Format { .. })), "{bad:?}: {c:?}");
        }
    }

    #[test]
    fn lists_without_territories_are_reported() {
        let header_only = parse_csv("h.csv", b"id_ti,lib_ti,member_siren\n");
        assert_eq!(messages(&header_only), ["h.csv: no territory in the file"]);
        let no_features = parse_geojson("n.geojson", br#"{"type":"FeatureCollection","features":[]}"#);
        assert_eq!(messages(&no_features), ["n.geojson: no territory in the file"]);
        let json = collection(&[feature(r#"{"id_ti":"ti-9","lib_ti":"Neuf","siren_groupement":" , "}"#)]);
        let empty = parse_geojson("p1.geojson", json.as_bytes());
        assert_eq!(messages(&empty), ["p1.geojson (feature 0): territory \"ti-9\" has no members"]);
        assert_eq!(empty.territories.len(), 1);
    }

    #[test]
    fn huge_headers_are_shortened_in_messages() {
        let header = (0..100).map(|i| format!("{}{i}", "x".repeat(100))).collect::<Vec<_>>().join(",");
        let c = parse_csv("big.csv", header.as_bytes());
        let msg = messages(&c).join("");
        assert!(msg.len() < 2000 && msg.ends_with("and 80 more"), "{msg}");
    }

    #[test]
    fn read_composition_dispatches_on_content_and_reports_io() {
        let dir = tempfile::tempdir().expect("temp dir");
        let json = dir.path().join("list.txt");
        std::fs::write(
            &json,
            collection(&[feature(r#"{"id_ti":"ti-1","lib_ti":"A","siren_groupement":"240200477"}"#)]),
        )
        .expect("write");
        assert_eq!(read_composition(&json).member_count(), 1);
        let csv = dir.path().join("list.csv");
        std::fs::write(&csv, "id_ti,lib_ti,siren\nti-1,A,240200477\n").expect("write");
        assert_eq!(read_composition(&csv).member_count(), 1);
        let missing = read_composition(&dir.path().join("absent.csv"));
        assert!(matches!(&missing.errors[..], [CompositionError::Io { .. }]));
        assert!(missing.errors[0].to_string().contains("absent.csv: cannot read file"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_csv("p.csv", &bytes);
            let _ = parse_geojson("p.geojson", &bytes);
        }

        #[test]
        fn csv_like_text_never_panics(text in "(id_ti|lib_ti|siren|[;,\"\n\r \u{a0}a-z0-9()]){0,60}") {
            let c = parse_csv("p.csv", text.as_bytes());
            let _ = c.errors.iter().map(ToString::to_string).count();
        }

        #[test]
        fn liste_geo_like_text_never_panics(list in "[A-Za-zé (); 0-9]{0,80}") {
            let json = collection(&[feature(&serde_json::json!({"id_territoire": "ti-1", "lib_territoire": "A", "liste_geo": list}).to_string())]);
            let c = parse_geojson("p.geojson", json.as_bytes());
            let _ = c.errors.iter().map(ToString::to_string).count();
        }
    }

    fn pairs(c: &Composition) -> BTreeSet<(String, String)> {
        c.territories
            .iter()
            .flat_map(|t| t.members.iter().map(|m| (t.id.to_string(), m.code.to_string())))
            .collect()
    }

    /// A committed edition, read without error.
    fn read_committed(edition: &str) -> Composition {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata/territories").join(format!("{edition}.csv"));
        let c = read_composition(&path);
        assert!(c.errors.is_empty(), "{edition}: {:?}", messages(&c));
        c
    }

    /// The shipped lists (ANCT's, through `import-list`; `.ci/run` compares them with ANCT's files) have the
    /// published counts, and read the same through the GeoJSON parser when written as ANCT's GeoJSON.
    #[test]
    fn committed_editions_have_the_published_counts() {
        for (edition, territories, members, by_kind) in
            [("2023", 183, 641, (626, 3, 12)), ("2019", 149, 588, (547, 3, 38))]
        {
            let csv = read_committed(edition);
            assert_eq!((csv.territories.len(), csv.member_count()), (territories, members), "{edition}");
            let kinds = |k: &str| {
                csv.territories
                    .iter()
                    .flat_map(|t| &t.members)
                    .filter(|m| m.kind_hint.as_deref() == Some(k))
                    .count()
            };
            assert_eq!((kinds("EPCI"), kinds("EPT"), kinds("COM")), by_kind, "{edition}");
            let features: Vec<String> = csv
                .territories
                .iter()
                .map(|t| {
                    let list: Vec<String> = t.members.iter().map(|m| format!("{} ({})", m.name, m.code)).collect();
                    feature(
                        &serde_json::json!({"id_territoire": t.id.as_str(), "lib_territoire": t.name, "liste_geo": list.join("; ")})
                            .to_string(),
                    )
                })
                .collect();
            let geo = parse_geojson("g.geojson", collection(&features).as_bytes());
            assert!(geo.errors.is_empty(), "{:?}", messages(&geo));
            assert_eq!(pairs(&csv), pairs(&geo), "{edition}");
        }
        let commune = Siren::parse("215800467").map(MemberCode::Siren).expect("valid SIREN");
        assert!(
            read_committed("2023").territories.iter().flat_map(|t| &t.members).any(|m| m.code == commune)
        );
    }
}
