//! The Atlas: every unit, every edition's territories, their dissolved outlines and the spatial indexes,
//! built once from files and then only read.
//!
//! Building validates everything and reports every problem at once; answering never touches a file.
//! A point on a shared border belongs to the unit with the smallest code (INSEE code for communes, SIREN
//! otherwise) among those whose closed boundary contains it, and to that unit's parents, so every point
//! gets exactly one answer per kind of unit and per edition.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use geo::{BoundingRect, MultiPolygon, Point};
use rayon::prelude::*;
use serde::Serialize;
use smallvec::SmallVec;

use crate::figures::{CommuneCover, Figures};
use crate::geometry::area::multi_polygon_area_m2;
use crate::geometry::dissolve::dissolve;
use crate::index::{EdgeIndex, PolygonIndex};
use crate::layers::{Layer, LayerFeature};
use crate::model::{
    Edition, EditionId, InseeCode, ListedTerritory, Member, MemberCode, Siren, SourcePos, Territory, Unit,
    UnitKind,
};
use crate::search::SearchIndex;
use crate::source::composition::{CompositionError, read_composition};
use crate::source::edition_meta::read_edition_meta;
use crate::source::error::LoadError;
use crate::source::{self, ReadOptions};

/// Files the Atlas is built from.
#[derive(Debug, Clone)]
pub struct AtlasSources {
    /// Unit boundary files (Shapefile `.shp` or GeoJSON), read in order.
    pub unit_files: Vec<PathBuf>,
    /// Territory lists, one per edition.
    pub editions: Vec<EditionSource>,
}

/// One edition to load: its id and the list file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionSource {
    /// The edition id (`2023`).
    pub id: EditionId,
    /// The list file (CSV or GeoJSON).
    pub path: PathBuf,
}

impl EditionSource {
    /// Parses the CLI form `EDITION=FILE`.
    ///
    /// ```
    /// use territoires::atlas::EditionSource;
    /// let e = EditionSource::parse("2023=lists/ti.geojson").unwrap();
    /// assert_eq!(e.id.as_str(), "2023");
    /// assert!(EditionSource::parse("lists/ti.geojson").is_err());
    /// ```
    ///
    /// # Errors
    /// When there is no `=`, the edition id is not letters/digits/`-`/`_`, or the path is empty.
    pub fn parse(s: &str) -> Result<Self, EditionSourceError> {
        let (id, path) = s.split_once('=').ok_or_else(|| EditionSourceError::NoEquals(s.to_owned()))?;
        let id = EditionId::parse(id).ok_or_else(|| EditionSourceError::BadId(id.to_owned()))?;
        if path.trim().is_empty() {
            return Err(EditionSourceError::EmptyPath(id));
        }
        Ok(Self { id, path: PathBuf::from(path) })
    }
}

/// Why an `EDITION=FILE` argument is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditionSourceError {
    /// No `=` in the argument.
    #[error("expected EDITION=FILE (e.g. 2023=ti_geom.geojson), got {0:?}")]
    NoEquals(String),
    /// The part before `=` is not an edition id.
    #[error("edition id {0:?}: use 1-32 letters, digits, '-' or '_'")]
    BadId(String),
    /// Nothing after `=`.
    #[error("edition {0}: empty file path")]
    EmptyPath(EditionId),
}

impl AtlasSources {
    /// The unit layers of a geodata directory (`epci`, `ept`, `communes`, whichever exist, communes last;
    /// each a Shapefile `.shp` or else a `.geojson`) and the given editions, or, when none is given, every list in `DIR/territories/`
    /// (edition id = file stem).
    ///
    /// # Errors
    /// When the directory has no unit layer, or a default list has a name that is not a valid edition id.
    pub fn from_geodata_dir(dir: &Path, editions: Vec<EditionSource>) -> Result<Self, AtlasErrors> {
        let unit_files: Vec<PathBuf> = ["epci", "ept", "communes"]
            .iter()
            .filter_map(|layer| {
                ["shp", "geojson"].iter().map(|ext| dir.join(format!("{layer}.{ext}"))).find(|p| p.exists())
            })
            .collect();
        if unit_files.is_empty() {
            return Err(AtlasErrors(vec![AtlasError::NoUnits(dir.to_path_buf())]));
        }
        let editions =
            if editions.is_empty() { default_editions(&dir.join("territories"))? } else { editions };
        Ok(Self { unit_files, editions })
    }
}

