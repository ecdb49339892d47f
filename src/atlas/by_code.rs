//! Sites given by a code instead of coordinates: an INSEE commune code as tables hold it (current,
//! former, délégué, associé, arrondissement, a lost leading zero), the SIREN of an EPCI, EPT or
//! commune, or a postal code. Each is placed on current units, then on their territories the same way a
//! point inside them would be (a commune through its EPCI, its EPT, or itself as a member).

use smallvec::SmallVec;

use super::{Atlas, TerritoryHits};
use crate::codes::{CodeKind, CodeTable};
use crate::model::{InseeCode, Siren, UnitIx};

/// How a code was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlacedBy {
    /// An INSEE commune code, and how it relates to the current commune.
    Commune(CodeKind),
    /// The SIREN of a loaded unit (EPCI, EPT or commune).
    Siren,
    /// A postal code.
    PostalCode,
}

/// Where a code places a site.
#[derive(Debug, Clone)]
pub struct CodePlace {
    /// The units the code designates: one commune, one EPCI/EPT, or every commune a postal code serves
    /// (sorted by code).
    pub units: SmallVec<[UnitIx; 1]>,
    /// Their territories, edition by edition, ids sorted within an edition.
    pub territories: TerritoryHits,
    /// How the code was read.
    pub by: PlacedBy,
    /// Whether a lost leading zero was put back (`2722` read as `02722`).
    pub zero_restored: bool,
}

impl Atlas {
    /// The commune code table loaded with the geodata (empty when it had none).
    #[must_use]
    pub fn code_table(&self) -> &CodeTable {
        &self.codes
    }

    /// Places an INSEE commune code as a table may hold it on the current commune and its territories.
    /// `None` when the code designates no loaded commune.
    #[must_use]
    pub fn place_commune_code(&self, raw: &str) -> Option<CodePlace> {
        let is_current = |c: &str| InseeCode::parse(c).is_some_and(|c| self.by_insee.contains_key(&c));
        let resolved = self.codes.commune(raw, is_current)?;
        let unit = *self.by_insee.get(&InseeCode::parse(&resolved.insee)?)?;
        Some(self.place_units(
            SmallVec::from_elem(unit, 1),
            PlacedBy::Commune(resolved.kind),
            resolved.zero_restored,
        ))
    }

    /// Places the SIREN of a loaded EPCI, EPT or commune (a spreadsheet's `.0` dropped).
    #[must_use]
    pub fn place_siren(&self, raw: &str) -> Option<CodePlace> {
        let raw = raw.trim();
        let siren = Siren::parse(raw.strip_suffix(".0").unwrap_or(raw))?;
        let unit = *self.by_siren.get(&siren)?;
        Some(self.place_units(SmallVec::from_elem(unit, 1), PlacedBy::Siren, false))
    }

    /// Places a postal code on every current commune it serves and all their territories.
    #[must_use]
    pub fn place_postal_code(&self, raw: &str) -> Option<CodePlace> {
        let mut units: SmallVec<[UnitIx; 1]> = self
            .codes
            .postal_communes(raw)
            .iter()
            .filter_map(|c| self.by_insee.get(&InseeCode::parse(c)?).copied())
            .collect();
        if units.is_empty() {
            return None;
        }
        units.sort_by(|a, b| self.unit(*a).code().cmp(self.unit(*b).code()));
        let zero_restored = raw.trim().len() == 4;
        Some(self.place_units(units, PlacedBy::PostalCode, zero_restored))
    }

    /// The territories of these units and of their parents, as a point inside them gets them.
    fn place_units(&self, units: SmallVec<[UnitIx; 1]>, by: PlacedBy, zero_restored: bool) -> CodePlace {
        let mut all: Vec<UnitIx> = Vec::with_capacity(units.len() * 3);
        for &u in &units {
            for v in std::iter::once(u).chain(self.parents_of(u).iter().copied()) {
                if !all.contains(&v) {
                    all.push(v);
                }
            }
        }
        // The member a territory is reached through: the EPCI first, then the EPT, then the commune,
        // as for a point.
        all.sort_by(|a, b| {
            (self.unit(*a).kind, self.unit(*a).code()).cmp(&(self.unit(*b).kind, self.unit(*b).code()))
        });
        let mut territories = self.territories_of_units(&all);
        territories.sort_by(|a, b| {
            (a.edition, self.edition_at(a.edition).territory(a.territory).id.as_str())
                .cmp(&(b.edition, self.edition_at(b.edition).territory(b.territory).id.as_str()))
        });
        CodePlace { units, territories, by, zero_restored }
    }
}
