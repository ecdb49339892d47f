//! `territoires export`: the Atlas as files other programs read — GeoParquet, FlatGeobuf and GeoJSON per
//! collection, the commune → territory table (Parquet, CSV), and every vector tile in one PMTiles archive.
//! Reads a built Atlas and its layers; never changes them and never serves anything.

mod communes;
mod fgb;
mod geojson_file;
mod geoparquet;
mod site;
mod table;
mod tile_archive;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use crate::atlas::Atlas;
use crate::render::LayerSet;

pub use crate::render::tilejson::tile_layers;
pub use tile_archive::PMTILES_MAX_ZOOM;

/// A kind of file `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// GeoParquet 1.1, one file per collection (`territories-2023.parquet`, `epci.parquet`…).
    GeoParquet,
    /// FlatGeobuf with its packed R-tree, one file per collection.
    FlatGeobuf,
    /// GeoJSON FeatureCollection, one file per collection.
    GeoJson,
    /// `commune-territories.parquet` and `.csv`: each current commune with its EPCI, EPT and territories.
    Communes,
    /// `tiles.pmtiles`: the vector tiles of every tile layer, zooms 0 to [`PMTILES_MAX_ZOOM`].
    PmTiles,
    /// `site/`: the web map as static files reading `tiles.pmtiles` and JSON (needs no server but a file
    /// server honouring HTTP Range requests); writes the archive too when `pmtiles` is not asked for.
    Site,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Self; 6] =
        [Self::GeoParquet, Self::FlatGeobuf, Self::GeoJson, Self::Communes, Self::PmTiles, Self::Site];

    /// The name used on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::GeoParquet => "geoparquet",
            Self::FlatGeobuf => "fgb",
            Self::GeoJson => "geojson",
            Self::Communes => "communes",
            Self::PmTiles => "pmtiles",
            Self::Site => "site",
        }
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| {
                f.name().eq_ignore_ascii_case(s)
                    || (s.eq_ignore_ascii_case("flatgeobuf") && *f == Self::FlatGeobuf)
            })
            .ok_or_else(|| ExportError::UnknownFormat(s.to_owned()))
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A `--format` name that is not one of [`Format::ALL`].
    #[error("unknown export format {0:?}: use geoparquet, fgb, geojson, communes, pmtiles or site")]
    UnknownFormat(String),
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// An encoder (Parquet, FlatGeobuf, PMTiles, vector tiles) refused the data.
    #[error("{path}: {message}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
}

impl ExportError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io { path: path.to_owned(), source }
    }

    fn encode(path: &Path) -> impl FnOnce(&dyn std::fmt::Display) -> Self + '_ {
        move |e| Self::Encode { path: path.to_owned(), message: e.to_string() }
    }
}

/// One file written.
#[derive(Debug, Clone)]
pub struct Written {
    /// Where.
    pub path: PathBuf,
    /// Rows, features or tiles it holds.
    pub records: usize,
    /// Size in bytes.
    pub bytes: u64,
    /// Time spent writing it, ms.
    pub ms: f64,
}

/// Writes `formats` for every collection of `atlas` into `dir` (created if missing), the tiles from its
/// `layers`, returning the files in the order they were written.
///
/// # Errors
/// The first file that could not be written, named.
pub fn export(
    atlas: &Atlas,
    layers: &LayerSet,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<Written>, ExportError> {
    std::fs::create_dir_all(dir).map_err(ExportError::io(dir))?;
    let mut written = Vec::new();
    let wants = |f: Format| formats.contains(&f);
    if wants(Format::GeoParquet) || wants(Format::FlatGeobuf) || wants(Format::GeoJson) {
        for collection in atlas.collections() {
            let table = table::Table::of(atlas, &collection);
            for (format, ext) in
                [(Format::GeoParquet, "parquet"), (Format::FlatGeobuf, "fgb"), (Format::GeoJson, "geojson")]
            {
                if !wants(format) {
                    continue;
                }
                let path = dir.join(format!("{}.{ext}", collection.id));
                let started = Instant::now();
                let records = match format {
                    Format::GeoParquet => geoparquet::write(&table, &path)?,
                    Format::FlatGeobuf => fgb::write(&table, &collection, &path)?,
                    _ => geojson_file::write(&table, &path)?,
                };
                written.push(finished(path, records, started)?);
            }
        }
    }
    if wants(Format::Communes) {
        for (path, records, started) in communes::write(atlas, dir)? {
            written.push(finished(path, records, started)?);
        }
    }
    let archive = dir.join("tiles.pmtiles");
    if wants(Format::PmTiles) || wants(Format::Site) {
        let started = Instant::now();
        let records = tile_archive::write(atlas, layers, &archive)?;
        written.push(finished(archive.clone(), records, started)?);
    }
    if wants(Format::Site) {
        let started = Instant::now();
        let records = site::write(atlas, dir, &archive)?;
        let path = dir.join("site");
        let bytes = dir_size(&path).map_err(ExportError::io(&path))?;
        written.push(Written { path, records, bytes, ms: started.elapsed().as_secs_f64() * 1000.0 });
    }
    Ok(written)
}

/// Bytes of the files under `dir` (hard links counted at their full size).
fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        total += if kind.is_dir() { dir_size(&entry.path())? } else { entry.metadata()?.len() };
    }
    Ok(total)
}

fn finished(path: PathBuf, records: usize, started: Instant) -> Result<Written, ExportError> {
    let bytes = std::fs::metadata(&path).map_err(ExportError::io(&path))?.len();
    Ok(Written { path, records, bytes, ms: started.elapsed().as_secs_f64() * 1000.0 })
}
