//! The Atlas as collections of features (one per edition's territories, one per kind of unit), for the
//! OGC API – Features: ids, properties, full-detail geometry, paging and bbox filtering.

use geo::{BoundingRect, MultiPolygon, Rect};
use serde_json::{Map, Value};

use super::Atlas;
use crate::model::{EditionIx, UnitIx, UnitKind};

/// The Licence Ouverte 2.0's text.
pub const LICENCE_OUVERTE_URL: &str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/";

/// Attribution of the unit layers (IGN boundaries, INSEE codes).
pub const UNITS_ATTRIBUTION: &str =
    "IGN — ADMIN EXPRESS COG carto, INSEE — Code officiel géographique, 1 January 2024";

/// Which features a collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The territories of the edition at this position.
    Territories(EditionIx),
    /// Every unit of this kind.
    Units(UnitKind),
}

/// A collection's description.
#[derive(Debug, Clone)]
pub struct Collection {
    /// Collection id (`territories-2023`, `epci`, `ept`, `communes`).
    pub id: String,
    /// Human title.
    pub title: String,
    /// What it holds.
    pub description: String,
    /// Licence of the data (name, link), when known.
    pub licence: Option<crate::model::Licence>,
    /// Attribution text to show with the data, when known.
    pub attribution: Option<String>,
    /// Where its features come from.
    pub source: Source,
}

/// One feature of a collection.
#[derive(Debug)]
pub struct FeatureRef<'a> {
    /// Feature id, unique in the collection.
    pub id: String,
    /// Properties.
    pub properties: Map<String, Value>,
    /// Geometry, WGS84.
    pub geometry: &'a MultiPolygon<f64>,
}

impl Atlas {
    /// Every collection: territories of each edition, then EPCI, EPT and communes.
    #[must_use]
    pub fn collections(&self) -> Vec<Collection> {
        let mut out: Vec<Collection> = self
            .positioned_editions()
            .map(|(i, e)| Collection {
                id: format!("territories-{}", e.edition.id),
                title: format!("Territoires d'industrie, {}", e.edition.meta.label.fr),
                description: format!(
                    "{} territories of edition {} ({}{}; list {}), each dissolved from its members",
                    e.edition.territories.len(),
                    e.edition.id,
                    e.edition.meta.label.en,
                    e.edition.meta.list_date.as_ref().map_or_else(String::new, |d| format!(", list of {d}")),
                    std::path::Path::new(&e.edition.source)
                        .file_name()
                        .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
                ),
                licence: e.edition.meta.licence.clone(),
                attribution: e.edition.meta.attribution.clone(),
                source: Source::Territories(i),
            })
            .collect();
        for (kind, id, title) in [
            (UnitKind::Epci, "epci", "Intercommunalités (EPCI à fiscalité propre)"),
            (UnitKind::Ept, "ept", "Établissements publics territoriaux (Métropole du Grand Paris)"),
            (UnitKind::Commune, "communes", "Communes"),
        ] {
            if self.units().iter().any(|u| u.kind == kind) {
                out.push(Collection {
                    id: id.to_owned(),
                    title: title.to_owned(),
                    description: format!("{title}, 1 January 2024 (IGN ADMIN EXPRESS, INSEE COG)"),
                    licence: Some(crate::model::Licence {
                        name: "Licence Ouverte / Open Licence 2.0".into(),
                        url: Some(LICENCE_OUVERTE_URL.into()),
                    }),
                    attribution: Some(UNITS_ATTRIBUTION.into()),
                    source: Source::Units(kind),
                });
            }
        }
        out
    }

    /// The collection with this id.
    #[must_use]
    pub fn collection(&self, id: &str) -> Option<Collection> {
        self.collections().into_iter().find(|c| c.id == id)
    }

    /// Number of features in a collection.
    #[must_use]
    pub fn collection_len(&self, source: Source) -> usize {
        match source {
            Source::Territories(e) => self.editions().get(e.get()).map_or(0, |e| e.edition.territories.len()),
            Source::Units(kind) => self.units_of_kind(kind).len(),
        }
    }

