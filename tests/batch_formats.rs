//! Batch answers in the format `Accept` asks for (any table format to any other), 406 when none can be
//! given, the columns a table is read by (`POST /api/lookup/inspect`) and chosen by name (`?lon=...`,
//! `--column`), on the real router and binary with the committed fixtures.

use std::io::Cursor;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use http_body_util::BodyExt;
use tower::ServiceExt;

use territoires::http::{AppState, build_app};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PARQUET: &str = "application/vnd.apache.parquet";

fn app() -> axum::Router {
    build_app(AppState::from_loaded(crate::support::shared_loaded().clone()))
}

async fn post(
    uri: &str,
    content_type: &str,
    accept: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String, Vec<u8>) {
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, content_type);
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let response = app().oneshot(request.body(Body::from(body)).expect("request")).await.expect("answer");
    let status = response.status();
    let media = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (status, media, response.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn known_sites() -> Vec<u8> {
    std::fs::read(crate::support::root().join("tests/fixtures/known-sites.csv")).expect("fixture")
}

/// CSV text as rows of fields (BOM dropped).
fn csv_rows(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

/// The first sheet of an XLSX as text cells (numbers as they print).
fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an XLSX calamine reads");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    range
        .rows()
        .map(|r| {
            r.iter().map(|c| if matches!(c, Data::Empty) { String::new() } else { c.to_string() }).collect()
        })
        .collect()
}

/// The known sites as a Parquet file: lon/lat doubles, the rest text.
fn known_sites_parquet() -> Vec<u8> {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    let rows = csv_rows(&known_sites(), b',');
    let (header, data) = rows.split_first().expect("header");
    let columns: Vec<(String, ArrayRef)> = header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let array: ArrayRef = if name == "lon" || name == "lat" {
                Arc::new(Float64Array::from_iter_values(
                    data.iter().map(|r| r[i].parse::<f64>().expect("number")),
                ))
            } else {
                Arc::new(StringArray::from_iter_values(data.iter().map(|r| r[i].clone())))
            };
            (name.clone(), array)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    out
}

#[tokio::test]
async fn csv_in_xlsx_out_has_the_csv_answer_in_every_cell() {
    let (status, media, csv_answer) = post("/api/lookup", "text/csv", None, known_sites()).await;
    assert_eq!((status, media.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    let want = csv_rows(&csv_answer, b',');
    let (status, media, xlsx) = post("/api/lookup", "text/csv", Some(XLSX), known_sites()).await;
    assert_eq!((status, media.as_str()), (StatusCode::OK, XLSX));
    let got = xlsx_rows(xlsx);
    assert_eq!(got.len(), want.len(), "one row per site, plus the header");
    assert_eq!(got[0], want[0], "every input column kept, the answers after them");
    for (g, w) in got.iter().zip(&want).skip(1) {
        // A trailing empty cell is not stored in a sheet.
        let g: Vec<&str> = g.iter().map(String::as_str).chain(std::iter::repeat("")).take(w.len()).collect();
        assert_eq!(g, w.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn xlsx_and_parquet_in_csv_out_match_the_csv_answer() {
    let (_, _, csv_answer) = post("/api/lookup?bom=false", "text/csv", None, known_sites()).await;
    let want = csv_rows(&csv_answer, b',');
    // The known sites as a workbook: lon/lat as numbers, codes as text (leading zeros kept).
    let rows = csv_rows(&known_sites(), b',');
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (u32::try_from(r).expect("row"), u16::try_from(c).expect("column"));
            match cell.parse::<f64>() {
                Ok(n) if r > 0 && (rows[0][usize::from(c)] == "lon" || rows[0][usize::from(c)] == "lat") => {
                    sheet.write_number(r, c, n).expect("cell");
                }
                _ => {
                    sheet.write_string(r, c, cell).expect("cell");
                }
            }
        }
    }
    let xlsx = book.save_to_buffer().expect("xlsx");
    for (media, body) in [(XLSX, xlsx), (PARQUET, known_sites_parquet())] {
        let (status, answered, out) = post("/api/lookup?bom=false", media, Some("text/csv"), body).await;
        assert_eq!(status, StatusCode::OK, "{media}: {}", String::from_utf8_lossy(&out));
        assert_eq!(answered, "text/csv; charset=utf-8");
        assert_eq!(csv_rows(&out, b','), want, "{media} answered as CSV is the CSV's answer");
    }
    // Parquet in, XLSX out.
    let (status, answered, out) = post("/api/lookup", PARQUET, Some(XLSX), known_sites_parquet()).await;
    assert_eq!((status, answered.as_str()), (StatusCode::OK, XLSX));
    assert_eq!(xlsx_rows(out).len(), want.len());
}

#[tokio::test]
async fn accept_is_negotiated_by_quality_and_refused_with_406() {
    let (status, media, _) = post(
        "/api/lookup",
        "text/csv",
        Some("text/html;q=0.9, application/vnd.apache.parquet"),
        known_sites(),
    )
    .await;
    assert_eq!((status, media.as_str()), (StatusCode::OK, PARQUET));
    let (status, media, _) =
        post("/api/lookup", "text/csv", Some("image/png, */*;q=0.1"), known_sites()).await;
    assert_eq!((status, media.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    let (status, media, body) = post("/api/lookup", "text/csv", Some("image/png"), known_sites()).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert!(media.starts_with("application/json"));
    let error: serde_json::Value = serde_json::from_slice(&body).expect("JSON error");
    assert_eq!(error["error"]["code"], "not_acceptable");
    assert!(
        error["error"]["message"].as_str().is_some_and(|m| m.contains("image/png") && m.contains(PARQUET))
    );
    // GeoJSON is answered as GeoJSON only.
    let points = br#"{"type":"FeatureCollection","features":[]}"#.to_vec();
    let (status, _, _) = post("/api/lookup", "application/geo+json", Some("text/csv"), points).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn columns_are_inspected_and_chosen_by_name() {
    let sirene = std::fs::read(crate::support::root().join("tests/fixtures/sirene-geoloc-sample.csv"))
        .expect("fixture");
    let (status, _, body) = post("/api/lookup/inspect", "text/csv", None, sirene.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let inspected: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let read = |key: &str| {
        inspected["columns"].as_array().expect("columns").iter().find(|c| c["key"] == key).expect(key)["column"].clone()
    };
    assert_eq!(
        (read("x"), read("lon"), read("commune_code")),
        ("x".into(), "x_longitude".into(), "plg_code_commune".into())
    );
    assert_eq!(inspected["unsure"], serde_json::json!([{ "reason": "both_pairs" }]));
    assert_eq!(inspected["sample"].as_array().map(Vec::len), Some(5));

    // A file the names do not locate: said so, then located by the columns chosen.
    let renamed = b"site;Longitude GPS;Latitude GPS\nSoissons;3.328181;49.383574\n".to_vec();
    let (_, _, body) = post("/api/lookup/inspect", "text/csv", None, renamed.clone()).await;
    let inspected: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(inspected["unsure"][0]["reason"], "no_location");
    let (status, _, _) = post("/api/lookup", "text/csv", None, renamed.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let uri = "/api/lookup?bom=false&lon=Longitude%20GPS&lat=latitude%20gps";
    let (status, _, out) = post(uri, "text/csv", None, renamed.clone()).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    let rows = csv_rows(&out, b';');
    assert_eq!(rows.len(), 2);
    assert!(rows[1].contains(&"ti-3214".to_owned()) && rows[1].contains(&"point".to_owned()), "{rows:?}");

    // An unknown column: 400 naming it and the header.
    let (status, _, body) =
        post("/api/lookup?lon=Long&lat=Latitude%20GPS", "text/csv", None, renamed.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message =
        serde_json::from_slice::<serde_json::Value>(&body).expect("JSON")["error"]["message"].to_string();
    assert!(message.contains("Long") && message.contains("site, Longitude GPS, Latitude GPS"), "{message}");
    let (status, _, _) = post("/api/lookup/inspect?lon=Long", "text/csv", None, renamed.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Half a pair.
    let (status, _, body) = post("/api/lookup?lon=Longitude%20GPS", "text/csv", None, renamed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&body));

    // Leaving x/y unused: the SIRENE rows are read by their WGS84 columns, or by commune.
    let (status, _, out) = post("/api/lookup?x=&y=", "text/csv", None, sirene).await;
    assert_eq!(status, StatusCode::OK);
    let rows = csv_rows(&out, b';');
    let lon = rows[0].iter().position(|h| h == "x_longitude").expect("x_longitude");
    let by = rows[0].iter().position(|h| h == "located_by").expect("located_by");
    let quality = rows[0].iter().position(|h| h == "qualite_xy").expect("qualite_xy");
    assert_eq!(rows.len(), 301);
    // SIRENE's quality 33 (the commune's centre) is answered by commune even with a point.
    for row in rows[1..].iter().filter(|r| r[quality] != "33") {
        assert_eq!(row[lon].is_empty(), !row[by].starts_with("point"), "{row:?}");
    }
}

#[test]
fn the_cli_answers_a_csv_as_xlsx_by_the_output_extension_with_chosen_columns() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("sites.csv");
    std::fs::write(&input, "site;Longitude GPS;Latitude GPS\nSoissons;3.328181;49.383574\nLoin;-30;40\n")
        .expect("write");
    let output = dir.path().join("answer.xlsx");
    let run = assert_cmd::Command::cargo_bin("territoires")
        .expect("binary")
        .current_dir(crate::support::root())
        .args(["lookup", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--column", "lon=Longitude GPS", "--column", "lat=Latitude GPS"])
        .output()
        .expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let rows = xlsx_rows(std::fs::read(&output).expect("answer"));
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][..3], ["site", "Longitude GPS", "Latitude GPS"]);
    assert_eq!(rows[1][1], "3.328181", "a coordinate is a number in the sheet");
    assert!(rows[1].contains(&"ti-3214".to_owned()), "{:?}", rows[1]);

    let bad = assert_cmd::Command::cargo_bin("territoires")
        .expect("binary")
        .current_dir(crate::support::root())
        .args(["lookup", "--input"])
        .arg(&input)
        .args(["--column", "lon=Nope", "--column", "lat=Latitude GPS"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("Nope") && stderr.contains("site, Longitude GPS, Latitude GPS"), "{stderr}");
}
