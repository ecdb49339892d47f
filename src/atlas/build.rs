//! Building the Atlas: read unit files side by side, resolve each edition's members, dissolve outlines,
//! build the point index, figures and search index. Every problem is collected and reported at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use geo::{BoundingRect, MultiPolygon};
use rayon::prelude::*;

use super::lookup::LeafAnswer;
use super::search::SearchIndex;
use super::{
    Atlas, AtlasError, AtlasErrors, AtlasSources, BuildTimings, EditionEntry, EditionSource, EditionSummary,
    Summary,
};
use crate::codes::{CodeTable, Seats};
use crate::figures::{CommuneCover, Figures};
use crate::geometry::area::multi_polygon_area_m2;
use crate::geometry::dissolve::dissolve;
use crate::index::PolygonIndex;
use crate::model::{
    Edition, EditionId, ErrorList, InseeCode, ListedTerritory, Member, MemberCode, Siren, SourcePos,
    Territory, TerritoryIx, Unit, UnitIx, UnitKind,
};
use crate::source::composition::read_composition;
use crate::source::edition_meta::read_edition_meta;
use crate::source::{self, ReadOptions};

impl Atlas {
    /// Reads every source, validates, resolves members, dissolves outlines and builds the indexes.
    ///
    /// # Errors
    /// Every problem found: unreadable files, bad lists, unknown or duplicate members.
    pub fn build(sources: &AtlasSources) -> Result<Self, AtlasErrors> {
        let started = Instant::now();
        let mut errors = Vec::new();
        let mut units = Vec::new();
        let mut unit_files: Vec<String> = Vec::new();
        // Files are read side by side; results are taken in the given order.
        let read: Vec<_> = sources
            .unit_files
            .par_iter()
            .map(|path| (path, source::read_units_with_report(path, &ReadOptions::default())))
            .collect();
        let mut warnings = Vec::new();
        for (path, result) in read {
            match result {
                Ok((read, mut report)) => {
                    warnings.append(&mut report);
                    unit_files.extend(std::iter::repeat_n(path.display().to_string(), read.len()));
                    units.extend(read);
                }
                Err(e) => errors.push(AtlasError::Load(e)),
            }
        }
        let (by_siren, by_insee) = code_maps(&units, &unit_files, &mut errors);
        let codes = match sources.code_table.as_deref().map(CodeTable::read).transpose() {
            Ok(table) => table.unwrap_or_default(),
            Err(e) => {
                errors.push(e.into());
                CodeTable::default()
            }
        };
        let seats = match sources.seats.as_deref().map(Seats::read).transpose() {
            Ok(seats) => seats.unwrap_or_default(),
            Err(e) => {
                errors.push(e.into());
                Seats::default()
            }
        };
        let units_done = Instant::now();

        let mut editions = Vec::new();
        let mut seen_ids: Vec<&EditionId> = Vec::new();
        for es in &sources.editions {
            if seen_ids.contains(&&es.id) {
                errors.push(AtlasError::DuplicateEdition(es.id.clone()));
                continue;
            }
            seen_ids.push(&es.id);
            // Syntax errors and unknown codes are reported together, so one run lists every problem.
            let listed = read_composition(&es.path);
            let meta = match read_edition_meta(&es.path, &es.id) {
                Ok(meta) => meta,
                Err(error) => {
                    errors.push(AtlasError::Composition { edition: es.id.clone(), error: error.into() });
                    continue;
                }
            };
            errors.extend(
                listed
                    .errors
                    .into_iter()
                    .map(|error| AtlasError::Composition { edition: es.id.clone(), error }),
            );
            match resolve_edition(es, listed.territories, &by_siren, &by_insee, &units) {
                Ok(edition) => editions.push(crate::model::Edition { meta, ..edition }),
                Err(errs) => errors.extend(errs),
            }
        }
        if !errors.is_empty() {
            return Err(ErrorList(errors));
        }
        let editions_done = Instant::now();

        let parents: Vec<Vec<UnitIx>> = units
            .iter()
            .map(|u| u.parents.iter().filter_map(|s| by_siren.get(s).copied()).collect())
            .collect();
        let mut is_parent = vec![false; units.len()];
        for p in parents.iter().flatten() {
            is_parent[p.get()] = true;
        }
        let leaves: Vec<UnitIx> = UnitIx::all(units.len()).filter(|u| !is_parent[u.get()]).collect();
        let cover = CommuneCover::build(&units, &parents);
        let unit_figures: Vec<Figures> =
            UnitIx::all(units.len()).map(|u| cover.figures(&units, [u])).collect();
        // The point index and the editions do not depend on each other.
        let (index, editions): (_, Vec<EditionEntry>) = rayon::join(
            || PolygonIndex::build_shared(leaves.iter().map(|u| units[u.get()].geometry.clone()).collect()),
            || editions.into_par_iter().map(|e| edition_entry(e, &units, &cover)).collect(),
        );
        let mut atlas = Self {
            units,
            by_siren,
            by_insee,
            parents,
            leaves,
            leaf_answers: Vec::new(),
            index,
            editions,
            by_kind: Vec::new(),
            search: SearchIndex::default(),
            timings: BuildTimings::default(),
            warnings,
            summary: Summary::default(),
            cover,
            unit_figures,
            codes,
            seats,
        };
        atlas.leaf_answers = (0..atlas.leaves.len() as u32)
            .map(|leaf| {
                let units = atlas.units_of_leaves(&[leaf]);
                LeafAnswer { territories: atlas.territories_of_units(&units), units }
            })
            .collect();
        let (units, editions) = (&atlas.units, &atlas.editions);
        let search = SearchIndex::build(units, editions.iter().map(|e| &e.edition));
        let timings = BuildTimings {
            units_ms: ms(units_done - started),
            editions_ms: ms(editions_done - units_done),
            index_ms: ms(editions_done.elapsed()),
        };
        atlas.by_kind = [UnitKind::Epci, UnitKind::Ept, UnitKind::Commune]
            .into_iter()
            .map(|k| (k, UnitIx::all(units.len()).filter(|u| units[u.get()].kind == k).collect()))
            .collect();
        atlas.search = search;
        atlas.timings = timings;
        atlas.summary = atlas.count();
        // The build frees about a quarter of what it allocates.
        crate::memory::release_freed();
        Ok(atlas)
    }

