//! OGC API – Features Parts 1-3 and OGC API – Tiles on the real data, rule by rule (requirement ids from
//! OGC 17-069r4 in the comments). Each test is named after the conformance classes whose abstract tests
//! it runs (`conf_core_…`, `conf_oas30_…`), so every class `/ogc/conformance` claims has one.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use territoires::http::{AppState, build_app};

async fn get(uri: &str) -> Option<(StatusCode, String, Value)> {
    let app = build_app(AppState::from_loaded(crate::support::shared_loaded().clone()));
    let request =
        Request::get(uri).header(header::HOST, "example.test:8080").body(Body::empty()).expect("request");
    let response = app.oneshot(request).await.expect("answer");
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    Some((status, content_type, serde_json::from_slice(&body).expect("JSON")))
}

fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a Value> {
    doc["links"].as_array()?.iter().find(|l| l["rel"] == rel)
}

#[tokio::test]
async fn conf_core_root_success_and_conformance_success() {
    let Some((status, ct, landing)) = get("/ogc").await else { return };
    // /req/core/root-success: links to self, service-desc, conformance and data.
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/json"));
    for rel in ["self", "service-desc", "conformance", "data"] {
        let l = link(&landing, rel).unwrap_or_else(|| panic!("no {rel} link"));
        assert!(l["href"].as_str().is_some_and(|h| h.starts_with("http://example.test:8080/")), "{l}");
        assert!(l["type"].is_string());
    }
    // /req/core/conformance-success: core and geojson declared.
    let (_, _, conformance) = get("/ogc/conformance").await.expect("data");
    let classes: Vec<&str> =
        conformance["conformsTo"].as_array().expect("array").iter().filter_map(Value::as_str).collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
}

