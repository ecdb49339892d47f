//! Commune and postal codes as tables really hold them, resolved to current communes: former codes of
//! merged communes, communes déléguées and associées, municipal arrondissements of Paris, Lyon and
//! Marseille, codes that lost their leading zero, postal codes. The table is read from
//! `geodata/commune_codes.csv` (built by `build-geodata` from `@etalab/decoupage-administratif`); it
//! knows codes only, never geometry.

use std::collections::HashMap;
use std::path::Path;

/// How a code found in a table relates to the current commune it is resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CodeKind {
    /// A current commune code.
    Current,
    /// A municipal arrondissement (Paris 751xx, Lyon 6938x, Marseille 132xx) of the commune.
    Arrondissement,
    /// A commune déléguée of the commune (a merged commune kept as a district).
    Deleguee,
    /// A commune associée of the commune.
    Associee,
    /// The former code of a commune merged into it (`anciensCodes`).
    Former,
}

impl CodeKind {
    /// The name used in `geodata/commune_codes.csv` and in answers.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Arrondissement => "arrondissement",
            Self::Deleguee => "deleguee",
            Self::Associee => "associee",
            Self::Former => "former",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Current, Self::Arrondissement, Self::Deleguee, Self::Associee, Self::Former]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A commune code resolved: the current commune's INSEE code and how the given code relates to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCommune {
    /// INSEE code of the current commune.
    pub insee: String,
    /// How the code given relates to it.
    pub kind: CodeKind,
    /// Whether a leading zero had to be put back (`1053` read as `01053`).
    pub zero_restored: bool,
}

/// The code table could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodeTableError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A malformed row.
    #[error("{file}:{line}: {message}")]
    Row {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Commune aliases and postal codes, by code.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CodeTable {
    /// Alias code → current commune, the most specific relation kept (see [`CodeTable::read`]).
    #[serde(with = "crate::model::sorted_map")]
    aliases: HashMap<String, (String, CodeKind)>,
    /// Postal code → the current communes it serves, sorted.
    #[serde(with = "crate::model::sorted_map")]
    postal: HashMap<String, Vec<String>>,
}

/// The header of `geodata/commune_codes.csv`.
pub const CODE_TABLE_HEADER: [&str; 3] = ["code", "kind", "commune"];

impl CodeTable {
    /// Reads `code,kind,commune` rows; `kind` is `arrondissement`, `deleguee`, `associee`, `former` or
    /// `postal`. A code listed with two kinds keeps the one that says where it is today (arrondissement,
    /// then déléguée, associée, then former code: a commune associée now, merged elsewhere long ago, lies
    /// in the commune it is associated with).
    ///
    /// # Errors
    /// An unreadable file, a wrong header, a row with an unknown kind or a malformed code.
    pub fn read(path: &Path) -> Result<Self, CodeTableError> {
        let file = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|source| CodeTableError::Io { file: file.clone(), source })?;
        Self::parse(&file, &bytes)
    }

    /// [`CodeTable::read`] from bytes; `file` names them in messages.
    ///
    /// # Errors
    /// As [`CodeTable::read`].
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, CodeTableError> {
        let row_error =
            |line: u64, message: String| CodeTableError::Row { file: file.to_owned(), line, message };
        let mut reader = checked_reader(bytes, &CODE_TABLE_HEADER).map_err(|m| row_error(1, m))?;
        let mut table = Self::default();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let record = record.map_err(|e| row_error(line, e.to_string()))?;
            let (code, kind, commune) = (&record[0], &record[1], &record[2]);
            if !is_code(code) || !is_code(commune) {
                return Err(row_error(line, format!("malformed code {code:?} or commune {commune:?}")));
            }
            if kind == "postal" {
                table.postal.entry(code.to_owned()).or_default().push(commune.to_owned());
                continue;
            }
            let kind = CodeKind::parse(kind)
                .filter(|k| *k != CodeKind::Current)
                .ok_or_else(|| row_error(line, format!("unknown kind {kind:?}")))?;
            let entry = table.aliases.entry(code.to_owned()).or_insert_with(|| (commune.to_owned(), kind));
            if kind < entry.1 {
                *entry = (commune.to_owned(), kind);
            }
        }
        for communes in table.postal.values_mut() {
            communes.sort();
            communes.dedup();
        }
        Ok(table)
    }

    /// Number of alias codes and of postal codes.
    #[must_use]
    pub fn len(&self) -> (usize, usize) {
        (self.aliases.len(), self.postal.len())
    }

    /// Whether the table is empty (no `commune_codes.csv` was loaded).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty() && self.postal.is_empty()
    }

    /// The current commune of a code as a table holds it; `is_current` says whether a code is a loaded
    /// current commune. Spaces are trimmed, a spreadsheet's `.0` dropped, a lost leading zero put back.
    ///
    /// ```
    /// use territoires::codes::{CodeKind, CodeTable};
    /// let table = CodeTable::parse("t", b"code,kind,commune\n01340,former,01015\n75101,arrondissement,75056\n").unwrap();
    /// let current = |c: &str| c == "01015" || c == "75056";
    /// assert_eq!(table.commune("1340", current).map(|r| (r.insee, r.kind, r.zero_restored)), Some(("01015".into(), CodeKind::Former, true)));
    /// assert_eq!(table.commune("75101", current).map(|r| r.insee), Some("75056".into()));
    /// assert_eq!(table.commune("2A004", |c| c == "2A004").map(|r| r.kind), Some(CodeKind::Current));
    /// assert_eq!(table.commune("99999", current), None);
    /// ```
    #[must_use]
    pub fn commune(&self, raw: &str, is_current: impl Fn(&str) -> bool) -> Option<ResolvedCommune> {
        let (code, zero_restored) = normalise_code(raw)?;
        if is_current(&code) {
            return Some(ResolvedCommune { insee: code, kind: CodeKind::Current, zero_restored });
        }
        let (insee, kind) = self.aliases.get(&code)?;
        Some(ResolvedCommune { insee: insee.clone(), kind: *kind, zero_restored })
    }

    /// The current communes a postal code serves (sorted; empty when unknown), after the same repairs as
    /// [`CodeTable::commune`].
    #[must_use]
    pub fn postal_communes(&self, raw: &str) -> &[String] {
        normalise_code(raw).and_then(|(code, _)| self.postal.get(&code)).map_or(&[], Vec::as_slice)
    }
}

