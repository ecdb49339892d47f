//! GeoJSON unit reader: a FeatureCollection of Polygon/MultiPolygon features, with the old-style `crs`
//! member honoured (IGN and ANCT still write it).

use std::path::Path;

use geo::MultiPolygon;
use geojson::{FeatureCollection, GeoJson};

use super::crs::Crs;
use super::{Attributes, LoadError, ReadOptions, unit_from};
use crate::model::Unit;

/// Reads every feature of a GeoJSON FeatureCollection as a unit, in WGS84.
///
/// # Errors
/// Not JSON, not a FeatureCollection, an unknown `crs`, a feature without polygon geometry or valid code.
pub fn read_units(path: &Path, opts: &ReadOptions) -> Result<Vec<Unit>, LoadError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io { file: file.clone(), source })?;
    parse_units(&bytes, path, opts)
}

/// Parses GeoJSON bytes; `path` names the source in errors and may tell the kind of unit.
///
/// # Errors
/// As [`read_units`].
pub fn parse_units(bytes: &[u8], path: &Path, opts: &ReadOptions) -> Result<Vec<Unit>, LoadError> {
    let file = path.display().to_string();
    let json_error = |message: String| LoadError::Json { file: file.clone(), message };
    let text = std::str::from_utf8(bytes).map_err(|e| json_error(format!("not UTF-8: {e}")))?;
    let collection = match text.parse::<GeoJson>().map_err(|e| json_error(e.to_string()))? {
        GeoJson::FeatureCollection(fc) => fc,
        _ => return Err(json_error("expected a FeatureCollection".into())),
    };
    let crs = crs_of(&collection, opts).map_err(|crs| LoadError::UnknownCrs { file: file.clone(), crs })?;
    let to_wgs84 = crs.to_wgs84().map_err(|m| json_error(format!("projection: {m}")))?;
    collection
        .features
        .into_iter()
        .enumerate()
        .map(|(i, feature)| {
            let place = format!("feature {i}");
            let record_error =
                |message: String| LoadError::Record { file: file.clone(), place: place.clone(), message };
            let geometry = feature.geometry.ok_or_else(|| record_error("no geometry".into()))?;
            let mut geometry: MultiPolygon<f64> = match geo::Geometry::<f64>::try_from(geometry) {
                Ok(geo::Geometry::Polygon(p)) => MultiPolygon(vec![p]),
                Ok(geo::Geometry::MultiPolygon(mp)) => mp,
                Ok(_) => return Err(record_error("geometry is not a Polygon or MultiPolygon".into())),
                Err(e) => return Err(record_error(format!("bad geometry: {e}"))),
            };
            to_wgs84.apply(&mut geometry).map_err(|message| LoadError::Projection {
                file: file.clone(),
                place: place.clone(),
                message,
            })?;
            let mut attrs = Attributes::default();
            for (name, value) in feature.properties.unwrap_or_default() {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                attrs.push(&name, text);
            }
            unit_from(&attrs, geometry, opts, path, &place)
        })
        .collect()
}

/// The named `crs` of the collection, else the assumed one, else WGS84 (RFC 7946).
fn crs_of(collection: &FeatureCollection, opts: &ReadOptions) -> Result<Crs, String> {
    let name = collection
        .foreign_members
        .as_ref()
        .and_then(|m| m.get("crs"))
        .and_then(|crs| crs.pointer("/properties/name"))
        .and_then(serde_json::Value::as_str);
    match name {
        Some(name) => Crs::from_name(name).ok_or_else(|| name.to_owned()),
        None => Ok(opts.assume_crs.unwrap_or(Crs::Wgs84)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;
    use proptest::prelude::*;

    #[test]
    fn a_lambert93_collection_is_reprojected() {
        let json = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2154"}},
          "features":[{"type":"Feature","properties":{"INSEE_COM":"75056","NOM":"Paris","SIREN":"217500016"},
          "geometry":{"type":"Polygon","coordinates":[[[652469,6861674],[653469,6861674],[653469,6862674],[652469,6861674]]]}}]}"#;
        let units = parse_units(json.as_bytes(), Path::new("communes.geojson"), &ReadOptions::default())
            .expect("read");
        assert_eq!((units[0].kind, units[0].code()), (UnitKind::Commune, "75056"));
        let c = units[0].geometry.0[0].exterior().0[0];
        assert!((c.x - 2.352_240).abs() < 1e-6 && (c.y - 48.853_351).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn errors_name_the_feature() {
        let json = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"SIREN":"240200477","KIND":"EPCI"},"geometry":{"type":"Polygon","coordinates":[[[3,49],[3.1,49],[3,49.1],[3,49]]]}},
          {"type":"Feature","properties":{"SIREN":"2402","KIND":"EPCI"},"geometry":{"type":"Polygon","coordinates":[[[3,49],[3.1,49],[3,49.1],[3,49]]]}}]}"#;
        let err = parse_units(json.as_bytes(), Path::new("u.geojson"), &ReadOptions::default())
            .expect_err("bad")
            .to_string();
        assert!(err.starts_with("u.geojson: feature 1: field SIREN \"2402\""), "{err}");
        let unknown = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:27572"}},"features":[]}"#;
        let err = parse_units(unknown.as_bytes(), Path::new("u.geojson"), &ReadOptions::default())
            .expect_err("crs")
            .to_string();
        assert!(err.contains("unknown CRS") && err.contains("27572"), "{err}");
        let point = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"SIREN":"240200477","KIND":"EPCI"},"geometry":{"type":"Point","coordinates":[3,49]}}]}"#;
        assert!(parse_units(point.as_bytes(), Path::new("u.geojson"), &ReadOptions::default()).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_units(&bytes, Path::new("x.geojson"), &ReadOptions::default());
        }
    }
}
