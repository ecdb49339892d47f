//! Reads polygon Shapefiles (`.shp` + `.dbf`, with `.prj` for the CRS and `.cpg` for the encoding).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ::shapefile::dbase::encoding::EncodingRs;
use ::shapefile::dbase::{self, FieldValue};
use ::shapefile::{PolygonRing, Shape, ShapeReader};
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};

use super::crs::Crs;
use super::error::Loc;
use super::{Attr, Attrs, FileContext, LoadError, ReadOptions};
use crate::model::Unit;

/// Reads every record of a polygon Shapefile; see [`super::read_units_with_report`].
pub(crate) fn read(path: &Path, opts: &ReadOptions) -> Result<(Vec<Unit>, Vec<String>), LoadError> {
    let ctx = FileContext::new(path, opts);
    let mut warnings = Vec::new();
    let crs = read_crs(path, opts)?;
    let reprojection =
        crs.to_wgs84().map_err(|error| LoadError::UnknownCrs { path: ctx.path.clone(), error })?;
    let shapes = read_shapes(path, &ctx.path)?;
    let records = read_records(path, &mut warnings)?;
    if shapes.len() != records.len() {
        return Err(LoadError::RecordCountMismatch {
            path: ctx.path.clone(),
            shp: shapes.len(),
            dbf: records.len(),
        });
    }
    let records: Vec<_> = shapes
        .into_iter()
        .zip(records)
        .enumerate()
        .map(|(i, (shape, attrs))| (Loc::Record(i + 1), attrs, shape))
        .collect();
    let (units, more) =
        ctx.units(records, &reprojection, |loc, shape, w| shape_to_multipolygon(&ctx.path, loc, shape, w))?;
    warnings.extend(more);
    Ok((units, warnings))
}

/// The companion file with extension `ext`, matching the `.shp`'s case (`X.SHP` → `X.DBF`) when that exists.
fn sibling(path: &Path, ext: &str) -> PathBuf {
    let upper = path.with_extension(ext.to_ascii_uppercase());
    let lower = path.with_extension(ext);
    if !lower.exists() && upper.exists() { upper } else { lower }
}

fn io_error(path: &Path, source: std::io::Error) -> LoadError {
    LoadError::Io { path: path.display().to_string(), source }
}

/// The `.prj`'s CRS, else the assumed one, else an error: guessing would silently misplace everything.
fn read_crs(path: &Path, opts: &ReadOptions) -> Result<Crs, LoadError> {
    let prj = sibling(path, "prj");
    match std::fs::read(&prj) {
        Ok(bytes) => {
            let wkt = String::from_utf8_lossy(&bytes);
            Crs::from_prj(&wkt).map_err(|error| LoadError::UnknownCrs { path: prj.display().to_string(), error })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => opts.assume_crs.ok_or_else(|| LoadError::MissingCrs {
            path: path.display().to_string(),
            message: format!(
                "no .prj: cannot tell the CRS (use ReadOptions::assume_crs / --crs, e.g. 2154 for Lambert-93; \
                 expected {})",
                prj.display()
            ),
        }),
        Err(e) => Err(io_error(&prj, e)),
    }
}

/// All shapes of the `.shp`, read sequentially (the `.shx` is not needed for that).
fn read_shapes(path: &Path, display: &str) -> Result<Vec<Shape>, LoadError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let shp_error = |loc: Loc, e: ::shapefile::Error| LoadError::Shapefile {
        path: display.to_owned(),
        loc,
        message: match e {
            ::shapefile::Error::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                "file is truncated".to_owned()
            }
            other => other.to_string(),
        },
    };
    let mut reader = ShapeReader::new(BufReader::new(file)).map_err(|e| shp_error(Loc::File, e))?;
    let mut shapes = Vec::new();
    for (i, shape) in reader.iter_shapes().enumerate() {
        shapes.push(shape.map_err(|e| shp_error(Loc::Record(i + 1), e))?);
    }
    Ok(shapes)
}

