//! Answers about what the Atlas holds: editions, territory lists and search, one territory's details,
//! one unit and the territories it belongs to. Typed structs, serialised by the API and the CLI.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::atlas::{Atlas, EditionEntry, UnitRef};
use crate::geometry::area::multi_polygon_area_m2;
use crate::model::UnitKind;

/// One edition in the list of editions.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditionInfo {
    /// Edition id.
    pub id: String,
    /// The list it was loaded from (file name only).
    pub source: String,
    /// Number of territories.
    pub territories: usize,
    /// Number of members.
    pub members: usize,
    /// Label, period, list date, source, licence and attribution.
    pub meta: crate::model::EditionMeta,
}

/// A territory in a list or search result.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerritorySummary {
    /// Edition id.
    pub edition: String,
    /// Territory id.
    pub id: String,
    /// Name.
    pub name: String,
    /// INSEE region code.
    pub region: Option<String>,
    /// Region name.
    pub region_name: Option<&'static str>,
    /// Number of members.
    pub members: usize,
    /// Geodesic area, km².
    pub area_km2: f64,
    /// Number of current communes covered (those of its EPCI/EPT members plus its commune members).
    pub communes: u32,
    /// Sum of the municipal population of those communes (year in the edition's metadata).
    pub population: u64,
    /// `[west, south, east, north]`.
    pub bbox: [f64; 4],
    /// When found by search through a member: that member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_member: Option<UnitRef>,
}

/// One member of a territory.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberInfo {
    /// EPCI, EPT or COM.
    pub kind: UnitKind,
    /// SIREN (EPCI, EPT) or INSEE code (commune).
    pub code: String,
    /// SIREN, for communes too when known.
    pub siren: Option<String>,
    /// Official name.
    pub name: String,
    /// Name as the list gives it.
    pub listed_name: String,
    /// Population as the boundary source gives it.
    pub population: Option<u64>,
}

/// A territory with its members.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerritoryDetail {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: TerritorySummary,
    /// Members in list order.
    pub member_list: Vec<MemberInfo>,
}

/// A territory a unit belongs to, directly or through its EPCI/EPT.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    /// Edition id.
    pub edition: String,
    /// Territory id.
    pub id: String,
    /// Territory name.
    pub name: String,
    /// The member unit (the unit itself, or its EPCI/EPT).
    pub via: UnitRef,
}

/// One unit and where it belongs.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitDetail {
    /// Kind, code, name.
    #[serde(flatten)]
    pub unit: UnitRef,
    /// SIREN.
    pub siren: Option<String>,
    /// INSEE code (communes).
    pub insee: Option<String>,
    /// Legal form (`CA`, `CC`, `COM`...).
    pub legal_form: String,
    /// Municipal population: the commune's own, or the sum over an EPCI's or EPT's communes.
    pub population: Option<u64>,
    /// Number of communes covered (1 for a commune).
    pub communes: Option<u32>,
    /// `[west, south, east, north]`.
    pub bbox: Option<[f64; 4]>,
    /// Its EPCI and EPT (communes).
    pub parents: Vec<UnitRef>,
    /// Territories it belongs to, all editions.
    pub territories: Vec<Membership>,
}

/// Lower case, accents and punctuation removed, spaces collapsed: `"Cœur-de-Flandre"` → `"coeur de flandre"`.
///
/// ```
/// use territoires::catalog::fold;
/// assert_eq!(fold("Cœur de Flandre - Pays de Saint-Omer"), "coeur de flandre pays de saint omer");
/// assert_eq!(fold("ÉTAMPES"), "etampes");
/// ```
#[must_use]
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        match c {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
        }
    }
    out.trim_end().to_owned()
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
    Point(#[from] crate::atlas::PointError),
    /// No vertex at all, or a ring of fewer than four positions.
    #[error("site has no area")]
    Empty,
    /// Not a valid polygon by the OGC rules (self-intersecting ring, hole outside its exterior...).
    #[error("site is not a valid polygon: {0}")]
    Invalid(String),
}

impl Atlas {
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
            crate::atlas::checked_point(c.x, c.y)?;
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

    /// Every edition, in load order.
    #[must_use]
    pub fn edition_infos(&self) -> Vec<EditionInfo> {
        self.editions()
            .iter()
            .map(|e| EditionInfo {
                id: e.edition.id.to_string(),
                source: std::path::Path::new(&e.edition.source)
                    .file_name()
                    .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
                territories: e.edition.territories.len(),
                members: e.edition.territories.iter().map(|t| t.members.len()).sum(),
                meta: e.edition.meta.clone(),
            })
            .collect()
    }

