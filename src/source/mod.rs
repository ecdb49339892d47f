//! Readers for unit boundary files (Shapefile, GeoJSON) into WGS84 [`Unit`]s.

pub mod composition;
pub mod crs;
pub mod edition_meta;
pub mod error;
pub mod geojson;
pub mod import;
pub mod shapefile;

use std::collections::HashMap;
use std::path::Path;

use geo::orient::{Direction, Orient};
use geo::{BooleanOps, BoundingRect, MultiPolygon, Polygon};
use rayon::prelude::*;

pub use error::LoadError;
use error::Loc;

use crate::geometry::validity;
use crate::model::{InseeCode, Siren, Unit, UnitKind, trim_name};

/// How to read a unit file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force the kind of every unit (otherwise from a `KIND` field, the file name, or an INSEE field).
    pub kind: Option<UnitKind>,
    /// CRS to assume when the file declares none: a Shapefile without `.prj` is otherwise an error, a
    /// GeoJSON without `crs` member otherwise WGS84 as RFC 7946 says.
    pub assume_crs: Option<crs::Crs>,
}

/// The unit layer files of a geodata directory: `epci`, `ept`, `communes`, whichever exist, communes last,
/// each a Shapefile `.shp` or else a `.geojson`.
#[must_use]
pub fn unit_layer_files(dir: &Path) -> Vec<std::path::PathBuf> {
    ["epci", "ept", "communes"]
        .iter()
        .filter_map(|layer| {
            ["shp", "geojson"].iter().map(|ext| dir.join(format!("{layer}.{ext}"))).find(|p| p.exists())
        })
        .collect()
}

/// Reads the units of a `.shp`, `.geojson` or `.json` file, in WGS84.
///
/// # Errors
/// See [`LoadError`]: unreadable or malformed file, unknown CRS, missing or malformed codes.
pub fn read_units(path: &Path, opts: &ReadOptions) -> Result<Vec<Unit>, LoadError> {
    read_units_with_report(path, opts).map(|(units, _)| units)
}

/// Like [`read_units`], also returning warnings (each naming file and record) about repaired geometries,
/// ignored malformed optional fields and the like.
///
/// # Errors
/// See [`LoadError`].
pub fn read_units_with_report(
    path: &Path,
    opts: &ReadOptions,
) -> Result<(Vec<Unit>, Vec<String>), LoadError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("shp") => shapefile::read(path, opts),
        Some("geojson" | "json") => geojson::read(path, opts),
        _ => Err(LoadError::UnsupportedFormat { path: path.display().to_string() }),
    }
}

/// An attribute value, whatever the file format stored it as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Attr {
    /// Text (trimmed later).
    Text(String),
    /// A number (dBase numeric fields, JSON numbers).
    Number(f64),
    /// Empty or null.
    Null,
}

impl Attr {
    /// The value as text; integral numbers are left-padded with zeros to `width` so that a code
    /// stored as a number (`2722` for INSEE `02722`) reads back right.
    fn text(&self, width: usize) -> Option<String> {
        match self {
            Self::Text(s) => {
                let t = trim_name(s);
                (!t.is_empty()).then(|| t.to_owned())
            }
            Self::Number(n) if n.is_finite() && n.fract() == 0.0 && *n >= 0.0 && *n < 1e15 => {
                Some(format!("{:0width$}", *n as u64))
            }
            Self::Number(n) if n.is_finite() => Some(n.to_string()),
            Self::Number(_) | Self::Null => None,
        }
    }

    /// The value as a non-negative integer (`12 345` and `12345.0` accepted).
    fn count(&self) -> Option<u64> {
        match self {
            Self::Number(n) if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n < 1e18 => Some(*n as u64),
            Self::Text(s) => {
                let digits: String = s.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}').collect();
                digits.parse::<u64>().ok().or_else(|| {
                    digits
                        .parse::<f64>()
                        .ok()
                        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 1e18)
                        .map(|n| n as u64)
                })
            }
            _ => None,
        }
    }
}

/// A record's attributes, by upper-cased field name so lookups are case-insensitive.
#[derive(Debug, Default)]
pub(crate) struct Attrs(HashMap<String, Attr>);

impl Attrs {
    /// Builds from (name, value) pairs in any case.
    pub(crate) fn new(pairs: impl IntoIterator<Item = (String, Attr)>) -> Self {
        Self(pairs.into_iter().map(|(k, v)| (k.trim().to_ascii_uppercase(), v)).collect())
    }

    /// The first present, non-empty field among `names`, with the name it was found under.
    fn first(&self, names: &[&'static str], width: usize) -> Option<(&'static str, String)> {
        names.iter().find_map(|n| self.0.get(*n).and_then(|v| v.text(width)).map(|v| (*n, v)))
    }

    /// Whether any of `names` is a field, even empty.
    fn has_any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.0.contains_key(*n))
    }

    fn count(&self, names: &[&str]) -> Option<u64> {
        names.iter().find_map(|n| self.0.get(*n).and_then(Attr::count))
    }
}

