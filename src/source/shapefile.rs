//! Shapefile unit reader: `.shp` polygons, `.dbf` attributes (encoding from `.cpg`), CRS from `.prj`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use geo::MultiPolygon;
use shapefile::dbase::{self, FieldValue};
use shapefile::{Shape, ShapeReader};

use super::crs::Crs;
use super::{Attributes, LoadError, ReadOptions, unit_from};
use crate::model::Unit;

/// Reads every record of a Shapefile as a unit, reprojected to WGS84.
///
/// # Errors
/// Missing `.dbf`/`.prj`, unknown CRS, truncated files, different record counts in `.shp` and `.dbf`,
/// null shapes, records without a valid code.
pub fn read_units(path: &Path, opts: &ReadOptions) -> Result<Vec<Unit>, LoadError> {
    let file = path.display().to_string();
    let shp_error = |message: String| LoadError::Shapefile { file: file.clone(), message };
    let crs = crs_of(path, opts)?;
    let to_wgs84 = crs.to_wgs84().map_err(|m| shp_error(format!("projection: {m}")))?;

    let shapes = ShapeReader::from_path(path)
        .and_then(ShapeReader::read)
        .map_err(|e| shp_error(format!("cannot read shapes: {e}")))?;
    let records = read_dbf(path)?;
    if shapes.len() != records.len() {
        return Err(LoadError::RecordCountMismatch { file, shapes: shapes.len(), records: records.len() });
    }
    shapes
        .into_iter()
        .zip(records)
        .enumerate()
        .map(|(i, (shape, record))| {
            let place = format!("record {}", i + 1);
            let record_error =
                |message: String| LoadError::Record { file: file.clone(), place: place.clone(), message };
            let mut geometry: MultiPolygon<f64> = match shape {
                Shape::Polygon(p) => MultiPolygon::try_from(p),
                Shape::PolygonM(p) => MultiPolygon::try_from(p),
                Shape::PolygonZ(p) => MultiPolygon::try_from(p),
                Shape::NullShape => return Err(record_error("null shape (no geometry)".into())),
                other => {
                    return Err(record_error(format!("{} shape, expected a polygon", other.shapetype())));
                }
            }
            .map_err(|e| record_error(format!("bad polygon: {e}")))?;
            to_wgs84.apply(&mut geometry).map_err(|message| LoadError::Projection {
                file: file.clone(),
                place: place.clone(),
                message,
            })?;
            let mut attrs = Attributes::default();
            for (name, value) in record {
                attrs.push(&name, field_text(value));
            }
            unit_from(&attrs, geometry, opts, path, &place)
        })
        .collect()
}

/// The CRS from the `.prj` beside the file, or the one assumed by the caller.
fn crs_of(path: &Path, opts: &ReadOptions) -> Result<Crs, LoadError> {
    let prj = path.with_extension("prj");
    let file = path.display().to_string();
    match std::fs::read_to_string(&prj) {
        Ok(wkt) => Crs::from_prj(&wkt).map_err(|crs| LoadError::UnknownCrs { file, crs }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            opts.assume_crs.ok_or(LoadError::MissingCrs { file })
        }
        Err(source) => Err(LoadError::Io { file: prj.display().to_string(), source }),
    }
}

/// The `.dbf` records, decoded with the `.cpg` encoding (UTF-8 when there is none).
fn read_dbf(path: &Path) -> Result<Vec<dbase::Record>, LoadError> {
    let dbf = path.with_extension("dbf");
    let file = dbf.display().to_string();
    let source = File::open(&dbf).map_err(|source| LoadError::Io { file: file.clone(), source })?;
    let encoding = std::fs::read_to_string(path.with_extension("cpg")).ok().and_then(|label| {
        dbase::encoding::DynEncoding::from_name(label.trim().trim_start_matches('\u{feff}'))
    });
    let reader = match encoding {
        Some(encoding) => dbase::ReaderBuilder::new().with_encoding(encoding).build(BufReader::new(source)),
        None => dbase::Reader::new(BufReader::new(source)),
    };
    reader.and_then(|mut r| r.read()).map_err(|e| LoadError::Shapefile { file, message: e.to_string() })
}

