//! Pages for people (HTML, not in the OpenAPI document): `/territoires/{edition}/{id}`,
//! `/intercommunalites/{siren}`, `/communes/{insee}`, their English twins under `/en/`, and a
//! territory's members as CSV and XLSX. Unknown ids answer an HTML 404 in the page's language.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use utoipa_axum::router::OpenApiRouter;

use crate::http::state::AppState;
use crate::http::{respond, web};
use crate::model::UnitKind;
use crate::render::encoded::Encoded;
use crate::render::members::{members_csv, members_xlsx};
use crate::render::pages::{self, Lang};

/// Adds the page routes, French and English, to the registry (plain routes: not in the API document).
pub fn register(mut registry: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    for (lang, [territories, epci, communes]) in [
        (Lang::Fr, ["/territoires", "/intercommunalites", "/communes"]),
        (Lang::En, ["/en/territories", "/en/intercommunalities", "/en/communes"]),
    ] {
        registry = registry
            .route(
                &format!("{territories}/{{edition}}/{{id}}"),
                get(move |s, h: HeaderMap, p| async move { territory(lang, s, &h, p) }),
            )
            .route(
                &format!("{territories}/{{edition}}/{{id}}/{{file}}"),
                get(move |s, p| async move { members(lang, s, p) }),
            )
            .route(
                &format!("{epci}/{{code}}"),
                get(move |s, h: HeaderMap, p| async move { unit(lang, UnitKind::Epci, s, &h, p) }),
            )
            .route(
                &format!("{communes}/{{code}}"),
                get(move |s, h: HeaderMap, p| async move { unit(lang, UnitKind::Commune, s, &h, p) }),
            );
    }
    registry
}

/// An HTML page with the map's security headers, ETag and compression.
fn html(status: StatusCode, body: String, headers: &HeaderMap) -> Response {
    let mut response =
        respond::encoded(&Encoded::new(body.into_bytes(), "text/html; charset=utf-8"), headers);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    web::secure(response.headers_mut());
    response
}

fn not_found(lang: Lang, what: &str, headers: &HeaderMap) -> Response {
    html(StatusCode::NOT_FOUND, pages::not_found_page(lang, what), headers)
}

fn territory(
    lang: Lang,
    State(state): State<AppState>,
    headers: &HeaderMap,
    Path((edition, id)): Path<(String, String)>,
) -> Response {
    match pages::territory_page(&state.atlas(), &edition, &id, lang) {
        Some(page) => html(StatusCode::OK, page, headers),
        None => not_found(lang, &pages::territory_not_found(lang, &edition, &id), headers),
    }
}

fn members(
    lang: Lang,
    State(state): State<AppState>,
    Path((edition, id, file)): Path<(String, String, String)>,
) -> Response {
    let headers = HeaderMap::new();
    let stem = match lang {
        Lang::Fr => "membres",
        Lang::En => "members",
    };
    let Some(extension) = file.strip_prefix(stem).and_then(|rest| rest.strip_prefix('.')) else {
        return not_found(lang, &file, &headers);
    };
    let Some(detail) = state.atlas().territory_detail(&edition, &id) else {
        return not_found(lang, &pages::territory_not_found(lang, &edition, &id), &headers);
    };
    let (body, content_type) = match extension {
        "csv" => (members_csv(&detail).map_err(|e| e.to_string()), "text/csv; charset=utf-8"),
        "xlsx" => (
            members_xlsx(&detail).map_err(|e| e.to_string()),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return not_found(lang, &file, &headers),
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => return crate::http::error::ApiError::Internal(e).into_response(),
    };
    // Edition and id are known ones here, so the name holds only their (safe) characters.
    let name: String = format!("{edition}-{id}-{stem}.{extension}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from(body),
    )
        .into_response()
}

fn unit(
    lang: Lang,
    kind: UnitKind,
    State(state): State<AppState>,
    headers: &HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let atlas = state.atlas();
    let found = atlas.unit_by_code(&code).map(|u| (u.kind, u.code().to_owned()));
    match found {
        // The canonical address: a commune asked by SIREN or under /intercommunalites/ goes to its page.
        Some((k, canonical))
            if (k == UnitKind::Commune) != (kind == UnitKind::Commune) || canonical != code =>
        {
            Redirect::permanent(&lang.unit_path(k, &canonical)).into_response()
        }
        Some(_) => match pages::unit_page(&atlas, &code, lang) {
            Some(page) => html(StatusCode::OK, page, headers),
            None => not_found(lang, &pages::unit_not_found(lang, Some(kind), &code), headers),
        },
        None => not_found(lang, &pages::unit_not_found(lang, Some(kind), &code), headers),
    }
}
