//! Vector tiles through the real router, decoded with an independent reader (`mvt-reader`).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use geo::Contains;
use http_body_util::BodyExt;
use mvt_reader::Reader;
use mvt_reader::feature::Value;
use tower::ServiceExt;

use territoires::http::{AppState, build_app};

use crate::support::shared_loaded;

/// XYZ tile holding (lon, lat) at zoom z, and the point's position in the 4096 grid.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32, f64, f64) {
    let n = f64::from(1u32 << z);
    let mx = (lon + 180.0) / 360.0 * n;
    let phi = lat.to_radians();
    let my = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (x, y) = (mx.floor() as u32, my.floor() as u32);
    (x, y, (mx - f64::from(x)) * 4096.0, (my - f64::from(y)) * 4096.0)
}

async fn fetch(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>, Option<String>) {
    let response =
        app.clone().oneshot(Request::get(uri).body(Body::empty()).expect("request")).await.expect("answer");
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, response.into_body().collect().await.expect("body").to_bytes().to_vec(), content_type)
}

#[tokio::test]
async fn a_tile_over_soissons_holds_its_territory_around_the_town() {
    let app = build_app(AppState::from_loaded(shared_loaded().clone()));
    for z in [5u8, 8, 12, 14] {
        let (x, y, px, py) = tile_of(3.328_181, 49.383_574, z);
        let (status, body, content_type) =
            fetch(&app, &format!("/tiles/territories-2023/{z}/{x}/{y}.mvt")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/vnd.mapbox-vector-tile"));
        let reader = Reader::new(body).expect("valid MVT");
        assert_eq!(reader.get_layer_names().expect("names"), ["territories-2023"]);
        let features = reader.get_features_as::<f64>(0).expect("features");
        let soissons = features
            .iter()
            .find(|f| {
                f.properties.as_ref().and_then(|p| p.get("id")) == Some(&Value::String("ti-3214".into()))
            })
            .unwrap_or_else(|| panic!("z{z}: ti-3214 in the tile"));
        let point = geo::Point::new(px, py);
        let inside = match &soissons.geometry {
            geo::Geometry::Polygon(p) => p.contains(&point),
            geo::Geometry::MultiPolygon(mp) => mp.contains(&point),
            other => panic!("z{z}: {other:?}"),
        };
        assert!(
            inside,
            "z{z}: Soissons ({px:.0},{py:.0}) inside its territory in tile coordinates: {:?}",
            geo::BoundingRect::bounding_rect(&soissons.geometry)
        );
    }
    // EPCI and EPT layers; an empty tile far at sea is still a valid tile.
    let (x, y, _, _) = tile_of(2.35, 48.85, 10);
    let (status, body, _) = fetch(&app, &format!("/tiles/ept/10/{x}/{y}.mvt")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!Reader::new(body).expect("mvt").get_features(0).expect("features").is_empty());
    let (status, body, _) = fetch(&app, "/tiles/epci/6/20/20.mvt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(Reader::new(body).expect("mvt").get_features(0).map_or(true, |f| f.is_empty()));
    for (uri, expected) in [
        ("/tiles/nope/1/0/0.mvt", 404),
        // Outside zoom 3's 8×8 grid: no such tile; a zoom over 24 is malformed.
        ("/tiles/epci/3/8/0.mvt", 404),
        ("/tiles/epci/25/0/0.mvt", 400),
        ("/tiles/epci/a/0/0.mvt", 400),
        ("/tiles/epci/1/0/0.png", 400),
    ] {
        let (status, body, _) = fetch(&app, uri).await;
        assert_eq!(status.as_u16(), expected, "{uri}: {}", String::from_utf8_lossy(&body));
    }
}

/// Places spread over France (dense borders, coasts, a tricky outline, overseas) for tile checks.
const PLACES: [(&str, f64, f64); 7] = [
    ("Lille", 3.06, 50.63),
    ("Paris", 2.35, 48.85),
    ("Marseille", 5.37, 43.30),
    ("Soissons", 3.328_181, 49.383_574),
    ("Brest coast", -4.49, 48.39),
    ("Etang de Berre", 5.1148, 43.5111),
    ("Reunion", 55.45, -21.0),
];

/// Regression test for issue 11: polygons were clipped by clamping points onto the buffer line, which left
/// self-intersecting rings in most clipped features (MVT 2.1 §4.3.4.4 forbids them). Every decoded polygon
/// must be valid (`geo::Validation`), its exterior positive and its interiors negative by the surveyor's
/// formula in the y-down grid, and stay within the 64-unit buffer (give or take the few units by which the
/// overlay snaps vertices near the clip edge onto it).
#[tokio::test]
async fn decoded_tile_polygons_are_valid_and_wound_as_the_spec_says() {
    use geo::{Area, CoordsIter, Validation};
    let app = build_app(AppState::from_loaded(shared_loaded().clone()));
    let mut problems = Vec::new();
    let mut polygons = 0usize;
    for layer in ["territories-2023", "territories-2019", "epci", "ept"] {
        for (place, lon, lat) in PLACES {
            for z in 0u8..=14 {
                let (x, y, _, _) = tile_of(lon, lat, z);
                let (status, body, _) = fetch(&app, &format!("/tiles/{layer}/{z}/{x}/{y}.mvt")).await;
                assert_eq!(status, StatusCode::OK);
                let reader = Reader::new(body).expect("valid MVT");
                for f in reader.get_features_as::<f64>(0).expect("features") {
                    let id = f.properties.as_ref().and_then(|p| p.get("id")).cloned();
                    let where_ = format!("{layer} {z}/{x}/{y} ({place}) {id:?}");
                    let parts = match f.geometry {
                        geo::Geometry::Polygon(p) => vec![p],
                        geo::Geometry::MultiPolygon(mp) => mp.0,
                        other => panic!("{where_}: {other:?}"),
                    };
                    for p in &parts {
                        polygons += 1;
                        // Surveyor's formula on the raw y-down grid coordinates (a LineString has no area).
                        let signed =
                            |r: &geo::LineString<f64>| geo::Polygon::new(r.clone(), vec![]).signed_area();
                        if signed(p.exterior()) <= 0.0 {
                            problems.push(format!("{where_}: exterior ring not positive"));
                        }
                        if p.interiors().iter().any(|r| signed(r) >= 0.0) {
                            problems.push(format!("{where_}: interior ring not negative"));
                        }
                        if let Err(e) = p.check_validation() {
                            problems.push(format!("{where_}: {e}"));
                        }
                        if let Some(c) = p
                            .coords_iter()
                            .find(|c| !(-68.0..=4164.0).contains(&c.x) || !(-68.0..=4164.0).contains(&c.y))
                        {
                            problems.push(format!("{where_}: point {c:?} beyond the buffer"));
                        }
                    }
                    if let Err(e) = geo::MultiPolygon(parts).check_validation() {
                        problems.push(format!("{where_}: feature {e}"));
                    }
                }
            }
        }
    }
    assert!(polygons > 100, "{polygons} polygons decoded");
    assert!(problems.is_empty(), "{} of {polygons} polygons:\n{}", problems.len(), problems.join("\n"));
}

/// Issue 15 §3: each tile layer describes itself as TileJSON 3.0.0, and a client that follows the
/// document's URL template gets the tiles; behind a proxy the template names the configured public URL.
#[tokio::test]
async fn tilejson_describes_each_layer_and_its_template_serves_tiles() {
    let app = build_app(AppState::from_loaded(shared_loaded().clone()));
    for (name, fields) in [
        ("territories-2023", ["id", "name", "region"]),
        ("territories-2019", ["id", "name", "region"]),
        ("epci", ["id", "name", "population"]),
        ("ept", ["id", "name", "population"]),
    ] {
        let (status, body, content_type) = fetch(&app, &format!("/tiles/{name}.json")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(content_type.is_some_and(|c| c.starts_with("application/json")));
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(doc["tilejson"], "3.0.0");
        let template = doc["tiles"][0].as_str().expect("tiles");
        assert_eq!(template, format!("http://localhost/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt"));
        let layer = &doc["vector_layers"][0];
        assert_eq!(layer["id"], name);
        for field in fields {
            assert!(layer["fields"].get(field).is_some(), "{name}: field {field} in {layer}");
        }
        let b: Vec<f64> =
            doc["bounds"].as_array().expect("bounds").iter().filter_map(serde_json::Value::as_f64).collect();
        // Around the place the layer is sure to hold (Soissons for the territories and EPCI, Paris for EPT).
        let (lon, lat) = if name == "ept" { (2.35, 48.85) } else { (3.33, 49.38) };
        assert!(b[0] < lon && lon < b[2] && b[1] < lat && lat < b[3], "{name}: {b:?}");
        if name.starts_with("territories") || name == "epci" {
            assert!(b[0] < -60.0 && b[2] > 55.0, "{name}: the overseas regions are in the bounds: {b:?}");
        }
        let z = doc["maxzoom"].as_u64().expect("maxzoom");
        let (x, y, _, _) = tile_of(lon, lat, u8::try_from(z).expect("zoom"));
        let path = template.replace("http://localhost", "").replace("{z}", &z.to_string());
        let path = path.replace("{x}", &x.to_string()).replace("{y}", &y.to_string());
        let (status, tile, _) = fetch(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let reader = Reader::new(tile).expect("valid MVT");
        assert_eq!(reader.get_layer_names().expect("names"), [name], "{path}");
        assert!(!reader.get_features(0).expect("features").is_empty(), "{path}");
    }
    let (status, _, _) = fetch(&app, "/tiles/nope.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut config = territoires::http::ServerConfig::default();
    config.public_url = Some("https://territoires.example.fr/carte".parse().expect("url"));
    let app = build_app(AppState::from_loaded(shared_loaded().clone()).with_config(&config));
    let (_, body, _) = fetch(&app, "/tiles/epci.json").await;
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(doc["tiles"][0], "https://territoires.example.fr/carte/tiles/epci/{z}/{x}/{y}.mvt");
}

/// Names of the point features of a `places` tile, in tile order, and its layer names.
fn place_names(body: Vec<u8>) -> (Vec<String>, Vec<String>) {
    let reader = Reader::new(body).expect("valid MVT");
    let layers = reader.get_layer_names().expect("names");
    let names = reader
        .get_features(0)
        .expect("features")
        .iter()
        .filter_map(|f| match f.properties.as_ref()?.get("name")? {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    (names, layers)
}

#[tokio::test]
async fn place_names_come_by_importance_and_commune_borders_at_high_zoom() {
    let app = build_app(AppState::from_loaded(shared_loaded().clone()));
    // Zoom 6: Laon, prefecture of the Aisne, is named; Soissons (27,000 inhabitants) is not yet.
    let (x, y, _, _) = tile_of(3.62, 49.56, 6);
    let (status, body, _) = fetch(&app, &format!("/tiles/places/6/{x}/{y}.mvt")).await;
    assert_eq!(status, StatusCode::OK);
    let (names, layers) = place_names(body);
    assert_eq!(layers, ["places"], "no commune borders at zoom 6");
    assert!(names.iter().any(|n| n == "Laon") && !names.iter().any(|n| n == "Soissons"), "{names:?}");
    // Zoom 12 around Soissons: its name as a point inside one of the tiles (its label point need not be
    // the town centre's tile), and the commune borders.
    let (x, y, _, _) = tile_of(3.328_181, 49.383_574, 12);
    let mut found = None;
    for (dx, dy) in [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)] {
        let (tx, ty) = (x.wrapping_add_signed(dx), y.wrapping_add_signed(dy));
        let (status, body, _) = fetch(&app, &format!("/tiles/places/12/{tx}/{ty}.mvt")).await;
        assert_eq!(status, StatusCode::OK);
        let reader = Reader::new(body).expect("valid MVT");
        assert_eq!(reader.get_layer_names().expect("names"), ["places", "communes"]);
        let borders = reader.get_features_as::<f64>(1).expect("communes");
        assert!(!borders.is_empty(), "commune borders in 12/{tx}/{ty}");
        if let Some(p) = reader.get_features_as::<f64>(0).expect("points").into_iter().find(|f| {
            f.properties.as_ref().and_then(|p| p.get("name")) == Some(&Value::String("Soissons".into()))
        }) {
            found = Some((p, borders));
        }
    }
    let (soissons, borders) = found.expect("Soissons named at zoom 12 around the town");
    match soissons.geometry {
        // mvt-reader reads every point feature as a multipoint.
        geo::Geometry::MultiPoint(mp) if mp.0.len() == 1 => {
            let p = mp.0[0];
            assert!((0.0..=4096.0).contains(&p.x()) && (0.0..=4096.0).contains(&p.y()));
        }
        other => panic!("a point, not {other:?}"),
    }
    assert!(
        borders.iter().any(
            |f| f.properties.as_ref().and_then(|p| p.get("code")) == Some(&Value::String("02722".into()))
        ),
        "Soissons' commune boundary in the tile of its name"
    );
    // Accented names come through intact.
    let (x, y, _, _) = tile_of(3.12, 49.25, 12);
    let (_, body, _) = fetch(&app, &format!("/tiles/places/12/{x}/{y}.mvt")).await;
    let (names, _) = place_names(body);
    assert!(names.iter().any(|n| n.contains('é') || n.contains('è') || n.contains('ê')), "{names:?}");
    // TileJSON names both layers.
    let (status, body, _) = fetch(&app, "/tiles/places.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let ids: Vec<&str> =
        doc["vector_layers"].as_array().expect("layers").iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, ["places", "communes"]);
}

#[tokio::test]
async fn glyph_ranges_come_from_the_embedded_font() {
    let app = build_app(AppState::from_loaded(shared_loaded().clone()));
    let (status, body, content_type) = fetch(&app, "/fonts/DejaVu%20Sans%20Book/0-255.pbf").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/x-protobuf"));
    assert!(body.windows(16).any(|w| w == b"DejaVu Sans Book"), "the range names its font stack");
    assert!(body.len() > 20_000, "SDF bitmaps for Latin-1, accents included: {} bytes", body.len());
    let (status, _, _) = fetch(&app, "/fonts/Open%20Sans%20Regular,DejaVu%20Sans%20Book/8192-8447.pbf").await;
    assert_eq!(status, StatusCode::OK, "a stack that falls back to the font");
    for (uri, expected) in [("/fonts/Arial/0-255.pbf", 404), ("/fonts/DejaVu%20Sans%20Book/1-256.pbf", 400)] {
        let (status, body, _) = fetch(&app, uri).await;
        assert_eq!(status.as_u16(), expected, "{uri}: {}", String::from_utf8_lossy(&body));
        let error: serde_json::Value = serde_json::from_slice(&body).expect("a JSON error body");
        assert!(error.get("error").is_some() || error.get("message").is_some(), "{error}");
    }
}
