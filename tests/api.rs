//! The real router on the real data, driven without a socket (`tower::ServiceExt::oneshot`).

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use std::io::Read;
use tower::ServiceExt;

use territoires::http::{AppState, build_app};

use crate::support::known_sites;

fn app() -> axum::Router {
    build_app(AppState::from_loaded(crate::support::shared_loaded().clone()))
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.clone().oneshot(request).await.expect("answer");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    (status, headers, body)
}

async fn get_json(app: &axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = send(app, Request::get(uri).body(Body::empty()).expect("request")).await;
    (
        status,
        serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {:?}", String::from_utf8_lossy(&body))),
    )
}

fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri).header(header::CONTENT_TYPE, content_type).body(body.into()).expect("request")
}

#[tokio::test]
async fn health_reports_the_loaded_data() {
    let app = app();
    let (status, json) = get_json(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["status"], "ok");
    assert_eq!(json["units"]["EPCI"], 1255);
    assert_eq!(json["units"]["EPT"], 11);
}

#[tokio::test]
async fn known_sites_answer_right_one_by_one() {
    let (app, sites) = (app(), known_sites());
    for site in &sites {
        let (status, json) =
            get_json(&app, &format!("/api/lookup?lon={}&lat={}&edition=2023", site.lon, site.lat)).await;
        assert_eq!(status, StatusCode::OK, "{}", site.name);
        let ids: Vec<&str> =
            json["territories"].as_array().expect("array").iter().filter_map(|t| t["id"].as_str()).collect();
        let expected: Vec<&str> = site.territory_2023.split(';').filter(|s| !s.is_empty()).collect();
        assert_eq!(ids, expected, "{}", site.name);
        assert!(json["territories"].as_array().expect("array").iter().all(|t| t["edition"] == "2023"));
        if expected.is_empty() {
            assert_eq!(json["nearest"][0]["edition"], "2023", "{}: nearest given", site.name);
        }
    }
}

#[tokio::test]
async fn known_sites_answer_right_in_one_geojson_batch_and_one_csv_batch() {
    let (app, sites) = (app(), known_sites());
    let features: Vec<serde_json::Value> = sites
        .iter()
        .map(|s| serde_json::json!({"type":"Feature","properties":{"name":s.name},"geometry":{"type":"Point","coordinates":[s.lon,s.lat]}}))
        .chain(std::iter::once(serde_json::json!({"type":"Feature","properties":{"name":"bad"},"geometry":{"type":"Point","coordinates":[500,1]}})))
        .collect();
    let body = serde_json::json!({"type":"FeatureCollection","features":features}).to_string();
    let (status, _, out) = send(&app, post("/api/lookup", "application/geo+json", body)).await;
    assert_eq!(status, StatusCode::OK);
    let out: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let answered = out["features"].as_array().expect("features");
    assert_eq!(answered.len(), sites.len() + 1, "N in, N out");
    for (site, f) in sites.iter().zip(answered) {
        assert_eq!(f["properties"]["name"], site.name.as_str(), "order kept");
        let ids: Vec<&str> =
            of_edition(&f["properties"]["territories"], "2023").filter_map(|t| t["id"].as_str()).collect();
        assert_eq!(ids.join(";"), site.territory_2023, "{}", site.name);
    }
    assert!(answered[sites.len()]["properties"]["error"].as_str().is_some_and(|e| e.contains("500")));

    let mut csv = String::from("name;latitude;longitude\n");
    for s in &sites {
        csv.push_str(&format!(
            "{};{};{}\n",
            s.name,
            s.lat.to_string().replace('.', ","),
            s.lon.to_string().replace('.', ",")
        ));
    }
    let (status, headers, out) = send(&app, post("/api/lookup", "text/csv", csv)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().expect("ct").starts_with("text/csv"));
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(&out[..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let col = reader.headers().expect("headers").iter().position(|h| h == "territory_2023").expect("column");
    assert_eq!(rows.len(), sites.len());
    for (site, row) in sites.iter().zip(&rows) {
        assert_eq!((&row[0], &row[col]), (site.name.as_str(), site.territory_2023.as_str()));
    }
}

/// The API answers a table in its own format: Lambert-93 CSV with `?crs=`, an XLSX, a Parquet.
#[tokio::test]
async fn batches_come_back_in_their_own_format() {
    let app = app();
    // Soissons town hall in Lambert-93 (pyproj: 3.328181, 49.383574 → 723 836.20, 6 920 501.47).
    let lambert = "name,x,y\nSoissons,723836.20,6920501.47\n";
    let (status, _, out) = send(&app, post("/api/lookup?crs=EPSG:2154&bom=false", "text/csv", lambert)).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.starts_with("name,x,y,territory_") && text.contains(",ti-3214,"), "{text}");
    assert!(text.contains(",02722,point,"), "{text}");
    let (status, _, out) = send(&app, post("/api/lookup", "text/csv", lambert)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(out.starts_with(b"\xef\xbb\xbf") && String::from_utf8_lossy(&out).contains("cannot be degrees"));
    let (status, bad) = {
        let (status, _, out) = send(&app, post("/api/lookup?crs=EPSG:9999", "text/csv", lambert)).await;
        (status, String::from_utf8_lossy(&out).into_owned())
    };
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("EPSG:9999"), "{bad}");

    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_row(0, 0, ["name", "insee"]).expect("header");
    sheet.write_row(1, 0, ["Soissons", "02722"]).expect("row");
    let xlsx = book.save_to_buffer().expect("xlsx");
    let media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (status, headers, out) = send(&app, post("/api/lookup", media, xlsx)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], media);
    assert!(out.starts_with(b"PK"), "an XLSX (zip) answer");

    let (status, _, out) =
        send(&app, post("/api/lookup", "application/vnd.apache.parquet", &b"not parquet"[..])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(&out));
}