/// The `.cpg`'s encoding, defaulting to what the `.dbf` header says (UTF-8 when it says nothing).
fn cpg_encoding(path: &Path, warnings: &mut Vec<String>) -> Option<EncodingRs> {
    let cpg = sibling(path, "cpg");
    let text = std::fs::read(&cpg).ok()?;
    let label = String::from_utf8_lossy(&text).trim().trim_start_matches('\u{feff}').to_ascii_uppercase();
    let encoding = match label.replace([' ', '_'], "-").as_str() {
        "" | "UTF-8" | "UTF8" | "65001" => dbase::encoding_rs::UTF_8,
        // Windows-1252 is a superset of Latin-1 that decoders use for it anyway.
        "ISO-8859-1" | "ISO8859-1" | "8859-1" | "LATIN1" | "LATIN-1" | "1252" | "CP1252" | "ANSI-1252"
        | "WINDOWS-1252" => dbase::encoding_rs::WINDOWS_1252,
        "ISO-8859-15" | "ISO8859-15" | "8859-15" | "LATIN9" | "LATIN-9" => dbase::encoding_rs::ISO_8859_15,
        other => {
            if let Some(e) = dbase::encoding_rs::Encoding::for_label(other.as_bytes()) {
                e
            } else {
                warnings.push(format!("{}: unknown encoding \"{label}\", reading as UTF-8", cpg.display()));
                dbase::encoding_rs::UTF_8
            }
        }
    };
    Some(EncodingRs::from(encoding))
}

