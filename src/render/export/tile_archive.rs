//! `tiles.pmtiles`: every vector tile the server draws, for every tile layer (territories of each edition,
//! EPCI, EPT), zooms 0 to [`PMTILES_MAX_ZOOM`], one PMTiles v3 archive with gzip tiles and TileJSON-style
//! metadata. A tile holds one MVT layer per tile layer with features there, named as the server names them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use geo::{Coord, Rect};
use pmtiles::{Compression, PmTilesWriter, TileType};
use rayon::prelude::*;
use serde_json::json;

use super::ExportError;
use crate::atlas::Atlas;
use crate::render::LayerSet;
use crate::render::tilejson::{bounds_of, tile_layers, vector_layer};
use crate::render::tiles::TileCoord;

/// Deepest zoom written: the finest level the layers are prepared for; clients overzoom beyond.
pub const PMTILES_MAX_ZOOM: u8 = crate::render::tilejson::FINEST_ZOOM;

/// Where the archive opens: metropolitan France at zoom 5 (the overseas regions are in the bounds).
const CENTER: (f64, f64, u8) = (2.5, 46.6, 5);

/// The tile `(x, y)` at zoom `z` holding `(lon, lat)`.
fn tile_of(z: u8, lon: f64, lat: f64) -> (u32, u32) {
    let origin = TileCoord::new(z, 0, 0).unwrap_or_else(|_| unreachable!("zoom {z} is on the grid"));
    let (mx, my) = origin.project(&Coord { x: lon, y: lat }, 1.0);
    let last = f64::from((1u32 << z) - 1);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let clamp = |v: f64| v.floor().clamp(0.0, last) as u32;
    (clamp(mx), clamp(my))
}

/// Writes the archive to `path`; returns the tiles written.
pub fn write(atlas: &Atlas, layer_set: &LayerSet, path: &Path) -> Result<usize, ExportError> {
    let fail = |e: &dyn std::fmt::Display| ExportError::encode(path)(e);
    let layers = tile_layers(atlas, layer_set);
    // An empty layer's tile: the same bytes wherever it is, so a tile of that length has no feature.
    let far = TileCoord::new(PMTILES_MAX_ZOOM, 0, 0).map_err(|e| fail(&e))?;
    let empty: Vec<usize> = layers
        .iter()
        .map(|(name, layer, _)| layer.tile(name, far).map(|t| t.len()))
        .collect::<Result<_, _>>()
        .map_err(|e| fail(&e))?;
    let all_boxes: Vec<Rect<f64>> = layers.iter().flat_map(|(_, _, b)| b.iter().copied()).collect();
    let bounds = bounds_of(&all_boxes);
    let vector_layers: Vec<_> = layers.iter().map(|(name, layer, _)| vector_layer(name, layer)).collect();
    let metadata = json!({
        "name": "territoires",
        "description": "Territoires d'industrie (ANCT) and intercommunalities, as the territoires server draws them",
        "attribution": crate::atlas::features::UNITS_ATTRIBUTION,
        "type": "overlay",
        "format": "pbf",
        "vector_layers": vector_layers,
    });
    let file = std::fs::File::create(path).map_err(ExportError::io(path))?;
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .precompressed(Compression::Gzip)
        .min_zoom(0)
        .max_zoom(PMTILES_MAX_ZOOM)
        .bounds(bounds[0], bounds[1], bounds[2], bounds[3])
        .center(CENTER.0, CENTER.1)
        .center_zoom(CENTER.2)
        .metadata(metadata.to_string())
        .create(std::io::BufWriter::new(file))
        .map_err(|e| fail(&e))?;
    let mut count = 0;
    for z in 0..=PMTILES_MAX_ZOOM {
        // Tile → the layers with a feature bbox meeting it.
        let mut wanted: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
        for (l, (_, _, boxes)) in layers.iter().enumerate() {
            for r in boxes {
                let (x0, y0) = tile_of(z, r.min().x, r.max().y);
                let (x1, y1) = tile_of(z, r.max().x, r.min().y);
                for x in x0..=x1 {
                    for y in y0..=y1 {
                        let entry = wanted.entry((x, y)).or_default();
                        if entry.last() != Some(&l) {
                            entry.push(l);
                        }
                    }
                }
            }
        }
        let mut tiles: Vec<(pmtiles::TileCoord, Vec<u8>)> = wanted
            .into_par_iter()
            .map(|((x, y), ls)| -> Result<Option<(pmtiles::TileCoord, Vec<u8>)>, ExportError> {
                let coord = TileCoord::new(z, x, y).map_err(|e| fail(&e))?;
                let mut mvt = Vec::new();
                for l in ls {
                    let (name, layer, _) = &layers[l];
                    let bytes = layer.tile(name, coord).map_err(|e| fail(&e))?;
                    // Concatenated MVT messages are one message with all their layers (repeated field).
                    if bytes.len() > empty[l] {
                        mvt.extend_from_slice(&bytes);
                    }
                }
                if mvt.is_empty() {
                    return Ok(None);
                }
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&mvt).map_err(ExportError::io(path))?;
                let id = pmtiles::TileCoord::new(z, x, y).map_err(|e| fail(&e))?;
                Ok(Some((id, gz.finish().map_err(ExportError::io(path))?)))
            })
            .filter_map(Result::transpose)
            .collect::<Result<_, _>>()?;
        // The archive is clustered when tiles come in tile-id (Hilbert) order.
        tiles.sort_by_key(|(c, _)| u64::from(pmtiles::TileId::from(*c)));
        for (coord, data) in &tiles {
            writer.add_tile(*coord, data).map_err(|e| fail(&e))?;
        }
        count += tiles.len();
    }
    writer.finalize().map_err(|e| fail(&e))?;
    Ok(count)
}
