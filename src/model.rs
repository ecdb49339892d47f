//! Plain domain types: units (EPCI, EPT, commune), territories, editions, and the codes that name them.
//!
//! Nothing here reads files or does geometry; codes are newtypes so a SIREN is never mixed up with an
//! INSEE code or a territory id.

use std::fmt;

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

/// Every problem a step found, in the order found: steps that read many records report them all at once.
#[derive(Debug)]
pub struct ErrorList<E>(pub Vec<E>);

impl<E: fmt::Display> fmt::Display for ErrorList<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} error(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ErrorList<E> {}

/// A code newtype: a `String` checked by the type's own `parse`, shown and serialised as written, and
/// parsed with [`std::str::FromStr`] into an [`InvalidCode`] error naming what was expected.
macro_rules! code_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The code as written (normalised by `parse`).
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Read back (from a snapshot) through `parse`, so a code is never made unchecked.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(InvalidCode { expected: $what, given: text.clone() })
                })
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidCode;

            fn from_str(s: &str) -> Result<Self, InvalidCode> {
                Self::parse(s).ok_or_else(|| InvalidCode { expected: $what, given: s.to_owned() })
            }
        }
    };
}

/// A position newtype: the place of a record in one of the Atlas's tables, so a unit's position is never
/// used where a territory's or an edition's is meant. Positions are made only by the Atlas (or the
/// readers building its tables) and are valid for the Atlas that made them.
macro_rules! position_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(u32);

        impl $name {
            /// The position at `i`; tables hold far fewer than 2³² records.
            #[must_use]
            pub(crate) fn new(i: usize) -> Self {
                debug_assert!(u32::try_from(i).is_ok(), "position {i} does not fit in u32");
                Self(i as u32)
            }

            /// The position as a slice index.
            #[must_use]
            pub fn get(self) -> usize {
                self.0 as usize
            }

            /// Every position of a table of `len` records, in order.
            pub(crate) fn all(len: usize) -> impl Iterator<Item = Self> {
                (0..len).map(Self::new)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

position_newtype!(
    /// A unit's position in `Atlas::units`.
    UnitIx
);
position_newtype!(
    /// A territory's position in its edition's list.
    TerritoryIx
);
position_newtype!(
    /// An edition's position in `Atlas::editions`.
    EditionIx
);

/// A text that is not a valid code of its kind.
///
/// ```
/// use territoires::model::Siren;
/// let err = "2402".parse::<Siren>().unwrap_err();
/// assert_eq!(err.to_string(), "\"2402\" is not a SIREN (9 digits)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a {expected}")]
#[non_exhaustive]
pub struct InvalidCode {
    /// What the code should have been.
    pub expected: &'static str,
    /// The text given.
    pub given: String,
}

code_newtype!(
    /// A 9-digit SIREN (the national business register number EPCI, EPT and communes all have).
    ///
    /// ```
    /// use territoires::model::Siren;
    /// assert!(Siren::parse("240200477").is_some());
    /// assert!(Siren::parse("24020047").is_none());
    /// ```
    Siren,
    "SIREN (9 digits)"
);

impl Siren {
    /// Accepts exactly nine ASCII digits (after trimming spaces).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        (s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())).then(|| Self(s.to_owned()))
    }

    /// Commune SIRENs start with `21` (public-law municipal bodies); EPCI and EPT start with `2`, mostly `20`/`24`.
    #[must_use]
    pub fn looks_like_commune(&self) -> bool {
        self.0.starts_with("21")
    }
}

code_newtype!(
    /// A 5-character INSEE commune code (`02722`, `2A004`, `97105`).
    ///
    /// ```
    /// use territoires::model::InseeCode;
    /// assert!(InseeCode::parse("2A004").is_some());
    /// assert!(InseeCode::parse("2722").is_none());
    /// ```
    InseeCode,
    "INSEE commune code (5 characters: digits, or 2A/2B then digits)"
);

impl InseeCode {
    /// Five characters: digits, except Corsica's `2A`/`2B` prefix.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let b = s.as_bytes();
        let ok = b.len() == 5
            && b[0].is_ascii_digit()
            && (b[1].is_ascii_digit() || (b[0] == b'2' && matches!(b[1], b'A' | b'B' | b'a' | b'b')))
            && b[2..].iter().all(u8::is_ascii_digit);
        ok.then(|| Self(s.to_ascii_uppercase()))
    }
}

code_newtype!(
    /// A territory id as the list gives it (ANCT's `ti-RRNN`, or any non-empty code for other lists).
    TerritoryId,
    "territory id (non-empty, no control characters)"
);

impl TerritoryId {
    /// Any non-empty trimmed code without control characters.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = trim_name(s);
        (!s.is_empty() && !s.chars().any(char::is_control)).then(|| Self(s.to_owned()))
    }

    /// The INSEE region code of an ANCT id `ti-RRNN` (`ti-3214` → `32`).
    #[must_use]
    pub fn region_code(&self) -> Option<&str> {
        let rest = self.0.strip_prefix("ti-")?;
        (rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit())).then(|| &rest[..2])
    }
}

