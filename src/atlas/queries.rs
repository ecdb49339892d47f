//! Answers about what the Atlas holds: editions, territory lists and search, one territory's details,
//! one unit and the territories it belongs to. Typed structs, serialised by the API and the CLI.

use serde::Serialize;

use super::{Atlas, EditionEntry, UnitRef};
use crate::figures::Figures;
use crate::model::{TerritoryIx, UnitIx, UnitKind};
use crate::text::{fold, region_name};

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
    /// Current communes it covers (1 for a commune) and their summed municipal population.
    pub figures: Figures,
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

/// Where the communes of one territory are in another edition.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditionOverlap {
    /// The other edition's id.
    pub edition: String,
    /// Its territories holding some of the communes, most communes first.
    pub territories: Vec<TerritoryShare>,
    /// Communes of the territory in no territory of that edition.
    pub unlabelled_communes: u32,
}

/// A territory of another edition and how many communes it shares.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerritoryShare {
    /// Territory id in that edition.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Communes of the first territory it holds too.
    pub communes: u32,
}

impl Atlas {
    /// For every other edition, which of its territories hold the communes of territory `id` of
    /// `edition`, and how many of them are in none; `None` when the edition or id is unknown.
    #[must_use]
    pub fn territory_overlaps(&self, edition: &str, id: &str) -> Option<Vec<EditionOverlap>> {
        let entry = self.edition(edition)?;
        let territory = entry.edition.territories.iter().find(|t| t.id.as_str() == id)?;
        let mut communes: Vec<UnitIx> =
            territory.members.iter().flat_map(|m| self.communes_of(m.unit).iter().copied()).collect();
        communes.sort_unstable();
        communes.dedup();
        let others = self.editions().iter().filter(|e| e.edition.id.as_str() != edition);
        Some(
            others
                .map(|other| {
                    let mut counts: Vec<(TerritoryIx, u32)> = Vec::new();
                    let mut unlabelled = 0;
                    for &c in &communes {
                        let mut holders: Vec<TerritoryIx> = std::iter::once(c)
                            .chain(self.parents_of(c).iter().copied())
                            .flat_map(|u| other.territories_of_unit(u).iter().copied())
                            .collect();
                        holders.sort_unstable();
                        holders.dedup();
                        if holders.is_empty() {
                            unlabelled += 1;
                        }
                        for t in holders {
                            match counts.iter_mut().find(|(x, _)| *x == t) {
                                Some((_, n)) => *n += 1,
                                None => counts.push((t, 1)),
                            }
                        }
                    }
                    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    EditionOverlap {
                        edition: other.edition.id.to_string(),
                        territories: counts
                            .into_iter()
                            .map(|(t, n)| {
                                let t = other.territory(t);
                                TerritoryShare { id: t.id.to_string(), name: t.name.clone(), communes: n }
                            })
                            .collect(),
                        unlabelled_communes: unlabelled,
                    }
                })
                .collect(),
        )
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
            for (t, territory) in entry.edition.positioned() {
                if words.is_empty() || matches(&format!("{} {}", territory.name, territory.id)) {
                    out.push(Self::territory_summary(entry, t, None));
                    continue;
                }
                let member = territory.members.iter().find(|m| {
                    let u = self.unit(m.unit);
                    matches(&format!(
                        "{} {} {}",
                        u.name,
                        u.code(),
                        u.siren.as_ref().map_or("", |s| s.as_str())
                    ))
                });
                if let Some(m) = member {
                    out.push(Self::territory_summary(entry, t, Some(self.unit_ref(m.unit))));
                }
            }
        }
        out
    }

    fn territory_summary(
        entry: &EditionEntry,
        t: TerritoryIx,
        matched_member: Option<UnitRef>,
    ) -> TerritorySummary {
        let territory = entry.territory(t);
        let t = t.get();
        TerritorySummary {
            edition: entry.edition.id.to_string(),
            id: territory.id.to_string(),
            name: territory.name.clone(),
            region: territory.region.clone(),
            region_name: territory.region.as_deref().and_then(region_name),
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
        let (t, territory) = entry.edition.positioned().find(|(_, t)| t.id.as_str() == id)?;
        let member_list = territory
            .members
            .iter()
            .map(|m| {
                let u = self.unit(m.unit);
                MemberInfo {
                    kind: u.kind,
                    code: u.code().to_owned(),
                    siren: u.siren.as_ref().map(ToString::to_string),
                    name: u.name.clone(),
                    listed_name: m.listed_name.clone(),
                    population: u.population,
                    figures: self.unit_figures(m.unit),
                }
            })
            .collect();
        Some(TerritoryDetail { summary: Self::territory_summary(entry, t, None), member_list })
    }

    /// One unit by SIREN or INSEE code, with its parents and the territories it belongs to.
    #[must_use]
    pub fn unit_detail(&self, code: &str) -> Option<UnitDetail> {
        let u = self.unit_index(code)?;
        let unit = self.unit(u);
        let via_units: Vec<UnitIx> = std::iter::once(u).chain(self.parents_of(u).iter().copied()).collect();
        let mut territories = Vec::new();
        for entry in self.editions() {
            for &v in &via_units {
                for &t in entry.territories_of_unit(v) {
                    let territory = entry.territory(t);
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
            bbox: geo::BoundingRect::bounding_rect(&*unit.geometry)
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
            parents: self.parents_of(u).iter().map(|&p| self.unit_ref(p)).collect(),
            territories,
        })
    }
}
