//! Zoom layers as clients get them: the served GeoJSON text, parsed back and checked with `geo::Validation`
//! (OGC simple-features validity), with every feature present at every prepared zoom.
//!
//! Regression tests for issue 11: simplified layers were invalid for up to 30 of 183 territories from zoom 8
//! (29 EPCI), and at zoom 4 one territory of 2019 and three EPCI disappeared.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
use http_body_util::BodyExt;
use tower::ServiceExt;

use territoires::http::{AppState, build_app};
use territoires::model::UnitKind;
use territoires::render::layers::ZOOMS;

use crate::support::shared_atlas_2023;

async fn get_json(app: &axum::Router, uri: &str) -> serde_json::Value {
    let response =
        app.clone().oneshot(Request::get(uri).body(Body::empty()).expect("request")).await.expect("answer");
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let body = response.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&body).expect("GeoJSON")
}

fn ring(v: &serde_json::Value) -> LineString<f64> {
    LineString(
        v.as_array()
            .expect("ring")
            .iter()
            .map(|p| Coord { x: p[0].as_f64().expect("x"), y: p[1].as_f64().expect("y") })
            .collect(),
    )
}

fn polygon(v: &serde_json::Value) -> Polygon<f64> {
    let rings = v.as_array().expect("rings");
    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
}

/// The feature's geometry as served (Polygon or MultiPolygon).
fn geometry(feature: &serde_json::Value) -> MultiPolygon<f64> {
    let g = &feature["geometry"];
    match g["type"].as_str() {
        Some("MultiPolygon") => {
            MultiPolygon(g["coordinates"].as_array().expect("polygons").iter().map(polygon).collect())
        }
        Some("Polygon") => MultiPolygon(vec![polygon(&g["coordinates"])]),
        other => panic!("unexpected geometry type {other:?}"),
    }
}

/// Every feature of the layer at `uri`: (id, first validity problem) for the invalid ones, and the count.
async fn invalid_features(app: &axum::Router, uri: &str) -> (Vec<String>, usize) {
    let collection = get_json(app, uri).await;
    let features = collection["features"].as_array().expect("features");
    let mut invalid = Vec::new();
    for f in features {
        let g = geometry(f);
        if g.0.is_empty() {
            invalid.push(format!("{}: empty geometry", f["id"]));
        } else if let Err(e) = g.check_validation() {
            invalid.push(format!("{}: {e}", f["id"]));
        }
    }
    (invalid, features.len())
}

#[tokio::test]
async fn every_zoom_layer_is_valid_and_complete_as_served() {
    let atlas = shared_atlas_2023();
    let app = build_app(AppState::from_loaded(crate::support::shared_loaded().clone()));
    let mut layers: Vec<(String, usize)> = Vec::new();
    for edition in ["2023", "2019"] {
        let entry = atlas.edition(edition).expect("edition loaded");
        layers.push((
            format!("/api/layers/territories.geojson?edition={edition}"),
            entry.edition.territories.len(),
        ));
    }
    for (kind, name) in [(UnitKind::Epci, "epci"), (UnitKind::Ept, "ept")] {
        layers.push((format!("/api/layers/units.geojson?kind={name}"), atlas.units_of_kind(kind).len()));
    }
    assert_eq!(layers.iter().map(|l| l.1).collect::<Vec<_>>(), [183, 149, 1255, 11], "the real counts");
    let mut problems = Vec::new();
    for (uri, expected) in &layers {
        for zoom in ZOOMS {
            let uri = format!("{uri}&zoom={zoom}");
            let (invalid, count) = invalid_features(&app, &uri).await;
            if count != *expected {
                problems.push(format!("{uri}: {count} features, expected {expected}"));
            }
            if !invalid.is_empty() {
                problems.push(format!("{uri}: {} invalid: {}", invalid.len(), invalid.join("; ")));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
