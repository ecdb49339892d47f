//! The real binary: `lookup` (one point, CSV batch), `validate`, errors and exit codes.

use assert_cmd::Command;
use serde_json::Value;

use crate::support::{geodata, known_sites_path, phase2, temp_file};

fn territoires() -> Command {
    let mut cmd = Command::cargo_bin("territoires").expect("binary built");
    cmd.env_remove("TERRITOIRES_TERRITORIES").env_remove("TERRITOIRES_GEODATA");
    cmd.arg("--help");
    cmd
}

fn cmd(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("territoires").expect("binary built");
    cmd.env_remove("TERRITOIRES_TERRITORIES").env_remove("TERRITOIRES_GEODATA");
    cmd.args(args).arg("--geodata").arg(geodata());
    cmd
}

#[test]
fn help_teaches_the_commands() {
    let out = territoires().output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "lookup", "validate", "build-geodata"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn lookup_one_point_prints_territory_and_member() {
    let list = phase2();
    let territories = format!("2023={}", list.display());
    let out = cmd(&["lookup", "--lon", "3.328181", "--lat", "49.383574", "--territories", &territories])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["lon"], 3.328181);
    assert_eq!(json["territories"][0]["edition"], "2023");
    assert_eq!(json["territories"][0]["id"], "ti-3214");
    assert_eq!(json["territories"][0]["via"]["kind"], "EPCI");
    assert_eq!(json["territories"][0]["via"]["code"], "240200477");
    assert!(json["units"].as_array().is_some_and(|u| u.iter().any(|u| u["code"] == "02722")));
    assert_eq!(json["nearest"], Value::Array(vec![]));
}

#[test]
fn lookup_refuses_out_of_range_coordinates() {
    let out = cmd(&["lookup", "--lon", "200", "--lat", "49"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("longitude 200"));
}

/// N rows in, N rows out, in order; bad rows answered in the error column, every input column kept.
#[test]
fn csv_batch_keeps_every_row_in_order() {
    let list = phase2();
    let known = known_sites_path();
    let mut input =
        std::fs::read_to_string(&known).expect("known sites").replace("territory_2023", "expected");
    input.push_str("bad lon,,abc,49.0,,\nout of range,,3.0,95.0,,\nshort row,\n");
    let territories = format!("2023={}", list.display());
    let out = cmd(&["lookup", "--csv", "-", "--territories", &territories])
        .write_stdin(input.clone())
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().expect("header").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        vec![
            "name",
            "insee_com",
            "lon",
            "lat",
            "epci_siren",
            "expected",
            "territory_2023",
            "territory_2023_name",
            "border_m_2023",
            "commune",
            "located_by",
            "check",
            "error"
        ]
    );
    assert!(out.stdout.starts_with(b"\xef\xbb\xbf"), "CSV answers start with a UTF-8 BOM");
    let error = headers.iter().position(|h| h == "error").expect("error column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let mut inputs = csv::ReaderBuilder::new().flexible(true).from_reader(input.as_bytes());
    let input_rows: Vec<csv::StringRecord> = inputs.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), input_rows.len());
    for (row, input) in rows.iter().zip(&input_rows) {
        assert_eq!(&row[0], &input[0], "order kept");
        if input.len() == 6 && input[2].parse::<f64>().is_ok() && &input[0] != "out of range" {
            assert_eq!(&row[6], &input[5], "{}: expected territory", &input[0]);
            assert_eq!(&row[error], "", "{}: no error", &input[0]);
            assert_eq!(&row[9], &input[1], "{}: the commune", &input[0]);
            let by = if input[1].is_empty() { "point" } else { "point+code_agrees" };
            assert_eq!(&row[10], by, "{}: point and INSEE code agree", &input[0]);
        } else {
            assert!(!row[error].is_empty(), "{}: error expected", &input[0]);
        }
    }
    assert!(rows.iter().any(|r| &r[7] == "Soissonnais et Valois" || r[7].starts_with("Soissonnais")));
}

#[test]
fn csv_batch_without_coordinates_names_the_columns() {
    let out = cmd(&["lookup", "--csv", "-"]).write_stdin("name,city\na,b\n").output().expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no column to locate the sites by") && err.contains("name, city"), "{err}");
    assert!(err.contains("code_insee") && err.contains("x_lambert"), "{err}");
}

#[test]
fn validate_summarises_the_default_data() {
    let out = cmd(&["validate"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1255 EPCI") && text.contains("11 EPT") && text.contains("34935 COM"), "{text}");
    assert!(
        text.contains("2023 (Phase II (2023-2027), list of 2024-07-04): 183 territories, 641 members"),
        "{text}"
    );
    assert!(
        text.contains("2019 (Phase I (2019-2022), list of 2022-12): 149 territories, 588 members"),
        "{text}"
    );
    assert!(text.contains("attribution: ANCT — Territoires d'industrie, données 2024-07-04"), "{text}");
}

#[test]
fn validate_lists_every_error_with_file_and_line() {
    let (_dir, broken) = temp_file(
        "list.csv",
        "id_ti;lib_ti;siren;lib_groupement;nature_juridique\n\
         ti-9901;Essai;240200477;CA GrandSoissons;CA\n\
         ti-9901;Essai;123;Trop court;CC\n\
         ti-9902;Autre;888888888;Inconnu;CC\n",
    );
    let arg = format!("test={}", broken.display());
    let out = cmd(&["validate", "--territories", &arg]).output().expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let name = broken.display().to_string();
    assert!(err.contains(&format!("{name}:3")), "{err}");
    assert!(err.contains(&format!("{name}:4")), "{err}");
}

/// A geodata directory holding the 11 EPT only (small and fast), to be broken in various ways.
fn ept_geodata() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        std::fs::copy(geodata().join(format!("ept.{ext}")), dir.path().join(format!("ept.{ext}")))
            .expect("copy");
    }
    dir
}

