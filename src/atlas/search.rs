//! Place search for the map's search box: territories of every edition and every EPCI, EPT and commune,
//! by name, SIREN or INSEE code, accent- and case-insensitive, every query word starting a word.
//!
//! Names are folded once when the Atlas is built (the index is built by `build`); a query only scans the
//! folded texts.

use geo::BoundingRect;
use serde::Serialize;

use super::Atlas;
use crate::model::{Edition, EditionIx, TerritoryIx, Unit, UnitIx, UnitKind};
use crate::text::{fold, region_name};

/// Most hits a search may ask for.
pub const MAX_LIMIT: usize = 50;

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HitKind {
    /// A labelled territory of one edition.
    #[serde(rename = "territory")]
    Territory,
    /// An intercommunality.
    #[serde(rename = "EPCI")]
    Epci,
    /// A territorial public establishment of the Grand Paris.
    #[serde(rename = "EPT")]
    Ept,
    /// A commune.
    #[serde(rename = "COM")]
    Commune,
}

impl From<UnitKind> for HitKind {
    fn from(kind: UnitKind) -> Self {
        match kind {
            UnitKind::Epci => Self::Epci,
            UnitKind::Ept => Self::Ept,
            UnitKind::Commune => Self::Commune,
        }
    }
}

/// One search answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// Territory, EPCI, EPT or commune.
    pub kind: HitKind,
    /// Territory id, SIREN (EPCI, EPT) or INSEE code (commune).
    pub code: String,
    /// Name.
    pub name: String,
    /// The edition of a territory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// A few words placing the hit: a commune's département and EPCI, a territory's region.
    pub context: String,
    /// `[west, south, east, north]`.
    pub bbox: [f64; 4],
}

/// What an entry points at.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
enum Target {
    Territory { edition: EditionIx, territory: TerritoryIx },
    Unit(UnitIx),
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct Entry {
    target: Target,
    kind: HitKind,
    /// Folded name, then codes, space-separated.
    text: String,
    /// Length of the folded name at the start of `text`.
    name_len: usize,
    /// Larger first among equals (population for units).
    weight: u64,
}

/// The folded texts of everything searchable, built with the Atlas.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub struct SearchIndex {
    entries: Vec<Entry>,
}

impl SearchIndex {
    /// Folds the names and codes of `units` and of the territories of `editions`.
    #[must_use]
    pub fn build<'a>(units: &[Unit], editions: impl Iterator<Item = &'a Edition>) -> Self {
        let mut entries = Vec::with_capacity(units.len());
        for (e, edition) in editions.enumerate() {
            let e = EditionIx::new(e);
            for (t, territory) in edition.positioned() {
                let name = fold(&territory.name);
                let text = format!("{name} {}", fold(territory.id.as_str()));
                entries.push(Entry {
                    target: Target::Territory { edition: e, territory: t },
                    kind: HitKind::Territory,
                    name_len: name.len(),
                    text,
                    weight: u64::MAX,
                });
            }
        }
        for (u, unit) in UnitIx::all(units.len()).zip(units) {
            let name = fold(&unit.name);
            let mut text = name.clone();
            for code in [
                unit.insee.as_ref().map(super::super::model::InseeCode::as_str),
                unit.siren.as_ref().map(super::super::model::Siren::as_str),
            ]
            .into_iter()
            .flatten()
            {
                text.push(' ');
                text.push_str(&code.to_ascii_lowercase());
            }
            entries.push(Entry {
                target: Target::Unit(u),
                kind: unit.kind.into(),
                name_len: name.len(),
                text,
                weight: unit.population.unwrap_or(0),
            });
        }
        Self { entries }
    }

    /// Up to `limit` entries matching `query`, best first: whole-name matches, then names starting with
    /// the query, then other word matches; among equals territories, then EPCI, EPT, communes, larger
    /// first. `edition` (a position) keeps only that edition's territories; units are always searched.
    fn matching(&self, query: &str, edition: Option<EditionIx>, limit: usize) -> Vec<Target> {
        let folded = fold(query);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<(u8, HitKind, std::cmp::Reverse<u64>, usize)> = Vec::new();
        for (i, entry) in self.entries.iter().enumerate() {
            if let (Target::Territory { edition: e, .. }, Some(wanted)) = (entry.target, edition)
                && e != wanted
            {
                continue;
            }
            if !words.iter().all(|w| starts_a_word(&entry.text, w)) {
                continue;
            }
            let name = &entry.text[..entry.name_len];
            let tier = if name == folded {
                0
            } else if name.starts_with(folded.as_str()) {
                1
            } else {
                2
            };
            found.push((tier, entry.kind, std::cmp::Reverse(entry.weight), i));
        }
        // Only the best `limit` need ordering.
        if found.len() > limit {
            found.select_nth_unstable(limit);
            found.truncate(limit);
        }
        found.sort_unstable();
        found.into_iter().map(|(_, _, _, i)| self.entries[i].target).collect()
    }
}

