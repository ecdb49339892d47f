//! Reads GeoJSON feature collections of Polygon/MultiPolygon features, honouring an old-style named `crs`.

use std::path::Path;

use ::geojson::{Feature, GeoJson, GeometryValue, PolygonType, Position};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

use super::crs::{Crs, CrsError};
use super::error::Loc;
use super::{Attr, Attrs, FileContext, LoadError, ReadOptions};
use crate::model::Unit;

/// Reads every feature of a GeoJSON file; see [`super::read_units_with_report`].
pub(crate) fn read(path: &Path, opts: &ReadOptions) -> Result<(Vec<Unit>, Vec<String>), LoadError> {
    let ctx = FileContext::new(path, opts);
    let text =
        std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: ctx.path.clone(), source })?;
    let json_error = |loc: Loc, message: String| LoadError::Json { path: ctx.path.clone(), loc, message };
    let geojson: GeoJson =
        text.parse().map_err(|e: ::geojson::Error| json_error(Loc::File, e.to_string()))?;
    let (features, foreign) = match geojson {
        GeoJson::FeatureCollection(fc) => (fc.features, fc.foreign_members),
        GeoJson::Feature(f) => {
            let foreign = f.foreign_members.clone();
            (vec![f], foreign)
        }
        GeoJson::Geometry(_) => {
            return Err(json_error(Loc::File, "a bare geometry: expected a FeatureCollection".into()));
        }
    };
    let crs = match foreign.as_ref().and_then(|m| m.get("crs")) {
        Some(member) => {
            crs_member(member).map_err(|error| LoadError::UnknownCrs { path: ctx.path.clone(), error })?
        }
        None => opts.assume_crs.unwrap_or(Crs::Wgs84),
    };
    let reprojection =
        crs.to_wgs84().map_err(|error| LoadError::UnknownCrs { path: ctx.path.clone(), error })?;
    let records: Vec<_> = features
        .into_iter()
        .enumerate()
        .map(|(i, feature)| (Loc::Feature(i), properties(&feature), feature))
        .collect();
    ctx.units(records, &reprojection, |loc, feature, _| feature_geometry(&ctx.path, loc, feature))
}

/// The CRS of a `"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}` member
/// (GeoJSON 2008; RFC 7946 dropped it but GDAL still writes it for non-WGS84 data).
fn crs_member(member: &Value) -> Result<Crs, CrsError> {
    if member.is_null() {
        return Ok(Crs::Wgs84);
    }
    let props = member.get("properties");
    match member.get("type").and_then(Value::as_str) {
        Some("name") => {
            let name = props.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or("");
            Crs::from_geojson_name(name)
        }
        Some("EPSG") => match props.and_then(|p| p.get("code")).and_then(Value::as_u64) {
            Some(code) => u32::try_from(code).map_or(Err(CrsError::UnsupportedEpsg(code)), Crs::from_epsg),
            None => Err(CrsError::UnsupportedMember(member.to_string())),
        },
        _ => Err(CrsError::UnsupportedMember(excerpt(&member.to_string()))),
    }
}

