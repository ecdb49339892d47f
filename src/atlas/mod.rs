//! The Atlas: every unit, every edition's territories, their dissolved outlines and the spatial indexes,
//! built once from files and then only read. Every `impl Atlas` lives in this directory: building
//! (`build`), point and polygon lookups (`lookup`), catalogue queries (`queries`), place search
//! (`search`) and OGC feature collections (`features`). Map layers and encoded bodies are not made
//! here: `render` builds them from a finished Atlas.
//!
//! Building validates everything and reports every problem at once; answering never touches a file.
//! A point on a shared border belongs to the unit with the smallest code (INSEE code for communes, SIREN
//! otherwise) among those whose closed boundary contains it, and to that unit's parents, so every point
//! gets exactly one answer per kind of unit and per edition.

mod build;
mod by_code;
mod error;
pub mod features;
pub mod filter;
mod lookup;
pub mod queries;
pub mod search;
mod sources;

use std::collections::HashMap;

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

pub use by_code::{CodePlace, PlacedBy};
pub use error::{AtlasError, AtlasErrors};
pub use lookup::{
    ContainingTerritory, Intersects, Lookup, NearestTerritory, Overlap, PointError, SiteError, TerritoryHit,
    TerritoryHits, UnitHits, checked_point,
};
pub use sources::{AtlasSources, CODE_TABLE_FILE, EditionSource, EditionSourceError};

use crate::codes::{CodeTable, Seat, Seats};
use crate::figures::{CommuneCover, Figures};
use crate::index::{EdgeIndex, PolygonIndex};
use crate::model::{Edition, EditionIx, InseeCode, Siren, Territory, TerritoryIx, Unit, UnitIx, UnitKind};
use lookup::LeafAnswer;
use search::SearchIndex;

/// One edition with what answering needs: outlines, unit → territory map, outline edge index.
#[derive(Debug, Serialize, Deserialize)]
pub struct EditionEntry {
    /// The edition's territories and members.
    pub edition: Edition,
    /// Each territory's dissolved outline, in territory order.
    pub outlines: Vec<MultiPolygon<f64>>,
    /// Territories each unit is a member of, by unit position.
    territories_of_unit: Vec<Vec<TerritoryIx>>,
    /// Outline edges, for nearest-territory distances: made from the outlines on first use (tens of
    /// milliseconds), so neither a one-shot lookup inside a territory nor a snapshot pays for them.
    #[serde(skip)]
    edges: std::sync::OnceLock<EdgeIndex>,
    /// Geodesic area of each outline, km².
    pub areas_km2: Vec<f64>,
    /// Bounding box of each outline: `[west, south, east, north]`.
    pub bboxes: Vec<[f64; 4]>,
    /// Communes and population of each territory, in territory order.
    pub figures: Vec<Figures>,
}

impl EditionEntry {
    /// Territories (positions in this edition) this unit is a member of; none for a unit of another Atlas.
    #[must_use]
    pub fn territories_of_unit(&self, unit: UnitIx) -> &[TerritoryIx] {
        self.territories_of_unit.get(unit.get()).map_or(&[], Vec::as_slice)
    }

    /// The territory at this position.
    ///
    /// # Panics
    /// When `t` is not a position of this edition (positions come from the Atlas holding it).
    #[must_use]
    pub fn territory(&self, t: TerritoryIx) -> &Territory {
        self.edition.territory(t)
    }

    /// The outlines' edge index, made on first use.
    pub(crate) fn edges(&self) -> &EdgeIndex {
        self.edges.get_or_init(|| EdgeIndex::build(&self.outlines.iter().collect::<Vec<_>>()))
    }
}

/// How long each build step took.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuildTimings {
    /// Reading unit files.
    pub units_ms: f64,
    /// Reading and resolving territory lists.
    pub editions_ms: f64,
    /// Dissolving outlines and building indexes.
    pub index_ms: f64,
}

/// The immutable in-memory model every answer comes from.
#[derive(Debug, Serialize, Deserialize)]
pub struct Atlas {
    units: Vec<Unit>,
    #[serde(with = "crate::model::sorted_map")]
    by_siren: HashMap<Siren, UnitIx>,
    #[serde(with = "crate::model::sorted_map")]
    by_insee: HashMap<InseeCode, UnitIx>,
    /// Parent units of each unit (a commune's EPCI and EPT), resolved.
    parents: Vec<Vec<UnitIx>>,
    /// Units in the polygon index, by index position (leaves: units no loaded unit has as parent).
    leaves: Vec<UnitIx>,
    /// The answer for a point inside one leaf only, by index position: most points get it ready-made.
    leaf_answers: Vec<LeafAnswer>,
    index: PolygonIndex,
    editions: Vec<EditionEntry>,
    /// Unit positions by kind, in load order.
    by_kind: Vec<(UnitKind, Vec<UnitIx>)>,
    /// Folded names of territories and units, for the search box.
    search: SearchIndex,
    timings: BuildTimings,
    /// What loading repaired or ignored (invalid geometries repaired, degenerate rings dropped...),
    /// each naming its file and record.
    warnings: Vec<String>,
    /// Counts for `validate` and `/healthz`.
    summary: Summary,
    /// The communes each unit covers.
    cover: CommuneCover,
    /// Communes and population of each unit, by unit position.
    unit_figures: Vec<Figures>,
    /// Former, délégué, associé and arrondissement codes and postal codes, to current communes.
    codes: CodeTable,
    /// Chefs-lieux of régions and départements, by commune code.
    seats: Seats,
}

