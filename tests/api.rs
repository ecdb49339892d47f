//! The real router, driven without a socket (`tower::ServiceExt::oneshot`).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use territoires::api::{AppState, build_app};
use territoires::atlas::{Atlas, AtlasSources};

use crate::support::geodata;

fn app() -> axum::Router {
    let sources = AtlasSources::from_geodata_dir(&geodata(), vec![]).expect("geodata");
    build_app(AppState::new(Atlas::build(&sources).unwrap_or_else(|e| panic!("{e}"))))
}

async fn get(app: axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let response =
        app.oneshot(Request::get(uri).body(Body::empty()).expect("request")).await.expect("answer");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&body).expect("JSON body"))
}

#[tokio::test]
async fn health_reports_the_loaded_data() {
    let (status, json) = get(app(), "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["status"], "ok");
    assert_eq!(json["units"]["EPCI"], 1255);
    assert_eq!(json["editions"][0]["id"], "sample");
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let (status, json) = get(app(), "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["error"]["code"], "not_found");
}
