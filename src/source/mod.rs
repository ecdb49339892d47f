//! Readers: unit boundaries (Shapefile, GeoJSON, with CRS handling) and territory composition lists.
//!
//! Everything read is converted to WGS84 lon/lat here, once; nothing downstream knows about CRSs.

pub mod composition;
pub mod crs;
pub mod error;
pub mod geojson;
pub mod shapefile;

use std::path::Path;

use geo::MultiPolygon;
use geo::orient::{Direction, Orient};

pub use error::LoadError;

use crate::model::{InseeCode, Siren, Unit, UnitKind, trim_name};
use crs::Crs;

/// How to read a unit file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force the kind of every unit (otherwise a `KIND` field, the file name, or an INSEE field decides).
    pub kind: Option<UnitKind>,
    /// The CRS to use when the file declares none (a Shapefile without `.prj`).
    pub assume_crs: Option<Crs>,
}

/// Reads the units of a Shapefile (`.shp`) or GeoJSON (`.geojson`, `.json`) file, in WGS84.
///
/// # Errors
/// Unreadable or malformed files, unknown CRS, records without a valid code; the error names the file
/// and the record.
pub fn read_units(path: &Path, opts: &ReadOptions) -> Result<Vec<Unit>, LoadError> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "shp" => shapefile::read_units(path, opts),
        "geojson" | "json" => geojson::read_units(path, opts),
        _ => Err(LoadError::UnsupportedFormat { file: path.display().to_string() }),
    }
}

/// A record's attributes with upper-cased names, for case-insensitive lookups by alias.
#[derive(Debug, Default)]
pub(crate) struct Attributes(Vec<(String, String)>);

impl Attributes {
    pub(crate) fn push(&mut self, name: &str, value: String) {
        self.0.push((name.to_ascii_uppercase(), value));
    }

    /// The first non-empty value among `names` (upper case).
    fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| {
            self.0.iter().find(|(k, _)| k == n).map(|(_, v)| trim_name(v)).filter(|v| !v.is_empty())
        })
    }

    fn has(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.0.iter().any(|(k, _)| k == n))
    }
}

const INSEE_FIELDS: &[&str] = &["INSEE", "INSEE_COM", "CODE_INSEE", "INSEE_CODE"];
const EPCI_SIREN_FIELDS: &[&str] = &["SIREN", "CODE_SIREN", "SIREN_EPCI"];