fn validate_in(dir: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let out = Command::cargo_bin("territoires")
        .expect("binary built")
        .env_remove("TERRITOIRES_TERRITORIES")
        .env_remove("TERRITOIRES_GEODATA")
        .args(["validate", "--geodata"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("panicked"), "{text}");
    (out.status.success(), text)
}

/// Validates a geodata directory whose EPT layer is these GeoJSON features.
fn validate_ept_features(dir: &std::path::Path, features: &[&str]) -> (bool, String) {
    let collection = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
    std::fs::write(dir.join("ept.geojson"), collection).expect("geojson");
    validate_in(dir, &[])
}

fn square_feature(siren: &str, ring: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"SIREN":"{siren}","NOM":"Essai {siren}","TYPE":"EPT","KIND":"EPT"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#
    )
}

/// Issue 6: broken data at start-up ends with an error naming the file (and record), a non-zero exit and
/// no panic; a geometry that can be repaired is repaired and reported.
#[test]
fn data_faults_at_start_up_name_the_file_and_never_panic() {
    let (ok, text) = validate_in(ept_geodata().path(), &[]);
    assert!(ok && text.contains("11 EPT"), "the intact copy loads: {text}");

    let dir = ept_geodata();
    let missing = dir.path().join("nowhere.csv");
    let (ok, text) = validate_in(dir.path(), &["--territories", &format!("t={}", missing.display())]);
    assert!(!ok && text.contains("nowhere.csv"), "missing list: {text}");

    let dir = ept_geodata();
    std::fs::remove_file(dir.path().join("ept.dbf")).expect("rm");
    let (ok, text) = validate_in(dir.path(), &[]);
    assert!(!ok && text.contains("ept.dbf"), "missing .dbf: {text}");

    let dir = ept_geodata();
    let shp = dir.path().join("ept.shp");
    let bytes = std::fs::read(&shp).expect("read");
    std::fs::write(&shp, &bytes[..bytes.len() / 2]).expect("truncate");
    let (ok, text) = validate_in(dir.path(), &[]);
    assert!(!ok && text.contains("ept.shp"), "truncated .shp: {text}");

    let dir = ept_geodata();
    std::fs::copy(geodata().join("epci.dbf"), dir.path().join("ept.dbf")).expect("copy");
    let (ok, text) = validate_in(dir.path(), &[]);
    assert!(
        !ok && text.contains("ept.") && text.contains("1255") && text.contains("11"),
        "count mismatch: {text}"
    );

    let dir = ept_geodata();
    std::fs::write(
        dir.path().join("ept.prj"),
        r#"PROJCS["Home_Made",GEOGCS["GCS_Mars_2000",DATUM["D_Mars_2000",SPHEROID["Mars",3396190.0,169.89]],PRIMEM["Reference_Meridian",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Stereographic"],UNIT["Meter",1.0]]"#,
    )
    .expect("prj");
    let (ok, text) = validate_in(dir.path(), &[]);
    assert!(!ok && text.contains("ept.prj"), "unknown CRS: {text}");

    // A bow-tie (self-crossing ring) is repaired and reported; a ring of two points cannot be.
    let dir = tempfile::tempdir().expect("tempdir");
    let bow_tie =
        square_feature("200057867", "[[2.30,48.90],[2.40,48.95],[2.40,48.90],[2.30,48.95],[2.30,48.90]]");
    let fine = square_feature("200057875", "[[2.40,48.85],[2.45,48.85],[2.45,48.88],[2.40,48.85]]");
    let (ok, text) = validate_ept_features(dir.path(), &[&bow_tie, &fine]);
    assert!(ok && text.contains("2 EPT"), "{text}");
    assert!(text.contains("warning:") && text.contains("ept.geojson") && text.contains("repaired"), "{text}");
    let two_points = square_feature("200057941", "[[2.40,48.85],[2.45,48.85]]");
    let (ok, text) = validate_ept_features(dir.path(), &[&fine, &two_points]);
    assert!(!ok && text.contains("ept.geojson") && text.contains("feature 1"), "{text}");

    // The same territory id twice in one GeoJSON list.
    let dir = ept_geodata();
    let list = dir.path().join("twice.geojson");
    std::fs::write(
        &list,
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id_territoire":"ti-1101","lib_territoire":"Un","liste_geo":"Plaine Commune (200057867)"},"geometry":null},
{"type":"Feature","properties":{"id_territoire":"ti-1101","lib_territoire":"Deux","liste_geo":"Est Ensemble (200057875)"},"geometry":null}]}"#,
    )
    .expect("list");
    let (ok, text) = validate_in(dir.path(), &["--territories", &format!("t={}", list.display())]);
    assert!(!ok && text.contains("twice.geojson") && text.contains("ti-1101"), "duplicate id: {text}");

    // The server refuses to start on broken data, with the same message.
    let dir = ept_geodata();
    std::fs::remove_file(dir.path().join("ept.dbf")).expect("rm");
    let out = Command::cargo_bin("territoires")
        .expect("binary built")
        .env_remove("TERRITOIRES_TERRITORIES")
        .env_remove("TERRITOIRES_GEODATA")
        .args(["serve", "--addr", "127.0.0.1:0", "--geodata"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("ept.dbf") && !err.contains("panicked"), "{err}");
}