/// A dBase value as text (integral numbers without a decimal point).
fn field_text(value: FieldValue) -> String {
    match value {
        FieldValue::Character(s) => s.unwrap_or_default(),
        FieldValue::Memo(s) => s,
        FieldValue::Numeric(Some(n)) | FieldValue::Double(n) | FieldValue::Currency(n) => number_text(n),
        FieldValue::Float(Some(n)) => number_text(f64::from(n)),
        FieldValue::Integer(n) => n.to_string(),
        _ => String::new(),
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{n:.0}") } else { n.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;
    use geo::{Centroid, Polygon};
    use shapefile::dbase::{FieldName, Record, TableWriterBuilder};

    const LAMBERT93_PRJ: &str = r#"PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]"#;

    /// Writes an EPCI-like Shapefile with one square per (SIREN, lower-left corner, size).
    fn write(
        dir: &Path,
        name: &str,
        squares: &[(&str, f64, f64, f64)],
        prj: Option<&str>,
    ) -> std::path::PathBuf {
        let shp = dir.join(name);
        let builder = TableWriterBuilder::new()
            .add_character_field(FieldName::try_from("SIREN").expect("name"), 9)
            .add_character_field(FieldName::try_from("NOM").expect("name"), 40);
        let mut writer = shapefile::Writer::from_path(&shp, builder).expect("writer");
        for (siren, x, y, size) in squares {
            let ring = vec![
                shapefile::Point::new(*x, *y),
                shapefile::Point::new(*x, y + size),
                shapefile::Point::new(x + size, y + size),
                shapefile::Point::new(x + size, *y),
                shapefile::Point::new(*x, *y),
            ];
            let polygon = shapefile::Polygon::new(shapefile::PolygonRing::Outer(ring));
            let mut record = Record::default();
            record.insert("SIREN".into(), FieldValue::Character(Some((*siren).into())));
            record.insert("NOM".into(), FieldValue::Character(Some(format!("Unité {siren}"))));
            writer.write_shape_and_record(&polygon, &record).expect("write");
        }
        drop(writer);
        if let Some(prj) = prj {
            std::fs::write(shp.with_extension("prj"), prj).expect("prj");
        }
        shp
    }

    #[test]
    fn a_lambert93_shapefile_is_read_in_wgs84() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A 1 km square in central Paris, in Lambert-93.
        let shp = write(
            dir.path(),
            "epci.shp",
            &[("200054781", 652_469.0, 6_861_674.0, 1000.0)],
            Some(LAMBERT93_PRJ),
        );
        let units = read_units(&shp, &ReadOptions::default()).expect("read");
        assert_eq!(units.len(), 1);
        let unit = &units[0];
        assert_eq!(
            (unit.kind, unit.code(), unit.name.as_str()),
            (UnitKind::Epci, "200054781", "Unité 200054781")
        );
        let corner = unit.geometry.0[0]
            .exterior()
            .0
            .iter()
            .fold((f64::MAX, f64::MAX), |m, c| (m.0.min(c.x), m.1.min(c.y)));
        assert!((corner.0 - 2.352_240).abs() < 2e-4 && (corner.1 - 48.853_351).abs() < 1e-6, "{corner:?}");
        // 1 km is about 0.0137° of longitude at this latitude.
        let c = unit.geometry.centroid().expect("centroid");
        assert!((c.x() - corner.0 - 0.0068).abs() < 3e-4, "{c:?}");
        // geo convention: exterior counter-clockwise.
        let p: &Polygon<f64> = &unit.geometry.0[0];
        assert!(geo::Area::signed_area(p) > 0.0);
    }

    #[test]
    fn crs_problems_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shp = write(dir.path(), "epci.shp", &[("200054781", 2.0, 48.0, 0.1)], None);
        let err = read_units(&shp, &ReadOptions::default()).expect_err("no prj").to_string();
        assert!(err.contains("epci.shp") && err.contains("no .prj"), "{err}");
        let opts = ReadOptions { assume_crs: Some(Crs::Wgs84), ..ReadOptions::default() };
        assert_eq!(read_units(&shp, &opts).expect("assumed").len(), 1);
        std::fs::write(shp.with_extension("prj"), r#"PROJCS["NTF_Lambert_II_etendu"]"#).expect("prj");
        let err = read_units(&shp, &ReadOptions::default()).expect_err("unknown").to_string();
        assert!(err.contains("unknown CRS") && err.contains("NTF_Lambert_II"), "{err}");
    }

    #[test]
    fn broken_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let two = write(
            dir.path(),
            "two.shp",
            &[("200054781", 2.0, 48.0, 0.1), ("240200477", 3.0, 49.0, 0.1)],
            Some(LAMBERT93_PRJ),
        );
        let one = write(dir.path(), "one.shp", &[("200054781", 2.0, 48.0, 0.1)], Some(LAMBERT93_PRJ));
        let opts = ReadOptions { kind: Some(UnitKind::Epci), ..ReadOptions::default() };
        // .dbf with one record beside a .shp with two.
        std::fs::copy(one.with_extension("dbf"), two.with_extension("dbf")).expect("copy");
        let err = read_units(&two, &opts).expect_err("mismatch").to_string();
        assert!(err.contains("2 shapes") && err.contains("1 records"), "{err}");
        // Truncated .shp.
        let bytes = std::fs::read(&one).expect("shp");
        std::fs::write(&one, &bytes[..bytes.len() - 20]).expect("truncate");
        assert!(read_units(&one, &opts).is_err());
        // Missing .dbf.
        std::fs::remove_file(two.with_extension("dbf")).expect("rm");
        let err = read_units(&two, &opts).expect_err("no dbf").to_string();
        assert!(err.contains("two.dbf"), "{err}");
        // Garbage.
        let junk = dir.path().join("junk.shp");
        std::fs::write(&junk, b"not a shapefile at all").expect("junk");
        assert!(read_units(&junk, &opts).is_err());
    }
}