    /// Counts the units and members (once, at build: `/healthz` answers from it).
    fn count(&self) -> Summary {
        let mut units = HashMap::new();
        for u in &self.units {
            *units.entry(u.kind).or_insert(0) += 1;
        }
        let editions = self
            .editions
            .iter()
            .map(|e| {
                let mut members_by_kind = HashMap::new();
                let mut members = 0;
                for m in e.edition.territories.iter().flat_map(|t| &t.members) {
                    *members_by_kind.entry(self.unit(m.unit).kind).or_insert(0) += 1;
                    members += 1;
                }
                EditionSummary {
                    id: e.edition.id.to_string(),
                    source: e.edition.source.clone(),
                    territories: e.edition.territories.len(),
                    members,
                    members_by_kind,
                    meta: e.edition.meta.clone(),
                }
            })
            .collect();
        Summary {
            units,
            editions,
            index_pieces: self.index.len(),
            timings: self.timings.clone(),
            warnings: self.warnings.len(),
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

/// Maps SIREN and INSEE codes to unit positions, reporting codes given twice.
fn code_maps(
    units: &[Unit],
    files: &[String],
    errors: &mut Vec<AtlasError>,
) -> (HashMap<Siren, UnitIx>, HashMap<InseeCode, UnitIx>) {
    let mut by_siren: HashMap<Siren, UnitIx> = HashMap::with_capacity(units.len());
    let mut by_insee: HashMap<InseeCode, UnitIx> = HashMap::with_capacity(units.len());
    let duplicate = |u: UnitIx, first: UnitIx, code: String| AtlasError::DuplicateCode {
        file: files[u.get()].clone(),
        kind: units[u.get()].kind,
        code,
        first_file: files[first.get()].clone(),
    };
    for (i, unit) in UnitIx::all(units.len()).zip(units) {
        if let Some(s) = &unit.siren {
            if let Some(&first) = by_siren.get(s) {
                errors.push(duplicate(i, first, s.to_string()));
            } else {
                by_siren.insert(s.clone(), i);
            }
        }
        if let Some(c) = &unit.insee {
            if let Some(&first) = by_insee.get(c) {
                errors.push(duplicate(i, first, c.to_string()));
            } else {
                by_insee.insert(c.clone(), i);
            }
        }
    }
    (by_siren, by_insee)
}

/// Matches listed members to units; every unknown or duplicate member is an error.
fn resolve_edition(
    source: &EditionSource,
    listed: Vec<ListedTerritory>,
    by_siren: &HashMap<Siren, UnitIx>,
    by_insee: &HashMap<InseeCode, UnitIx>,
    units: &[Unit],
) -> Result<Edition, Vec<AtlasError>> {
    let mut errors = Vec::new();
    let mut first_seen: HashMap<UnitIx, SourcePos> = HashMap::new();
    let mut territories = Vec::with_capacity(listed.len());
    for lt in listed {
        let mut members = Vec::with_capacity(lt.members.len());
        for lm in lt.members {
            let unit = match &lm.code {
                MemberCode::Siren(s) => by_siren.get(s),
                MemberCode::Insee(c) => by_insee.get(c),
            };
            let Some(&unit) = unit else {
                errors.push(AtlasError::UnknownMember { pos: lm.pos, code: lm.code, name: lm.name });
                continue;
            };
            if let Some(first) = first_seen.get(&unit) {
                errors.push(AtlasError::DuplicateUnit {
                    pos: lm.pos,
                    code: lm.code,
                    unit: {
                        let u = &units[unit.get()];
                        format!("{} {} {}", u.kind, u.code(), u.name)
                    },
                    first: first.clone(),
                });
                continue;
            }
            first_seen.insert(unit, lm.pos);
            members.push(Member { unit, listed_name: lm.name });
        }
        let region = lt.id.region_code().map(str::to_owned);
        territories.push(Territory { id: lt.id, name: lt.name, region, members });
    }
    if errors.is_empty() {
        Ok(Edition {
            id: source.id.clone(),
            source: source.path.display().to_string(),
            meta: crate::model::EditionMeta::fallback(&source.id),
            territories,
        })
    } else {
        Err(errors)
    }
}

/// Dissolves each territory's members into an outline, with its area, box and figures.
fn edition_entry(edition: Edition, units: &[Unit], cover: &CommuneCover) -> EditionEntry {
    let mut territories_of_unit: Vec<Vec<TerritoryIx>> = vec![Vec::new(); units.len()];
    for (t, territory) in edition.positioned() {
        for m in &territory.members {
            territories_of_unit[m.unit.get()].push(t);
        }
    }
    let outlines: Vec<MultiPolygon<f64>> = edition
        .territories
        .par_iter()
        .map(|territory| {
            let parts: Vec<&MultiPolygon<f64>> =
                territory.members.iter().map(|m| &*units[m.unit.get()].geometry).collect();
            dissolve(&parts)
        })
        .collect();
    let edges = std::sync::OnceLock::new();
    let areas_km2: Vec<f64> =
        outlines.iter().map(|o| (multi_polygon_area_m2(o) / 1e4).round() / 100.0).collect();
    let bboxes: Vec<[f64; 4]> = outlines
        .iter()
        .map(|o| o.bounding_rect().map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]))
        .collect();
    let figures: Vec<Figures> =
        edition.territories.iter().map(|t| cover.figures(units, t.members.iter().map(|m| m.unit))).collect();
    EditionEntry { edition, outlines, territories_of_unit, edges, areas_km2, bboxes, figures }
}

impl Atlas {
    /// This Atlas as a snapshot keeps it: build timings cleared, and the geodata directory `dir` written
    /// as `geodata` in the file names it carries (edition sources, warnings), so the same files give the
    /// same snapshot bytes wherever they were read from.
    #[must_use]
    pub fn normalised_for_snapshot(mut self, dir: &std::path::Path) -> Self {
        let from = dir.display().to_string();
        let relabel = |s: &mut String| {
            if from != "geodata" && !from.is_empty() && s.contains(&from) {
                *s = s.replace(&from, "geodata");
            }
        };
        for entry in &mut self.editions {
            relabel(&mut entry.edition.source);
        }
        for edition in &mut self.summary.editions {
            relabel(&mut edition.source);
        }
        self.warnings.iter_mut().for_each(relabel);
        self.with_load_time(0.0)
    }

    /// Gives the point index of an Atlas read back from a snapshot the leaf geometries it was built over
    /// (a snapshot holds them once, with the units) and its grid words.
    ///
    /// # Errors
    /// When the index does not fit the leaves (a snapshot written by another build).
    pub(crate) fn attach_index(&mut self, grid_words: std::borrow::Cow<'static, [u8]>) -> Result<(), String> {
        let geometries = self.leaves.iter().map(|u| self.units[u.get()].geometry.clone()).collect();
        self.index.attach(geometries)?;
        self.index.attach_grid_words(grid_words)
    }

    /// The point index's grid words, which a snapshot stores apart from the rest.
    pub(crate) fn grid_words(&self) -> &[u8] {
        self.index.grid_words()
    }

    /// Records how long loading took when the Atlas was read back rather than built.
    #[must_use]
    pub fn with_load_time(mut self, ms: f64) -> Self {
        self.timings = BuildTimings { units_ms: ms, editions_ms: 0.0, index_ms: 0.0 };
        self.summary.timings = self.timings.clone();
        self
    }
}