fn excerpt(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Properties as attributes; nested values are kept as their JSON text.
fn properties(feature: &Feature) -> Attrs {
    let pairs = feature.properties.iter().flatten().map(|(k, v)| {
        let attr = match v {
            Value::Null => Attr::Null,
            Value::String(s) => Attr::Text(s.clone()),
            Value::Number(n) => n.as_f64().map_or(Attr::Null, Attr::Number),
            other => Attr::Text(other.to_string()),
        };
        (k.clone(), attr)
    });
    Attrs::new(pairs)
}

fn feature_geometry(path: &str, loc: Loc, feature: Feature) -> Result<MultiPolygon<f64>, LoadError> {
    let bad = |message: String| LoadError::BadGeometry { path: path.to_owned(), loc, message };
    let Some(geometry) = feature.geometry else {
        return Err(LoadError::NullShape { path: path.to_owned(), loc });
    };
    match geometry.value {
        GeometryValue::Polygon { coordinates } => {
            Ok(MultiPolygon::new(vec![polygon(&coordinates).map_err(bad)?]))
        }
        GeometryValue::MultiPolygon { coordinates } => {
            Ok(MultiPolygon::new(coordinates.iter().map(polygon).collect::<Result<_, _>>().map_err(bad)?))
        }
        other => Err(bad(format!("a {} geometry, expected a Polygon or MultiPolygon", other.type_name()))),
    }
}

/// The first ring is the exterior, the rest holes, whatever their orientation (fixed later).
fn polygon(rings: &PolygonType) -> Result<Polygon<f64>, String> {
    let mut rings = rings.iter().map(|r| ring(r));
    let exterior = rings.next().ok_or("a polygon without rings")??;
    let interiors = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

fn ring(positions: &[Position]) -> Result<LineString<f64>, String> {
    positions
        .iter()
        .map(|p| match p.as_slice() {
            [x, y, ..] => Ok(Coord { x: *x, y: *y }),
            other => Err(format!("a position with {} coordinate(s)", other.len())),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(LineString::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;
    use crate::source::read_units;
    use crate::source::test_util::contains;

    use proptest::prelude::*;

    fn write(dir: &Path, name: &str, json: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, json).expect("write");
        path
    }

    #[test]
    fn reads_named_lambert93_crs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let json = r#"{"type":"FeatureCollection",
            "crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2154"}},
            "features":[{"type":"Feature","properties":{"insee_com":"75056","NOM":"Paris","siren_epci":"200054781/200057867"},
              "geometry":{"type":"Polygon","coordinates":[[[647469,6856674],[657469,6856674],[657469,6866674],[647469,6866674],[647469,6856674]]]}}]}"#;
        let path = write(dir.path(), "communes.geojson", json);
        let units = read_units(&path, &ReadOptions::default()).expect("read");
        assert_eq!(units.len(), 1);
        let paris = &units[0];
        assert_eq!(paris.kind, UnitKind::Commune);
        assert_eq!(paris.insee.as_ref().map(crate::model::InseeCode::as_str), Some("75056"));
        assert_eq!(paris.legal_form, "COM");
        assert_eq!(paris.parents.len(), 2);
        assert!(contains(paris, 2.3499, 48.8530));
        assert!(!contains(paris, 2.3499, 49.0));
    }

    #[test]
    fn wgs84_by_default_and_multipolygons() {
        let dir = tempfile::tempdir().expect("tempdir");
        let json = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"KIND":"EPCI","SIREN":240200477,"POPULATION":"52 000"},
              "geometry":{"type":"MultiPolygon","coordinates":[[[[3,49],[3,50],[4,50],[4,49],[3,49]],[[3.4,49.4],[3.6,49.4],[3.6,49.6],[3.4,49.6],[3.4,49.4]]],[[[5,49],[6,49],[6,50],[5,49]]]]}}]}"#;
        let path = write(dir.path(), "x.json", json);
        let (units, warnings) =
            crate::source::read_units_with_report(&path, &ReadOptions::default()).expect("read");
        assert!(warnings.is_empty(), "{warnings:?}");
        let u = &units[0];
        assert_eq!(u.kind, UnitKind::Epci);
        assert_eq!(u.siren.as_ref().map(crate::model::Siren::as_str), Some("240200477"));
        assert_eq!(u.population, Some(52_000));
        assert!(contains(u, 3.2, 49.2));
        assert!(!contains(u, 3.5, 49.5), "hole");
        assert!(contains(u, 5.9, 49.1));
    }

    #[test]
    fn errors_name_the_feature() {
        let dir = tempfile::tempdir().expect("tempdir");
        let square = r#"{"type":"Polygon","coordinates":[[[3,49],[3,50],[4,50],[4,49],[3,49]]]}"#;
        let json = format!(
            r#"{{"type":"FeatureCollection","features":[
                {{"type":"Feature","properties":{{"SIREN":"240200477"}},"geometry":{square}}},
                {{"type":"Feature","properties":{{"SIREN":"24020047"}},"geometry":{square}}}]}}"#
        );
        let path = write(dir.path(), "epci.geojson", &json);
        let err = read_units(&path, &ReadOptions::default()).expect_err("bad siren");
        assert_eq!(
            err.to_string(),
            format!("{}: feature 1: field SIREN \"24020047\": not a 9-digit SIREN", path.display())
        );
        let json = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"SIREN":"240200477"},"geometry":null}]}"#;
        let path = write(dir.path(), "epci.geojson", json);
        let err = read_units(&path, &ReadOptions::default()).expect_err("null");
        assert!(matches!(err, LoadError::NullShape { loc: Loc::Feature(0), .. }), "{err}");
        let json = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:27572"}},"features":[]}"#;
        let path = write(dir.path(), "epci.geojson", json);
        let err = read_units(&path, &ReadOptions::default()).expect_err("crs");
        assert!(matches!(err, LoadError::UnknownCrs { .. }), "{err}");
    }

    #[test]
    fn self_intersecting_polygon_is_repaired_with_a_warning() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A bow tie.
        let json = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"SIREN":"240200477"},
            "geometry":{"type":"Polygon","coordinates":[[[3,49],[4,50],[4,49],[3,50],[3,49]]]}}]}"#;
        let path = write(dir.path(), "epci.geojson", json);
        let (units, warnings) =
            crate::source::read_units_with_report(&path, &ReadOptions::default()).expect("read");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("feature 0") && warnings[0].contains("repaired"), "{warnings:?}");
        use geo::Validation;
        assert!(units[0].geometry.is_valid());
        assert!(contains(&units[0], 3.2, 49.5) && contains(&units[0], 3.8, 49.5));
        assert!(!contains(&units[0], 3.5, 49.2), "between the two triangles");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = write(dir.path(), "epci.geojson", "");
            std::fs::write(&path, &bytes).expect("write");
            let _ = read_units(&path, &ReadOptions::default());
        }

        #[test]
        fn arbitrary_coordinates_never_panic(coords in proptest::collection::vec((-1e7f64..1e7, -1e7f64..1e7), 0..8),
                                              crs in prop::sample::select(vec!["EPSG::2154", "CRS84", "EPSG::3857", "EPSG::2975"])) {
            let dir = tempfile::tempdir().expect("tempdir");
            let ring: Vec<String> = coords.iter().map(|(x, y)| format!("[{x},{y}]")).collect();
            let json = format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:{crs}"}}}},
                "features":[{{"type":"Feature","properties":{{"SIREN":"240200477"}},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}]}}"#,
                ring.join(",")
            );
            let path = write(dir.path(), "epci.geojson", &json);
            let _ = read_units(&path, &ReadOptions::default());
        }
    }
}