code_newtype!(
    /// An edition id (`2023`, `2019`, `sample`): letters, digits, `-`, `_`.
    EditionId,
    "edition id (1-32 letters, digits, '-' or '_')"
);

impl EditionId {
    /// 1 to 32 ASCII letters, digits, `-` or `_`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        (!s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(s.to_owned()))
    }
}

/// Trims spaces, including the non-breaking spaces some ANCT names end with.
#[must_use]
pub fn trim_name(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}')
}

/// What a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum UnitKind {
    /// Intercommunality (CC, CA, CU, metropolis), identified by SIREN.
    Epci,
    /// Établissement public territorial of the Métropole du Grand Paris, identified by SIREN.
    Ept,
    /// A single commune, identified by INSEE code (and SIREN).
    #[serde(rename = "COM")]
    Commune,
}

impl UnitKind {
    /// The short label used in files and answers: `EPCI`, `EPT`, `COM`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Epci => "EPCI",
            Self::Ept => "EPT",
            Self::Commune => "COM",
        }
    }

    /// Parses `EPCI`, `EPT`, `COM` (case-insensitive; `COMMUNE` too).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "EPCI" => Some(Self::Epci),
            "EPT" => Some(Self::Ept),
            "COM" | "COMMUNE" => Some(Self::Commune),
            _ => None,
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An administrative unit with its boundary in WGS84 (lon, lat).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unit {
    /// EPCI, EPT or commune.
    pub kind: UnitKind,
    /// SIREN (always for EPCI/EPT; for communes when the source has it).
    pub siren: Option<Siren>,
    /// INSEE code (communes only).
    pub insee: Option<InseeCode>,
    /// Official name.
    pub name: String,
    /// Legal form as the source gives it (`CC`, `CA`, `CU`, `METRO`, `MET69`, `EPT`, `COM`).
    pub legal_form: String,
    /// For a commune: the SIREN of its EPCI, and of its EPT when in the Grand Paris.
    pub parents: Vec<Siren>,
    /// Number of communes (EPCI/EPT) as the source gives it.
    pub commune_count: Option<u32>,
    /// Population as the source gives it.
    pub population: Option<u64>,
    /// Boundary in WGS84 lon/lat.
    pub geometry: std::sync::Arc<MultiPolygon<f64>>,
}

impl Unit {
    /// The code that names this unit in answers: SIREN for EPCI/EPT, INSEE code for communes.
    #[must_use]
    pub fn code(&self) -> &str {
        match (self.kind, &self.insee, &self.siren) {
            (UnitKind::Commune, Some(insee), _) | (_, Some(insee), None) => insee.as_str(),
            (_, _, Some(siren)) => siren.as_str(),
            (_, None, None) => "",
        }
    }
}

/// How a territory list names one member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MemberCode {
    /// By SIREN (EPCI, EPT or commune).
    Siren(Siren),
    /// By INSEE commune code.
    Insee(InseeCode),
}

impl fmt::Display for MemberCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Siren(s) => s.fmt(f),
            Self::Insee(c) => c.fmt(f),
        }
    }
}

/// Where a record came from, for error messages: file and line (CSV) or feature index (GeoJSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    /// The file as given.
    pub file: String,
    /// 1-based line for CSV, or `feature N` (0-based) for GeoJSON.
    pub place: Place,
}

/// A line in a text file or a feature in a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// 1-based line number.
    Line(u64),
    /// 0-based feature index.
    Feature(usize),
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Place::Line(n) => write!(f, "{}:{n}", self.file),
            Place::Feature(i) => write!(f, "{} (feature {i})", self.file),
        }
    }
}

/// One member of a territory as a list gives it, before it is matched to a unit.
#[derive(Debug, Clone)]
pub struct ListedMember {
    /// The code given.
    pub code: MemberCode,
    /// The name given (trimmed), possibly empty.
    pub name: String,
    /// The kind or legal form given, if any (`EPCI`, `CA`, `COM`...).
    pub kind_hint: Option<String>,
    /// Where it was read.
    pub pos: SourcePos,
}

/// A territory as a list gives it, before members are matched to units.
#[derive(Debug, Clone)]
pub struct ListedTerritory {
    /// The territory code.
    pub id: TerritoryId,
    /// The name (trimmed).
    pub name: String,
    /// Its members, in list order.
    pub members: Vec<ListedMember>,
    /// Where the territory was first seen.
    pub pos: SourcePos,
}

/// A member of a territory, matched to a loaded unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    /// The unit, by its position in `Atlas::units`.
    pub unit: UnitIx,
    /// The name as the list gives it (the unit's own name is in the unit).
    pub listed_name: String,
}

/// A labelled territory of one edition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Territory {
    /// Its code in this edition.
    pub id: TerritoryId,
    /// Its name.
    pub name: String,
    /// INSEE region code, from the id or the members.
    pub region: Option<String>,
    /// Its members.
    pub members: Vec<Member>,
}

