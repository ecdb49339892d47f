//! Place names and commune boundaries for the map, from geodata, as the tile layer `places`: each tile
//! holds a point layer `places` (one label point per commune, with its name, population and seat rank,
//! the most important first: regional capitals from zoom 4, prefectures from 6, then towns by
//! population, every commune from 11) and, from zoom [`COMMUNES_MIN_ZOOM`], a polygon layer `communes`.
//! The map draws them with the glyphs of [`super::glyphs`], so no request leaves the server.

use std::sync::Arc;

use geo::{BoundingRect, Coord, InteriorPoint, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use super::encoded::Encoded;
use super::layers::{MVT, TILE_EXTENT, encode_error, polygon_tile_geometry};
use super::tiles::{TileCache, TileCoord, TileError};
use crate::atlas::Atlas;
use crate::codes::Seat;
use crate::model::{UnitIx, UnitKind};

/// The tile layer's name, and that of its point layer.
pub const PLACES: &str = "places";

/// The polygon layer of commune boundaries inside `places` tiles.
pub const COMMUNES: &str = "communes";

/// First zoom whose tiles carry commune boundaries: below it they would be a grey mesh.
pub const COMMUNES_MIN_ZOOM: u8 = 10;

/// First zoom at which every commune is named.
pub const ALL_NAMES_ZOOM: u8 = 11;

/// One named point per commune.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Place {
    /// The commune, in the Atlas the layer was built from (its code, name and polygon stay there).
    unit: UnitIx,
    population: u64,
    /// 0 regional capital, 1 prefecture, 2 any other commune.
    rank: u8,
    /// First zoom whose tiles carry the name.
    minzoom: u8,
    at: Coord<f64>,
}

/// The first zoom a commune is named at: seats first, then towns by population.
fn minzoom(seat: Option<Seat>, population: u64) -> u8 {
    match (seat, population) {
        (Some(Seat::Region), _) => 4,
        (Some(Seat::Departement), _) => 6,
        (_, p) if p >= 50_000 => 7,
        (_, p) if p >= 20_000 => 8,
        (_, p) if p >= 10_000 => 9,
        (_, p) if p >= 2_000 => 10,
        _ => ALL_NAMES_ZOOM,
    }
}

/// A tile layer's name, its fields with their TileJSON types, and its first zoom.
pub type VectorLayer = (&'static str, Vec<(&'static str, &'static str)>, u8);

/// Commune names and boundaries, ready to tile.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Places {
    named: Vec<Place>,
    /// Label points, by position in `places`.
    points: RTree<GeomWithData<[f64; 2], usize>>,
    /// Commune bounding boxes, with the commune.
    boxes: RTree<GeomWithData<Rectangle<[f64; 2]>, UnitIx>>,
    #[serde(skip)]
    tiles: TileCache,
}

impl std::fmt::Debug for Places {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Places")
            .field("named", &self.named.len())
            .field("tiles", &self.tiles)
            .finish_non_exhaustive()
    }
}

impl Places {
    /// The communes of `atlas`, each named at its label point (an interior point of its polygon).
    #[must_use]
    pub fn build(atlas: &Atlas) -> Self {
        let mut places = Vec::new();
        let mut boxes = Vec::new();
        for &i in atlas.units_of_kind(UnitKind::Commune) {
            let unit = atlas.unit(i);
            let Some(at) = unit.geometry.interior_point() else { continue };
            let seat = atlas.seat(i);
            let population = atlas.unit_figures(i).population;
            places.push(Place {
                unit: i,
                population,
                rank: match seat {
                    Some(Seat::Region) => 0,
                    Some(Seat::Departement) => 1,
                    None => 2,
                },
                minzoom: minzoom(seat, population),
                at: at.0,
            });
            if let Some(r) = unit.geometry.bounding_rect() {
                let corners = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                boxes.push(GeomWithData::new(corners, i));
            }
        }
        // Most important first: tiles list them in this order and MapLibre places the first ones first.
        places.sort_by(|a, b| {
            (a.rank, std::cmp::Reverse(a.population)).cmp(&(b.rank, std::cmp::Reverse(b.population)))
        });
        let points = RTree::bulk_load(
            places.iter().enumerate().map(|(i, p)| GeomWithData::new([p.at.x, p.at.y], i)).collect(),
        );
        let boxes = RTree::bulk_load(boxes);
        Self { named: places, points, boxes, tiles: TileCache::default() }
    }

