//! Every route of the service in one list ([`registry`]), which feeds both the router and
//! `GET /api/openapi.json` (`utoipa-axum`, as crates.io's `src/router.rs` does), so the two cannot
//! drift; and the middleware around them all (request ids, trace line, CORS, JSON errors, time limit,
//! compression, metrics). One module per group of routes; the handlers parse, call one Atlas method
//! and wrap the answer.

pub mod admin;
pub mod layers;
pub mod lookup;
pub mod ogc;
pub mod ogc_tiles;
pub mod pages;
pub mod service;
pub mod territories;
pub mod tiles;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa::openapi::{Components, OpenApiBuilder};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::metrics::track;
use super::state::AppState;
use super::{respond, web};
use crate::atlas::Atlas;
use crate::http::error::{ApiError, json_errors};
use crate::render::encoded::Encoded;

/// What the OpenAPI document says besides its paths, which come from [`registry`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "territoires",
        description = "France's Territoires d'industrie: which labelled territory contains a site, layers, vector tiles, and the same data as OGC API – Features collections under /ogc.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "lookup", description = "Is this site in a labelled territory?"),
        (name = "territories", description = "Editions, territories, units"),
        (name = "layers", description = "GeoJSON layers and vector tiles for maps"),
        (name = "ogc", description = "OGC API – Features (Parts 1, 2 and 3) and OGC API – Tiles"),
        (name = "service", description = "Health, metrics and (with an admin token) reload")
    )
)]
pub struct ApiDoc;

/// The one list of routes: each documented handler once, with the layers some of them need. The
/// router and the OpenAPI document are both split from it.
pub fn registry(state: &AppState) -> OpenApiRouter<AppState> {
    let limits = state.limits();
    let lookups = OpenApiRouter::new()
        .routes(routes!(lookup::get_lookup, lookup::post_lookup))
        .routes(routes!(lookup::post_intersects))
        .routes(routes!(lookup::post_lookup_inspect))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        // Refuses a declared Content-Length over the limit at once, before any byte is read.
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .routes(routes!(lookup::get_lookup_columns));
    let catalogue = OpenApiRouter::new()
        .routes(routes!(territories::list_editions))
        .routes(routes!(territories::find_territories))
        .routes(routes!(territories::get_territory))
        .routes(routes!(territories::get_unit))
        .routes(routes!(territories::search_places));
    let ogc = OpenApiRouter::new()
        .routes(routes!(ogc::get_landing))
        // The same page with a trailing slash, which clients often add; documented once.
        .route("/ogc/", get(ogc::get_landing))
        .routes(routes!(ogc::get_conformance))
        .routes(routes!(ogc::get_collections))
        .routes(routes!(ogc::get_collection))
        .routes(routes!(ogc::get_items))
        .routes(routes!(ogc::get_item))
        .routes(routes!(ogc::get_queryables))
        .routes(routes!(ogc_tiles::get_tile_matrix_sets))
        .routes(routes!(ogc_tiles::get_tile_matrix_set))
        .routes(routes!(ogc_tiles::get_dataset_tilesets))
        .routes(routes!(ogc_tiles::get_tilesets))
        .routes(routes!(ogc_tiles::get_tileset))
        .routes(routes!(ogc_tiles::get_tile));
    let mut registry = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(lookups)
        .merge(catalogue)
        .merge(ogc)
        .routes(routes!(layers::get_territories_layer))
        .routes(routes!(layers::get_units_layer))
        .routes(routes!(service::get_health))
        .routes(routes!(service::get_metrics));
    registry = pages::register(registry);
    registry = routes_at(registry, tiles::ROUTE, routes!(tiles::get_tile));
    registry = routes_at(registry, tiles::TILEJSON_ROUTE, routes!(tiles::get_tilejson));
    registry = routes_at(registry, tiles::GLYPHS_ROUTE, routes!(tiles::get_glyphs));
    if state.admin_token().is_some() {
        registry = registry.routes(routes!(admin::post_reload));
    }
    registry
}