/// The kind of the units of a file: forced, from a `KIND` field, from the file name, or from the fields.
fn kind_of(attrs: &Attributes, opts: &ReadOptions, path: &Path) -> Option<UnitKind> {
    if let Some(kind) = opts.kind {
        return Some(kind);
    }
    if let Some(kind) = attrs.get(&["KIND"]).and_then(UnitKind::parse) {
        return Some(kind);
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if stem.starts_with("ept") {
        Some(UnitKind::Ept)
    } else if stem.starts_with("epci") {
        Some(UnitKind::Epci)
    } else if stem.starts_with("commune") || attrs.has(INSEE_FIELDS) {
        Some(UnitKind::Commune)
    } else {
        None
    }
}

/// Builds a unit from a record; `place` is `record N` or `feature N` for messages.
pub(crate) fn unit_from(
    attrs: &Attributes,
    geometry: MultiPolygon<f64>,
    opts: &ReadOptions,
    path: &Path,
    place: &str,
) -> Result<Unit, LoadError> {
    let error = |message: String| LoadError::Record {
        file: path.display().to_string(),
        place: place.to_owned(),
        message,
    };
    let kind = kind_of(attrs, opts, path).ok_or_else(|| {
        error("cannot tell EPCI, EPT or commune: no KIND field, INSEE field or telling file name".into())
    })?;
    let name = attrs.get(&["NOM", "NOM_COM", "NOM_M", "NAME", "LIBELLE"]).unwrap_or_default().to_owned();
    let parse_siren = |field: &str, value: &str| {
        Siren::parse(value).ok_or_else(|| error(format!("field {field} {value:?}: not a 9-digit SIREN")))
    };
    let (siren, insee, parents) = match kind {
        UnitKind::Epci | UnitKind::Ept => {
            let value = attrs.get(EPCI_SIREN_FIELDS).ok_or_else(|| error("no SIREN field".into()))?;
            (Some(parse_siren("SIREN", value)?), None, Vec::new())
        }
        UnitKind::Commune => {
            let code = attrs.get(INSEE_FIELDS).ok_or_else(|| error("no INSEE code field".into()))?;
            let insee = InseeCode::parse(code)
                .ok_or_else(|| error(format!("field INSEE {code:?}: not a 5-character INSEE code")))?;
            let siren = attrs.get(&["SIREN"]).map(|v| parse_siren("SIREN", v)).transpose()?;
            // Communes not in an EPCI (a few islands) have none; "ZZZZZZZZZ" is IGN's "none".
            let parents = ["EPCI", "SIREN_EPCI", "EPT"]
                .iter()
                .filter_map(|f| attrs.get(&[f]).map(|v| (f, v)))
                .filter(|(_, v)| !v.starts_with('Z') && *v != "NR")
                .map(|(f, v)| parse_siren(f, v))
                .collect::<Result<Vec<_>, _>>()?;
            (siren, Some(insee), parents)
        }
    };
    let legal_form = attrs.get(&["TYPE", "NATURE", "NATURE_JUR"]).map_or_else(
        || if kind == UnitKind::Commune { "COM".to_owned() } else { String::new() },
        str::to_owned,
    );
    let number = |names: &[&str]| attrs.get(names).and_then(|v| v.parse::<f64>().ok()).filter(|n| *n >= 0.0);
    if geometry.0.is_empty() {
        return Err(error("empty geometry".into()));
    }
    Ok(Unit {
        kind,
        siren,
        insee,
        name,
        legal_form,
        parents,
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // non-negative, checked above
        commune_count: number(&["NB_COM"]).map(|n| n as u32),
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        population: number(&["POP", "POPULATION"]).map(|n| n as u64),
        geometry: geometry.orient(Direction::Default),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn attrs(pairs: &[(&str, &str)]) -> Attributes {
        let mut a = Attributes::default();
        for (k, v) in pairs {
            a.push(k, (*v).to_owned());
        }
        a
    }

    fn square() -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)]])
    }

    #[test]
    fn fields_map_by_alias_and_kind_comes_from_the_file_name() {
        let opts = ReadOptions::default();
        let a = attrs(&[("code_siren", "240200477"), ("nom", "CA GrandSoissons"), ("nature", "CA")]);
        let unit = unit_from(&a, square(), &opts, Path::new("EPCI.shp"), "record 1").expect("unit");
        assert_eq!((unit.kind, unit.code(), unit.legal_form.as_str()), (UnitKind::Epci, "240200477", "CA"));
        let a = attrs(&[("INSEE_COM", "02722"), ("NOM", "Soissons"), ("SIREN_EPCI", "240200477")]);
        let unit = unit_from(&a, square(), &opts, Path::new("x.shp"), "record 1").expect("unit");
        assert_eq!((unit.kind, unit.code()), (UnitKind::Commune, "02722"));
        assert_eq!(unit.parents.len(), 1);
    }

    #[test]
    fn bad_codes_name_the_record_and_value() {
        let a = attrs(&[("SIREN", "12ab"), ("KIND", "EPCI")]);
        let err = unit_from(&a, square(), &ReadOptions::default(), Path::new("u.shp"), "record 12")
            .expect_err("bad siren")
            .to_string();
        assert_eq!(err, "u.shp: record 12: field SIREN \"12ab\": not a 9-digit SIREN");
        let a = attrs(&[("NOM", "x")]);
        assert!(unit_from(&a, square(), &ReadOptions::default(), Path::new("u.shp"), "record 1").is_err());
    }
}