/// A batch answer streams in chunks; compressed (as browsers ask) it is the same answer, whole.
#[tokio::test]
async fn a_large_batch_streams_the_same_answer_compressed_or_not() {
    let (app, sites) = (app(), known_sites());
    // Re-sending an answered file: its `territory_2023` column is kept and ours gets another name.
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["name", "lon", "lat", "territory_2023"]).expect("header");
    for i in 0..30_000 {
        let s = &sites[i % sites.len()];
        let (lon, lat) = (s.lon.to_string(), s.lat.to_string());
        writer
            .write_record([format!("{} {i}", s.name).as_str(), &lon, &lat, &s.territory_2023])
            .expect("row");
    }
    let csv = String::from_utf8(writer.into_inner().expect("csv")).expect("utf-8");
    let (status, headers, plain) = send(&app, post("/api/lookup", "text/csv", csv.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    for encoding in ["gzip", "br"] {
        let mut request = post("/api/lookup", "text/csv", csv.clone());
        request.headers_mut().insert(header::ACCEPT_ENCODING, encoding.parse().expect("header"));
        let (status, headers, packed) = send(&app, request).await;
        assert_eq!(
            (status, headers[header::CONTENT_ENCODING].to_str().ok()),
            (StatusCode::OK, Some(encoding))
        );
        let mut unpacked = Vec::new();
        if encoding == "gzip" {
            flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut unpacked).expect("gunzip");
        } else {
            brotli::BrotliDecompress(&mut &packed[..], &mut unpacked).expect("brotli");
        }
        assert_eq!(unpacked, plain, "{encoding}");
    }
    let mut reader = csv::Reader::from_reader(&plain[..]);
    let header: Vec<String> = reader.headers().expect("headers").iter().map(str::to_owned).collect();
    assert_eq!(header[..5], ["name", "lon", "lat", "territory_2023", "territory_sample"], "{header:?}");
    let ours = header.iter().position(|h| h == "territory_2023_2").expect("our column renamed");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 30_000);
    for (i, row) in rows.iter().enumerate() {
        assert!(row[0].ends_with(&format!(" {i}")), "order kept at {i}");
        assert_eq!(&row[ours], &row[3], "row {i}");
    }
}

