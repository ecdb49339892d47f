//! Territory composition lists as ANCT publishes them (CSV one row per member, GeoJSON with `liste_geo`
//! or `siren_groupement`), parsed into listed territories with every syntax problem located.
//!
//! It checks syntax only (codes, duplicates, empty territories); whether a code names a loaded unit is
//! the Atlas's job.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::model::{
    InseeCode, ListedMember, ListedTerritory, MemberCode, Place, Siren, SourcePos, TerritoryId, trim_name,
};

/// What a list file gave: the territories read (possibly partial) and every problem found.
#[derive(Debug, Default)]
pub struct Composition {
    /// Territories in file order, members in list order (bad members left out).
    pub territories: Vec<ListedTerritory>,
    /// Every problem, in file order.
    pub errors: Vec<CompositionError>,
}

/// A problem in a list, located by file and line (CSV, header = line 1) or feature (GeoJSON, from 0).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompositionError {
    /// The file could not be read.
    #[error("{file}: cannot read: {message}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// The file is not a list we know (not CSV or GeoJSON, required column missing...).
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A required value is empty.
    #[error("{pos}: empty {field}")]
    MissingField {
        /// Where.
        pos: SourcePos,
        /// The column or property.
        field: &'static str,
    },
    /// A member code that is neither a SIREN nor an INSEE code.
    #[error("{pos}: malformed member code {code:?} (expected a 9-digit SIREN or a 5-character INSEE code)")]
    BadCode {
        /// Where.
        pos: SourcePos,
        /// The value.
        code: String,
    },
    /// A `liste_geo` entry without `(code)`.
    #[error("{pos}: member {entry:?} has no code in parentheses")]
    BadMemberList {
        /// Where.
        pos: SourcePos,
        /// The entry.
        entry: String,
    },
    /// The same code listed twice in the file.
    #[error("{pos}: member {code} listed twice (first at {first})")]
    DuplicateMember {
        /// Where, the second time.
        pos: SourcePos,
        /// The code.
        code: MemberCode,
        /// Where, the first time.
        first: SourcePos,
    },
    /// One territory id with two names.
    #[error("{pos}: territory {id} is named {name:?} here but {first_name:?} before")]
    ConflictingName {
        /// Where.
        pos: SourcePos,
        /// The id.
        id: TerritoryId,
        /// This name.
        name: String,
        /// The first name.
        first_name: String,
    },
    /// A territory with no member.
    #[error("{pos}: territory {id} has no member")]
    EmptyTerritory {
        /// Where.
        pos: SourcePos,
        /// The id.
        id: TerritoryId,
    },
}

/// Reads a list: GeoJSON when it starts with `{`, CSV otherwise.
#[must_use]
pub fn read_composition(path: &Path) -> Composition {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => parse(&name, &bytes),
        Err(e) => Composition {
            errors: vec![CompositionError::Io { file: name, message: e.to_string() }],
            ..Composition::default()
        },
    }
}

/// Parses a list held in memory (GeoJSON when it starts with `{`, CSV otherwise).
#[must_use]
pub fn parse(name: &str, bytes: &[u8]) -> Composition {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        parse_geojson(name, body)
    } else {
        parse_csv(name, body)
    }
}