/// The administrative seat a commune is: what the map's place names rank first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Seat {
    /// The chef-lieu of a region (also its département's prefecture, but ranked above).
    Region,
    /// The prefecture of a département.
    Departement,
}

/// The header of `geodata/chefs_lieux.csv`.
pub const SEATS_HEADER: [&str; 4] = ["level", "code", "name", "commune"];

/// The file name of the seat table in a geodata directory.
pub const SEATS_FILE: &str = "chefs_lieux.csv";

/// Regional and departmental chefs-lieux, by commune INSEE code.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Seats {
    #[serde(with = "crate::model::sorted_map")]
    by_commune: HashMap<String, Seat>,
}

impl Seats {
    /// Reads `level,code,name,commune` rows (`level` is `region` or `departement`).
    ///
    /// ```
    /// use territoires::codes::{Seat, Seats};
    /// let s = Seats::parse("t", "level,code,name,commune\ndepartement,69,Rhône,69123\nregion,84,\"Auvergne-Rhône-Alpes\",69123\ndepartement,02,Aisne,02408\n".as_bytes()).unwrap();
    /// assert_eq!(s.of("69123"), Some(Seat::Region));
    /// assert_eq!(s.of("02408"), Some(Seat::Departement));
    /// assert_eq!(s.of("02722"), None);
    /// ```
    ///
    /// # Errors
    /// A wrong header, an unknown level or a malformed commune code, naming the file and line.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, CodeTableError> {
        let row_error =
            |line: u64, message: String| CodeTableError::Row { file: file.to_owned(), line, message };
        let mut reader = checked_reader(bytes, &SEATS_HEADER).map_err(|m| row_error(1, m))?;
        let mut by_commune: HashMap<String, Seat> = HashMap::new();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let record = record.map_err(|e| row_error(line, e.to_string()))?;
            let seat = match &record[0] {
                "region" => Seat::Region,
                "departement" => Seat::Departement,
                other => return Err(row_error(line, format!("unknown level {other:?}"))),
            };
            let commune = &record[3];
            if !is_code(commune) {
                return Err(row_error(line, format!("malformed commune code {commune:?}")));
            }
            let entry = by_commune.entry(commune.to_owned()).or_insert(seat);
            *entry = (*entry).min(seat);
        }
        Ok(Self { by_commune })
    }

    /// [`Seats::parse`] of a file.
    ///
    /// # Errors
    /// An unreadable file, or as [`Seats::parse`].
    pub fn read(path: &Path) -> Result<Self, CodeTableError> {
        let file = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|source| CodeTableError::Io { file: file.clone(), source })?;
        Self::parse(&file, &bytes)
    }

    /// The seat a commune is, if any.
    #[must_use]
    pub fn of(&self, insee: &str) -> Option<Seat> {
        self.by_commune.get(insee).copied()
    }

    /// Number of communes that are a seat.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_commune.len()
    }

    /// Whether no seat was loaded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_commune.is_empty()
    }
}