fn default_editions(dir: &Path) -> Result<Vec<EditionSource>, AtlasErrors> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "geojson"))
        .collect();
    // Newest first: year-named editions (2023, 2019) list the current programme phase first.
    found.sort();
    found.reverse();
    found
        .into_iter()
        .map(|path| {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            EditionId::parse(&stem)
                .map(|id| EditionSource { id, path: path.clone() })
                .ok_or_else(|| AtlasErrors(vec![AtlasError::BadEditionFile(path)]))
        })
        .collect()
}

/// One problem found while building the Atlas.
#[derive(Debug, thiserror::Error)]
pub enum AtlasError {
    /// A unit file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A territory list has a problem of its own (format, codes, duplicates).
    #[error("edition {edition}: {error}")]
    Composition {
        /// The edition being read.
        edition: EditionId,
        /// What is wrong.
        error: CompositionError,
    },
    /// A member code that no loaded unit has.
    #[error("{pos}: member {code} ({name}) matches no loaded EPCI, EPT or commune")]
    UnknownMember {
        /// Where it is listed.
        pos: SourcePos,
        /// The code.
        code: MemberCode,
        /// The name listed.
        name: String,
    },
    /// The same unit listed twice in one edition under two codes (SIREN and INSEE code of a commune).
    #[error("{pos}: member {code} is {unit}, already listed at {first}")]
    DuplicateUnit {
        /// Where it is listed the second time.
        pos: SourcePos,
        /// The code given the second time.
        code: MemberCode,
        /// The unit's code and name.
        unit: String,
        /// Where it was first listed.
        first: SourcePos,
    },
    /// Two editions with the same id.
    #[error("edition {0} is given twice")]
    DuplicateEdition(EditionId),
    /// Two units with the same code.
    #[error("{file}: {kind} {code} is also in {first_file}")]
    DuplicateCode {
        /// The file of the second one.
        file: String,
        /// The kind.
        kind: UnitKind,
        /// The code.
        code: String,
        /// The file of the first one.
        first_file: String,
    },
    /// The geodata directory has no unit layer.
    #[error("{}: no unit layer found (expected epci.shp, ept.shp or communes.shp)", .0.display())]
    NoUnits(PathBuf),
    /// A default territory list whose file name is not a valid edition id.
    #[error("{}: file name is not a valid edition id (letters, digits, '-', '_')", .0.display())]
    BadEditionFile(PathBuf),
}

/// Every problem found while building, in the order found.
#[derive(Debug)]
pub struct AtlasErrors(pub Vec<AtlasError>);

impl fmt::Display for AtlasErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} error(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AtlasErrors {}

/// One edition with what answering needs: outlines, unit → territory map, outline edge index.
#[derive(Debug)]
pub struct EditionEntry {
    /// The edition's territories and members.
    pub edition: Edition,
    /// Each territory's dissolved outline, in territory order.
    pub outlines: Vec<MultiPolygon<f64>>,
    /// Territories each unit is a member of, by unit index.
    territories_of_unit: Vec<Vec<usize>>,
    /// Outline edges, for nearest-territory distances.
    edges: EdgeIndex,
    /// Geodesic area of each outline, km².
    pub areas_km2: Vec<f64>,
    /// Bounding box of each outline: `[west, south, east, north]`.
    pub bboxes: Vec<[f64; 4]>,
    /// The outlines as a map layer.
    pub layer: Layer,
    /// Communes and population of each territory, in territory order.
    pub figures: Vec<Figures>,
}

impl EditionEntry {
    /// Territories (indexes) this unit is a member of.
    #[must_use]
    pub fn territories_of_unit(&self, unit: usize) -> &[usize] {
        self.territories_of_unit.get(unit).map_or(&[], Vec::as_slice)
    }
}

/// How long each build step took.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildTimings {
    /// Reading unit files.
    pub units_ms: f64,
    /// Reading and resolving territory lists.
    pub editions_ms: f64,
    /// Dissolving outlines and building indexes.
    pub index_ms: f64,
}