/// Collects members into territories, checking duplicates and names as it goes.
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

    fn error(&mut self, e: CompositionError) {
        self.out.errors.push(e);
    }

    /// The territory `id` (created on first sight), checking its name.
    fn territory(&mut self, id: &str, name: &str, pos: &SourcePos) -> Option<usize> {
        let Some(id) = TerritoryId::parse(id) else {
            self.error(CompositionError::MissingField { pos: pos.clone(), field: "territory id" });
            return None;
        };
        let name = trim_name(name).to_owned();
        if name.is_empty() {
            self.error(CompositionError::MissingField { pos: pos.clone(), field: "territory name" });
        }
        if let Some(&t) = self.by_id.get(&id) {
            let first_name = &self.out.territories[t].name;
            if *first_name != name && !name.is_empty() {
                let first_name = first_name.clone();
                self.error(CompositionError::ConflictingName { pos: pos.clone(), id, name, first_name });
            }
            return Some(t);
        }
        self.by_id.insert(id.clone(), self.out.territories.len());
        self.out.territories.push(ListedTerritory { id, name, members: Vec::new(), pos: pos.clone() });
        Some(self.out.territories.len() - 1)
    }

    /// Adds a member given by SIREN or INSEE code.
    fn member(&mut self, t: usize, code: &str, name: &str, kind: Option<&str>, pos: SourcePos) {
        let code = trim_name(code);
        let parsed = Siren::parse(code)
            .map(MemberCode::Siren)
            .or_else(|| InseeCode::parse(code).map(MemberCode::Insee));
        let Some(code) = parsed else {
            self.error(CompositionError::BadCode { pos, code: code.to_owned() });
            return;
        };
        if let Some(first) = self.seen.get(&code) {
            let first = first.clone();
            self.error(CompositionError::DuplicateMember { pos, code, first });
            return;
        }
        self.seen.insert(code.clone(), pos.clone());
        let kind_hint = kind.map(trim_name).filter(|k| !k.is_empty()).map(str::to_owned);
        let member = ListedMember { code, name: trim_name(name).to_owned(), kind_hint, pos };
        self.out.territories[t].members.push(member);
    }

    fn finish(mut self) -> Composition {
        let empty: Vec<_> = self
            .out
            .territories
            .iter()
            .filter(|t| t.members.is_empty())
            .map(|t| (t.pos.clone(), t.id.clone()))
            .collect();
        for (pos, id) in empty {
            // A territory whose members were all refused is reported by them already.
            if !self.out.errors.iter().any(|e| error_pos(e).is_some_and(|p| p == &pos)) {
                self.out.errors.push(CompositionError::EmptyTerritory { pos, id });
            }
        }
        self.out
    }
}

fn error_pos(e: &CompositionError) -> Option<&SourcePos> {
    match e {
        CompositionError::MissingField { pos, .. }
        | CompositionError::BadCode { pos, .. }
        | CompositionError::BadMemberList { pos, .. }
        | CompositionError::DuplicateMember { pos, .. }
        | CompositionError::ConflictingName { pos, .. }
        | CompositionError::EmptyTerritory { pos, .. } => Some(pos),
        CompositionError::Io { .. } | CompositionError::Format { .. } => None,
    }
}

/// Column aliases, lower case, in order of preference.
const ID: &[&str] = &["id_ti", "id_territoire", "code_ti"];
const NAME: &[&str] = &["lib_ti", "lib_territoire", "nom_ti"];
const SIREN: &[&str] = &["member_siren", "siren", "siren_groupement", "siren_membre"];
const MEMBER_NAME: &[&str] = &["member_name", "lib_groupement", "nom_membre", "lib_membre"];
const KIND: &[&str] = &["member_kind", "nature_juridique", "nature"];
const INSEE: &[&str] = &["member_insee_com", "insee_com", "code_insee"];

/// Parses a CSV list (`,` or `;`, BOM or not): the normalised shape or ANCT's one-row-per-member shape.
#[must_use]
pub fn parse_csv(name: &str, bytes: &[u8]) -> Composition {
    let mut b = Builder::new(name);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|&c| c == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.iter().filter(|&&c| c == b';').count()
        > first_line.iter().filter(|&&c| c == b',').count()
    {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| trim_name(h).to_lowercase()).collect(),
        Err(e) => {
            b.error(CompositionError::Format {
                file: name.to_owned(),
                message: format!("not a CSV list: {e}"),
            });
            return b.out;
        }
    };
    let col = |aliases: &[&str]| aliases.iter().find_map(|a| headers.iter().position(|h| h == a));
    let (Some(c_id), Some(c_name)) = (col(ID), col(NAME)) else {
        b.error(CompositionError::Format {
            file: name.to_owned(),
            message: format!(
                "expected columns id_ti and lib_ti (or id_territoire, lib_territoire), found {}",
                headers.join(", ")
            ),
        });
        return b.out;
    };
    let (c_siren, c_insee) = (col(SIREN), col(INSEE));
    if c_siren.is_none() && c_insee.is_none() {
        b.error(CompositionError::Format {
            file: name.to_owned(),
            message: format!(
                "expected a member code column (member_siren, siren or siren_groupement; or member_insee_com), found {}",
                headers.join(", ")
            ),
        });
        return b.out;
    }
    let (c_member, c_kind) = (col(MEMBER_NAME), col(KIND));
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                b.error(CompositionError::Format { file: format!("{name}:{line}"), message: e.to_string() });
                break;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        let pos = b.pos(Place::Line(line));
        let Ok(row) = csv::StringRecord::from_byte_record(record.clone()) else {
            b.error(CompositionError::Format { file: format!("{name}:{line}"), message: "not UTF-8".into() });
            continue;
        };
        let get = |c: Option<usize>| c.and_then(|c| row.get(c)).map(trim_name).unwrap_or_default();
        if row.iter().all(|f| trim_name(f).is_empty()) {
            continue;
        }
        let Some(t) = b.territory(get(Some(c_id)), get(Some(c_name)), &pos) else { continue };
        // Communes may be given by SIREN or, in the normalised shape, by INSEE code only.
        let code = if get(c_siren).is_empty() { get(c_insee) } else { get(c_siren) };
        if code.is_empty() {
            b.error(CompositionError::MissingField { pos, field: "member code" });
            continue;
        }
        b.member(t, code, get(c_member), Some(get(c_kind)), pos);
    }
    b.finish()
}