/// All records of the `.dbf`, as case-insensitive attributes.
fn read_records(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<Attrs>, LoadError> {
    let dbf = sibling(path, "dbf");
    let dbf_error =
        |loc: Loc, message: String| LoadError::Dbf { path: dbf.display().to_string(), loc, message };
    if !dbf.exists() {
        return Err(dbf_error(
            Loc::File,
            "missing .dbf: the attribute table is needed for codes and names".into(),
        ));
    }
    let builder = match cpg_encoding(path, warnings) {
        Some(encoding) => dbase::ReaderBuilder::new().with_encoding(encoding),
        None => dbase::ReaderBuilder::new(),
    };
    let mut reader = match builder.open(&dbf) {
        Ok(r) => r,
        // An exotic code page in the header: fall back to UTF-8 rather than refuse the file.
        Err(first) => dbase::ReaderBuilder::new()
            .with_encoding(EncodingRs::from(dbase::encoding_rs::UTF_8))
            .open(&dbf)
            .map_err(|_| dbf_error(Loc::File, first.to_string()))?,
    };
    let mut records = Vec::new();
    for (i, record) in reader.iter_records().enumerate() {
        let record = record.map_err(|e| dbf_error(Loc::Record(i + 1), e.to_string()))?;
        records.push(Attrs::new(record.into_iter().map(|(name, value)| (name, attr(value)))));
    }
    Ok(records)
}

fn attr(value: FieldValue) -> Attr {
    match value {
        FieldValue::Character(Some(s)) | FieldValue::Memo(s) => Attr::Text(s),
        FieldValue::Numeric(Some(n)) | FieldValue::Double(n) | FieldValue::Currency(n) => Attr::Number(n),
        FieldValue::Float(Some(n)) => Attr::Number(f64::from(n)),
        FieldValue::Integer(n) => Attr::Number(f64::from(n)),
        FieldValue::Logical(Some(b)) => Attr::Text(b.to_string()),
        FieldValue::Date(Some(d)) => Attr::Text(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
        FieldValue::DateTime(_)
        | FieldValue::Character(None)
        | FieldValue::Numeric(None)
        | FieldValue::Float(None)
        | FieldValue::Logical(None)
        | FieldValue::Date(None) => Attr::Null,
    }
}

/// A polygon record as a multipolygon in the file's CRS, holes grouped under their outer ring.
fn shape_to_multipolygon(
    path: &str,
    loc: Loc,
    shape: Shape,
    warnings: &mut Vec<String>,
) -> Result<MultiPolygon<f64>, LoadError> {
    let rings: Vec<(bool, LineString<f64>)> = match shape {
        Shape::Polygon(p) => p.into_inner().into_iter().map(|r| ring(r, |p| (p.x, p.y))).collect(),
        Shape::PolygonM(p) => p.into_inner().into_iter().map(|r| ring(r, |p| (p.x, p.y))).collect(),
        Shape::PolygonZ(p) => p.into_inner().into_iter().map(|r| ring(r, |p| (p.x, p.y))).collect(),
        Shape::NullShape => return Err(LoadError::NullShape { path: path.to_owned(), loc }),
        other => {
            return Err(LoadError::BadGeometry {
                path: path.to_owned(),
                loc,
                message: format!("a {} shape, expected a polygon", other.shapetype()),
            });
        }
    };
    Ok(group_rings(rings, |n| {
        warnings.push(format!("{path}: {loc}{n} hole(s) outside any outer ring read as outer rings"));
    }))
}

/// A ring as (is outer, points).
fn ring<P>(r: PolygonRing<P>, xy: impl Fn(&P) -> (f64, f64)) -> (bool, LineString<f64>) {
    let outer = matches!(r, PolygonRing::Outer(_));
    let coords = r.into_inner().iter().map(|p| xy(p).into()).collect::<Vec<Coord<f64>>>();
    (outer, LineString::new(coords))
}

/// Puts each hole in the outer ring that contains it (the smallest, when outers nest). A hole in no
/// outer ring most likely comes from a writer that got orientation backwards: it becomes an outer ring.
fn group_rings(rings: Vec<(bool, LineString<f64>)>, mut orphans: impl FnMut(usize)) -> MultiPolygon<f64> {
    let mut outers: Vec<(Polygon<f64>, Option<Rect<f64>>)> = Vec::new();
    let mut holes = Vec::new();
    for (is_outer, ls) in rings {
        if is_outer {
            let rect = ls.bounding_rect();
            outers.push((Polygon::new(ls, Vec::new()), rect));
        } else {
            holes.push(ls);
        }
    }
    let mut interiors: Vec<Vec<LineString<f64>>> = vec![Vec::new(); outers.len()];
    let mut orphan_count = 0;
    for hole in holes {
        let Some(hole_rect) = hole.bounding_rect() else { continue };
        let inside = |outer: &Polygon<f64>| {
            // A hole may touch its outer ring: decide on the first vertex not on the boundary.
            hole.0
                .iter()
                .map(|c| outer.coordinate_position(c))
                .find(|pos| *pos != CoordPos::OnBoundary)
                .is_none_or(|pos| pos == CoordPos::Inside)
        };
        let best = outers
            .iter()
            .enumerate()
            .filter(|(_, (_, rect))| rect.is_some_and(|r| contains_rect(&r, &hole_rect)))
            .filter(|(_, (outer, _))| inside(outer))
            .min_by(|(_, (_, a)), (_, (_, b))| area(a.as_ref()).total_cmp(&area(b.as_ref())))
            .map(|(i, _)| i);
        if let Some(i) = best {
            interiors[i].push(hole);
        } else {
            orphan_count += 1;
            let rect = hole.bounding_rect();
            outers.push((Polygon::new(hole, Vec::new()), rect));
            interiors.push(Vec::new());
        }
    }
    if orphan_count > 0 {
        orphans(orphan_count);
    }
    MultiPolygon::new(
        outers
            .into_iter()
            .zip(interiors)
            .map(|((p, _), holes)| Polygon::new(p.into_inner().0, holes))
            .collect(),
    )
}

fn contains_rect(outer: &Rect<f64>, inner: &Rect<f64>) -> bool {
    outer.min().x <= inner.min().x
        && outer.min().y <= inner.min().y
        && outer.max().x >= inner.max().x
        && outer.max().y >= inner.max().y
}

fn area(r: Option<&Rect<f64>>) -> f64 {
    r.map_or(f64::INFINITY, |r| r.width() * r.height())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;
    use crate::source::read_units_with_report;
    use crate::source::test_util::contains;

    use ::shapefile::dbase::{FieldName, TableWriterBuilder};
    use ::shapefile::{Point, Polygon as ShpPolygon, Writer};
    use proptest::prelude::*;

    /// IGN's ESRI WKT for Lambert-93, as shipped with ADMIN EXPRESS.
    const L93_PRJ: &str = r#"PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]"#;

    const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

    /// One record to write: SIREN, name, legal form, and rings (outer clockwise, holes counter-clockwise).
    struct Rec {
        siren: &'static str,
        name: &'static str,
        rings: Vec<PolygonRing<Point>>,
    }

    /// A clockwise (shapefile outer) square centred on (x, y).
    fn square(x: f64, y: f64, half: f64) -> Vec<Point> {
        vec![
            Point::new(x - half, y - half),
            Point::new(x - half, y + half),
            Point::new(x + half, y + half),
            Point::new(x + half, y - half),
            Point::new(x - half, y - half),
        ]
    }

    fn ccw(mut pts: Vec<Point>) -> Vec<Point> {
        pts.reverse();
        pts
    }

    fn write_shapefile(dir: &Path, stem: &str, prj: Option<&str>, recs: &[Rec]) -> PathBuf {
        let shp = dir.join(format!("{stem}.shp"));
        let table = TableWriterBuilder::new()
            .add_character_field(FieldName::try_from("SIREN").expect("name"), 20)
            .add_character_field(FieldName::try_from("NOM").expect("name"), 80)
            .add_character_field(FieldName::try_from("NATURE").expect("name"), 10)
            .add_numeric_field(FieldName::try_from("NB_COM").expect("name"), 10, 0);
        let mut writer = Writer::from_path(&shp, table).expect("writer");
        for rec in recs {
            let mut record = dbase::Record::default();
            record.insert("SIREN".into(), FieldValue::Character(Some(rec.siren.into())));
            record.insert("NOM".into(), FieldValue::Character(Some(rec.name.into())));
            record.insert("NATURE".into(), FieldValue::Character(Some("CA".into())));
            record.insert("NB_COM".into(), FieldValue::Numeric(Some(12.0)));
            writer
                .write_shape_and_record(&ShpPolygon::with_rings(rec.rings.clone()), &record)
                .expect("write");
        }
        drop(writer);
        if let Some(prj) = prj {
            std::fs::write(shp.with_extension("prj"), prj).expect("prj");
        }
        shp
    }

    /// Two EPCI-like squares in Lambert-93: one around Notre-Dame de Paris with a hole, one 20 km east.
    /// The error reading `shp` gives (the test fails when it reads).
    fn load_error(shp: &Path) -> LoadError {
        crate::source::read_units(shp, &ReadOptions::default()).expect_err("the file should not read")
    }

    fn paris_records() -> Vec<Rec> {
        vec![
            Rec {
                siren: "200054781",
                name: "Métropole du Grand Paris",
                rings: vec![
                    PolygonRing::Outer(square(652_469.0, 6_861_674.0, 5_000.0)),
                    // A hole 3 km east of Notre-Dame.
                    PolygonRing::Inner(ccw(square(655_469.0, 6_861_674.0, 500.0))),
                ],
            },
            Rec {
                siren: "200057867",
                name: "Paris Est Marne et Bois",
                rings: vec![PolygonRing::Outer(square(672_469.0, 6_861_674.0, 3_000.0))],
            },
        ]
    }

    #[test]
    fn reads_lambert93_shapefile_in_wgs84() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shp = write_shapefile(dir.path(), "epci", Some(L93_PRJ), &paris_records());
        let (units, warnings) = read_units_with_report(&shp, &ReadOptions::default()).expect("read");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(units.len(), 2);
        let mgp = &units[0];
        assert_eq!(mgp.kind, UnitKind::Epci);
        assert_eq!(mgp.siren.as_ref().map(crate::model::Siren::as_str), Some("200054781"));
        assert_eq!(mgp.name, "Métropole du Grand Paris");
        assert_eq!(mgp.legal_form, "CA");
        assert_eq!(mgp.commune_count, Some(12));
        assert!(contains(mgp, 2.3499, 48.8530), "Notre-Dame is inside");
        // The hole, 3 km east of Notre-Dame (about 0.041° of longitude at this latitude).
        assert!(!contains(mgp, 2.3499 + 0.041, 48.8530), "the hole is a hole");
        assert!(!contains(mgp, 2.3499, 48.95), "11 km north is outside");
        assert_eq!(mgp.geometry.0.len(), 1);
        assert_eq!(mgp.geometry.0[0].interiors().len(), 1);
        // geo's convention: exterior counter-clockwise, interiors clockwise.
        use geo::Winding;
        assert!(mgp.geometry.0[0].exterior().is_ccw());
        assert!(mgp.geometry.0[0].interiors()[0].is_cw());
        assert!(contains(&units[1], 2.3499 + 0.273, 48.8530), "second square 20 km east");
    }

    #[test]
    fn reads_wgs84_shapefile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let recs = vec![Rec {
            siren: "240200477",
            name: "CA du Soissonnais",
            rings: vec![PolygonRing::Outer(square(3.32, 49.38, 0.1))],
        }];
        let shp = write_shapefile(dir.path(), "data", Some(WGS84_PRJ), &recs);
        let opts = ReadOptions { kind: Some(UnitKind::Epci), assume_crs: None };
        let units = crate::source::read_units(&shp, &opts).expect("read");
        assert_eq!(units.len(), 1);
        assert!(contains(&units[0], 3.32, 49.38));
        assert!(!contains(&units[0], 3.5, 49.38));
    }

    #[test]
    fn missing_prj_needs_an_assumed_crs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shp = write_shapefile(dir.path(), "epci", None, &paris_records());
        let err = load_error(&shp);
        assert!(matches!(err, LoadError::MissingCrs { .. }), "{err}");
        assert!(err.to_string().contains("no .prj: cannot tell the CRS"), "{err}");
        let opts = ReadOptions { kind: None, assume_crs: Some(Crs::Lambert93) };
        let units = crate::source::read_units(&shp, &opts).expect("assumed");
        assert!(contains(&units[0], 2.3499, 48.8530));
    }

    #[test]
    fn unknown_prj_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let prj = r#"PROJCS["NTF_Paris_Lambert_II_Etendu",GEOGCS["GCS_NTF_Paris"]]"#;
        let shp = write_shapefile(dir.path(), "epci", Some(prj), &paris_records());
        let err = load_error(&shp);
        assert!(matches!(err, LoadError::UnknownCrs { .. }), "{err}");
        assert!(err.to_string().contains("NTF_Paris_Lambert_II_Etendu"), "{err}");
    }

    #[test]
    fn bad_siren_names_the_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut recs = paris_records();
        recs[1].siren = "12ab";
        let shp = write_shapefile(dir.path(), "epci", Some(L93_PRJ), &recs);
        let err = load_error(&shp);
        assert_eq!(
            err.to_string(),
            format!("{}: record 2: field SIREN \"12ab\": not a 9-digit SIREN", shp.display())
        );
    }

    #[test]
    fn unknown_kind_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shp = write_shapefile(dir.path(), "units", Some(L93_PRJ), &paris_records());
        let err = load_error(&shp);
        assert!(matches!(err, LoadError::UnknownKind { .. }), "{err}");
    }

    #[test]
    fn dbf_with_fewer_records_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shp = write_shapefile(dir.path(), "epci", Some(L93_PRJ), &paris_records());
        let other = dir.path().join("other");
        std::fs::create_dir(&other).expect("dir");
        let one = write_shapefile(&other, "epci", Some(L93_PRJ), &paris_records()[..1]);
        std::fs::copy(one.with_extension("dbf"), shp.with_extension("dbf")).expect("copy");
        let err = load_error(&shp);
        assert!(matches!(err, LoadError::RecordCountMismatch { shp: 2, dbf: 1, .. }), "{err}");
        assert!(err.to_string().contains("record 2"), "{err}");
    }

    /// Each way of damaging a good file, the error it must give and what the message must name.
    type Damage = (&'static str, fn(&Path), fn(&LoadError) -> bool, &'static str);

    #[test]
    fn missing_dbf_and_truncated_shp_are_errors_not_panics() {
        let damages: [Damage; 2] = [
            (
                "missing dbf",
                |shp| std::fs::remove_file(shp.with_extension("dbf")).expect("rm"),
                |e| matches!(e, LoadError::Dbf { .. }),
                "epci.dbf",
            ),
            (
                "truncated shp",
                |shp| {
                    let bytes = std::fs::read(shp).expect("read");
                    std::fs::write(shp, &bytes[..bytes.len() - 30]).expect("truncate");
                },
                |e| matches!(e, LoadError::Shapefile { loc: Loc::Record(2), .. }),
                "record 2",
            ),
        ];
        for (what, damage, expected, named) in damages {
            let dir = tempfile::tempdir().expect("tempdir");
            let shp = write_shapefile(dir.path(), "epci", Some(L93_PRJ), &paris_records());
            damage(&shp);
            let err = load_error(&shp);
            assert!(expected(&err), "{what}: {err}");
            assert!(err.to_string().contains(named), "{what}: {err}");
        }
    }

    #[test]
    fn latin1_dbf_is_decoded_with_cpg() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shp = dir.path().join("epci.shp");
        let table = TableWriterBuilder::with_encoding(EncodingRs::from(dbase::encoding_rs::WINDOWS_1252))
            .add_character_field(FieldName::try_from("SIREN").expect("name"), 9)
            .add_character_field(FieldName::try_from("NOM").expect("name"), 40);
        let mut writer = Writer::from_path(&shp, table).expect("writer");
        let mut record = dbase::Record::default();
        record.insert("SIREN".into(), FieldValue::Character(Some("200054781".into())));
        record.insert("NOM".into(), FieldValue::Character(Some("Métropole".into())));
        writer
            .write_shape_and_record(
                &ShpPolygon::new(PolygonRing::Outer(square(652_469.0, 6_861_674.0, 1_000.0))),
                &record,
            )
            .expect("write");
        drop(writer);
        std::fs::write(shp.with_extension("prj"), L93_PRJ).expect("prj");
        std::fs::write(shp.with_extension("cpg"), "ISO-8859-1").expect("cpg");
        let units = crate::source::read_units(&shp, &ReadOptions::default()).expect("read");
        assert_eq!(units[0].name, "Métropole");
    }

    #[test]
    fn holes_go_to_the_outer_ring_that_contains_them() {
        let ls = |pts: Vec<Point>| LineString::from(pts.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>());
        let rings = vec![
            (true, ls(square(0.0, 0.0, 10.0))),
            (true, ls(square(100.0, 0.0, 10.0))),
            (false, ls(ccw(square(100.0, 0.0, 1.0)))),
            (false, ls(ccw(square(0.0, 0.0, 1.0)))),
            (false, ls(ccw(square(50.0, 0.0, 1.0)))),
        ];
        let mut orphans = 0;
        let mp = group_rings(rings, |n| orphans = n);
        assert_eq!(orphans, 1);
        assert_eq!(mp.0.len(), 3);
        assert_eq!(mp.0[0].interiors().len(), 1);
        assert_eq!(mp.0[1].interiors().len(), 1);
        assert!(mp.0[1].interiors()[0].0[0].x > 90.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn arbitrary_shp_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let dir = tempfile::tempdir().expect("tempdir");
            let shp = write_shapefile(dir.path(), "epci", Some(L93_PRJ), &paris_records());
            std::fs::write(&shp, &bytes).expect("write");
            let _ = crate::source::read_units(&shp, &ReadOptions::default());
        }

        #[test]
        fn corrupted_shp_never_panics(pos in 0usize..400, byte in any::<u8>()) {
            let dir = tempfile::tempdir().expect("tempdir");
            let shp = write_shapefile(dir.path(), "epci", Some(L93_PRJ), &paris_records());
            let mut bytes = std::fs::read(&shp).expect("read");
            let i = pos % bytes.len();
            bytes[i] = byte;
            std::fs::write(&shp, &bytes).expect("write");
            let _ = crate::source::read_units(&shp, &ReadOptions::default());
        }
    }
}