/// The immutable in-memory model every answer comes from.
#[derive(Debug)]
pub struct Atlas {
    units: Vec<Unit>,
    by_siren: HashMap<Siren, usize>,
    by_insee: HashMap<InseeCode, usize>,
    /// Parent units of each unit (a commune's EPCI and EPT), resolved.
    parents: Vec<Vec<usize>>,
    /// Units in the polygon index, by index position (leaves: units no loaded unit has as parent).
    leaves: Vec<usize>,
    /// The answer for a point inside one leaf only, by index position: most points get it ready-made.
    leaf_answers: Vec<LeafAnswer>,
    index: PolygonIndex,
    editions: Vec<EditionEntry>,
    /// EPCI and EPT boundaries as map layers.
    unit_layers: Vec<(UnitKind, Layer)>,
    /// Unit indexes by kind, in load order.
    by_kind: Vec<(UnitKind, Vec<usize>)>,
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
    /// Communes and population of each unit, by unit index.
    unit_figures: Vec<Figures>,
}

/// Unit indexes containing a point (EPCI, EPT, commune: three at most).
pub type UnitHits = SmallVec<[usize; 3]>;

/// `(edition, territory, member unit)` indexes of the territories containing a point.
pub type TerritoryHits = SmallVec<[(usize, usize, usize); 2]>;