/// Parses an ANCT GeoJSON list: `liste_geo` = `Name (SIREN); ...` (phase II) or `siren_groupement` /
/// `lib_groupement` comma lists (phase I). Geometry is ignored: outlines are rebuilt from members.
#[must_use]
pub fn parse_geojson(name: &str, bytes: &[u8]) -> Composition {
    let mut b = Builder::new(name);
    let format = |message: String| CompositionError::Format { file: name.to_owned(), message };
    let json: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            b.error(format(format!("not JSON: {e}")));
            return b.out;
        }
    };
    let Some(features) = json.get("features").and_then(Value::as_array) else {
        b.error(format("expected a GeoJSON FeatureCollection with \"features\"".into()));
        return b.out;
    };
    for (i, feature) in features.iter().enumerate() {
        let pos = b.pos(Place::Feature(i));
        let props = feature.get("properties").and_then(Value::as_object);
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| props.and_then(|p| p.get(*k)))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        let Some(t) = b.territory(&text(ID), &text(NAME), &pos) else { continue };
        let liste = text(&["liste_geo"]);
        if !liste.trim().is_empty() {
            for entry in liste.split(';').map(trim_name).filter(|e| !e.is_empty()) {
                // Names may hold parentheses themselves: the code is the last parenthesised group.
                let code = entry.rfind('(').and_then(|open| {
                    let close = entry[open..].find(')')? + open;
                    Some((entry[open + 1..close].trim(), entry[..open].trim()))
                });
                match code {
                    Some((code, member)) => b.member(t, code, member, None, pos.clone()),
                    None => {
                        b.error(CompositionError::BadMemberList { pos: pos.clone(), entry: entry.to_owned() })
                    }
                }
            }
            continue;
        }
        let sirens = text(&["siren_groupement", "siren"]);
        let codes: Vec<&str> = sirens.split(',').map(trim_name).filter(|c| !c.is_empty()).collect();
        let names_text = text(&["lib_groupement"]);
        let names: Vec<&str> = names_text.split(',').map(trim_name).collect();
        // Names contain commas too, so they are paired with codes only when the counts agree.
        let paired = names.len() == codes.len();
        for (k, code) in codes.iter().enumerate() {
            b.member(t, code, if paired { names[k] } else { "" }, None, pos.clone());
        }
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn shared(rel: &str) -> Option<std::path::PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
        if p.exists() {
            Some(p)
        } else {
            eprintln!("SKIPPED: {} absent", p.display());
            None
        }
    }

    fn messages(c: &Composition) -> String {
        c.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn anct_csv_with_semicolons_bom_and_nbsp() {
        let csv = "\u{feff}id_ti;lib_ti;siren;lib_groupement;nature_juridique\n\
                   ti-3214;Soissonnais et Valois\u{a0};240200477;CA GrandSoissons Agglomération;CA\n\
                   ti-3214;Soissonnais et Valois;200071991;\"CC Retz; en Valois\";CC\n";
        let c = parse("l.csv", csv.as_bytes());
        assert!(c.errors.is_empty(), "{}", messages(&c));
        assert_eq!(c.territories.len(), 1);
        let t = &c.territories[0];
        assert_eq!(
            (t.id.as_str(), t.name.as_str(), t.members.len()),
            ("ti-3214", "Soissonnais et Valois", 2)
        );
        assert_eq!(t.members[1].name, "CC Retz; en Valois");
        assert_eq!(t.members[0].kind_hint.as_deref(), Some("CA"));
    }

    #[test]
    fn csv_errors_have_lines() {
        let csv = "id_ti,lib_ti,member_siren\n\
                   ti-1,A,240200477\n\
                   ti-1,A,999999999\n\
                   ti-2,B,24020047X\n\
                   ti-2,B,240200477\n\
                   ti-3,C,\n";
        let c = parse_csv("l.csv", csv.as_bytes());
        let m = messages(&c);
        assert!(m.contains("l.csv:4: malformed member code \"24020047X\""), "{m}");
        assert!(m.contains("l.csv:5: member 240200477 listed twice (first at l.csv:2)"), "{m}");
        assert!(m.contains("l.csv:6: empty member code"), "{m}");
        assert!(!m.contains("l.csv:3"), "syntax is fine on line 3: {m}");
        assert_eq!(c.territories[0].members.len(), 2);
    }

    #[test]
    fn missing_columns_are_named() {
        let c = parse_csv("l.csv", b"a,b\n1,2\n");
        assert!(messages(&c).contains("expected columns id_ti and lib_ti"), "{}", messages(&c));
        let c = parse_csv("l.csv", b"id_ti,lib_ti\nti-1,A\n");
        assert!(messages(&c).contains("member code column"), "{}", messages(&c));
    }

    #[test]
    fn liste_geo_takes_the_last_parenthesised_code() {
        let json = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id_territoire":"ti-1","lib_territoire":"A\u00a0","liste_geo":"CC du Pays (Nord) (245900758); CA X (200069037)"},"geometry":null},
          {"type":"Feature","properties":{"id_territoire":"ti-2","lib_territoire":"B","liste_geo":""},"geometry":null},
          {"type":"Feature","properties":{"id_territoire":"ti-3","lib_territoire":"C","liste_geo":"Sans code"},"geometry":null}]}"#;
        let c = parse_geojson("t.geojson", json.as_bytes());
        let t = &c.territories[0];
        assert_eq!((t.name.as_str(), t.members[0].name.as_str()), ("A", "CC du Pays (Nord)"));
        assert_eq!(t.members[0].code.to_string(), "245900758");
        let m = messages(&c);
        assert!(m.contains("t.geojson (feature 1): territory ti-2 has no member"), "{m}");
        assert!(m.contains("t.geojson (feature 2): member \"Sans code\" has no code"), "{m}");
    }

    #[test]
    fn not_json_and_not_utf8_are_format_errors() {
        assert!(!parse("x", b"{ nope").errors.is_empty());
        assert!(!parse("x", b"id_ti,lib_ti,siren\n\xff\xfe,\xff,240200477\n").errors.is_empty());
    }

    #[test]
    fn phase2_both_files_agree() {
        let (Some(csv), Some(geojson)) =
            (shared("anct-ti-phase2-2024-07/members.csv"), shared("anct-ti-phase2-2024-07/ti_geom.geojson"))
        else {
            return;
        };
        let (a, b) = (read_composition(&csv), read_composition(&geojson));
        assert!(a.errors.is_empty() && b.errors.is_empty(), "{}{}", messages(&a), messages(&b));
        let set = |c: &Composition| -> BTreeSet<(String, String)> {
            c.territories
                .iter()
                .flat_map(|t| t.members.iter().map(|m| (t.id.to_string(), m.code.to_string())))
                .collect()
        };
        assert_eq!((a.territories.len(), set(&a).len()), (183, 641));
        assert_eq!(set(&a), set(&b));
        let kinds = |k: &str| {
            a.territories
                .iter()
                .flat_map(|t| &t.members)
                .filter(|m| m.kind_hint.as_deref() == Some(k))
                .count()
        };
        assert_eq!((kinds("EPCI"), kinds("EPT"), kinds("COM")), (626, 3, 12));
    }

    #[test]
    fn phase1_both_files_agree() {
        let (Some(csv), Some(geojson)) = (
            shared("anct-ti-phase1-2022/members.csv"),
            shared("anct-ti-phase1-2022/polygone-4326_ti.geojson"),
        ) else {
            return;
        };
        let (a, b) = (read_composition(&csv), read_composition(&geojson));
        assert!(a.errors.is_empty(), "{}", messages(&a));
        assert_eq!(a.territories.len(), 149);
        assert_eq!(a.territories.iter().map(|t| t.members.len()).sum::<usize>(), 588);
        assert_eq!(b.territories.len(), 149, "{}", messages(&b));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_csv("x.csv", &bytes);
            let _ = parse_geojson("x.geojson", &bytes);
            let _ = parse("x", &bytes);
        }

        #[test]
        fn arbitrary_csv_rows_never_panic(rows in proptest::collection::vec("[a-z0-9;,\"() \u{a0}-]{0,40}", 0..20)) {
            let text = format!("id_ti;lib_ti;siren\n{}", rows.join("\n"));
            let c = parse_csv("x.csv", text.as_bytes());
            prop_assert!(c.territories.iter().all(|t| !t.id.as_str().is_empty()));
        }
    }
}
