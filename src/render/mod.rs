//! The render layer: map layers per zoom, vector tiles and encoded bodies (ETag, gzip, brotli), built
//! from a finished [`Atlas`] and never inside it. A [`LayerSet`] holds every layer the map serves and is
//! swapped together with its Atlas on reload.

pub mod encoded;
pub mod export;
pub mod glyphs;
pub mod layers;
pub mod members;
pub mod ogc_html;
pub mod ogc_tiles;
pub mod pages;
pub mod places;
pub mod tilejson;
pub mod tiles;

use rayon::prelude::*;

use crate::atlas::{Atlas, EditionEntry};
use crate::model::{EditionId, UnitKind};
use encoded::Encoded;
use layers::{Layer, LayerFeature};
use places::Places;
use std::sync::Arc;
use tiles::{TileCoord, TileError};

/// The kinds of unit drawn as boundary layers (communes are too many for one layer).
pub const UNIT_LAYER_KINDS: [UnitKind; 2] = [UnitKind::Epci, UnitKind::Ept];

/// Every map layer of one Atlas: EPCI and EPT boundaries, each edition's territory outlines, and the
/// communes' names and boundaries.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct LayerSet {
    /// Unit boundaries, in [`UNIT_LAYER_KINDS`] order.
    units: Vec<(UnitKind, Layer)>,
    /// Territory outlines, in the Atlas's edition order.
    territories: Vec<(EditionId, Layer)>,
    /// Commune names and boundaries (tile layer `places`).
    places: Places,
}

impl LayerSet {
    /// Simplifies and serialises every layer of `atlas` (seconds for France: done once per Atlas).
    #[must_use]
    pub fn build(atlas: &Atlas) -> Self {
        let ((units, territories), places) = rayon::join(
            || {
                rayon::join(
                    || UNIT_LAYER_KINDS.into_par_iter().map(|kind| (kind, unit_layer(atlas, kind))).collect(),
                    || {
                        atlas
                            .editions()
                            .par_iter()
                            .map(|e| (e.edition.id.clone(), territory_layer(e)))
                            .collect()
                    },
                )
            },
            || Places::build(atlas),
        );
        // Simplifying frees most of what it allocates.
        crate::memory::release_freed();
        Self { units, territories, places }
    }

    /// The communes' names and boundaries.
    #[must_use]
    pub fn places(&self) -> &Places {
        &self.places
    }

    /// Tile `coord` of the tile layer `name` (`epci`, `ept`, `territories-EDITION` or `places`), made
    /// once and then kept while the layer's cache has room; `None` when no layer has that name. `atlas` is
    /// the one this set was built from.
    ///
    /// # Errors
    /// An encoding failure.
    pub fn tile(
        &self,
        atlas: &Atlas,
        name: &str,
        coord: TileCoord,
    ) -> Option<Result<Arc<Encoded>, TileError>> {
        if name == places::PLACES {
            return Some(self.places.tile_encoded(atlas, coord));
        }
        self.by_name(name).map(|layer| layer.tile_encoded(name, coord))
    }

    /// The boundary layer of a kind of unit (EPCI, EPT); `None` for communes.
    #[must_use]
    pub fn units(&self, kind: UnitKind) -> Option<&Layer> {
        self.units.iter().find(|(k, _)| *k == kind).map(|(_, l)| l)
    }

    /// The territory outlines of the edition with this id.
    #[must_use]
    pub fn territories(&self, edition: &str) -> Option<&Layer> {
        self.territories.iter().find(|(id, _)| id.as_str() == edition).map(|(_, l)| l)
    }

    /// A layer by its tile name: `epci`, `ept` or `territories-EDITION`.
    #[must_use]
    pub fn by_name(&self, name: &str) -> Option<&Layer> {
        match name {
            "epci" => self.units(UnitKind::Epci),
            "ept" => self.units(UnitKind::Ept),
            other => other.strip_prefix("territories-").and_then(|e| self.territories(e)),
        }
    }
}

/// The units of one kind as a map layer, with their figures.
fn unit_layer(atlas: &Atlas, kind: UnitKind) -> Layer {
    let features: Vec<LayerFeature> = atlas
        .units_of_kind(kind)
        .iter()
        .map(|&i| {
            let (u, f) = (atlas.unit(i), atlas.unit_figures(i));
            let mut properties = serde_json::Map::new();
            properties.insert("kind".into(), u.kind.label().into());
            properties.insert("code".into(), u.code().into());
            properties.insert("name".into(), u.name.as_str().into());
            properties.insert("type".into(), u.legal_form.as_str().into());
            properties.insert("communes".into(), f.communes.into());
            properties.insert("population".into(), f.population.into());
            LayerFeature { id: u.code().to_owned(), properties, geometry: (*u.geometry).clone() }
        })
        .collect();
    Layer::build(&features)
}

/// An edition's dissolved outlines as a map layer, with area and figures.
fn territory_layer(entry: &EditionEntry) -> Layer {
    let edition = &entry.edition;
    let features: Vec<LayerFeature> = edition
        .territories
        .iter()
        .zip(&entry.outlines)
        .zip(&entry.areas_km2)
        .zip(&entry.figures)
        .map(|(((t, outline), area), f)| {
            let mut properties = serde_json::Map::new();
            properties.insert("edition".into(), edition.id.as_str().into());
            properties.insert("id".into(), t.id.as_str().into());
            properties.insert("name".into(), t.name.as_str().into());
            properties.insert("region".into(), t.region.clone().map_or(serde_json::Value::Null, Into::into));
            properties.insert("members".into(), t.members.len().into());
            properties.insert("area_km2".into(), (*area).into());
            properties.insert("communes".into(), f.communes.into());
            properties.insert("population".into(), f.population.into());
            LayerFeature { id: t.id.to_string(), properties, geometry: outline.clone() }
        })
        .collect();
    Layer::build(&features)
}