/// A unit in an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitRef {
    /// EPCI, EPT or COM.
    pub kind: UnitKind,
    /// SIREN (EPCI, EPT) or INSEE code (commune).
    pub code: String,
    /// Official name.
    pub name: String,
}

/// Counts for a validation summary.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Units by kind.
    #[serde(with = "crate::model::sorted_map")]
    pub units: HashMap<UnitKind, usize>,
    /// One line per edition.
    pub editions: Vec<EditionSummary>,
    /// Polygon pieces in the point index.
    pub index_pieces: usize,
    /// Build timings.
    pub timings: BuildTimings,
    /// Loading warnings (repaired geometries...).
    pub warnings: usize,
}

/// Counts for one edition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditionSummary {
    /// Edition id.
    pub id: String,
    /// The list file.
    pub source: String,
    /// Number of territories.
    pub territories: usize,
    /// Number of members.
    pub members: usize,
    /// Members by kind of unit.
    #[serde(with = "crate::model::sorted_map")]
    pub members_by_kind: HashMap<UnitKind, usize>,
    /// Label, period, list date, source, licence, attribution.
    pub meta: crate::model::EditionMeta,
}

impl Atlas {
    /// Every loaded unit.
    #[must_use]
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The unit at this position.
    ///
    /// # Panics
    /// When `u` is not a unit position of this Atlas (positions come from its own answers).
    #[must_use]
    pub fn unit(&self, u: UnitIx) -> &Unit {
        &self.units[u.get()]
    }

    /// Every loaded edition, in load order.
    #[must_use]
    pub fn editions(&self) -> &[EditionEntry] {
        &self.editions
    }

    /// Every loaded edition with its position, in load order.
    pub fn positioned_editions(&self) -> impl Iterator<Item = (EditionIx, &EditionEntry)> {
        EditionIx::all(self.editions.len()).zip(&self.editions)
    }

    /// The edition at this position.
    ///
    /// # Panics
    /// When `e` is not an edition position of this Atlas (positions come from its own answers).
    #[must_use]
    pub fn edition_at(&self, e: EditionIx) -> &EditionEntry {
        &self.editions[e.get()]
    }

    /// The edition with this id.
    #[must_use]
    pub fn edition(&self, id: &str) -> Option<&EditionEntry> {
        self.editions.iter().find(|e| e.edition.id.as_str() == id)
    }

    /// The unit with this SIREN or INSEE code.
    #[must_use]
    pub fn unit_by_code(&self, code: &str) -> Option<&Unit> {
        self.unit_index(code).map(|i| self.unit(i))
    }

    /// The position of the unit with this SIREN or INSEE code.
    #[must_use]
    pub fn unit_index(&self, code: &str) -> Option<UnitIx> {
        Siren::parse(code)
            .and_then(|s| self.by_siren.get(&s))
            .or_else(|| InseeCode::parse(code).and_then(|c| self.by_insee.get(&c)))
            .copied()
    }

    /// The parent units (EPCI, EPT) of a unit; none for a position no unit has.
    #[must_use]
    pub fn parents_of(&self, unit: UnitIx) -> &[UnitIx] {
        self.parents.get(unit.get()).map_or(&[], Vec::as_slice)
    }

    /// Positions of the units of one kind, in load order.
    #[must_use]
    pub fn units_of_kind(&self, kind: UnitKind) -> &[UnitIx] {
        self.by_kind.iter().find(|(k, _)| *k == kind).map_or(&[], |(_, v)| v.as_slice())
    }

    /// The point index over leaf units (communes, and units without loaded children).
    #[must_use]
    pub fn polygon_index(&self) -> &PolygonIndex {
        &self.index
    }

    /// The search index of territory and unit names.
    pub(crate) fn search_index(&self) -> &SearchIndex {
        &self.search
    }

    /// Communes and population of a unit (a commune: itself; an EPCI or EPT: its communes).
    #[must_use]
    pub fn unit_figures(&self, unit: UnitIx) -> Figures {
        self.unit_figures.get(unit.get()).copied().unwrap_or_default()
    }

    /// The communes (unit positions) a unit covers.
    #[must_use]
    pub fn communes_of(&self, unit: UnitIx) -> &[UnitIx] {
        self.cover.communes_of(unit)
    }

    /// Whether a unit is a commune that is the chef-lieu of a region or a département.
    #[must_use]
    pub fn seat(&self, unit: UnitIx) -> Option<Seat> {
        let u = self.unit(unit);
        if u.kind == UnitKind::Commune { self.seats.of(u.code()) } else { None }
    }

    /// Build timings.
    #[must_use]
    pub fn timings(&self) -> &BuildTimings {
        &self.timings
    }

    /// What loading repaired or ignored, each naming its file and record.
    #[must_use]
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The answer form of a unit.
    ///
    /// # Panics
    /// When `u` is not a unit position of this Atlas (positions come from its own answers).
    #[must_use]
    pub fn unit_ref(&self, u: UnitIx) -> UnitRef {
        let unit = self.unit(u);
        UnitRef { kind: unit.kind, code: unit.code().to_owned(), name: unit.name.clone() }
    }

    /// Counts for `validate` and `/healthz`.
    #[must_use]
    pub fn summary(&self) -> Summary {
        self.summary.clone()
    }
}