    /// Bounding box of a whole collection.
    #[must_use]
    pub fn collection_bbox(&self, source: Source) -> Option<Rect<f64>> {
        let mut rects = (0..self.collection_len(source)).filter_map(|i| self.feature_bbox(source, i));
        let first = rects.next()?;
        Some(rects.fold(first, |a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        }))
    }

    fn unit_of(&self, kind: UnitKind, i: usize) -> Option<UnitIx> {
        self.units_of_kind(kind).get(i).copied()
    }

    /// Bounding box of the `i`-th feature.
    #[must_use]
    pub fn feature_bbox(&self, source: Source, i: usize) -> Option<Rect<f64>> {
        match source {
            Source::Territories(e) => {
                let b = self.editions().get(e.get())?.bboxes.get(i)?;
                Some(Rect::new((b[0], b[1]), (b[2], b[3])))
            }
            Source::Units(kind) => self.unit(self.unit_of(kind, i)?).geometry.bounding_rect(),
        }
    }

    /// Positions (in collection order) of the features whose bounding box meets `bbox` (all without).
    #[must_use]
    pub fn features_matching(&self, source: Source, bbox: Option<Rect<f64>>) -> Vec<usize> {
        match (source, bbox) {
            (_, None) => (0..self.collection_len(source)).collect(),
            (Source::Territories(_), Some(b)) => (0..self.collection_len(source))
                .filter(|&i| self.feature_bbox(source, i).is_some_and(|r| meets(r, b)))
                .collect(),
            (Source::Units(kind), Some(b)) => self
                .units_of_kind(kind)
                .iter()
                .enumerate()
                .filter(|(_, u)| self.unit(**u).geometry.bounding_rect().is_some_and(|r| meets(r, b)))
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The `i`-th feature of a collection.
    #[must_use]
    pub fn feature(&self, source: Source, i: usize) -> Option<FeatureRef<'_>> {
        self.feature_measured(source, i, true)
    }

    /// The `i`-th feature, its units' `area_km2` measured only when `measure` (a filter that does not
    /// read it need not measure 35,000 communes).
    #[must_use]
    pub fn feature_measured(&self, source: Source, i: usize, measure: bool) -> Option<FeatureRef<'_>> {
        let mut properties = Map::new();
        match source {
            Source::Territories(e) => {
                let entry = self.editions().get(e.get())?;
                let t = entry.edition.territories.get(i)?;
                properties.insert("edition".into(), entry.edition.id.as_str().into());
                properties.insert("id".into(), t.id.as_str().into());
                properties.insert("name".into(), t.name.as_str().into());
                properties.insert("region".into(), t.region.clone().map_or(Value::Null, Into::into));
                properties.insert("members".into(), t.members.len().into());
                let codes: Vec<&str> = t.members.iter().map(|m| self.unit(m.unit).code()).collect();
                properties.insert("member_codes".into(), codes.join(";").into());
                properties.insert("area_km2".into(), entry.areas_km2[i].into());
                properties.insert("communes".into(), entry.figures[i].communes.into());
                properties.insert("population".into(), entry.figures[i].population.into());
                Some(FeatureRef { id: t.id.to_string(), properties, geometry: &entry.outlines[i] })
            }
            Source::Units(kind) => {
                let index = self.unit_of(kind, i)?;
                let u = self.unit(index);
                properties.insert("kind".into(), u.kind.label().into());
                properties.insert("code".into(), u.code().into());
                properties
                    .insert("siren".into(), u.siren.as_ref().map_or(Value::Null, |s| s.as_str().into()));
                properties.insert("name".into(), u.name.as_str().into());
                properties.insert("type".into(), u.legal_form.as_str().into());
                let figures = self.unit_figures(index);
                properties.insert("communes".into(), figures.communes.into());
                properties.insert("population".into(), figures.population.into());
                let parents: Vec<&str> = u.parents.iter().map(crate::model::Siren::as_str).collect();
                properties.insert("parents".into(), parents.join(";").into());
                // Measured when asked: a page of units costs far less than measuring 35,000 communes
                // at every start.
                if measure {
                    let area_m2 = crate::geometry::area::multi_polygon_area_m2(&u.geometry);
                    properties.insert("area_km2".into(), ((area_m2 / 1e4).round() / 100.0).into());
                }
                Some(FeatureRef { id: u.code().to_owned(), properties, geometry: &u.geometry })
            }
        }
    }

    /// The position of the feature with this id.
    #[must_use]
    pub fn feature_position(&self, source: Source, id: &str) -> Option<usize> {
        match source {
            Source::Territories(e) => {
                self.editions().get(e.get())?.edition.territories.iter().position(|t| t.id.as_str() == id)
            }
            Source::Units(kind) => {
                let u = self.unit_index(id)?;
                self.units_of_kind(kind).iter().position(|&k| k == u)
            }
        }
    }
}

fn meets(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
}
