//! GeoJSON batches: a FeatureCollection of Points, each feature answered in place.

use std::io::Write;

use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::{BatchError, BatchStats, CHUNK_ROWS};
use crate::atlas::Atlas;

/// The parts of a batch body read up front; each feature is parsed on its own, in parallel.
#[derive(serde::Deserialize)]
struct FeatureCollectionBody<'a> {
    #[serde(rename = "type")]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    features: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// Answers a GeoJSON FeatureCollection of Points into `output`: the same features in the same order, each
/// with `territories` and `nearest` (as in [`Atlas::lookup`]) added to its properties, or `error` when it
/// is not a usable Point. Features are parsed one at a time, answered in parallel chunks and written as
/// they are done.
///
/// # Errors
/// A body that is not a FeatureCollection, more than `max_features` features, a failed write. A bad
/// feature is not an error: it is answered with `error`.
pub fn annotate_feature_collection(
    atlas: &Atlas,
    body: &[u8],
    output: &mut dyn Write,
    max_features: usize,
) -> Result<BatchStats, BatchError> {
    let collection: FeatureCollectionBody<'_> =
        serde_json::from_slice(body).map_err(|e| BatchError::NotGeoJson(format!("body is not JSON: {e}")))?;
    if collection.kind.as_deref() != Some("FeatureCollection") {
        return Err(BatchError::NotGeoJson("expected a GeoJSON FeatureCollection".into()));
    }
    let Some(features) = collection.features else {
        return Err(BatchError::NotGeoJson("FeatureCollection without a \"features\" array".into()));
    };
    if features.len() > max_features {
        return Err(BatchError::TooManyRows {
            source_name: format!("body ({} features)", features.len()),
            max: max_features as u64,
        });
    }
    let mut stats = BatchStats::default();
    let mut write = |bytes: &[u8]| output.write_all(bytes);
    write(br#"{"type":"FeatureCollection","features":["#)?;
    for (c, chunk) in features.chunks(CHUNK_ROWS).enumerate() {
        let answered: Vec<(Vec<u8>, bool, bool)> = chunk
            .par_iter()
            .map(|raw| {
                let feature: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                let answer = answer_feature(atlas, &feature);
                let inside = answer["properties"]["territories"].as_array().is_some_and(|t| !t.is_empty());
                let error = answer["properties"].get("error").is_some();
                (serde_json::to_vec(&answer).unwrap_or_default(), inside, error)
            })
            .collect();
        for (i, (feature, inside, error)) in answered.iter().enumerate() {
            if c > 0 || i > 0 {
                write(b",")?;
            }
            write(feature)?;
            stats.rows += 1;
            stats.inside += u64::from(*inside);
            stats.errors += u64::from(*error);
        }
    }
    write(b"]}")?;
    Ok(stats)
}

fn answer_feature(atlas: &Atlas, feature: &Value) -> Value {
    let mut properties: Map<String, Value> =
        feature.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let geometry = feature.get("geometry").cloned().unwrap_or(Value::Null);
    let point = match geometry.get("type").and_then(Value::as_str) {
        Some("Point") => match geometry.get("coordinates").and_then(Value::as_array).map(Vec::as_slice) {
            Some([lon, lat, ..]) => match (lon.as_f64(), lat.as_f64()) {
                (Some(lon), Some(lat)) => Ok((lon, lat)),
                _ => Err("coordinates must be numbers".to_owned()),
            },
            _ => Err("a Point needs [lon, lat] coordinates".to_owned()),
        },
        Some(other) => Err(format!("geometry is a {other}, expected a Point")),
        None => Err("feature without a Point geometry".to_owned()),
    };
    match point.and_then(|(lon, lat)| atlas.lookup(lon, lat).map_err(|e| e.to_string())) {
        Ok(lookup) => {
            properties.insert("territories".into(), json!(lookup.territories));
            properties.insert("nearest".into(), json!(lookup.nearest));
        }
        Err(message) => {
            properties.insert("territories".into(), json!([]));
            properties.insert("nearest".into(), json!([]));
            properties.insert("error".into(), Value::String(message));
        }
    }
    let mut out = Map::new();
    out.insert("type".into(), "Feature".into());
    if let Some(id) = feature.get("id") {
        out.insert("id".into(), id.clone());
    }
    out.insert("geometry".into(), geometry);
    out.insert("properties".into(), Value::Object(properties));
    Value::Object(out)
}