#[tokio::test]
async fn territories_can_be_listed_searched_and_detailed() {
    let app = app();
    let (_, editions) = get_json(&app, "/api/editions").await;
    let ids: Vec<&str> =
        editions.as_array().expect("array").iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids, ["sample", "2023", "2019"]);
    assert_eq!(editions[1]["territories"], 183);
    let (_, all) = get_json(&app, "/api/territories?edition=2023").await;
    assert_eq!(all.as_array().map(Vec::len), Some(183));
    // Accent- and case-insensitive, through names, member names and SIRENs.
    let (_, found) = get_json(&app, "/api/territories?edition=2023&q=SAINT-OMER").await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["id"], "ti-3212");
    let (_, found) = get_json(&app, "/api/territories?edition=2023&q=grandsoissons").await;
    assert_eq!(found[0]["id"], "ti-3214");
    assert_eq!(found[0]["matched_member"]["code"], "240200477");
    let (_, found) = get_json(&app, "/api/territories?q=240200477").await;
    assert_eq!(found.as_array().map(Vec::len), Some(3), "sample, 2023 and 2019: {found}");
    let (_, found) = get_json(&app, "/api/territories?q=c%C5%93ur%20de%20flandre").await;
    assert!(found.as_array().expect("array").iter().any(|t| t["id"] == "sample-02"), "{found}");

    let (status, detail) = get_json(&app, "/api/territories/2023/ti-3214").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (detail["region"].as_str(), detail["region_name"].as_str()),
        (Some("32"), Some("Hauts-de-France"))
    );
    let members = detail["member_list"].as_array().expect("members");
    assert!(members.iter().any(|m| m["code"] == "240200477" && m["kind"] == "EPCI"));
    let area = detail["area_km2"].as_f64().expect("area");
    assert!((500.0..20_000.0).contains(&area), "{area}");
    let (status, _) = get_json(&app, "/api/territories/2023/ti-0000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, unit) = get_json(&app, "/api/units/02722").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unit["name"], "Soissons");
    assert_eq!(unit["parents"][0]["code"], "240200477");
    assert!(
        unit["territories"]
            .as_array()
            .expect("t")
            .iter()
            .any(|t| t["edition"] == "2023" && t["id"] == "ti-3214")
    );
    let (status, unit) = get_json(&app, "/api/units/240200477").await;
    assert_eq!((status, unit["kind"].as_str()), (StatusCode::OK, Some("EPCI")));
    let (status, _) = get_json(&app, "/api/units/999999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_finds_territories_members_and_communes() {
    let app = app();
    // A commune name, without its accent, answers the commune first, with its EPCI as context.
    let (status, hits) = get_json(&app, "/api/search?q=villers%20cotterets").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((hits[0]["kind"].as_str(), hits[0]["code"].as_str()), (Some("COM"), Some("02810")), "{hits}");
    assert!(hits[0]["context"].as_str().is_some_and(|c| c.contains("(02)") && c.contains("Retz")), "{hits}");
    // Whole-name matches first (the town, then its namesake), then the territory among the word
    // matches; edition filters territories only.
    let (_, hits) = get_json(&app, "/api/search?q=saint-omer&edition=2023").await;
    let hits = hits.as_array().expect("hits").clone();
    let codes: Vec<&str> = hits.iter().filter_map(|h| h["code"].as_str()).collect();
    assert_eq!(codes[..2], ["62765", "14635"], "{hits:?}");
    assert!(codes.contains(&"ti-3212") && codes.contains(&"200069037"), "{hits:?}");
    assert!(hits.iter().all(|h| h["kind"] != "territory" || h["edition"] == "2023"));
    let (_, hits) = get_json(&app, "/api/search?q=pays%20de%20saint%20omer").await;
    assert_eq!([&hits[0]["kind"], &hits[0]["code"]], ["territory", "ti-3212"], "{hits}");
    // SIRENs and INSEE codes, and bounding boxes around the place.
    let (_, hits) = get_json(&app, "/api/search?q=240200477&limit=1").await;
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!([&hits[0]["kind"], &hits[0]["name"]], ["EPCI", "CA GrandSoissons Agglomération"]);
    let bbox: Vec<f64> =
        hits[0]["bbox"].as_array().expect("bbox").iter().filter_map(serde_json::Value::as_f64).collect();
    assert!(bbox[0] < 3.33 && 3.33 < bbox[2] && bbox[1] < 49.38 && 49.38 < bbox[3], "{bbox:?}");
    let (_, hits) = get_json(&app, "/api/search?q=97411").await;
    assert_eq!(hits[0]["name"], "Saint-Denis", "{hits}");
    // Larger communes first among equals: Saint-Denis of La Réunion, then of Seine-Saint-Denis.
    let (_, hits) = get_json(&app, "/api/search?q=saint-denis&limit=3").await;
    assert_eq!([&hits[0]["code"], &hits[1]["code"]], ["97411", "93066"], "{hits}");
    let (_, hits) = get_json(&app, "/api/search?q=zzzzqqq").await;
    assert_eq!(hits, serde_json::json!([]));
    for bad in [
        "/api/search",
        "/api/search?q=a&limit=0",
        "/api/search?q=a&limit=51",
        "/api/search?q=a&edition=1999",
        "/api/search?q=a&x=1",
    ] {
        let (status, body) = get_json(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"]["message"].is_string(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn layers_are_small_cached_and_compressed() {
    let app = app();
    let uri = "/api/layers/territories.geojson?edition=2023&zoom=4";
    let request = |headers: &[(&str, &str)]| {
        let mut r = Request::get(uri);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(Body::empty()).expect("request")
    };
    let (status, headers, raw) = send(&app, request(&[])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/geo+json");
    let layer: serde_json::Value = serde_json::from_slice(&raw).expect("geojson");
    assert_eq!(layer["features"].as_array().map(Vec::len), Some(183));
    let etag = headers[header::ETAG].to_str().expect("etag").to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "strong ETag: {etag}");

    let (status, _, body) = send(&app, request(&[("if-none-match", &etag)])).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));

    let (_, headers, gz) = send(&app, request(&[("accept-encoding", "gzip")])).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut unzipped).expect("gunzip");
    assert_eq!(unzipped, raw);
    assert!(gz.len() < 500 * 1024, "France at low zoom under 500 KB gzipped: {}", gz.len());

    let (_, headers, br) = send(&app, request(&[("accept-encoding", "gzip, br")])).await;
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    let mut unbr = Vec::new();
    brotli::BrotliDecompress(&mut &br[..], &mut unbr).expect("brotli");
    assert_eq!(unbr, raw);

    let (status, headers, body) = send(&app, Request::head(uri).body(Body::empty()).expect("head")).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    assert_eq!(headers[header::ETAG].to_str().expect("etag"), etag);

    // More detail at higher zoom; a bbox keeps only what it meets.
    let (_, _, z12) = send(
        &app,
        Request::get("/api/layers/territories.geojson?edition=2023&zoom=12").body(Body::empty()).expect("r"),
    )
    .await;
    assert!(z12.len() > raw.len() * 3);
    let (_, around) =
        get_json(&app, "/api/layers/territories.geojson?edition=2023&bbox=3.2,49.3,3.4,49.45&zoom=10").await;
    let ids: Vec<&str> =
        around["features"].as_array().expect("f").iter().filter_map(|f| f["id"].as_str()).collect();
    assert!(ids.contains(&"ti-3214") && ids.len() < 10, "{ids:?}");
    let (_, ept) = get_json(&app, "/api/layers/units.geojson?kind=ept&zoom=8").await;
    assert_eq!(ept["features"].as_array().map(Vec::len), Some(11));
}