/// One territory list (a programme phase, or a sample), with its territories in list order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Edition {
    /// Edition id (`2023`, `2019`, `sample`).
    pub id: EditionId,
    /// Where it was loaded from.
    pub source: String,
    /// Label, period, list date, source and licence (from the list's `.meta.json` sidecar, or the id).
    pub meta: EditionMeta,
    /// Territories in list order.
    pub territories: Vec<Territory>,
}

impl Edition {
    /// The territory at this position.
    ///
    /// # Panics
    /// When `t` is not a position of this edition's list (positions come from the Atlas holding it).
    #[must_use]
    pub fn territory(&self, t: TerritoryIx) -> &Territory {
        &self.territories[t.get()]
    }

    /// Every territory with its position, in list order.
    pub fn positioned(&self) -> impl Iterator<Item = (TerritoryIx, &Territory)> {
        TerritoryIx::all(self.territories.len()).zip(&self.territories)
    }
}

/// A text in French and English.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Label {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

/// One file an edition was imported from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceFile {
    /// File name (no directory).
    pub name: String,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

/// Where an edition's list comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListSource {
    /// Who publishes it (`ANCT`).
    pub publisher: String,
    /// The dataset's title.
    pub dataset: String,
    /// The dataset's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The files read, in order.
    #[serde(default)]
    pub files: Vec<SourceFile>,
}

/// A licence, by name and link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Licence {
    /// Its name (`Licence Ouverte / Open Licence 2.0`).
    pub name: String,
    /// Its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What a territory list is: the `ID.meta.json` sidecar written by `import-list` beside `ID.csv`.
///
/// ```
/// use territoires::model::{EditionId, EditionMeta};
/// let meta = EditionMeta::fallback(&EditionId::parse("2023").unwrap());
/// assert_eq!(meta.label.en, "2023");
/// assert!(meta.licence.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditionMeta {
    /// The edition id.
    pub edition: String,
    /// Human label (`Phase II (2023-2027)`).
    #[serde(default)]
    pub label: Label,
    /// Programme period (`2023-2027`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Date of the list, ISO 8601 (`2024-07-04`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_date: Option<String>,
    /// Publisher, dataset and files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ListSource>,
    /// Licence of the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<Licence>,
    /// The attribution text to show with the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// Where the commune populations summed per territory come from, with their year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<PopulationSource>,
}

/// The population figures' source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PopulationSource {
    /// What the figure is and where it comes from.
    pub source: String,
    /// The census year the figures are for.
    pub year: u16,
}

impl EditionMeta {
    /// The metadata of a list without a sidecar: the id as its label, nothing else known.
    #[must_use]
    pub fn fallback(id: &EditionId) -> Self {
        Self {
            edition: id.to_string(),
            label: Label { fr: id.to_string(), en: id.to_string() },
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_strictly() {
        assert_eq!(Siren::parse(" 240200477 ").map(|s| s.to_string()), Some("240200477".into()));
        assert!(Siren::parse("24020047a").is_none());
        assert!(Siren::parse("2402004777").is_none());
        assert_eq!(InseeCode::parse("2b033").map(|c| c.to_string()), Some("2B033".into()));
        assert!(InseeCode::parse("3A001").is_none());
        assert!(InseeCode::parse("0272").is_none());
        assert!(EditionId::parse("2023").is_some());
        assert!(EditionId::parse("../etc").is_none());
        assert_eq!(
            TerritoryId::parse("ti-3214").and_then(|t| t.region_code().map(str::to_owned)),
            Some("32".into())
        );
        assert!(TerritoryId::parse("  \u{a0}").is_none());
    }

    #[test]
    fn trims_non_breaking_spaces() {
        assert_eq!(trim_name("Soissonnais et Valois\u{a0}"), "Soissonnais et Valois");
        assert_eq!(trim_name("\u{feff}id_ti"), "id_ti");
    }

    #[test]
    fn commune_sirens_are_recognised() {
        assert!(Siren::parse("215801948").is_some_and(|s| s.looks_like_commune()));
        assert!(!Siren::parse("240200477").is_some_and(|s| s.looks_like_commune()));
    }
}

/// Serde helpers for `#[serde(with = "crate::model::sorted_map")]` on a `HashMap`: written as a map with
/// its keys in order, so the same map always gives the same bytes (a snapshot must be reproducible, and a
/// `HashMap`'s iteration order changes from run to run; JSON answers list the keys in order too).
pub mod sorted_map {
    use std::collections::HashMap;
    use std::hash::Hash;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the entries in key order.
    pub fn serialize<K: Serialize + Ord, V: Serialize, H, S: Serializer>(
        map: &HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_map(entries)
    }

    /// Reads the entries back into a map.
    pub fn deserialize<'de, K: Deserialize<'de> + Eq + Hash, V: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<HashMap<K, V>, D::Error> {
        HashMap::deserialize(deserializer)
    }
}