    /// Territories of one edition (or all), optionally matching `query` against territory names, ids,
    /// member names and member codes (accent- and case-insensitive; every query word must start a word).
    #[must_use]
    pub fn find_territories(&self, edition: Option<&str>, query: Option<&str>) -> Vec<TerritorySummary> {
        let words: Vec<String> = query
            .map(fold)
            .unwrap_or_default()
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        // Every query word must start a word of the text ("omer" finds Saint-Omer, not "agglomération").
        let matches = |text: &str| {
            let folded = fold(text);
            let tokens: Vec<&str> = folded.split(' ').collect();
            words.iter().all(|w| tokens.iter().any(|t| t.starts_with(w.as_str())))
        };
        let mut out = Vec::new();
        for entry in self.editions().iter().filter(|e| edition.is_none_or(|id| e.edition.id.as_str() == id)) {
            for (t, territory) in entry.edition.territories.iter().enumerate() {
                if words.is_empty() || matches(&format!("{} {}", territory.name, territory.id)) {
                    out.push(self.territory_summary(entry, t, None));
                    continue;
                }
                let member = territory.members.iter().find(|m| {
                    let u = &self.units()[m.unit];
                    matches(&format!(
                        "{} {} {}",
                        u.name,
                        u.code(),
                        u.siren.as_ref().map_or("", |s| s.as_str())
                    ))
                });
                if let Some(m) = member {
                    out.push(self.territory_summary(entry, t, Some(self.unit_ref(m.unit))));
                }
            }
        }
        out
    }

    fn territory_summary(
        &self,
        entry: &EditionEntry,
        t: usize,
        matched_member: Option<UnitRef>,
    ) -> TerritorySummary {
        let territory = &entry.edition.territories[t];
        TerritorySummary {
            edition: entry.edition.id.to_string(),
            id: territory.id.to_string(),
            name: territory.name.clone(),
            region: territory.region.clone(),
            region_name: territory.region.as_deref().and_then(crate::search::region_name),
            members: territory.members.len(),
            area_km2: entry.areas_km2[t],
            communes: entry.figures[t].communes,
            population: entry.figures[t].population,
            bbox: entry.bboxes[t],
            matched_member,
        }
    }

    /// One territory with its members, or `None` when the edition or id is unknown.
    #[must_use]
    pub fn territory_detail(&self, edition: &str, id: &str) -> Option<TerritoryDetail> {
        let entry = self.edition(edition)?;
        let t = entry.edition.territories.iter().position(|t| t.id.as_str() == id)?;
        let member_list = entry.edition.territories[t]
            .members
            .iter()
            .map(|m| {
                let u = &self.units()[m.unit];
                MemberInfo {
                    kind: u.kind,
                    code: u.code().to_owned(),
                    siren: u.siren.as_ref().map(ToString::to_string),
                    name: u.name.clone(),
                    listed_name: m.listed_name.clone(),
                    population: u.population,
                }
            })
            .collect();
        Some(TerritoryDetail { summary: self.territory_summary(entry, t, None), member_list })
    }

    /// One unit by SIREN or INSEE code, with its parents and the territories it belongs to.
    #[must_use]
    pub fn unit_detail(&self, code: &str) -> Option<UnitDetail> {
        let u = self.unit_index(code)?;
        let unit = &self.units()[u];
        let via_units: Vec<usize> = std::iter::once(u).chain(self.parents_of(u).iter().copied()).collect();
        let mut territories = Vec::new();
        for entry in self.editions() {
            for &v in &via_units {
                for &t in entry.territories_of_unit(v) {
                    let territory = &entry.edition.territories[t];
                    territories.push(Membership {
                        edition: entry.edition.id.to_string(),
                        id: territory.id.to_string(),
                        name: territory.name.clone(),
                        via: self.unit_ref(v),
                    });
                }
            }
        }
        Some(UnitDetail {
            unit: self.unit_ref(u),
            siren: unit.siren.as_ref().map(ToString::to_string),
            insee: unit.insee.as_ref().map(ToString::to_string),
            legal_form: unit.legal_form.clone(),
            population: Some(self.unit_figures(u).population),
            communes: Some(self.unit_figures(u).communes),
            bbox: geo::BoundingRect::bounding_rect(&unit.geometry)
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
            parents: self.parents_of(u).iter().map(|&p| self.unit_ref(p)).collect(),
            territories,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_punctuation() {
        assert_eq!(fold("  Saint-Omer  "), "saint omer");
        assert_eq!(fold("Châtellerault"), "chatellerault");
        assert_eq!(fold("L'Haÿ-les-Roses"), "l hay les roses");
        assert_eq!(fold(""), "");
    }
}