#[tokio::test]
async fn a_footprint_gets_its_share_in_each_territory() {
    let app = app();
    // A box around Soissons, all inside ti-3214 (2023).
    let inside = r#"{"type":"Polygon","coordinates":[[[3.30,49.37],[3.36,49.37],[3.36,49.40],[3.30,49.40],[3.30,49.37]]]}"#;
    let (status, _, body) = send(&app, post("/api/intersects", "application/geo+json", inside)).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let t2023: Vec<&serde_json::Value> =
        json["territories"].as_array().expect("t").iter().filter(|t| t["edition"] == "2023").collect();
    assert_eq!(t2023.len(), 1);
    assert_eq!((t2023[0]["id"].as_str(), t2023[0]["share"].as_f64()), (Some("ti-3214"), Some(1.0)));
    // Half over the sea off Dunkirk: the share inside is well below 1.
    let coast = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[2.30,51.00],[2.40,51.00],[2.40,51.10],[2.30,51.10],[2.30,51.00]]]}}"#;
    let (status, _, body) = send(&app, post("/api/intersects", "application/json", coast)).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let total: f64 = of_edition(&json["territories"], "2023").filter_map(|t| t["share"].as_f64()).sum();
    assert!(total > 0.05 && total < 0.95, "{json}");
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let app = app();
    let gets = [
        ("/api/lookup", 400),
        ("/api/lookup?lon=3.3", 400),
        ("/api/lookup?lon=abc&lat=49", 400),
        ("/api/lookup?lon=NaN&lat=49", 400),
        ("/api/lookup?lon=inf&lat=49", 400),
        ("/api/lookup?lon=1e400&lat=49", 400),
        ("/api/lookup?lon=3,3&lat=49", 400),
        ("/api/lookup?lon=181&lat=49", 400),
        ("/api/lookup?lon=3&lat=-91", 400),
        ("/api/lookup?lon=3&lat=49&edition=1999", 400),
        ("/api/lookup?lon=3&lat=49&foo=1", 400),
        ("/api/lookup?lon=3&lat=49&lon=4", 400),
        ("/api/territories?edition=nope", 400),
        ("/api/territories?x=1", 400),
        ("/api/territories/nope/ti-3214", 404),
        ("/api/units/12", 400),
        ("/api/units/000000000", 404),
        ("/api/layers/territories.geojson?bbox=1,2,3", 400),
        ("/api/layers/territories.geojson?bbox=5,5,1,1", 400),
        ("/api/layers/territories.geojson?zoom=99", 400),
        ("/api/layers/territories.geojson?edition=1999", 400),
        ("/api/layers/units.geojson?kind=region", 400),
        ("/api/layers/nothing.geojson", 404),
        ("/..%2f..%2fetc/passwd", 404),
    ];
    for (uri, expected) in gets {
        let (status, json) = get_json(&app, uri).await;
        assert_eq!(status.as_u16(), expected, "{uri}: {json}");
        assert!(json["error"]["code"].is_string() && json["error"]["message"].is_string(), "{uri}: {json}");
    }
    let posts = [
        post("/api/lookup", "application/geo+json", "{not json"),
        post("/api/lookup", "application/geo+json", r#"{"type":"Feature"}"#),
        post("/api/lookup", "application/geo+json", r#"{"type":"FeatureCollection"}"#),
        post("/api/lookup", "text/csv", "name,x_coord\na,1\n"),
        post("/api/lookup", "text/csv", ""),
        post("/api/intersects", "application/geo+json", r#"{"type":"Point","coordinates":[3,49]}"#),
        post(
            "/api/intersects",
            "application/geo+json",
            r#"{"type":"Polygon","coordinates":[[[3,49],[3,49],[3,49],[3,49]]]}"#,
        ),
        post(
            "/api/intersects",
            "application/geo+json",
            r#"{"type":"Polygon","coordinates":[[[300,49],[3,50],[4,49],[300,49]]]}"#,
        ),
        post("/api/intersects", "application/geo+json", vec![0xff, 0xfe]),
    ];
    for request in posts {
        let uri = request.uri().to_string();
        let (status, _, body) = send(&app, request).await;
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON error");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {json}");
        assert!(json["error"]["message"].is_string());
    }
    let (status, _, body) = send(&app, post("/api/lookup", "application/xml", "<a/>")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = send(&app, Request::delete("/api/lookup").body(Body::empty()).expect("r")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(String::from_utf8_lossy(&body).contains("method_not_allowed"));
}

#[tokio::test]
async fn cors_request_ids_and_metrics() {
    let app = app();
    let request =
        Request::get("/api/editions").header("origin", "https://example.org").body(Body::empty()).expect("r");
    let (_, headers, _) = send(&app, request).await;
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(headers.contains_key("x-request-id"));
    let (_, _, body) = send(&app, Request::get("/metrics").body(Body::empty()).expect("r")).await;
    let text = String::from_utf8(body).expect("utf8");
    assert!(
        text.contains(r#"territoires_http_requests_total{route="/api/editions",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"territoires_atlas_territories{edition="2023"} 183"#), "{text}");
    assert!(text.contains("territoires_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn the_openapi_description_lists_every_route() {
    let app = app();
    let (status, doc) = get_json(&app, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    for route in [
        "/api/lookup",
        "/api/intersects",
        "/api/editions",
        "/api/territories",
        "/api/territories/{edition}/{id}",
        "/api/units/{code}",
        "/api/search",
        "/api/layers/territories.geojson",
        "/api/layers/units.geojson",
        "/tiles/{layer}/{z}/{x}/{y}.mvt",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(route), "{route} missing");
    }
    assert!(paths["/api/lookup"]["post"].is_object() && paths["/api/lookup"]["get"].is_object());
    // One registry feeds the router and the document: the OGC routes are described too, and the admin
    // route only where it exists (this router has no admin token).
    for route in
        ["/ogc", "/ogc/conformance", "/ogc/collections/{id}/items", "/ogc/collections/{id}/items/{fid}"]
    {
        assert!(paths[route]["get"].is_object(), "{route} missing");
    }
    assert!(!paths.contains_key("/admin/reload"));
    assert!(doc["components"]["schemas"]["Lookup"]["properties"]["territories"].is_object());
}

/// Every JSON Schema `type` in the document, with where it is.
fn schema_types<'a>(value: &'a serde_json::Value, at: &str, out: &mut Vec<(String, &'a serde_json::Value)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == "type" {
                    out.push((at.to_owned(), child));
                }
                schema_types(child, &format!("{at}/{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                schema_types(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Issue 15 §5: the document is OpenAPI 3.0.3 (what the OGC landing page's `service-desc` link and its
/// `oas30` conformance class promise), served as such, and tells what the server does: the loaded
/// editions as an enum, the bounds the handlers check, the 415 of a body that is not GeoJSON.
#[tokio::test]
async fn the_openapi_document_is_3_0_and_says_what_the_server_checks() {
    let app = app();
    let (status, headers, body) =
        send(&app, Request::get("/api/openapi.json").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/vnd.oai.openapi+json;version=3.0");
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(doc["openapi"], "3.0.3");
    // No 3.1-only schema keyword left: `type` is one string, never a list or "null".
    let mut types = Vec::new();
    schema_types(&doc, "", &mut types);
    assert!(types.len() > 100, "{}", types.len());
    // (An object under `type` is a property named `type`, not the keyword.)
    let bad: Vec<_> = types.iter().filter(|(_, t)| t.is_array() || *t == "null").collect();
    assert!(bad.is_empty(), "{bad:?}");
    let paths = &doc["paths"];
    let param = |path: &str, method: &str, name: &str| {
        paths[path][method]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
            .clone()
    };
    // The editions enum is the loaded editions, as /api/editions lists them.
    let (_, editions) = get_json(&app, "/api/editions").await;
    let loaded: Vec<&str> =
        editions.as_array().expect("array").iter().filter_map(|e| e["id"].as_str()).collect();
    for (path, method) in [
        ("/api/lookup", "get"),
        ("/api/territories", "get"),
        ("/api/territories/{edition}/{id}", "get"),
        ("/api/search", "get"),
        ("/api/layers/territories.geojson", "get"),
    ] {
        let edition = param(path, method, "edition");
        let listed: Vec<&str> = edition["schema"]["enum"]
            .as_array()
            .map(|v| v.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(listed, loaded, "{path}");
    }
    // Each layer takes only its own parameter.
    assert!(
        paths["/api/layers/units.geojson"]["get"]["parameters"]
            .as_array()
            .expect("params")
            .iter()
            .all(|p| p["name"] != "edition")
    );
    assert!(
        paths["/api/layers/territories.geojson"]["get"]["parameters"]
            .as_array()
            .expect("params")
            .iter()
            .all(|p| p["name"] != "kind")
    );
    // Bounds as the handlers check them.
    let limit = param("/api/search", "get", "limit")["schema"].clone();
    assert_eq!((limit["minimum"].as_f64(), limit["maximum"].as_f64()), (Some(1.0), Some(50.0)));
    for (uri, status) in [
        ("/api/search?q=lens&limit=50", StatusCode::OK),
        ("/api/search?q=lens&limit=51", StatusCode::BAD_REQUEST),
        ("/api/search?q=lens&limit=0", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(get_json(&app, uri).await.0, status, "{uri}");
    }
    let z = param("/tiles/{layer}/{z}/{x}/{y}.mvt", "get", "z")["schema"].clone();
    assert_eq!(z["maximum"].as_f64(), Some(24.0));
    let items_limit = param("/ogc/collections/{id}/items", "get", "limit")["schema"].clone();
    assert_eq!(
        (items_limit["maximum"].as_f64(), items_limit["default"].as_f64()),
        (Some(10000.0), Some(100.0))
    );
    let code =
        param("/api/units/{code}", "get", "code")["schema"]["pattern"].as_str().expect("pattern").to_owned();
    assert_eq!(code, "^([0-9]{9}|[0-9]{5}|2[ABab][0-9]{3})$");
    // A tile outside its zoom's grid does not exist (404); a zoom over 24 is malformed (400).
    for (uri, status) in [
        ("/tiles/epci/2/4/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/epci/25/0/0.mvt", StatusCode::BAD_REQUEST),
    ] {
        let (got, _, _) = send(&app, Request::get(uri).body(Body::empty()).expect("request")).await;
        assert_eq!(got, status, "{uri}");
    }
    // The bodies are described, with their media types, and the 415 of a body that is not GeoJSON is
    // documented and answered.
    let intersects = &paths["/api/intersects"]["post"];
    assert!(intersects["requestBody"]["content"]["application/geo+json"]["schema"]["$ref"].is_string());
    assert!(intersects["responses"]["415"].is_object());
    let (status, _, _) =
        send(&app, post("/api/intersects", "text/plain", "POLYGON((0 0,1 0,1 1,0 0))")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let lookup = &paths["/api/lookup"]["post"]["requestBody"]["content"];
    for media in [
        "application/geo+json",
        "text/csv",
        "application/vnd.apache.parquet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ] {
        assert!(lookup[media]["schema"].is_object(), "{media}");
    }
    // The answers that were undescribed have a schema now.
    for (path, status) in [
        ("/healthz", "200"),
        ("/api/layers/units.geojson", "200"),
        ("/api/layers/territories.geojson", "200"),
    ] {
        let content = &paths[path]["get"]["responses"][status]["content"];
        let media = content.as_object().and_then(|c| c.values().next()).expect("content");
        assert!(media["schema"].is_object(), "{path}");
    }
}

/// Issue 12: every place that names an edition gives its label, list date, licence and attribution, and
/// every territory, EPCI and EPT its communes and population (the counts are checked against the `.dbf`
/// in `figures.rs`; here, that every route carries the same numbers).
#[tokio::test]
async fn editions_carry_their_metadata_and_territories_their_figures() {
    let app = app();
    let (_, editions) = get_json(&app, "/api/editions").await;
    let e2023 = editions.as_array().expect("array").iter().find(|e| e["id"] == "2023").expect("2023").clone();
    assert_eq!(e2023["meta"]["label"]["fr"], "Phase II (2023-2027)");
    assert_eq!(e2023["meta"]["period"], "2023-2027");
    assert_eq!(e2023["meta"]["list_date"], "2024-07-04");
    assert_eq!(e2023["meta"]["attribution"], "ANCT — Territoires d'industrie, données 2024-07-04");
    assert_eq!(e2023["meta"]["licence"]["name"], "Licence Ouverte / Open Licence 2.0");
    assert_eq!(e2023["meta"]["source"]["files"][0]["name"], "ti_geom.geojson");
    assert_eq!(e2023["meta"]["population"]["year"], 2022);
    let sample =
        editions.as_array().expect("array").iter().find(|e| e["id"] == "sample").expect("sample").clone();
    assert_eq!(sample["meta"]["label"]["en"], "sample", "no sidecar: the id");
    let (_, health) = get_json(&app, "/healthz").await;
    let h2019 = health["editions"]
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["id"] == "2019")
        .expect("2019")
        .clone();
    assert_eq!(
        (h2019["meta"]["label"]["en"].clone(), h2019["meta"]["list_date"].clone()),
        ("Phase I (2019-2022)".into(), "2022-12".into())
    );

    let (_, list) = get_json(&app, "/api/territories?edition=2023").await;
    let soissons =
        list.as_array().expect("array").iter().find(|t| t["id"] == "ti-3214").expect("ti-3214").clone();
    let (_, detail) = get_json(&app, "/api/territories/2023/ti-3214").await;
    assert_eq!(soissons["communes"], 164);
    for t in [&soissons, &detail] {
        assert_eq!((t["communes"].clone(), t["population"].clone()), (164.into(), 107_206.into()));
    }
    let (_, item) = get_json(&app, "/ogc/collections/territories-2023/items/ti-3214").await;
    assert_eq!(
        (item["properties"]["communes"].clone(), item["properties"]["population"].clone()),
        (164.into(), 107_206.into())
    );
    let (_, layer) = get_json(&app, "/api/layers/territories.geojson?edition=2023&zoom=4").await;
    let feature = layer["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["id"] == "ti-3214")
        .expect("feature")
        .clone();
    assert_eq!(feature["properties"]["population"], 107_206);
    let (_, unit) = get_json(&app, "/api/units/240200477").await;
    let (_, epci) = get_json(&app, "/ogc/collections/epci/items/240200477").await;
    assert_eq!(unit["communes"], 27, "{unit}");
    assert_eq!(epci["properties"]["communes"], unit["communes"]);
    assert_eq!(epci["properties"]["population"], unit["population"]);
    let (_, units) = get_json(&app, "/api/layers/units.geojson?kind=ept").await;
    assert!(
        units["features"]
            .as_array()
            .expect("features")
            .iter()
            .all(|f| f["properties"]["communes"].as_u64().is_some_and(|n| n > 0))
    );
    let (_, collection) = get_json(&app, "/ogc/collections/territories-2023").await;
    assert!(collection["title"].as_str().is_some_and(|t| t.contains("Phase II (2023-2027)")), "{collection}");
    assert!(
        collection["description"].as_str().is_some_and(|t| t.contains("list of 2024-07-04")),
        "{collection}"
    );
    assert_eq!(collection["attribution"], "ANCT — Territoires d'industrie, données 2024-07-04");
    let licence = collection["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "license")
        .expect("license link");
    assert_eq!(licence["href"], "https://www.etalab.gouv.fr/licence-ouverte-open-licence/");
}

/// The entries of a JSON array of territories that belong to one edition (none when it is not an array).
fn of_edition<'a>(
    list: &'a serde_json::Value,
    edition: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> {
    list.as_array().into_iter().flatten().filter(move |t| t["edition"] == edition)
}