/// What a point inside one leaf unit answers.
#[derive(Debug, Clone, Default)]
struct LeafAnswer {
    units: UnitHits,
    territories: TerritoryHits,
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

/// Counts for a validation summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Units by kind.
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
#[derive(Debug, Clone, Serialize)]
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
    pub members_by_kind: HashMap<UnitKind, usize>,
    /// Label, period, list date, source, licence, attribution.
    pub meta: crate::model::EditionMeta,
}

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
            return Err(AtlasErrors(errors));
        }
        let editions_done = Instant::now();

        let parents: Vec<Vec<usize>> = units
            .iter()
            .map(|u| u.parents.iter().filter_map(|s| by_siren.get(s).copied()).collect())
            .collect();
        let mut is_parent = vec![false; units.len()];
        for p in parents.iter().flatten() {
            is_parent[*p] = true;
        }
        let leaves: Vec<usize> = (0..units.len()).filter(|&u| !is_parent[u]).collect();
        let cover = CommuneCover::build(&units, &parents);
        let unit_figures: Vec<Figures> = (0..units.len()).map(|u| cover.figures(&units, [u])).collect();
        // The point index, the editions and the unit layers do not depend on each other.
        let (index, (editions, unit_layers)): (_, (Vec<EditionEntry>, _)) = rayon::join(
            || PolygonIndex::build(&leaves.iter().map(|&u| &units[u].geometry).collect::<Vec<_>>()),
            || {
                rayon::join(
                    || editions.into_par_iter().map(|e| edition_entry(e, &units, &cover)).collect(),
                    || {
                        [UnitKind::Epci, UnitKind::Ept]
                            .into_par_iter()
                            .map(|kind| (kind, unit_layer(&units, &unit_figures, kind)))
                            .collect()
                    },
                )
            },
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
            unit_layers,
            by_kind: Vec::new(),
            search: SearchIndex::default(),
            timings: BuildTimings::default(),
            warnings,
            summary: Summary::default(),
            cover,
            unit_figures,
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
            .map(|k| (k, (0..units.len()).filter(|&u| units[u].kind == k).collect()))
            .collect();
        atlas.search = search;
        atlas.timings = timings;
        atlas.summary = atlas.count();
        // The build frees about a quarter of what it allocates.
        crate::memory::release_freed();
        Ok(atlas)
    }

    /// Every loaded unit.
    #[must_use]
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// Every loaded edition, in load order.
    #[must_use]
    pub fn editions(&self) -> &[EditionEntry] {
        &self.editions
    }

    /// The edition with this id.
    #[must_use]
    pub fn edition(&self, id: &str) -> Option<&EditionEntry> {
        self.editions.iter().find(|e| e.edition.id.as_str() == id)
    }

    /// The unit with this SIREN or INSEE code.
    #[must_use]
    pub fn unit_by_code(&self, code: &str) -> Option<&Unit> {
        self.unit_index(code).map(|i| &self.units[i])
    }

    /// The index of the unit with this SIREN or INSEE code.
    #[must_use]
    pub fn unit_index(&self, code: &str) -> Option<usize> {
        Siren::parse(code)
            .and_then(|s| self.by_siren.get(&s))
            .or_else(|| InseeCode::parse(code).and_then(|c| self.by_insee.get(&c)))
            .copied()
    }

    /// The parent units (EPCI, EPT) of a unit.
    #[must_use]
    pub fn parents_of(&self, unit: usize) -> &[usize] {
        &self.parents[unit]
    }

    /// Indexes of the units of one kind, in load order.
    #[must_use]
    pub fn units_of_kind(&self, kind: UnitKind) -> &[usize] {
        self.by_kind.iter().find(|(k, _)| *k == kind).map_or(&[], |(_, v)| v.as_slice())
    }

    /// The boundary layer of a kind of unit (EPCI, EPT).
    #[must_use]
    pub fn unit_layer(&self, kind: UnitKind) -> Option<&Layer> {
        self.unit_layers.iter().find(|(k, _)| *k == kind).map(|(_, l)| l)
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
    pub fn unit_figures(&self, unit: usize) -> Figures {
        self.unit_figures.get(unit).copied().unwrap_or_default()
    }

    /// The communes (unit indexes) a unit covers.
    #[must_use]
    pub fn communes_of(&self, unit: usize) -> &[usize] {
        self.cover.communes_of(unit)
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

    /// Indexes of the units containing `point`: at most one per kind (the border rule in the module
    /// docs), with their parents, ordered EPCI, EPT, commune.
    #[must_use]
    pub fn units_containing(&self, point: Point<f64>) -> UnitHits {
        self.containing(point).units
    }

    /// For each edition (by index), the territories containing `point` and the member unit through
    /// which each does, as `(edition, territory, unit)`; the cheap path for batches.
    #[must_use]
    pub fn territories_containing(&self, point: Point<f64>) -> TerritoryHits {
        self.containing(point).territories
    }

    /// Units and territories containing `point`: ready-made when one leaf covers it, worked out from
    /// the leaves on a border.
    fn containing(&self, point: Point<f64>) -> LeafAnswer {
        match self.index.covering(point).as_slice() {
            [] => LeafAnswer::default(),
            [leaf] => self.leaf_answers[*leaf as usize].clone(),
            leaves => {
                let units = self.units_of_leaves(leaves);
                LeafAnswer { territories: self.territories_of_units(&units), units }
            }
        }
    }

    /// The units of a point covered by these leaves (positions in the polygon index): the smallest
    /// code per kind, then their parents, ordered by kind.
    fn units_of_leaves(&self, leaves: &[u32]) -> UnitHits {
        let mut found = UnitHits::new();
        // Leaves come ascending by position; picking the smallest code per kind makes the answer
        // independent of load order.
        for &leaf in leaves {
            let u = self.leaves[leaf as usize];
            let kind = self.units[u].kind;
            match found.iter_mut().find(|f| self.units[**f].kind == kind) {
                Some(f) if self.units[u].code() < self.units[*f].code() => *f = u,
                Some(_) => {}
                None => found.push(u),
            }
        }
        let leaves_found = found.len();
        for i in 0..leaves_found {
            for &p in &self.parents[found[i]] {
                if !found.iter().any(|f| self.units[*f].kind == self.units[p].kind) {
                    found.push(p);
                }
            }
        }
        found.sort_by_key(|&u| self.units[u].kind);
        found
    }

    /// The territories, edition by edition, that these units are members of.
    fn territories_of_units(&self, units: &[usize]) -> TerritoryHits {
        let mut hits = TerritoryHits::new();
        for (e, entry) in self.editions.iter().enumerate() {
            for &u in units {
                for &t in entry.territories_of_unit(u) {
                    if !hits.iter().any(|&(he, ht, _)| he == e && ht == t) {
                        hits.push((e, t, u));
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
            .map(|&(e, t, u)| {
                let entry = &self.editions[e];
                let territory = &entry.edition.territories[t];
                TerritoryHit {
                    edition: entry.edition.id.to_string(),
                    id: territory.id.to_string(),
                    name: territory.name.clone(),
                    via: self.unit_ref(u),
                }
            })
            .collect();
        let nearest = self
            .editions
            .iter()
            .enumerate()
            .filter(|(e, _)| !hits.iter().any(|h| h.0 == *e))
            .filter_map(|(_, entry)| {
                let n = entry.edges.nearest(point)?;
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

    /// The answer form of a unit.
    #[must_use]
    pub fn unit_ref(&self, u: usize) -> UnitRef {
        let unit = &self.units[u];
        UnitRef { kind: unit.kind, code: unit.code().to_owned(), name: unit.name.clone() }
    }

    /// Counts for `validate` and `/healthz`.
    #[must_use]
    pub fn summary(&self) -> Summary {
        self.summary.clone()
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
                    *members_by_kind.entry(self.units[m.unit].kind).or_insert(0) += 1;
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

/// Maps SIREN and INSEE codes to unit indexes, reporting codes given twice.
fn code_maps(
    units: &[Unit],
    files: &[String],
    errors: &mut Vec<AtlasError>,
) -> (HashMap<Siren, usize>, HashMap<InseeCode, usize>) {
    let mut by_siren: HashMap<Siren, usize> = HashMap::with_capacity(units.len());
    let mut by_insee: HashMap<InseeCode, usize> = HashMap::with_capacity(units.len());
    let duplicate = |u: usize, first: usize, code: String| AtlasError::DuplicateCode {
        file: files[u].clone(),
        kind: units[u].kind,
        code,
        first_file: files[first].clone(),
    };
    for (i, unit) in units.iter().enumerate() {
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
    by_siren: &HashMap<Siren, usize>,
    by_insee: &HashMap<InseeCode, usize>,
    units: &[Unit],
) -> Result<Edition, Vec<AtlasError>> {
    let mut errors = Vec::new();
    let mut first_seen: HashMap<usize, SourcePos> = HashMap::new();
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
                    unit: format!("{} {} {}", units[unit].kind, units[unit].code(), units[unit].name),
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

/// The units of one kind as a map layer.
fn unit_layer(units: &[Unit], figures: &[Figures], kind: UnitKind) -> Layer {
    let features: Vec<LayerFeature> = units
        .iter()
        .zip(figures)
        .filter(|(u, _)| u.kind == kind)
        .map(|(u, f)| {
            let mut properties = serde_json::Map::new();
            properties.insert("kind".into(), u.kind.label().into());
            properties.insert("code".into(), u.code().into());
            properties.insert("name".into(), u.name.as_str().into());
            properties.insert("type".into(), u.legal_form.as_str().into());
            properties.insert("communes".into(), f.communes.into());
            properties.insert("population".into(), f.population.into());
            LayerFeature { id: u.code().to_owned(), properties, geometry: u.geometry.clone() }
        })
        .collect();
    Layer::build(&features)
}

/// Dissolves each territory's members into an outline and indexes the outlines' edges.
fn edition_entry(edition: Edition, units: &[Unit], cover: &CommuneCover) -> EditionEntry {
    let mut territories_of_unit: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    for (t, territory) in edition.territories.iter().enumerate() {
        for m in &territory.members {
            territories_of_unit[m.unit].push(t);
        }
    }
    let outlines: Vec<MultiPolygon<f64>> = edition
        .territories
        .par_iter()
        .map(|territory| {
            let parts: Vec<&MultiPolygon<f64>> =
                territory.members.iter().map(|m| &units[m.unit].geometry).collect();
            dissolve(&parts)
        })
        .collect();
    let edges = EdgeIndex::build(&outlines.iter().collect::<Vec<_>>());
    let areas_km2: Vec<f64> =
        outlines.iter().map(|o| (multi_polygon_area_m2(o) / 1e4).round() / 100.0).collect();
    let bboxes: Vec<[f64; 4]> = outlines
        .iter()
        .map(|o| o.bounding_rect().map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]))
        .collect();
    let figures: Vec<Figures> =
        edition.territories.iter().map(|t| cover.figures(units, t.members.iter().map(|m| m.unit))).collect();
    let features: Vec<LayerFeature> = edition
        .territories
        .iter()
        .zip(&outlines)
        .zip(&areas_km2)
        .zip(&figures)
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
    let layer = Layer::build(&features);
    EditionEntry { edition, outlines, territories_of_unit, edges, areas_km2, bboxes, layer, figures }
}
