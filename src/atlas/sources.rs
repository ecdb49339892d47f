//! What an Atlas is built from: unit files and one territory list per edition, as given on the command
//! line (`EDITION=FILE`) or found in a geodata directory.

use std::path::{Path, PathBuf};

use super::{AtlasError, AtlasErrors};
use crate::model::EditionId;
use crate::model::ErrorList;

/// Files the Atlas is built from.
#[derive(Debug, Clone)]
pub struct AtlasSources {
    /// Unit boundary files (Shapefile `.shp` or GeoJSON), read in order.
    pub unit_files: Vec<PathBuf>,
    /// Territory lists, one per edition.
    pub editions: Vec<EditionSource>,
    /// The commune code table (`commune_codes.csv`: former, délégué, associé and arrondissement codes,
    /// postal codes), when there is one; batches keyed by code need it.
    pub code_table: Option<PathBuf>,
    /// The chefs-lieux of régions and départements (`chefs_lieux.csv`), when there is one; the map's
    /// place names rank them first.
    pub seats: Option<PathBuf>,
}

/// One edition to load: its id and the list file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionSource {
    /// The edition id (`2023`).
    pub id: EditionId,
    /// The list file (CSV or GeoJSON).
    pub path: PathBuf,
}

impl EditionSource {
    /// Parses the CLI form `EDITION=FILE`.
    ///
    /// ```
    /// use territoires::atlas::EditionSource;
    /// let e = EditionSource::parse("2023=lists/ti.geojson").unwrap();
    /// assert_eq!(e.id.as_str(), "2023");
    /// assert!(EditionSource::parse("lists/ti.geojson").is_err());
    /// ```
    ///
    /// # Errors
    /// When there is no `=`, the edition id is not letters/digits/`-`/`_`, or the path is empty.
    pub fn parse(s: &str) -> Result<Self, EditionSourceError> {
        let (id, path) = s.split_once('=').ok_or_else(|| EditionSourceError::NoEquals(s.to_owned()))?;
        let id = EditionId::parse(id).ok_or_else(|| EditionSourceError::BadId(id.to_owned()))?;
        if path.trim().is_empty() {
            return Err(EditionSourceError::EmptyPath(id));
        }
        Ok(Self { id, path: PathBuf::from(path) })
    }
}

/// Why an `EDITION=FILE` argument is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditionSourceError {
    /// No `=` in the argument.
    #[error("expected EDITION=FILE (e.g. 2023=ti_geom.geojson), got {0:?}")]
    NoEquals(String),
    /// The part before `=` is not an edition id.
    #[error("edition id {0:?}: use 1-32 letters, digits, '-' or '_'")]
    BadId(String),
    /// Nothing after `=`.
    #[error("edition {0}: empty file path")]
    EmptyPath(EditionId),
}

/// The file name of the commune code table in a geodata directory.
pub const CODE_TABLE_FILE: &str = "commune_codes.csv";

impl AtlasSources {
    /// The unit layers of a geodata directory (`epci`, `ept`, `communes`, whichever exist, communes last;
    /// each a Shapefile `.shp` or else a `.geojson`) and the given editions, or, when none is given, every list in `DIR/territories/`
    /// (edition id = file stem).
    ///
    /// # Errors
    /// When the directory has no unit layer, or a default list has a name that is not a valid edition id.
    pub fn from_geodata_dir(dir: &Path, editions: Vec<EditionSource>) -> Result<Self, AtlasErrors> {
        let unit_files = crate::source::unit_layer_files(dir);
        if unit_files.is_empty() {
            return Err(ErrorList(vec![AtlasError::NoUnits(dir.to_path_buf())]));
        }
        let editions =
            if editions.is_empty() { default_editions(&dir.join("territories"))? } else { editions };
        let code_table = Some(dir.join(CODE_TABLE_FILE)).filter(|p| p.is_file());
        let seats = Some(dir.join(crate::codes::SEATS_FILE)).filter(|p| p.is_file());
        Ok(Self { unit_files, editions, code_table, seats })
    }
}

impl AtlasSources {
    /// Every file the Atlas reads, each with the name it is known by: its role and file name, never its
    /// directory, so the same files give the same names wherever they are (a unit layer's Shapefile
    /// companions and a list's `.meta.json` sidecar included, when present).
    #[must_use]
    pub fn files(&self) -> Vec<(String, PathBuf)> {
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut files = Vec::new();
        for unit in &self.unit_files {
            files.push((format!("units {}", name(unit)), unit.clone()));
            if unit.extension().is_some_and(|e| e == "shp") {
                for ext in ["shx", "dbf", "prj", "cpg"] {
                    let companion = unit.with_extension(ext);
                    if companion.is_file() {
                        files.push((format!("units {}", name(&companion)), companion));
                    }
                }
            }
        }
        for edition in &self.editions {
            files.push((format!("edition {} {}", edition.id, name(&edition.path)), edition.path.clone()));
            let sidecar = crate::source::edition_meta::sidecar_path(&edition.path);
            if sidecar.is_file() {
                files.push((format!("edition {} {}", edition.id, name(&sidecar)), sidecar));
            }
        }
        files.extend(self.code_table.iter().map(|p| (format!("codes {}", name(p)), p.clone())));
        files.extend(self.seats.iter().map(|p| (format!("seats {}", name(p)), p.clone())));
        files
    }

    /// A 128-bit digest (XXH3) of [`AtlasSources::files`]: names, lengths and contents, in order. Equal
    /// digests mean the same inputs, so an Atlas built from them once can be reused (a snapshot).
    ///
    /// # Errors
    /// A file that cannot be read.
    pub fn digest(&self) -> std::io::Result<u128> {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for (name, path) in self.files() {
            let bytes = std::fs::read(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            hasher.update(name.as_bytes());
            hasher.update(&[0]);
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
        Ok(hasher.digest128())
    }
}

fn default_editions(dir: &Path) -> Result<Vec<EditionSource>, AtlasErrors> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "geojson"))
        .collect();
    // Newest first: year-named editions (2023, 2019) list the current programme phase first.
    found.sort();
    found.reverse();
    found
        .into_iter()
        .map(|path| {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            EditionId::parse(&stem)
                .map(|id| EditionSource { id, path: path.clone() })
                .ok_or_else(|| ErrorList(vec![AtlasError::BadEditionFile(path)]))
        })
        .collect()
}