/// A CSV reader over `bytes` (BOM dropped) whose header has been checked to be `header`.
fn checked_reader<'a>(bytes: &'a [u8], header: &[&str]) -> Result<csv::Reader<&'a [u8]>, String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(crate::tabular::strip_bom(bytes));
    let found = reader.headers().map_err(|e| e.to_string())?;
    if found.iter().collect::<Vec<_>>() != header {
        return Err(format!("expected the header {}", header.join(",")));
    }
    Ok(reader)
}

/// A 5-character commune or postal code (digits, or Corsica's `2A`/`2B`).
fn is_code(s: &str) -> bool {
    s.len() == 5
        && s.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 1 && matches!(b, b'A' | b'B')))
}

/// A code as written in a table, made a 5-character code: trimmed, upper-cased (`2a004`), a trailing
/// `.0` dropped (spreadsheets store codes as numbers), a lost leading zero put back. `None` when no
/// code can be read.
fn normalise_code(raw: &str) -> Option<(String, bool)> {
    let s = crate::model::trim_name(raw);
    let s = s.strip_suffix(".0").unwrap_or(s).to_ascii_uppercase();
    match s.len() {
        5 if is_code(&s) => Some((s, false)),
        4 => {
            let padded = format!("0{s}");
            is_code(&padded).then_some((padded, true))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relation_that_says_where_a_code_is_today_wins() {
        // 55273 is a former code of 55245 and, today, a commune associée of 55386 (COG 2024).
        let t = CodeTable::parse("t", b"code,kind,commune\n55273,former,55245\n55273,associee,55386\n")
            .expect("table");
        let r = t.commune("55273", |_| false).expect("resolved");
        assert_eq!((r.insee.as_str(), r.kind), ("55386", CodeKind::Associee));
    }

    #[test]
    fn codes_are_repaired_as_spreadsheets_damage_them() {
        assert_eq!(normalise_code(" 2a004 "), Some(("2A004".into(), false)));
        assert_eq!(normalise_code("1053.0"), Some(("01053".into(), true)));
        assert_eq!(normalise_code("123"), None);
        assert_eq!(normalise_code("abcd"), None);
        assert_eq!(normalise_code(""), None);
    }

    #[test]
    fn postal_codes_list_their_communes_sorted_and_bad_rows_name_their_line() {
        let t = CodeTable::parse("t", b"code,kind,commune\n01300,postal,01015\n01300,postal,01002\n")
            .expect("table");
        assert_eq!(t.postal_communes("1300"), ["01002", "01015"]);
        assert!(t.postal_communes("99999").is_empty());
        let bad = CodeTable::parse("t.csv", b"code,kind,commune\n01300,nope,01015\n").expect_err("kind");
        assert_eq!(bad.to_string(), "t.csv:2: unknown kind \"nope\"");
    }
}