impl Atlas {
    /// Up to `limit` territories and units matching `query` (see [`SearchIndex`]), best first; with
    /// `edition`, only that edition's territories.
    #[must_use]
    pub fn search(&self, query: &str, edition: Option<&str>, limit: usize) -> Vec<SearchHit> {
        let edition = edition
            .and_then(|id| self.positioned_editions().find(|(_, e)| e.edition.id.as_str() == id))
            .map(|(e, _)| e);
        self.search_index().matching(query, edition, limit).into_iter().map(|t| self.search_hit(t)).collect()
    }

    fn search_hit(&self, target: Target) -> SearchHit {
        match target {
            Target::Territory { edition, territory } => {
                let entry = self.edition_at(edition);
                let t = entry.territory(territory);
                let context = match t.region.as_deref().and_then(region_name) {
                    Some(region) => format!("Territoire {} · {region}", entry.edition.id),
                    None => format!("Territoire {}", entry.edition.id),
                };
                SearchHit {
                    kind: HitKind::Territory,
                    code: t.id.to_string(),
                    name: t.name.clone(),
                    edition: Some(entry.edition.id.to_string()),
                    context,
                    bbox: entry.bboxes[territory.get()],
                }
            }
            Target::Unit(u) => {
                let unit = self.unit(u);
                let context = match unit.kind {
                    UnitKind::Commune => {
                        let department = unit.insee.as_ref().map_or("", |c| department_of(c.as_str()));
                        let epci = self
                            .parents_of(u)
                            .iter()
                            .map(|&p| self.unit(p))
                            .find(|p| p.kind == UnitKind::Epci);
                        match epci {
                            Some(epci) => format!("Commune ({department}) · {}", epci.name),
                            None => format!("Commune ({department})"),
                        }
                    }
                    UnitKind::Epci | UnitKind::Ept => match unit.commune_count {
                        Some(n) => format!("{} · {n} communes", unit.legal_form),
                        None => unit.legal_form.clone(),
                    },
                };
                SearchHit {
                    kind: unit.kind.into(),
                    code: unit.code().to_owned(),
                    name: unit.name.clone(),
                    edition: None,
                    context,
                    bbox: unit
                        .geometry
                        .bounding_rect()
                        .map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]),
                }
            }
        }
    }
}

/// One searchable entry as the static site of `export` ships it: the browser runs the same matching.
#[derive(Debug, Clone, Serialize)]
pub struct SearchEntry {
    /// Folded name, then codes, space-separated.
    pub text: String,
    /// Length of the folded name at the start of `text`, in UTF-16 units (as JavaScript counts).
    pub name_len: usize,
    /// 0 territory, 1 EPCI, 2 EPT, 3 commune: the order among equals.
    pub rank: u8,
    /// Larger first among equals (population of units; 0 for territories).
    pub weight: u64,
    /// What the search answers for it.
    pub hit: SearchHit,
}

impl Atlas {
    /// Every entry of the search index with its hit, for a search that runs without this process.
    #[must_use]
    pub fn search_entries(&self) -> Vec<SearchEntry> {
        self.search_index()
            .entries
            .iter()
            .map(|e| SearchEntry {
                text: e.text.clone(),
                name_len: e.text[..e.name_len].encode_utf16().count(),
                rank: e.kind as u8,
                weight: if e.kind == HitKind::Territory { 0 } else { e.weight },
                hit: self.search_hit(e.target),
            })
            .collect()
    }
}

/// True when `word` starts one of the space-separated words of `text`.
fn starts_a_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| i == 0 || text.as_bytes()[i - 1] == b' ')
}

/// The département code of an INSEE commune code: three characters overseas (`97411` → `974`).
fn department_of(insee: &str) -> &str {
    if insee.starts_with("97") { insee.get(..3).unwrap_or(insee) } else { insee.get(..2).unwrap_or(insee) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_must_start_a_word() {
        assert!(starts_a_word("pays de saint omer 200069037", "omer"));
        assert!(starts_a_word("pays de saint omer 200069037", "2000"));
        assert!(!starts_a_word("communaute d agglomeration", "omer"));
        assert!(starts_a_word("soissons", "soiss"));
    }

    #[test]
    fn departments_of_overseas_communes_have_three_characters() {
        assert_eq!(department_of("97411"), "974");
        assert_eq!(department_of("02722"), "02");
        assert_eq!(department_of("2B033"), "2B");
    }
}
