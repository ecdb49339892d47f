//! Point lookups (units and territories containing a point, nearest territories) and polygon lookups
//! (territories a site overlaps, with shares of its area).

use geo::Point;
use serde::Serialize;
use smallvec::SmallVec;

use super::{Atlas, UnitRef};
use crate::geometry::area::multi_polygon_area_m2;
use crate::model::{EditionIx, TerritoryIx, UnitIx};

/// Units containing a point (EPCI, EPT, commune: three at most).
pub type UnitHits = SmallVec<[UnitIx; 3]>;

/// A territory containing a point, by positions: the cheap form batches work with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ContainingTerritory {
    /// Its edition.
    pub edition: EditionIx,
    /// The territory, in that edition.
    pub territory: TerritoryIx,
    /// The member unit containing the point.
    pub via: UnitIx,
}

/// The territories containing a point, edition by edition.
pub type TerritoryHits = SmallVec<[ContainingTerritory; 2]>;

/// What a point inside one leaf unit answers.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub(super) struct LeafAnswer {
    pub(super) units: UnitHits,
    pub(super) territories: TerritoryHits,
}

/// A territory containing the point, and the member through which it does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerritoryHit {
    /// Edition id.
    pub edition: String,
    /// Territory id.
    pub id: String,
    /// Territory name.
    pub name: String,
    /// The member unit containing the point.
    pub via: UnitRef,
}

/// The nearest territory of an edition that does not contain the point.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NearestTerritory {
    /// Edition id.
    pub edition: String,
    /// Territory id.
    pub id: String,
    /// Territory name.
    pub name: String,
    /// Great-circle distance from the point to the territory's outline, in metres (rounded to 1 m).
    pub distance_m: f64,
}

/// The full answer for one point.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lookup {
    /// Longitude asked.
    pub lon: f64,
    /// Latitude asked.
    pub lat: f64,
    /// Territories containing the point, edition by edition.
    pub territories: Vec<TerritoryHit>,
    /// Units containing the point (EPCI, EPT, commune).
    pub units: Vec<UnitRef>,
    /// For each edition with no territory here, its nearest territory.
    pub nearest: Vec<NearestTerritory>,
}

/// A point that cannot be looked up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    /// NaN or infinite.
    #[error("{0} is not a finite number")]
    NotFinite(&'static str),
    /// Longitude outside [-180, 180].
    #[error("longitude {0} is outside [-180, 180]")]
    LonRange(f64),
    /// Latitude outside [-90, 90].
    #[error("latitude {0} is outside [-90, 90]")]
    LatRange(f64),
}

/// Checks a WGS84 lon/lat pair.
///
/// # Errors
/// NaN, infinities and out-of-range values.
pub fn checked_point(lon: f64, lat: f64) -> Result<Point<f64>, PointError> {
    if !lon.is_finite() {
        return Err(PointError::NotFinite("longitude"));
    }
    if !lat.is_finite() {
        return Err(PointError::NotFinite("latitude"));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(PointError::LonRange(lon));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(PointError::LatRange(lat));
    }
    Ok(Point::new(lon, lat))
}

/// A territory a site polygon overlaps.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Overlap {
    /// Edition id.
    pub edition: String,
    /// Territory id.
    pub id: String,
    /// Territory name.
    pub name: String,
    /// Area of the site inside the territory, m².
    pub area_m2: f64,
    /// That area over the site's area, 0 to 1.
    pub share: f64,
}

/// The territories a site polygon overlaps.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Intersects {
    /// Site area, m².
    pub site_area_m2: f64,
    /// How areas are computed.
    pub area_method: &'static str,
    /// Overlapped territories, by edition then largest share first.
    pub territories: Vec<Overlap>,
}

/// Why a site polygon cannot be measured against the territories.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// A vertex that is not a finite lon/lat.
    #[error("site: {0}")]
    Point(#[from] PointError),
    /// No vertex at all, or a ring of fewer than four positions.
    #[error("site has no area")]
    Empty,
    /// Not a valid polygon by the OGC rules (self-intersecting ring, hole outside its exterior...).
    #[error("site is not a valid polygon: {0}")]
    Invalid(String),
}

