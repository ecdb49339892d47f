//! Extractors that reject with the app's own [`ApiError`] (axum's `customize-extractor-error`
//! pattern), so a malformed query is a JSON 400 before handler code runs, and the parsers of query
//! values that several routes share. No handler maps a rejection by hand.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use geo::Rect;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::state::AppState;

/// `axum::extract::Query` answering a malformed query (unknown or repeated parameter, bad number) with
/// our JSON 400 naming the parameter.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The query of routes that take none: any parameter is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// What a GET handler reads of its request besides its path: the state (the current Atlas and its
/// layers), the headers (content negotiation, validators, the public URL's fallback) and the query,
/// parsed into `P` with [`ApiQuery`]'s rejection. One argument instead of three in every handler.
pub struct Ctx<P = NoParams> {
    /// The app state.
    pub state: AppState,
    /// The request's headers.
    pub headers: HeaderMap,
    /// The parsed query.
    pub query: P,
}

impl<P: DeserializeOwned + Send> FromRequestParts<AppState> for Ctx<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ApiQuery(query) = ApiQuery::<P>::from_request_parts(parts, state).await?;
        Ok(Self { state: state.clone(), headers: parts.headers.clone(), query })
    }
}

/// Parses `west,south,east,north`.
///
/// # Errors
/// Not four finite numbers in range with west ≤ east and south ≤ north.
pub fn parse_bbox(s: &str) -> Result<Rect<f64>, ApiError> {
    let bad = || ApiError::BadRequest(format!("bbox {s:?}: expected west,south,east,north in degrees"));
    let v: Vec<f64> =
        s.split(',').map(|p| p.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    let [w, so, e, n] = v[..] else { return Err(bad()) };
    let ok = v.iter().all(|x| x.is_finite())
        && (-180.0..=180.0).contains(&w)
        && (-180.0..=180.0).contains(&e)
        && (-90.0..=90.0).contains(&so)
        && (-90.0..=90.0).contains(&n)
        && w <= e
        && so <= n;
    if ok { Ok(Rect::new((w, so), (e, n))) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bboxes_are_four_ordered_numbers_in_range() {
        let r = parse_bbox("3.2, 49.3,3.4,49.45").expect("valid");
        assert_eq!((r.min().x, r.min().y, r.max().x, r.max().y), (3.2, 49.3, 3.4, 49.45));
        for bad in ["1,2,3", "NaN,1,2,3", "4,1,3,2", "-181,0,0,1", "0,-91,1,0", "a,b,c,d", "1,2,3,4,5"] {
            assert!(parse_bbox(bad).is_err(), "{bad} accepted");
        }
    }
}