const KIND_FIELDS: [&str; 1] = ["KIND"];
const INSEE_FIELDS: [&str; 4] = ["INSEE", "INSEE_COM", "CODE_INSEE", "CODE"];
const GROUP_SIREN_FIELDS: [&str; 3] = ["SIREN", "CODE_SIREN", "SIREN_EPCI"];
const NAME_FIELDS: [&str; 4] = ["NOM", "NOM_COM", "NAME", "NOM_M"];
const FORM_FIELDS: [&str; 3] = ["TYPE", "NATURE", "NATURE_JUR"];
const PARENT_FIELDS: [&str; 3] = ["EPCI", "SIREN_EPCI", "EPT"];
const COUNT_FIELDS: [&str; 1] = ["NB_COM"];
const POPULATION_FIELDS: [&str; 2] = ["POP", "POPULATION"];

/// What every record of a file shares: its path for messages and the kind derived from options or name.
pub(crate) struct FileContext<'a> {
    /// The file as displayed in messages.
    pub path: String,
    /// The kind forced by options or implied by the file name.
    pub file_kind: Option<UnitKind>,
    /// The options.
    pub opts: &'a ReadOptions,
}

impl<'a> FileContext<'a> {
    /// Derives the file-level kind: options first, then the file stem (`epci*`, `ept*`, `commune*`).
    pub(crate) fn new(path: &Path, opts: &'a ReadOptions) -> Self {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_ascii_lowercase();
        let from_name = if stem.starts_with("epci") {
            Some(UnitKind::Epci)
        } else if stem.starts_with("ept") {
            Some(UnitKind::Ept)
        } else if stem.starts_with("commune") {
            Some(UnitKind::Commune)
        } else {
            None
        };
        Self { path: path.display().to_string(), file_kind: from_name, opts }
    }