impl Atlas {
    /// The units containing `point`: at most one per kind (the border rule in the module
    /// docs), with their parents, ordered EPCI, EPT, commune.
    #[must_use]
    pub fn units_containing(&self, point: Point<f64>) -> UnitHits {
        self.containing_as(point, |leaf| leaf.units.clone(), |units| units)
    }

    /// For each edition, the territories containing `point` and the member unit through which each
    /// does, by positions; the cheap path for batches.
    #[must_use]
    pub fn territories_containing(&self, point: Point<f64>) -> TerritoryHits {
        self.containing_as(point, |leaf| leaf.territories.clone(), |units| self.territories_of_units(&units))
    }

    /// Both answers of [`Atlas::units_containing`] and [`Atlas::territories_containing`] from one index
    /// query.
    #[must_use]
    pub fn site_at(&self, point: Point<f64>) -> (UnitHits, TerritoryHits) {
        let LeafAnswer { units, territories } = self.containing(point);
        (units, territories)
    }

    /// The distance in metres from `point` to the nearest territory border of each edition, by edition
    /// position (`None` for an edition without territories). Inside a territory it is the distance to
    /// leaving it; outside, to the nearest one.
    #[must_use]
    pub fn border_distances_m(&self, point: Point<f64>) -> SmallVec<[Option<f64>; 2]> {
        let point = crate::index::SpherePoint::new(point);
        self.editions.iter().map(|e| e.edges().distance_m(&point)).collect()
    }

    /// Readies what answers many border distances several times faster ([`Atlas::border_distances_m`]):
    /// candidate cells, each made the first time a site falls in it. Answers are the same before and
    /// after. For batches; single lookups need not.
    pub fn prepare_border_distances(&self) {
        for e in &self.editions {
            e.edges().prepare_cells();
        }
    }

    /// Units and territories containing `point`: ready-made when one leaf covers it, worked out from
    /// the leaves on a border.
    fn containing(&self, point: Point<f64>) -> LeafAnswer {
        self.containing_as(point, Clone::clone, |units| LeafAnswer {
            territories: self.territories_of_units(&units),
            units,
        })
    }

    /// What [`Atlas::containing`] answers, or the part of it a caller wants, copied alone from the
    /// leaf's ready-made answer: `of_leaf` when one leaf covers `point`, else `of_units` of the units
    /// worked out from the leaves (none at all off every unit).
    fn containing_as<T>(
        &self,
        point: Point<f64>,
        of_leaf: impl FnOnce(&LeafAnswer) -> T,
        of_units: impl FnOnce(UnitHits) -> T,
    ) -> T {
        match self.index.covering(point).as_slice() {
            [] => of_units(UnitHits::new()),
            [leaf] => of_leaf(&self.leaf_answers[*leaf as usize]),
            leaves => of_units(self.units_of_leaves(leaves)),
        }
    }

    /// The units of a point covered by these leaves (positions in the polygon index): the smallest
    /// code per kind, then their parents, ordered by kind.
    pub(super) fn units_of_leaves(&self, leaves: &[u32]) -> UnitHits {
        let mut found = UnitHits::new();
        // Leaves come ascending by position; picking the smallest code per kind makes the answer
        // independent of load order.
        for &leaf in leaves {
            let u = self.leaves[leaf as usize];
            let kind = self.unit(u).kind;
            match found.iter_mut().find(|f| self.unit(**f).kind == kind) {
                Some(f) if self.unit(u).code() < self.unit(*f).code() => *f = u,
                Some(_) => {}
                None => found.push(u),
            }
        }
        let leaves_found = found.len();
        for i in 0..leaves_found {
            for &p in self.parents_of(found[i]) {
                if !found.iter().any(|f| self.unit(*f).kind == self.unit(p).kind) {
                    found.push(p);
                }
            }
        }
        found.sort_by_key(|&u| self.unit(u).kind);
        found
    }

    /// The territories, edition by edition, that these units are members of.
    pub(super) fn territories_of_units(&self, units: &[UnitIx]) -> TerritoryHits {
        let mut hits = TerritoryHits::new();
        for (edition, entry) in self.positioned_editions() {
            for &via in units {
                for &territory in entry.territories_of_unit(via) {
                    if !hits.iter().any(|h| h.edition == edition && h.territory == territory) {
                        hits.push(ContainingTerritory { edition, territory, via });
                    }
                }
            }
        }
        hits
    }

