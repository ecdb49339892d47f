//! OGC API – Features Part 1 (Core + GeoJSON) on the real data, rule by rule (requirement ids from
//! OGC 17-069r4 in the comments).

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
async fn landing_page_and_conformance() {
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
async fn collections_describe_every_edition_and_unit_kind() {
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
async fn items_page_filter_and_link() {
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
async fn one_item_and_bad_parameters() {
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

/// A GET answered with its headers too.
async fn get_with_headers(uri: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
    let app = build_app(AppState::from_loaded(crate::support::shared_loaded().clone()));
    let request =
        Request::get(uri).header(header::HOST, "example.test:8080").body(Body::empty()).expect("request");
    let response = app.oneshot(request).await.expect("answer");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.expect("body").to_bytes();
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
async fn part_2_crs_by_reference() {
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
        "/ogc/collections/epci/items?bbox-crs=EPSG:2154",
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