    /// Number of named communes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.named.len()
    }

    /// Whether there is no commune to name.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.named.is_empty()
    }

    /// The fields of the point layer and of the boundary layer, for TileJSON: `(layer, fields, minzoom)`.
    #[must_use]
    pub fn vector_layers() -> [VectorLayer; 2] {
        [
            (
                PLACES,
                vec![
                    ("code", "String"),
                    ("name", "String"),
                    ("population", "Number"),
                    ("rank", "Number"),
                    ("minzoom", "Number"),
                ],
                4,
            ),
            (COMMUNES, vec![("code", "String"), ("name", "String")], COMMUNES_MIN_ZOOM),
        ]
    }

    /// `[west, south, east, north]` of the communes.
    #[must_use]
    pub fn bounds(&self) -> Option<Rect<f64>> {
        let e = self.boxes.root().envelope();
        (self.boxes.size() > 0).then(|| Rect::new((e.lower()[0], e.lower()[1]), (e.upper()[0], e.upper()[1])))
    }

    /// Vector tile `z/x/y` with the names due at its zoom (points inside the tile, most important first)
    /// and, from [`COMMUNES_MIN_ZOOM`], the commune boundaries meeting it. `atlas` is the one the layer
    /// was built from (the [`super::LayerSet`] is swapped with it), which holds the names and polygons.
    ///
    /// # Errors
    /// An encoding failure.
    pub fn tile(&self, atlas: &Atlas, coord: TileCoord) -> Result<Vec<u8>, TileError> {
        let extent = f64::from(TILE_EXTENT);
        let inner = coord.bounds(0.0);
        let envelope = |r: Rect<f64>| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let mut tile = mvt::Tile::new(TILE_EXTENT);

        let mut names = tile.create_layer(PLACES);
        let mut due: Vec<usize> = self
            .points
            .locate_in_envelope(&envelope(inner))
            .map(|p| p.data)
            .filter(|&i| self.named[i].minzoom <= coord.z())
            .collect();
        due.sort_unstable();
        for i in due {
            let p = &self.named[i];
            let unit = atlas.unit(p.unit);
            let (x, y) = coord.project(&p.at, extent);
            let mut encoder = mvt::GeomEncoder::new(mvt::GeomType::Point);
            encoder.add_point(x.round(), y.round()).map_err(encode_error)?;
            let mut feature = names.into_feature(encoder.encode().map_err(encode_error)?);
            feature.add_tag_string("code", unit.code());
            feature.add_tag_string("name", &unit.name);
            feature.add_tag_uint("population", p.population);
            feature.add_tag_uint("rank", u64::from(p.rank));
            feature.add_tag_uint("minzoom", u64::from(p.minzoom));
            names = feature.into_layer();
        }
        tile.add_layer(names).map_err(encode_error)?;

        if coord.z() >= COMMUNES_MIN_ZOOM {
            let mut borders = tile.create_layer(COMMUNES);
            let buffered = coord.bounds(64.0 / extent);
            let mut meeting: Vec<UnitIx> =
                self.boxes.locate_in_envelope_intersecting(&envelope(buffered)).map(|b| b.data).collect();
            meeting.sort_unstable();
            for i in meeting {
                let unit = atlas.unit(i);
                let data = polygon_tile_geometry(&unit.geometry, coord)?;
                if data.is_empty() {
                    continue;
                }
                let mut feature = borders.into_feature(data);
                feature.add_tag_string("code", unit.code());
                feature.add_tag_string("name", &unit.name);
                borders = feature.into_layer();
            }
            tile.add_layer(borders).map_err(encode_error)?;
        }
        tile.to_bytes().map_err(encode_error)
    }

    /// [`Places::tile`], made once and then served from memory while the cache has room.
    ///
    /// # Errors
    /// As [`Places::tile`].
    pub fn tile_encoded(&self, atlas: &Atlas, coord: TileCoord) -> Result<Arc<Encoded>, TileError> {
        self.tiles.get_or_make(coord, || Ok(Encoded::new(self.tile(atlas, coord)?, MVT)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_come_before_towns_and_every_commune_is_named_from_zoom_11() {
        assert_eq!(minzoom(Some(Seat::Region), 10), 4);
        assert_eq!(minzoom(Some(Seat::Departement), 2_000_000), 6);
        assert_eq!(minzoom(None, 2_000_000), 7);
        assert_eq!(minzoom(None, 27_000), 8);
        assert_eq!(minzoom(None, 0), ALL_NAMES_ZOOM);
    }
}
