//! Vector tile addressing and memory: [`TileCoord`] (a checked Web-Mercator XYZ address and its bounds
//! math) and [`TileCache`] (made tiles kept up to a byte budget, evicted by `moka`). Must not encode tiles
//! (that is [`super::layers::Layer::tile`]) nor know about HTTP.
//!
//! The cache lives beside the layers, one per [`super::layers::Layer`], rather than in the HTTP layer: a
//! reload swaps the Atlas and its [`super::LayerSet`] together, and so their tiles, so a tile of old data
//! can never be served and no purge hook is needed.

use std::sync::Arc;

use geo::{Coord, Rect};

use super::encoded::Encoded;

/// Deepest zoom a tile address may have.
pub const MAX_ZOOM: u8 = 24;

/// Bytes of tiles one layer keeps by default (raw and compressed forms counted).
pub const TILE_CACHE_BYTES: u64 = 64 << 20;

/// Why a tile cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The address is not on the grid (`z` over [`MAX_ZOOM`], `x` or `y` at or over `2^z`).
    #[error("tile {z}/{x}/{y} is outside the grid")]
    OutsideGrid {
        /// Zoom asked for.
        z: u8,
        /// Column asked for.
        x: u32,
        /// Row asked for.
        y: u32,
    },
    /// The vector tile encoder refused the geometry.
    #[error("{0}")]
    Encode(String),
}

/// A tile address on the Web-Mercator XYZ grid (y down from the north), checked when made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileCoord {
    z: u8,
    x: u32,
    y: u32,
}

impl TileCoord {
    /// The tile `z/x/y`.
    ///
    /// ```
    /// use territoires::render::tiles::TileCoord;
    /// assert!(TileCoord::new(0, 0, 0).is_ok());
    /// assert!(TileCoord::new(2, 3, 4).is_err());
    /// assert!(TileCoord::new(25, 0, 0).is_err());
    /// ```
    ///
    /// # Errors
    /// [`TileError::OutsideGrid`] when `z > 24` or `x`, `y` ≥ `2^z`.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileError> {
        if z > MAX_ZOOM || x >= 1 << z || y >= 1 << z {
            return Err(TileError::OutsideGrid { z, x, y });
        }
        Ok(Self { z, x, y })
    }

    /// Zoom level.
    #[must_use]
    pub fn z(self) -> u8 {
        self.z
    }

    /// Column, from the antimeridian eastwards.
    #[must_use]
    pub fn x(self) -> u32 {
        self.x
    }

    /// Row, from the north southwards.
    #[must_use]
    pub fn y(self) -> u32 {
        self.y
    }

    /// Tiles per side at this zoom, as a float.
    fn side(self) -> f64 {
        f64::from(1u32 << self.z)
    }

    /// Longitude/latitude bounds of the tile widened by `margin` (a fraction of the tile side) each way.
    #[must_use]
    pub fn bounds(self, margin: f64) -> Rect<f64> {
        let n = self.side();
        let lon = |px: f64| px / n * 360.0 - 180.0;
        let lat = |py: f64| (std::f64::consts::PI * (1.0 - 2.0 * py / n)).sinh().atan().to_degrees();
        let (fx, fy) = (f64::from(self.x), f64::from(self.y));
        Rect::new((lon(fx - margin), lat(fy + 1.0 + margin)), (lon(fx + 1.0 + margin), lat(fy - margin)))
    }

    /// `c` (WGS84 degrees) in this tile's frame: `0..extent` across the tile, y down; latitudes beyond
    /// Web Mercator's ±85.051128° are clamped.
    #[must_use]
    pub fn project(self, c: &Coord<f64>, extent: f64) -> (f64, f64) {
        let n = self.side();
        let (fx, fy) = (f64::from(self.x), f64::from(self.y));
        let phi = c.y.clamp(-85.051_128, 85.051_128).to_radians();
        let mx = (c.x + 180.0) / 360.0 * n;
        let my = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
        ((mx - fx) * extent, (my - fy) * extent)
    }
}