/// Registers documented routes under another path for axum: a documented segment with a suffix
/// (`{y}.mvt`) is one axum cannot match, so axum gets the whole segment and the handler strips it.
fn routes_at(
    registry: OpenApiRouter<AppState>,
    path: &str,
    (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let mut doc = OpenApiBuilder::new().paths(paths).build();
    doc.components.get_or_insert_with(Components::new).schemas.extend(schemas);
    registry.route(path, method_router).merge(OpenApiRouter::with_openapi(doc))
}

/// The media type of the served document (the OGC landing page links it with this type).
pub const OPENAPI_MEDIA_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";

/// A served document and the Atlas it describes.
type BuiltDoc = (std::sync::Weak<Atlas>, Arc<Encoded>);

/// The OpenAPI document of one router: the registry's description, completed with the ids of the Atlas
/// being served (see [`crate::http::openapi`]) and serialised once per Atlas, so a reload that changes
/// the editions changes the document with them.
#[derive(Clone)]
struct ServedDoc {
    registry: Arc<utoipa::openapi::OpenApi>,
    /// The last document and the Atlas it was built for, held weakly: a reload frees the old Atlas.
    current: Arc<std::sync::Mutex<Option<BuiltDoc>>>,
}

impl ServedDoc {
    fn for_atlas(&self, atlas: &Arc<Atlas>) -> Arc<Encoded> {
        let mut current = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Alive and at the same address: the same Atlas (a freed one could share the address).
        if let Some((built_for, doc)) = current.as_ref()
            && built_for.upgrade().is_some_and(|a| Arc::ptr_eq(&a, atlas))
        {
            return doc.clone();
        }
        let value = crate::http::openapi::served(&self.registry, atlas);
        let bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
        let doc = Arc::new(Encoded::new(bytes, OPENAPI_MEDIA_TYPE));
        *current = Some((Arc::downgrade(atlas), doc.clone()));
        doc
    }
}

/// Request ids `t-1`, `t-2`... unless the client sent `x-request-id`.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        HeaderValue::from_str(&format!("t-{n}")).ok().map(RequestId::new)
    }
}

/// Checks an optional edition parameter against the loaded editions.
///
/// # Errors
/// [`ApiError::BadRequest`] naming the loaded editions when `edition` is not one of them.
pub fn check_edition(atlas: &Atlas, edition: Option<&str>) -> Result<(), ApiError> {
    match edition {
        Some(id) if atlas.edition(id).is_none() => {
            let known: Vec<String> = atlas.editions().iter().map(|e| e.edition.id.to_string()).collect();
            Err(ApiError::BadRequest(format!("unknown edition {id:?}; loaded: {}", known.join(", "))))
        }
        _ => Ok(()),
    }
}

/// The whole application router, ready for the listener or `tower::ServiceExt::oneshot`.
pub fn build_app(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, header::HeaderName::from_static("x-request-id")]);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id = %id)
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    let (router, doc) = registry(&state).split_for_parts();
    let served = ServedDoc { registry: Arc::new(doc), current: Arc::new(std::sync::Mutex::new(None)) };
    let request_timeout = state.limits().request_timeout;
    router
        .route(
            "/api/openapi.json",
            get(move |State(state): State<AppState>, headers: HeaderMap| {
                let served = served.clone();
                async move { respond::encoded(&served.for_atlas(&state.atlas()), &headers) }
            }),
        )
        .merge(web::router())
        .fallback(web::fallback)
        .route_layer(axum::middleware::from_fn_with_state(state.metrics.clone(), track))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, request_timeout))
        // Outside the timeout, so its 408 gets the JSON shape too.
        .layer(axum::middleware::from_fn(json_errors))
        .layer(cors)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(Counter::default()))
        .with_state(state)
}
