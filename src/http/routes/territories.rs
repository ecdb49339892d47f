//! What the Atlas holds: `GET /api/editions`, `GET /api/territories[?edition=&q=]`,
//! `GET /api/territories/{edition}/{id}`, `GET /api/units/{code}`, `GET /api/search`.

use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;

use super::check_edition;
use crate::atlas::queries::{EditionInfo, TerritoryDetail, TerritorySummary, UnitDetail};
use crate::atlas::search::{MAX_LIMIT, SearchHit};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::Ctx;
use crate::http::respond;

/// Query of `GET /api/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words to find in names, SIRENs and INSEE codes (accent- and case-insensitive; each word starts a
    /// word of the name); up to 200 characters.
    #[param(max_length = 200)]
    pub q: String,
    /// Only this edition's territories (units are always searched).
    pub edition: Option<String>,
    /// Most hits, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50, default = 10)]
    pub limit: Option<usize>,
}

/// Territories, EPCI, EPT and communes matching search words, best first: for the map's search box.
#[utoipa::path(get, path = "/api/search", params(SearchParams), tag = "territories",
    responses((status = 200, body = [SearchHit]), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn search_places(cx: Ctx<SearchParams>) -> Result<Response, ApiError> {
    let atlas = cx.state.atlas();
    check_edition(&atlas, cx.query.edition.as_deref())?;
    if cx.query.q.chars().count() > 200 {
        return Err(ApiError::BadRequest("q is longer than 200 characters".into()));
    }
    let limit = cx.query.limit.unwrap_or(10);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}, not {limit}")));
    }
    Ok(respond::json(&atlas.search(&cx.query.q, cx.query.edition.as_deref(), limit), &cx.headers))
}

/// Query of `GET /api/territories`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TerritoriesParams {
    /// Only this edition.
    pub edition: Option<String>,
    /// Search words (names of territories and members, SIRENs), accent- and case-insensitive; up to 200
    /// characters.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// The loaded editions.
#[utoipa::path(get, path = "/api/editions", tag = "territories", responses((status = 200, body = [EditionInfo]),
    (status = 400, description = "A query parameter (this route takes none)", body = ErrorBody)))]
pub async fn list_editions(Ctx { state, headers, .. }: Ctx) -> Result<Response, ApiError> {
    Ok(respond::json(&state.atlas().edition_infos(), &headers))
}

/// Territories, optionally of one edition and matching search words.
#[utoipa::path(get, path = "/api/territories", params(TerritoriesParams), tag = "territories",
    responses((status = 200, body = [TerritorySummary]), (status = 400, description = "Malformed request", body = ErrorBody)))]
pub async fn find_territories(cx: Ctx<TerritoriesParams>) -> Result<Response, ApiError> {
    let atlas = cx.state.atlas();
    check_edition(&atlas, cx.query.edition.as_deref())?;
    if cx.query.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::BadRequest("q is longer than 200 characters".into()));
    }
    Ok(respond::json(
        &atlas.find_territories(cx.query.edition.as_deref(), cx.query.q.as_deref()),
        &cx.headers,
    ))
}

/// One territory with its members.
#[utoipa::path(get, path = "/api/territories/{edition}/{id}", tag = "territories",
    params(("edition" = String, Path, description = "Edition id"), ("id" = String, Path, description = "Territory id")),
    responses((status = 200, body = TerritoryDetail), (status = 400, description = "A query parameter (this route takes none)", body = ErrorBody),
        (status = 404, description = "No such edition or territory", body = ErrorBody)))]
pub async fn get_territory(
    cx: Ctx,
    Path((edition, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let atlas = cx.state.atlas();
    check_edition(&atlas, Some(&edition)).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let detail = atlas
        .territory_detail(&edition, &id)
        .ok_or_else(|| ApiError::NotFound(format!("no territory {id:?} in edition {edition}")))?;
    Ok(respond::json(&detail, &cx.headers))
}

/// An EPCI, EPT or commune and the territories it belongs to.
#[utoipa::path(get, path = "/api/units/{code}", tag = "territories",
    params(("code" = String, Path, description = "SIREN (9 digits) or INSEE commune code (5 characters, `2A`/`2B` for Corsica)", pattern = r"^([0-9]{9}|[0-9]{5}|2[ABab][0-9]{3})$")),
    responses((status = 200, body = UnitDetail), (status = 400, description = "Neither a SIREN nor an INSEE code, or a query parameter (this route takes none)", body = ErrorBody),
        (status = 404, description = "No unit with this code", body = ErrorBody)))]
pub async fn get_unit(cx: Ctx, Path(code): Path<String>) -> Result<Response, ApiError> {
    // Exactly the documented pattern: the parsers would also take the code with spaces around it.
    let valid = code.trim() == code
        && (crate::model::Siren::parse(&code).is_some() || crate::model::InseeCode::parse(&code).is_some());
    if !valid {
        return Err(ApiError::BadRequest(format!(
            "{code:?} is neither a 9-digit SIREN nor a 5-character INSEE code"
        )));
    }
    let detail = cx
        .state
        .atlas()
        .unit_detail(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no EPCI, EPT or commune with code {code}")))?;
    Ok(respond::json(&detail, &cx.headers))
}