    /// Maps one record's attributes and (source-CRS) geometry to a unit: kind, codes, names, then
    /// the geometry reprojected, oriented and checked.
    pub(crate) fn unit(
        &self,
        loc: Loc,
        attrs: &Attrs,
        geometry: MultiPolygon<f64>,
        reprojection: &crs::Reprojection,
        warnings: &mut Vec<String>,
    ) -> Result<Unit, LoadError> {
        let kind = self.kind(loc, attrs)?;
        let (siren, insee) = match kind {
            UnitKind::Epci | UnitKind::Ept => {
                let fields: &[&'static str] =
                    if kind == UnitKind::Epci { &GROUP_SIREN_FIELDS } else { &GROUP_SIREN_FIELDS[..2] };
                let (field, value) = attrs.first(fields, 9).ok_or_else(|| LoadError::MissingField {
                    path: self.path.clone(),
                    loc,
                    field: format!("{} (or {})", fields[0], fields[1..].join(", ")),
                })?;
                let siren = Siren::parse(&value).ok_or_else(|| self.bad_code(loc, field, &value, "SIREN"))?;
                (Some(siren), None)
            }
            UnitKind::Commune => {
                let (field, value) =
                    attrs.first(&INSEE_FIELDS, 5).ok_or_else(|| LoadError::MissingField {
                        path: self.path.clone(),
                        loc,
                        field: "INSEE (or INSEE_COM, CODE_INSEE, CODE)".into(),
                    })?;
                let insee =
                    InseeCode::parse(&value).ok_or_else(|| self.bad_code(loc, field, &value, "INSEE"))?;
                // A commune's own SIREN is optional; a malformed one is dropped, not fatal.
                let siren = attrs.first(&["SIREN"], 9).and_then(|(_, v)| {
                    let parsed = Siren::parse(&v);
                    if parsed.is_none() {
                        warnings.push(format!(
                            "{}: {loc}field SIREN \"{v}\": not a 9-digit SIREN, ignored",
                            self.path
                        ));
                    }
                    parsed
                });
                (siren, Some(insee))
            }
        };
        let name = attrs.first(&NAME_FIELDS, 0).map(|(_, v)| v).unwrap_or_default();
        let legal_form = attrs.first(&FORM_FIELDS, 0).map_or_else(
            || match kind {
                UnitKind::Commune => "COM".to_owned(),
                UnitKind::Ept => "EPT".to_owned(),
                UnitKind::Epci => String::new(),
            },
            |(_, v)| v,
        );
        let parents = if kind == UnitKind::Commune { self.parents(loc, attrs, warnings) } else { Vec::new() };
        let commune_count = attrs.count(&COUNT_FIELDS).and_then(|n| u32::try_from(n).ok());
        let population = attrs.count(&POPULATION_FIELDS);
        let geometry = self.finish_geometry(loc, geometry, reprojection, warnings)?;
        Ok(Unit {
            kind,
            siren,
            insee,
            name,
            legal_form,
            parents,
            commune_count,
            population,
            geometry: std::sync::Arc::new(geometry),
        })
    }

    /// Maps records to units in parallel (reprojection dominates load time), keeping file order for
    /// units, warnings and which error is reported: the first failing record's.
    pub(crate) fn units<S: Send>(
        &self,
        records: Vec<(Loc, Attrs, S)>,
        reprojection: &crs::Reprojection,
        to_geometry: impl Fn(Loc, S, &mut Vec<String>) -> Result<MultiPolygon<f64>, LoadError> + Sync,
    ) -> Result<(Vec<Unit>, Vec<String>), LoadError> {
        let results: Vec<Result<(Unit, Vec<String>), LoadError>> = records
            .into_par_iter()
            .map(|(loc, attrs, shape)| {
                let mut warnings = Vec::new();
                let geometry = to_geometry(loc, shape, &mut warnings)?;
                let unit = self.unit(loc, &attrs, geometry, reprojection, &mut warnings)?;
                Ok((unit, warnings))
            })
            .collect();
        let mut units = Vec::with_capacity(results.len());
        let mut warnings = Vec::new();
        for result in results {
            let (unit, w) = result?;
            units.push(unit);
            warnings.extend(w);
        }
        Ok((units, warnings))
    }

    fn bad_code(&self, loc: Loc, field: &str, value: &str, what: &str) -> LoadError {
        let expected =
            if what == "SIREN" { "not a 9-digit SIREN" } else { "not a 5-character INSEE commune code" };
        LoadError::BadCode {
            path: self.path.clone(),
            loc,
            field: field.to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        }
    }

    /// Options, then a `KIND` field, then the file name, then an INSEE field meaning communes.
    fn kind(&self, loc: Loc, attrs: &Attrs) -> Result<UnitKind, LoadError> {
        if let Some(kind) = self.opts.kind {
            return Ok(kind);
        }
        if let Some((_, value)) = attrs.first(&KIND_FIELDS, 0) {
            return UnitKind::parse(&value).ok_or_else(|| LoadError::UnknownKind {
                path: self.path.clone(),
                loc,
                message: format!("field KIND \"{value}\": expected EPCI, EPT or COM"),
            });
        }
        if let Some(kind) = self.file_kind {
            return Ok(kind);
        }
        if attrs.has_any(&INSEE_FIELDS) {
            return Ok(UnitKind::Commune);
        }
        Err(LoadError::UnknownKind {
            path: self.path.clone(),
            loc,
            message: "cannot tell whether units are EPCI, EPT or communes: no KIND field, no INSEE field, \
                      and the file name does not start with epci, ept or commune (set the kind explicitly)"
                .into(),
        })
    }

    /// SIRENs of the EPCI and EPT; ADMIN EXPRESS writes `ZZZZZZZZZ` or `NR` for none and
    /// `metropolis/EPT` pairs for Grand Paris communes, hence the splitting.
    fn parents(&self, loc: Loc, attrs: &Attrs, warnings: &mut Vec<String>) -> Vec<Siren> {
        let mut parents: Vec<Siren> = Vec::new();
        for field in PARENT_FIELDS {
            let Some(value) = attrs.0.get(field).and_then(|v| v.text(9)) else { continue };
            for part in value.split(['/', ',', ';', '|', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
                let upper = part.to_ascii_uppercase();
                if upper.bytes().all(|b| b == b'Z')
                    || matches!(upper.as_str(), "NR" | "NULL" | "NONE" | "SANS")
                {
                    continue;
                }
                match Siren::parse(part) {
                    Some(s) if !parents.contains(&s) => parents.push(s),
                    Some(_) => {}
                    None => warnings.push(format!(
                        "{}: {loc}field {field} \"{part}\": not a 9-digit SIREN, parent ignored",
                        self.path
                    )),
                }
            }
        }
        parents
    }

    /// Reprojects, checks coordinates are plausible lon/lat, orients rings the geo way, and repairs
    /// invalid polygons (self-intersections, overlapping parts) with a boolean union, with a warning.
    fn finish_geometry(
        &self,
        loc: Loc,
        mut mp: MultiPolygon<f64>,
        reprojection: &crs::Reprojection,
        warnings: &mut Vec<String>,
    ) -> Result<MultiPolygon<f64>, LoadError> {
        let bad = |message: String| LoadError::BadGeometry { path: self.path.clone(), loc, message };
        // Rings with fewer than 3 distinct points have no area: drop them rather than fail the file.
        let mut dropped = 0;
        mp.0 = std::mem::take(&mut mp.0)
            .into_iter()
            .filter_map(|p| {
                let (exterior, interiors) = p.into_inner();
                if exterior.0.len() < 4 {
                    dropped += 1 + interiors.len();
                    return None;
                }
                let before = interiors.len();
                let interiors: Vec<_> = interiors.into_iter().filter(|r| r.0.len() >= 4).collect();
                dropped += before - interiors.len();
                Some(Polygon::new(exterior, interiors))
            })
            .collect();
        if dropped > 0 {
            warnings.push(format!("{}: {loc}{dropped} degenerate ring(s) dropped", self.path));
        }
        if mp.0.is_empty() {
            return Err(bad("empty geometry (no polygon with at least 3 points)".into()));
        }
        reprojection.multipolygon(&mut mp).map_err(|e| bad(e.to_string()))?;
        if let Some(rect) = mp.bounding_rect() {
            let (min, max) = (rect.min(), rect.max());
            if !(min.x >= -180.0 && max.x <= 180.0 && min.y >= -90.0 && max.y <= 90.0) {
                return Err(bad(format!(
                    "coordinates out of lon/lat range after reprojection from {} (bbox {:.1},{:.1} .. {:.1},{:.1}): \
                     wrong CRS?",
                    reprojection.from(),
                    min.x,
                    min.y,
                    max.x,
                    max.y
                )));
            }
        }
        let mut mp = mp.orient(Direction::Default);
        // geo's `Validation` tests every pair of segments of a ring: minutes for France's communes.
        // `validity::problem` sweeps instead, for the problems that matter to point lookups.
        if let Some(problem) = validity::problem(&mp) {
            let repaired = mp.union(&MultiPolygon::<f64>::new(Vec::new())).orient(Direction::Default);
            if !repaired.0.is_empty() && validity::problem(&repaired).is_none() {
                warnings.push(format!("{}: {loc}invalid geometry ({problem}), repaired", self.path));
                mp = repaired;
            } else {
                warnings.push(format!(
                    "{}: {loc}invalid geometry ({problem}), could not repair, kept",
                    self.path
                ));
            }
        }
        Ok(mp)
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Shared helpers for the readers' tests.

    use geo::{Contains, Point};

    use crate::model::Unit;

    /// Whether `unit` contains the lon/lat point.
    pub(crate) fn contains(unit: &Unit, lon: f64, lat: f64) -> bool {
        unit.geometry.contains(&Point::new(lon, lat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_extension_is_an_error() {
        let err = read_units(Path::new("units.csv"), &ReadOptions::default()).expect_err("csv");
        assert!(matches!(err, LoadError::UnsupportedFormat { .. }), "{err}");
        let opts = ReadOptions { kind: Some(UnitKind::Epci), assume_crs: None };
        let ctx = FileContext::new(Path::new("x.geojson"), &opts);
        let wgs84 = crs::Crs::Wgs84.to_wgs84().expect("proj");
        let square = geo::wkt! { MULTIPOLYGON(((0. 0.,1. 0.,1. 1.,0. 1.,0. 0.))) };
        let err = ctx
            .unit(Loc::Feature(3), &Attrs::default(), square, &wgs84, &mut Vec::new())
            .expect_err("no siren");
        assert_eq!(err.to_string(), "x.geojson: feature 3: missing field SIREN (or CODE_SIREN, SIREN_EPCI)");
    }

    #[test]
    fn numbers_read_back_as_padded_codes() {
        assert_eq!(Attr::Number(2722.0).text(5).as_deref(), Some("02722"));
        assert_eq!(Attr::Text(" 240200477\u{a0}".into()).text(9).as_deref(), Some("240200477"));
        assert_eq!(Attr::Text("  ".into()).text(5), None);
        assert_eq!(Attr::Text("12 345".into()).count(), Some(12_345));
        assert_eq!(Attr::Number(-1.0).count(), None);
    }

    #[test]
    fn grand_paris_parents_are_split() {
        let opts = ReadOptions::default();
        let ctx = FileContext::new(Path::new("COMMUNE.shp"), &opts);
        let attrs = Attrs::new([
            ("siren_epci".to_owned(), Attr::Text("200054781/200057867".into())),
            ("EPT".to_owned(), Attr::Text("200057867".into())),
        ]);
        let mut warnings = Vec::new();
        let parents = ctx.parents(Loc::Record(1), &attrs, &mut warnings);
        assert_eq!(parents.iter().map(Siren::as_str).collect::<Vec<_>>(), ["200054781", "200057867"]);
        let none = Attrs::new([("SIREN_EPCI".to_owned(), Attr::Text("ZZZZZZZZZ".into()))]);
        assert!(ctx.parents(Loc::Record(1), &none, &mut warnings).is_empty());
        assert!(warnings.is_empty());
    }
}