    /// The full answer: territories with their member, units, and the nearest territory of each edition
    /// that has none here.
    ///
    /// # Errors
    /// NaN, infinite or out-of-range coordinates.
    pub fn lookup(&self, lon: f64, lat: f64) -> Result<Lookup, PointError> {
        let point = checked_point(lon, lat)?;
        let LeafAnswer { units, territories: hits } = self.containing(point);
        let territories = hits
            .iter()
            .map(|h| {
                let entry = self.edition_at(h.edition);
                let territory = entry.territory(h.territory);
                TerritoryHit {
                    edition: entry.edition.id.to_string(),
                    id: territory.id.to_string(),
                    name: territory.name.clone(),
                    via: self.unit_ref(h.via),
                }
            })
            .collect();
        let nearest = self
            .positioned_editions()
            .filter(|(e, _)| !hits.iter().any(|h| h.edition == *e))
            .filter_map(|(_, entry)| {
                let n = entry.edges().nearest(point)?;
                let territory = &entry.edition.territories[n.owner];
                Some(NearestTerritory {
                    edition: entry.edition.id.to_string(),
                    id: territory.id.to_string(),
                    name: territory.name.clone(),
                    distance_m: n.distance_m.round(),
                })
            })
            .collect();
        let units = units.into_iter().map(|u| self.unit_ref(u)).collect();
        Ok(Lookup { lon, lat, territories, units, nearest })
    }

    /// Every territory `site` overlaps, with the share of the site's area inside it. The site's rings
    /// may turn either way (they are oriented first); it must be valid by the OGC rules. Areas are
    /// geodesic on the WGS84 ellipsoid, ring by ring, so the answer is right in the DROM as in the
    /// metropole and whatever the winding.
    ///
    /// # Errors
    /// Coordinates that are not finite lon/lat, an invalid site (the reason says where), a site of
    /// zero area.
    pub fn territories_intersecting(&self, site: &geo::MultiPolygon<f64>) -> Result<Intersects, SiteError> {
        use geo::orient::{Direction, Orient};
        use geo::{BooleanOps, BoundingRect, Validation};
        for c in site
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter())
        {
            checked_point(c.x, c.y)?;
        }
        if site.0.is_empty() || site.0.iter().any(|p| p.exterior().0.len() < 4) {
            return Err(SiteError::Empty);
        }
        // RFC 7946 asks writers for counter-clockwise exteriors but readers not to reject the others.
        let site = site.clone().orient(Direction::Default);
        if let Err(reason) = site.check_validation() {
            return Err(SiteError::Invalid(reason.to_string()));
        }
        let site_area = multi_polygon_area_m2(&site);
        if site_area.is_nan() || site_area <= 0.0 {
            return Err(SiteError::Empty);
        }
        let Some(bbox) = site.bounding_rect() else { return Err(SiteError::Empty) };
        let mut territories = Vec::new();
        for entry in self.editions() {
            let mut found = Vec::new();
            for (t, outline) in entry.outlines.iter().enumerate() {
                let b = entry.bboxes[t];
                if b[0] > bbox.max().x || b[2] < bbox.min().x || b[1] > bbox.max().y || b[3] < bbox.min().y {
                    continue;
                }
                let area = multi_polygon_area_m2(&site.intersection(outline));
                if area > 0.0 {
                    let territory = &entry.edition.territories[t];
                    found.push(Overlap {
                        edition: entry.edition.id.to_string(),
                        id: territory.id.to_string(),
                        name: territory.name.clone(),
                        area_m2: area.round(),
                        share: ((area / site_area).min(1.0) * 1e4).round() / 1e4,
                    });
                }
            }
            found.sort_by(|a, b| b.share.total_cmp(&a.share));
            territories.extend(found);
        }
        Ok(Intersects {
            site_area_m2: site_area.round(),
            area_method: "geodesic on the WGS84 ellipsoid (Karney), ring by ring",
            territories,
        })
    }
}