/// Made tiles by address, kept while their weighed bytes fit the capacity; the least useful go first
/// (`moka`'s TinyLFU), and a tile asked for by several requests at once is made once.
pub struct TileCache {
    tiles: moka::sync::Cache<TileCoord, Arc<Encoded>>,
    capacity: u64,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("tiles", &self.tiles.entry_count())
            .field("weighed_bytes", &self.tiles.weighted_size())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Default for TileCache {
    fn default() -> Self {
        Self::new(TILE_CACHE_BYTES)
    }
}

impl TileCache {
    /// A cache holding at most `capacity` bytes of tiles, each weighed by [`Encoded::weight_bound`].
    #[must_use]
    pub fn new(capacity: u64) -> Self {
        let tiles = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .weigher(|_: &TileCoord, tile: &Arc<Encoded>| {
                u32::try_from(tile.weight_bound()).unwrap_or(u32::MAX)
            })
            .build();
        Self { tiles, capacity }
    }

    /// The tile at `coord`, made by `make` unless it is kept.
    ///
    /// # Errors
    /// Whatever `make` fails with (a failure is not kept).
    pub fn get_or_make(
        &self,
        coord: TileCoord,
        make: impl FnOnce() -> Result<Encoded, TileError>,
    ) -> Result<Arc<Encoded>, TileError> {
        self.tiles.try_get_with(coord, || make().map(Arc::new)).map_err(|e| (*e).clone())
    }

    /// Bytes the kept tiles weigh, once pending evictions are done.
    #[must_use]
    pub fn weighed_bytes(&self) -> u64 {
        self.tiles.run_pending_tasks();
        self.tiles.weighted_size()
    }

    /// Most bytes kept.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_off_the_grid_are_refused() {
        assert!(TileCoord::new(24, (1 << 24) - 1, 0).is_ok());
        assert_eq!(
            TileCoord::new(3, 8, 0).map_err(|e| e.to_string()),
            Err("tile 3/8/0 is outside the grid".to_owned())
        );
        assert!(TileCoord::new(3, 0, 8).is_err());
        assert!(TileCoord::new(25, 0, 0).is_err());
    }

    #[test]
    fn bounds_and_projection_agree() {
        let world = TileCoord::new(0, 0, 0).expect("on the grid");
        let b = world.bounds(0.0);
        assert!((b.min().x + 180.0).abs() < 1e-9 && (b.max().x - 180.0).abs() < 1e-9);
        assert!((b.max().y - 85.051_128).abs() < 1e-6);
        let t = TileCoord::new(10, 515, 351).expect("on the grid");
        let b = t.bounds(0.0);
        let (x0, y0) = t.project(&Coord { x: b.min().x, y: b.max().y }, 4096.0);
        let (x1, y1) = t.project(&Coord { x: b.max().x, y: b.min().y }, 4096.0);
        assert!(x0.abs() < 1e-6 && y0.abs() < 1e-3, "{x0} {y0}");
        assert!((x1 - 4096.0).abs() < 1e-6 && (y1 - 4096.0).abs() < 1e-3, "{x1} {y1}");
    }

    #[test]
    fn the_weighed_size_stays_under_the_capacity() {
        let cache = TileCache::new(64 << 10);
        let mut made = 0;
        for x in 0..512 {
            let coord = TileCoord::new(9, x, 7).expect("on the grid");
            let tile = cache
                .get_or_make(coord, || {
                    made += 1;
                    Ok(Encoded::new(vec![u8::try_from(x % 251).unwrap_or(0); 1000], "x"))
                })
                .expect("made");
            // Compressed forms made after insertion are within the weight counted then.
            let _ = tile.body(crate::render::encoded::Encoding::Gzip);
        }
        assert_eq!(made, 512);
        let weighed = cache.weighed_bytes();
        assert!(weighed > 0 && weighed <= cache.capacity(), "{weighed} bytes kept");
    }

    #[test]
    fn a_tile_is_made_once_and_failures_are_not_kept() {
        let cache = TileCache::new(1 << 20);
        let coord = TileCoord::new(5, 16, 11).expect("on the grid");
        let first = cache.get_or_make(coord, || Ok(Encoded::new("tile", "x"))).expect("made");
        let again = cache.get_or_make(coord, || Err(TileError::Encode("not called".into()))).expect("kept");
        assert!(Arc::ptr_eq(&first, &again));
        let other = TileCoord::new(5, 17, 11).expect("on the grid");
        assert!(cache.get_or_make(other, || Err(TileError::Encode("no".into()))).is_err());
        assert!(cache.get_or_make(other, || Ok(Encoded::new("late", "x"))).is_ok());
    }
}