#[tokio::test]
async fn conf_core_fc_md_success_collections_describe_every_edition_and_unit_kind() {
    let Some((status, _, doc)) = get("/ogc/collections").await else { return };
    assert_eq!(status, StatusCode::OK);
    assert!(link(&doc, "self").is_some());
    let ids: Vec<&str> =
        doc["collections"].as_array().expect("array").iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(
        ids,
        ["territories-sample", "territories-2023", "territories-2019", "epci", "ept", "communes"]
    );
    // /req/core/sfc-md-items: id, links to items, extent in CRS84.
    let (status, _, c) = get("/ogc/collections/territories-2023").await.expect("data");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["itemType"], "feature");
    assert_eq!(link(&c, "items").expect("items")["type"], "application/geo+json");
    let bbox = c["extent"]["spatial"]["bbox"][0].as_array().expect("bbox");
    assert!(
        bbox[0].as_f64().expect("w") < -60.0 && bbox[2].as_f64().expect("e") > 50.0,
        "DROM included: {bbox:?}"
    );
    let (status, _, _) = get("/ogc/collections/nope").await.expect("data");
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn conf_core_fc_response_and_conf_geojson_content_items_page_filter_and_link() {
    let Some((status, ct, page)) = get("/ogc/collections/territories-2023/items?limit=50").await else {
        return;
    };
    // /req/core/fc-response, /req/geojson/content: a GeoJSON FeatureCollection with counts and links.
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/geo+json"), "{ct}");
    assert_eq!(page["type"], "FeatureCollection");
    assert_eq!((page["numberMatched"].as_u64(), page["numberReturned"].as_u64()), (Some(183), Some(50)));
    assert!(page["timeStamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let next = link(&page, "next").expect("next")["href"].as_str().expect("href").to_owned();
    assert!(next.contains("offset=50") && next.contains("limit=50"), "{next}");
    // Follow next links to the end: every feature once.
    let mut seen = page["features"].as_array().expect("features").len();
    let mut next = Some(next);
    while let Some(url) = next {
        let path = url.trim_start_matches("http://example.test:8080");
        let (_, _, p) = get(path).await.expect("data");
        seen += p["features"].as_array().expect("features").len();
        next = link(&p, "next").and_then(|l| l["href"].as_str()).map(str::to_owned);
    }
    assert_eq!(seen, 183);
    // /req/core/fc-bbox-response: only features meeting the bbox (around Soissons).
    let (_, _, near) =
        get("/ogc/collections/territories-2023/items?bbox=3.2,49.3,3.4,49.45").await.expect("data");
    let ids: Vec<&str> =
        near["features"].as_array().expect("f").iter().filter_map(|f| f["id"].as_str()).collect();
    assert!(ids.contains(&"ti-3214") && ids.len() < 10, "{ids:?}");
    // /req/core/fc-time-response: datetime accepted (features carry no time).
    let (status, _, _) =
        get("/ogc/collections/epci/items?datetime=2024-01-01T00:00:00Z&limit=1").await.expect("data");
    assert_eq!(status, StatusCode::OK);
    // Communes page through 34,935 features.
    let (_, _, communes) =
        get("/ogc/collections/communes/items?limit=10000&offset=30000").await.expect("data");
    assert_eq!(
        (communes["numberMatched"].as_u64(), communes["numberReturned"].as_u64()),
        (Some(34935), Some(4935))
    );
    assert!(link(&communes, "next").is_none() && link(&communes, "prev").is_some());
    // /rec/core/fc-limit-response-1: a limit over the maximum is answered with the maximum, not refused,
    // and the next page's link says the limit actually used.
    for asked in ["10001", "50000", "99999999999999999999999"] {
        let (status, _, page) =
            get(&format!("/ogc/collections/communes/items?limit={asked}")).await.expect("data");
        assert_eq!(status, StatusCode::OK, "limit={asked}");
        assert_eq!(page["numberReturned"].as_u64(), Some(10_000), "limit={asked}");
        let next = link(&page, "next").expect("next page")["href"].as_str().expect("href");
        assert!(next.contains("limit=10000") && next.contains("offset=10000"), "{next}");
    }
}

#[tokio::test]
async fn conf_core_f_success_one_item_and_bad_parameters() {
    let Some((status, ct, f)) = get("/ogc/collections/territories-2023/items/ti-3214").await else { return };
    // /req/core/f-success: the feature with self and collection links.
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/geo+json"));
    assert_eq!((f["type"].as_str(), f["id"].as_str()), (Some("Feature"), Some("ti-3214")));
    assert!(f["properties"]["member_codes"].as_str().is_some_and(|c| c.contains("240200477")));
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    assert!(link(&f, "collection").is_some());
    let (status, _, unit) = get("/ogc/collections/communes/items/02722").await.expect("data");
    assert_eq!((status, unit["properties"]["name"].as_str()), (StatusCode::OK, Some("Soissons")));
    for (uri, expected) in [
        ("/ogc/collections/territories-2023/items/ti-0000", 404),
        ("/ogc/collections/territories-2023/items?limit=0", 400),
        ("/ogc/collections/territories-2023/items?limit=ten", 400),
        ("/ogc/collections/territories-2023/items?offset=-1", 400),
        ("/ogc/collections/territories-2023/items?bbox=1,2,3", 400),
        ("/ogc/collections/territories-2023/items?colour=red", 400),
        ("/ogc/collections/territories-2023/items?datetime=yesterday", 400),
        ("/ogc/collections?f=xml", 400),
        ("/ogc/conformance?x=1", 400),
    ] {
        let (status, _, body) = get(uri).await.expect("data");
        assert_eq!(status.as_u16(), expected, "{uri}: {body}");
        assert!(body["error"]["message"].is_string(), "{uri}");
    }
}

#[tokio::test]
async fn links_use_the_configured_public_url_not_the_host_header() {
    // Behind a proxy the Host header names the internal address; links must name the public one.
    let mut config = territoires::http::ServerConfig::default();
    config.public_url = Some("https://territoires.example.fr/carte/".parse().expect("url"));
    let app = build_app(AppState::from_loaded(crate::support::shared_loaded().clone()).with_config(&config));
    for uri in ["/ogc", "/ogc/collections/territories-2023", "/ogc/collections/epci/items?limit=2"] {
        let request = Request::get(uri)
            .header(header::HOST, "10.0.0.7:8080")
            .header("x-forwarded-proto", "http")
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let body = response.into_body().collect().await.expect("body").to_bytes();
        let doc: Value = serde_json::from_slice(&body).expect("JSON");
        // Every link to this service (the licence points elsewhere).
        let hrefs: Vec<&str> = doc["links"]
            .as_array()
            .expect("links")
            .iter()
            .filter(|l| l["rel"] != "license")
            .filter_map(|l| l["href"].as_str())
            .collect();
        assert!(!hrefs.is_empty(), "{uri}");
        for href in hrefs {
            assert!(href.starts_with("https://territoires.example.fr/carte/"), "{uri}: {href}");
        }
    }
    assert!("territoires.example.fr".parse::<territoires::http::PublicUrl>().is_err());
}

/// A GET (with an `Accept` header when given): status, headers and body.
async fn send(uri: &str, accept: Option<&str>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let app = build_app(AppState::from_loaded(crate::support::shared_loaded().clone()));
    let mut request = Request::get(uri).header(header::HOST, "example.test:8080");
    if let Some(a) = accept {
        request = request.header(header::ACCEPT, a);
    }
    let response = app.oneshot(request.body(Body::empty()).expect("request")).await.expect("answer");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn content_type(headers: &axum::http::HeaderMap) -> String {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// A GET answered with its headers too.
async fn get_with_headers(uri: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
    let (status, headers, body) = send(uri, None).await;
    (status, headers, serde_json::from_slice(&body).expect("JSON"))
}

const EPSG_2154: &str = "http://www.opengis.net/def/crs/EPSG/0/2154";
const EPSG_4326: &str = "http://www.opengis.net/def/crs/EPSG/0/4326";

fn first_vertex(feature: &Value) -> (f64, f64) {
    let c = &feature["geometry"]["coordinates"][0][0][0];
    (c[0].as_f64().expect("x"), c[1].as_f64().expect("y"))
}

/// OGC 18-058r1 (Part 2) abstract tests: /conf/crs/crs-uri, /conf/crs/fc-md-crs-list,
/// /conf/crs/fc-md-storageCrs, /conf/crs/fc-crs-definition, /conf/crs/fc-crs-valid-value,
/// /conf/crs/ogc-crs-header, /conf/crs/fc-bbox-crs-action. The coordinates themselves are checked
/// against PROJ in tests/reference/test_ogc_crs.py.
#[tokio::test]
async fn conf_crs_part_2_crs_by_reference() {
    let (_, _, conformance) = get_with_headers("/ogc/conformance").await;
    assert!(
        conformance["conformsTo"]
            .as_array()
            .expect("classes")
            .contains(&Value::from("http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"))
    );
    // /conf/crs/fc-md-crs-list, fc-md-storageCrs: every collection lists its CRSs; stored in CRS84.
    let (_, _, c) = get_with_headers("/ogc/collections/epci").await;
    let list: Vec<&str> = c["crs"].as_array().expect("crs").iter().filter_map(Value::as_str).collect();
    for uri in [
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        EPSG_4326,
        EPSG_2154,
        "http://www.opengis.net/def/crs/EPSG/0/3857",
        "http://www.opengis.net/def/crs/EPSG/0/5490",
        "http://www.opengis.net/def/crs/EPSG/0/2972",
        "http://www.opengis.net/def/crs/EPSG/0/2975",
        "http://www.opengis.net/def/crs/EPSG/0/4471",
    ] {
        assert!(list.contains(&uri), "{uri} not in {list:?}");
    }
    assert_eq!(c["storageCrs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");

    // /conf/crs/ogc-crs-header: CRS84 by default, said in Content-Crs.
    let (status, headers, plain) = get_with_headers("/ogc/collections/territories-2023/items/ti-3214").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-crs"], "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>");
    let (lon, lat) = first_vertex(&plain);
    // /conf/crs/fc-crs-definition: Lambert-93 metres, in the Aisne; EPSG:4326 latitude first.
    let (status, headers, l93) =
        get_with_headers(&format!("/ogc/collections/territories-2023/items/ti-3214?crs={EPSG_2154}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-crs"], format!("<{EPSG_2154}>").as_str());
    let (x, y) = first_vertex(&l93);
    assert!((650_000.0..800_000.0).contains(&x) && (6_850_000.0..6_950_000.0).contains(&y), "{x} {y}");
    let (_, headers, swapped) =
        get_with_headers("/ogc/collections/territories-2023/items/ti-3214?crs=[EPSG:4326]").await;
    assert_eq!(headers["content-crs"], format!("<{EPSG_4326}>").as_str());
    assert_eq!(first_vertex(&swapped), (lat, lon));
    // The same in a page of items, whose next link keeps the CRS.
    let (_, headers, page) =
        get_with_headers(&format!("/ogc/collections/epci/items?limit=2&crs={EPSG_2154}")).await;
    assert_eq!(headers["content-crs"], format!("<{EPSG_2154}>").as_str());
    let next = link(&page, "next").expect("next")["href"].as_str().expect("href").to_owned();
    assert!(next.contains("crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154"), "{next}");

    // /conf/crs/fc-bbox-crs-action: a Lambert-93 box around Soissons finds what its CRS84 twin finds.
    let (_, _, by_l93) = get_with_headers(&format!(
        "/ogc/collections/territories-2023/items?bbox=715000,6909000,730000,6922000&bbox-crs={EPSG_2154}"
    ))
    .await;
    let ids = |doc: &Value| -> Vec<String> {
        doc["features"]
            .as_array()
            .expect("f")
            .iter()
            .filter_map(|f| f["id"].as_str().map(String::from))
            .collect()
    };
    assert!(ids(&by_l93).contains(&"ti-3214".to_owned()), "{:?}", ids(&by_l93));
    let (_, _, by_lat_lon) = get_with_headers(&format!(
        "/ogc/collections/territories-2023/items?bbox=49.33,3.25,49.45,3.45&bbox-crs={EPSG_4326}"
    ))
    .await;
    let (_, _, by_crs84) =
        get_with_headers("/ogc/collections/territories-2023/items?bbox=3.25,49.33,3.45,49.45").await;
    assert_eq!(ids(&by_lat_lon), ids(&by_crs84));

    // /conf/crs/fc-crs-valid-value: anything else is a 400 naming the supported list.
    for bad in [
        "/ogc/collections/epci/items?crs=EPSG:9999",
        "/ogc/collections/epci/items?crs=http://www.opengis.net/def/crs/EPSG/0/32631",
        "/ogc/collections/epci/items/240200477?crs=lambert",
        "/ogc/collections/epci/items?bbox=1,2,3&bbox-crs=EPSG:2154",
        "/ogc/collections/epci/items?bbox=730000,6922000,715000,6909000&bbox-crs=EPSG:2154",
    ] {
        let (status, _, body) = get_with_headers(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["error"]["message"].as_str().is_some_and(|m| m.contains("crs") || m.contains("bbox")),
            "{body}"
        );
    }
    let (_, _, body) = get_with_headers("/ogc/collections/epci/items?crs=EPSG:9999").await;
    assert!(body["error"]["message"].as_str().expect("message").contains(EPSG_2154));
}

fn ids_of(doc: &Value) -> Vec<String> {
    doc["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["id"].as_str().map(String::from))
        .collect()
}

/// A CQL2 query string, percent-encoded.
fn cql(path: &str, filter: &str, extra: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("filter", filter);
    format!("{path}?{}{extra}", q.finish())
}

/// OGC 19-079r2 (Part 3) and 21-065r2 (CQL2) abstract tests: /conf/queryables/get-queryables-op,
/// /conf/queryables/get-queryables-response, /conf/queryables-query-parameters/parameters,
/// /conf/filter/filter-param, /conf/filter/filter-lang-param, /conf/filter/filter-crs-param,
/// /conf/filter/response, /conf/features-filter/response, /conf/basic-cql2/comparison,
/// /conf/advanced-comparison-operators/{like,between,in}, /conf/case-insensitive-comparison,
/// /conf/accent-insensitive-comparison, /conf/basic-spatial-functions/s_intersects,
/// /conf/spatial-functions/{s_within,s_disjoint}. The counts are checked against the territory list
/// endpoint and the point lookup (other code paths) here, and against GEOS in
/// tests/reference/test_ogc_filter.py.
#[tokio::test]
async fn conf_queryables_filter_features_filter_cql2_text_cql2_json_part_3_filtering() {
    let (_, _, conformance) = get_with_headers("/ogc/conformance").await;
    let classes = conformance["conformsTo"].as_array().expect("classes");
    for class in [
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    ] {
        assert!(classes.contains(&Value::from(class)), "{class}");
    }
    // /conf/queryables: linked from the collection, a JSON Schema naming every property and the geometry.
    let (_, _, c) = get_with_headers("/ogc/collections/territories-2023").await;
    let href =
        link(&c, "http://www.opengis.net/def/rel/ogc/1.0/queryables").expect("queryables link")["href"]
            .as_str()
            .expect("href")
            .to_owned();
    let (status, headers, schema) =
        get_with_headers(href.trim_start_matches("http://example.test:8080")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/schema+json");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["region"]["type"], serde_json::json!(["string", "null"]));
    assert_eq!(schema["properties"]["population"]["type"], "integer");
    assert_eq!(schema["properties"]["geometry"]["format"], "geometry-multipolygon");
    // Every queryable is a property of the features, and the other way round.
    let (_, _, f) = get_with_headers("/ogc/collections/territories-2023/items/ti-3214").await;
    let mut props: Vec<&str> = f["properties"].as_object().expect("p").keys().map(String::as_str).collect();
    let mut named: Vec<&str> = schema["properties"]
        .as_object()
        .expect("p")
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "geometry")
        .collect();
    props.sort_unstable();
    named.sort_unstable();
    assert_eq!(props, named);

    // /conf/basic-cql2 and /conf/queryables-query-parameters: Hauts-de-France's territories, as the
    // territory list gives them.
    let (_, list) = {
        let (s, _, v) = get_with_headers("/api/territories?edition=2023").await;
        (s, v)
    };
    let mut hdf: Vec<String> = list
        .as_array()
        .expect("list")
        .iter()
        .filter(|t| t["region"] == "32")
        .filter_map(|t| t["id"].as_str().map(String::from))
        .collect();
    hdf.sort();
    assert_eq!(hdf.len(), 17);
    let items = "/ogc/collections/territories-2023/items";
    let (status, _, by_text) = get_with_headers(&cql(items, "region = '32'", "&limit=1000")).await;
    assert_eq!(status, StatusCode::OK, "{by_text}");
    assert_eq!(by_text["numberMatched"], 17);
    assert_eq!(ids_of(&by_text), hdf);
    let (_, _, by_param) = get_with_headers(&format!("{items}?region=32&limit=1000")).await;
    assert_eq!(ids_of(&by_param), hdf);
    let json = r#"{"op":"=","args":[{"property":"region"},"32"]}"#;
    let (_, _, by_json) = get_with_headers(&cql(items, json, "&filter-lang=cql2-json&limit=1000")).await;
    assert_eq!(ids_of(&by_json), hdf);
    // AND, OR, NOT and numbers: the populous ones, sorted.
    let (_, _, big) = get_with_headers(&cql(
        items,
        "region = '32' AND NOT (population < 200000)",
        "&sortby=-population&limit=1000",
    ))
    .await;
    let pops: Vec<i64> = big["features"]
        .as_array()
        .expect("f")
        .iter()
        .map(|f| f["properties"]["population"].as_i64().expect("population"))
        .collect();
    assert!(!pops.is_empty() && pops.iter().all(|&p| p >= 200_000), "{pops:?}");
    assert!(pops.windows(2).all(|w| w[0] >= w[1]), "sorted descending: {pops:?}");
    let expected_big = list
        .as_array()
        .expect("list")
        .iter()
        .filter(|t| t["region"] == "32" && t["population"].as_i64().is_some_and(|p| p >= 200_000))
        .count();
    assert_eq!(pops.len(), expected_big);

    // /conf/advanced-comparison-operators: LIKE, BETWEEN, IN; CASEI and ACCENTI.
    let communes = "/ogc/collections/communes/items";
    let (_, _, like) = get_with_headers(&cql(communes, "name LIKE 'Soissons%'", "")).await;
    assert!(ids_of(&like).contains(&"02722".to_owned()));
    let (_, _, folded) =
        get_with_headers(&cql(communes, "CASEI(ACCENTI(name)) = CASEI(ACCENTI('CHATEAU-THIERRY'))", ""))
            .await;
    assert_eq!(ids_of(&folded), ["02168"]);
    let (_, _, within) =
        get_with_headers(&cql(communes, "population BETWEEN 100000 AND 150000", "&limit=1000")).await;
    assert!(within["features"].as_array().expect("f").iter().all(|f| {
        f["properties"]["population"].as_i64().is_some_and(|p| (100_000..=150_000).contains(&p))
    }));
    assert!(within["numberMatched"].as_u64().is_some_and(|n| n > 10), "{}", within["numberMatched"]);
    let (_, _, listed) = get_with_headers(&cql(communes, "code IN ('02722', '02168', '75056')", "")).await;
    assert_eq!(ids_of(&listed), ["02168", "02722", "75056"]);

    // /conf/basic-spatial-functions: the territory holding Soissons's town hall is the lookup's answer.
    let (_, _, lookup) = get_with_headers("/api/lookup?lon=3.3235&lat=49.3817&edition=2023").await;
    let inside: Vec<String> = lookup["territories"]
        .as_array()
        .expect("territories")
        .iter()
        .filter_map(|t| t["id"].as_str().map(String::from))
        .collect();
    let (_, _, hit) =
        get_with_headers(&cql(items, "S_INTERSECTS(geometry, POINT(3.3235 49.3817))", "")).await;
    assert_eq!(ids_of(&hit), inside);
    // The same point in Lambert-93 with filter-crs, and S_DISJOINT as its complement.
    let (_, _, l93) = get_with_headers(&cql(
        items,
        "S_INTERSECTS(geometry, POINT(727000 6915000))",
        &format!("&filter-crs={}", "http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154"),
    ))
    .await;
    assert_eq!(ids_of(&l93), inside);
    let (_, _, rest) =
        get_with_headers(&cql(items, "S_DISJOINT(geometry, POINT(3.3235 49.3817))", "&limit=1000")).await;
    assert_eq!(rest["numberMatched"].as_u64(), Some(183 - inside.len() as u64));

    // Refused with a 400 saying why.
    for (filter, extra, says) in [
        ("nope = 1", "", "unknown property \"nope\""),
        ("region = 32", "", "quote it"),
        ("region = '32' AND", "", "cql2-text"),
        ("T_AFTER(region, TIMESTAMP('2020-01-01T00:00:00Z'))", "", "not supported"),
        ("region = '32'", "&filter-lang=sql", "filter-lang"),
        ("S_INTERSECTS(population, POINT(1 2))", "", "geometries"),
        ("population", "", "condition"),
    ] {
        let (status, _, body) = get_with_headers(&cql(items, filter, extra)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(says), "{filter}: {message}");
    }
    for (uri, says) in [
        (format!("{items}?colour=red"), "unknown parameter \"colour\""),
        (format!("{items}?population=many"), "expected a number"),
        (format!("{items}?sortby=geometry"), "sortby"),
        (format!("{items}?filter-lang=cql3"), "filter-lang"),
    ] {
        let (status, _, body) = get_with_headers(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains(says)), "{uri}: {body}");
    }
}

/// A GET's raw body, for tiles.
async fn get_bytes(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let (status, headers, body) = send(uri, None).await;
    (status, content_type(&headers), body)
}

/// OGC 20-057 (OGC API – Tiles) abstract tests: /conf/core/tc-op, /conf/core/tc-success,
/// /conf/tileset/tileset-desc, /conf/tilesets-list/tilesets-list-success, /conf/geodata-tilesets,
/// /conf/mvt/mvt-content, and OGC 17-083r4 /conf/json-tilematrixset: from the landing page to one tile of
/// Soissons, the same bytes as the XYZ tile.
#[tokio::test]
async fn conf_tiles_core_tileset_tilesets_list_geodata_tilesets_mvt_from_the_landing_page_to_a_tile() {
    let (_, _, landing) = get_with_headers("/ogc").await;
    assert!(link(&landing, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector").is_some());
    assert!(link(&landing, "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes").is_some());
    let (_, _, conformance) = get_with_headers("/ogc/conformance").await;
    let classes = conformance["conformsTo"].as_array().expect("classes");
    for class in ["core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{class}");
        assert!(classes.contains(&Value::from(uri.as_str())), "{uri}");
    }
    // The tile matrix set: 256-pixel tiles halving from zoom 0, the Web Mercator origin.
    let (status, _, tms) = get_with_headers("/ogc/tileMatrixSets/WebMercatorQuad").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tms["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
    let m12 = &tms["tileMatrices"][12];
    assert_eq!((m12["id"].as_str(), m12["matrixWidth"].as_u64()), (Some("12"), Some(4096)));
    let ratio =
        tms["tileMatrices"][0]["cellSize"].as_f64().expect("cell") / m12["cellSize"].as_f64().expect("cell");
    assert!((ratio - 4096.0).abs() < 1e-9, "{ratio}");
    let (status, _, _) = get_with_headers("/ogc/tileMatrixSets/WorldCRS84Quad").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Collection → tilesets → tileset → tile template.
    let (_, _, c) = get_with_headers("/ogc/collections/territories-2023").await;
    let tiles =
        link(&c, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector").expect("tiles link")["href"]
            .as_str()
            .expect("href")
            .trim_start_matches("http://example.test:8080")
            .to_owned();
    let (_, _, sets) = get_with_headers(&tiles).await;
    let set = &sets["tilesets"][0];
    assert_eq!(set["dataType"], "vector");
    assert_eq!(set["tileMatrixSetURI"], "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad");
    let self_link = link(set, "self").expect("self")["href"].as_str().expect("href");
    let (_, _, tileset) = get_with_headers(self_link.trim_start_matches("http://example.test:8080")).await;
    assert_eq!(tileset["layers"][0]["id"], "territories-2023");
    assert_eq!(tileset["layers"][0]["propertiesSchema"]["properties"]["region"]["type"], "string");
    // Soissons's tile at zoom 12 (x 2085, y 1416) lies within the limits of zoom 12.
    let (x, y) = (2085_u64, 1416_u64);
    let limit = tileset["tileMatrixSetLimits"]
        .as_array()
        .expect("limits")
        .iter()
        .find(|l| l["tileMatrix"] == "12")
        .expect("zoom 12")
        .clone();
    let within = |k: &str, v: u64| {
        limit[format!("min{k}")].as_u64() <= Some(v) && Some(v) <= limit[format!("max{k}")].as_u64()
    };
    assert!(within("TileCol", x) && within("TileRow", y), "{limit}");
    let template = tileset["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "item" && l["type"] == "application/vnd.mapbox-vector-tile")
        .expect("item template")["href"]
        .as_str()
        .expect("href")
        .trim_start_matches("http://example.test:8080")
        .to_owned();
    let uri = template
        .replace("{tileMatrix}", "12")
        .replace("{tileRow}", &y.to_string())
        .replace("{tileCol}", &x.to_string());
    let (status, ct, ogc) = get_bytes(&uri).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/vnd.mapbox-vector-tile"), "{uri}");
    let (_, _, xyz) = get_bytes(&format!("/tiles/territories-2023/12/{x}/{y}.mvt")).await;
    assert!(!ogc.is_empty());
    assert_eq!(ogc, xyz, "the same tile as /tiles");

    // What has no tiles, or no such address, says so.
    for (uri, expected) in [
        ("/ogc/collections/communes/tiles", StatusCode::NOT_FOUND),
        ("/ogc/collections/epci/tiles/WorldCRS84Quad", StatusCode::NOT_FOUND),
        ("/ogc/collections/epci/tiles/WebMercatorQuad/25/0/0", StatusCode::BAD_REQUEST),
        // Outside zoom 2's 4×4 matrix: no such tile (/req/core/tc-error).
        ("/ogc/collections/epci/tiles/WebMercatorQuad/2/9/0", StatusCode::NOT_FOUND),
        ("/ogc/collections/epci/tiles/WebMercatorQuad/a/0/0", StatusCode::BAD_REQUEST),
        ("/ogc/collections/nope/tiles/WebMercatorQuad/0/0/0", StatusCode::NOT_FOUND),
    ] {
        let (status, _, _) = get_bytes(uri).await;
        assert_eq!(status, expected, "{uri}");
    }
    // Every collection but the communes (whose names and borders are the map's `places` layer).
    let (_, _, all) = get_with_headers("/ogc/tiles").await;
    let (_, _, collections) = get_with_headers("/ogc/collections").await;
    let n = collections["collections"].as_array().map(Vec::len).expect("collections");
    assert_eq!(all["tilesets"].as_array().map(Vec::len), Some(n - 1));
}

/// A GET with an `Accept` header: status, content type, body text.
async fn get_accepting(uri: &str, accept: &str) -> (StatusCode, String, String) {
    let (status, headers, body) = send(uri, Some(accept)).await;
    (status, content_type(&headers), String::from_utf8_lossy(&body).into_owned())
}

/// OGC 17-069r4 /conf/html: /req/html/definition and /req/html/content. A browser (`Accept: text/html`)
/// or `?f=html` gets a page for people with the same content and links; GIS clients keep their JSON.
#[tokio::test]
async fn conf_html_content_html_for_people() {
    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for uri in [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/epci",
        "/ogc/collections/territories-2023/items?region=32",
        "/ogc/collections/communes/items/02722",
    ] {
        let (status, ct, html) = get_accepting(uri, BROWSER).await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "text/html; charset=utf-8"), "{uri}");
        assert!(html.starts_with("<!doctype html>") && html.contains("<html lang=\"en\">"), "{uri}");
        let (status, ct, _) =
            get_accepting(&format!("{uri}{}f=html", if uri.contains('?') { '&' } else { '?' }), "*/*").await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "text/html; charset=utf-8"), "{uri} f=html");
        let (_, ct, _) = get_accepting(uri, "application/geo+json, application/json").await;
        assert!(ct.starts_with("application/"), "{uri}: {ct}");
    }
    let (_, _, items) = get_accepting("/ogc/collections/territories-2023/items?region=32", BROWSER).await;
    assert_eq!(items.matches("<tr><td><a href=\"/ogc/collections/territories-2023/items/").count(), 17);
    assert!(items.contains("Soissonnais – Valois") && items.contains("<svg"));
    let (_, _, soissons) = get_accepting("/ogc/collections/communes/items/02722?f=html", "*/*").await;
    assert!(soissons.contains("<h1>Soissons</h1>") && soissons.contains("<path"));
    // Names are escaped, not injected.
    let (_, _, d) =
        get_accepting("/ogc/collections/communes/items?f=html&name=D%27Huison-Longueville", "*/*").await;
    assert!(d.contains("D&#39;Huison-Longueville") || d.contains("0 of 0 features"), "{d}");
    let (status, _, _) = get_accepting("/ogc/collections?f=xml", BROWSER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// `/conf/oas30/oas-definition-1`, `-2` and `/conf/oas30/oas-impl`: the landing page's `service-desc` is an
/// OpenAPI 3.0 document, served with the media type the link gives, and every OGC path it describes answers.
#[tokio::test]
async fn conf_oas30_oas_definition_and_oas_impl_service_desc_is_an_openapi_3_0_document() {
    let (_, _, conformance) = get_with_headers("/ogc/conformance").await;
    assert!(
        conformance["conformsTo"]
            .as_array()
            .expect("classes")
            .iter()
            .any(|c| c == "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30")
    );
    let (_, _, landing) = get_with_headers("/ogc").await;
    let desc = link(&landing, "service-desc").expect("service-desc").clone();
    assert_eq!(desc["type"], "application/vnd.oai.openapi+json;version=3.0");
    let path = desc["href"]
        .as_str()
        .expect("href")
        .split_once("://")
        .and_then(|(_, r)| r.split_once('/'))
        .map(|(_, p)| format!("/{p}"))
        .expect("path");
    let (status, content_type, body) = get_bytes(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/vnd.oai.openapi+json;version=3.0");
    let doc: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0.")), "{}", doc["openapi"]);
    let (_, _, items) = get_with_headers("/ogc/collections/epci/items?limit=1").await;
    let fid = items["features"][0]["id"].as_str().expect("fid").to_owned();
    let mut described = 0;
    for (template, item) in doc["paths"].as_object().expect("paths") {
        if !template.starts_with("/ogc") || item.get("get").is_none() {
            continue;
        }
        // Each path parameter given a value it takes: the collection id from its enum, a feature, a tile.
        let uri = template
            .replace("{id}", "epci")
            .replace("{fid}", &fid)
            .replace("{tileMatrixSetId}", "WebMercatorQuad")
            .replace("{tileMatrix}", "6")
            .replace("{tileRow}", "22")
            .replace("{tileCol}", "32");
        let (status, _, _) = get_bytes(&uri).await;
        assert_eq!(status, StatusCode::OK, "{template} as {uri}");
        described += 1;
    }
    assert!(described >= 13, "{described} OGC paths");
    // /req/oas30/oas-impl: the `limit` a client reads (GDAL pages with it) is the one the server keeps.
    let limit = doc["paths"]["/ogc/collections/{id}/items"]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
        .expect("limit")["schema"]
        .clone();
    let max = limit["maximum"].as_u64().expect("maximum");
    let (_, _, page) = get_with_headers(&format!("/ogc/collections/communes/items?limit={}", max + 1)).await;
    assert_eq!(page["numberReturned"].as_u64(), Some(max));
}
