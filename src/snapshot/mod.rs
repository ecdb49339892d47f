//! The atlas snapshot: everything an [`Atlas`] and its [`LayerSet`] compute from geodata (units, outlines,
//! the point index's R-tree and cell grid, code tables, search index, zoom-simplified layers), written
//! once by `territoires snapshot` (and `build-geodata`, `import-list`) and read back in a few tens of
//! milliseconds. The snapshot of the committed geodata is built into the binary, so `territoires` runs
//! from any folder with no file beside it.
//!
//! Three postcard sections in a [`container`]: the Atlas; the grid's words, apart, because the binary's
//! copy is read in place (only the cells a lookup falls in are ever paged in); the layers, which a
//! one-shot lookup never decodes. What is quicker to make than to read is left out: the point index's
//! polygons (the units' own, shared) and the outline edge index (made on first use). The same inputs
//! always give the same bytes (maps are written in key order, build timings are cleared, the geodata
//! directory is written `geodata`). This module reads and writes bytes and files; it never decides which
//! data a command uses beyond [`DataOrigin`].

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::atlas::{Atlas, AtlasErrors, AtlasSources};
use crate::render::LayerSet;

pub mod container;

pub use container::{FORMAT_VERSION, MAGIC};

/// The snapshot's file name in a geodata directory.
pub const FILE_NAME: &str = "atlas.snapshot";

/// The sections, in order: the Atlas without its grid words, the grid words, the layers.
const NAMES: [&str; 3] = ["atlas", "grid", "layers"];

/// The snapshot of the committed `geodata/`, unpacked by the build script (empty when there was none).
static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/atlas.snapshot"));

/// The snapshot built into the binary (that of the repository's `geodata/` when the binary was built),
/// sections stored as is; empty when the binary was built without one.
#[must_use]
pub fn embedded() -> &'static [u8] {
    EMBEDDED
}

/// Why bytes are not a usable snapshot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The binary was built without a snapshot (`geodata/atlas.snapshot` was missing or unreadable).
    #[error(
        "this binary has no built-in data (it was built without a usable geodata/atlas.snapshot): give \
         --geodata DIR, a directory with epci.shp, communes.shp and territories/"
    )]
    NotBuiltIn,
    /// Empty, too short, or not starting with the magic bytes.
    #[error("not an atlas snapshot (no TERRSNAP header)")]
    NotASnapshot,
    /// Written by another format version.
    #[error("snapshot format version {found}, this binary reads version {expected}")]
    Version {
        /// The version in the file.
        found: u32,
        /// The version this binary reads.
        expected: u32,
    },
    /// Shorter than its header says, or a checksum does not match.
    #[error("snapshot section {section} is damaged ({what})")]
    Damaged {
        /// Which section.
        section: &'static str,
        /// What is wrong.
        what: String,
    },
    /// The bytes do not decode into the structures (written by another build of the same version).
    #[error("snapshot section {section} does not decode: {message}")]
    Decode {
        /// Which section.
        section: &'static str,
        /// The decoder's message.
        message: String,
    },
    /// Encoding failed (a bug).
    #[error("snapshot encoding failed: {0}")]
    Encode(String),
}

impl From<container::ContainerError> for SnapshotError {
    fn from(e: container::ContainerError) -> Self {
        match e {
            container::ContainerError::NotASnapshot => Self::NotASnapshot,
            container::ContainerError::Version { found } => Self::Version { found, expected: FORMAT_VERSION },
            container::ContainerError::Damaged { section, what } => {
                Self::Damaged { section: NAMES.get(section).copied().unwrap_or("unknown"), what }
            }
        }
    }
}

/// Why data could not be loaded, from files or from a snapshot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The files failed to load or validate.
    #[error("{0}")]
    Atlas(#[from] AtlasErrors),
    /// The snapshot is unusable.
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Digest of the source files ([`AtlasSources::digest`]).
    pub digest: u128,
}

/// Reads and checks the header (not the sections).
///
/// # Errors
/// Not a snapshot, another format version, missing sections.
pub fn header(bytes: &[u8]) -> Result<Header, SnapshotError> {
    Ok(Header { digest: parse(bytes)?.digest })
}

/// The container of `bytes`, with as many sections as this version writes.
fn parse(bytes: &[u8]) -> Result<container::Container<'_>, SnapshotError> {
    let parsed = container::parse(bytes)?;
    if parsed.sections.len() != NAMES.len() {
        return Err(SnapshotError::NotASnapshot);
    }
    Ok(parsed)
}

fn is_embedded(bytes: &[u8]) -> bool {
    std::ptr::eq(bytes, EMBEDDED)
}

/// Lets the system drop the binary's copy of section `i`, decoded and no longer needed.
fn forget_embedded(i: usize) {
    if let Some(section) = parse(EMBEDDED).ok().and_then(|c| c.sections.get(i).copied()) {
        crate::memory::forget_pages(section.stored_bytes());
    }
}

/// The raw bytes of a section, checked against its checksum unless it is the binary's own (checked by the
/// build script).
fn raw<'a>(bytes: &'a [u8], section: &container::Section<'a>) -> Result<Cow<'a, [u8]>, SnapshotError> {
    Ok(section.raw(!is_embedded(bytes))?)
}

fn decode<T: serde::de::DeserializeOwned>(raw: &[u8], i: usize) -> Result<T, SnapshotError> {
    postcard::from_bytes(raw).map_err(|e| SnapshotError::Decode { section: NAMES[i], message: e.to_string() })
}

/// Encodes an Atlas and its layers, recording the digest of the files they were built from, sections
/// stored as is: the form built into the binary ([`container::pack`] compresses it for the repository).
/// Call on an Atlas passed through [`Atlas::normalised_for_snapshot`] for reproducible bytes.
///
/// # Errors
/// An encoding failure (a bug).
pub fn encode(atlas: &Atlas, layers: &LayerSet, digest: u128) -> Result<Vec<u8>, SnapshotError> {
    let encode_err = |e: postcard::Error| SnapshotError::Encode(e.to_string());
    let (a, l) = rayon::join(|| postcard::to_allocvec(atlas), || postcard::to_allocvec(layers));
    let (a, l) = (a.map_err(encode_err)?, l.map_err(encode_err)?);
    Ok(container::stored(digest, &[&a, atlas.grid_words(), &l]))
}

/// Decodes the Atlas section and attaches the index's geometries and grid words: read in place from the
/// binary's own snapshot, so a lookup touches only the cells it asks about; copied from any other.
fn atlas_of(bytes: &[u8], sections: &[container::Section<'_>]) -> Result<Atlas, SnapshotError> {
    let atlas_raw = raw(bytes, &sections[0])?;
    let mut atlas: Atlas = decode(&atlas_raw, 0)?;
    drop(atlas_raw);
    let grid: Cow<'static, [u8]> = if is_embedded(bytes) {
        forget_embedded(0);
        parse(EMBEDDED)?.sections[1].raw(false)?
    } else {
        Cow::Owned(sections[1].raw(true)?.into_owned())
    };
    atlas.attach_index(grid).map_err(|message| SnapshotError::Decode { section: NAMES[1], message })?;
    Ok(atlas)
}

/// The Atlas of a snapshot, without its layers (what lookups need).
///
/// # Errors
/// Not a snapshot, another version, a damaged or undecodable section.
pub fn decode_atlas(bytes: &[u8]) -> Result<Atlas, SnapshotError> {
    let started = Instant::now();
    let atlas = atlas_of(bytes, &parse(bytes)?.sections)?;
    crate::memory::release_freed();
    Ok(atlas.with_load_time(ms(started)))
}

/// The Atlas and layers of a snapshot, decoded side by side.
///
/// # Errors
/// As [`decode_atlas`].
pub fn decode_all(bytes: &[u8]) -> Result<(Atlas, LayerSet), SnapshotError> {
    let started = Instant::now();
    let sections = parse(bytes)?.sections;
    let (atlas, layers) = rayon::join(
        || atlas_of(bytes, &sections),
        || {
            let layers = raw(bytes, &sections[2]).and_then(|raw| decode::<LayerSet>(&raw, 2))?;
            if is_embedded(bytes) {
                forget_embedded(2);
            }
            Ok::<_, SnapshotError>(layers)
        },
    );
    let (atlas, layers) = (atlas?, layers?);
    crate::memory::release_freed();
    Ok((atlas.with_load_time(ms(started)), layers))
}

fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

/// Builds the Atlas and layers of the files in `dir` (every list of `dir/territories/`) and encodes them.
///
/// # Errors
/// The files' load errors, an unreadable file.
pub fn build_from_dir(dir: &Path) -> Result<Vec<u8>, LoadError> {
    let sources = AtlasSources::from_geodata_dir(dir, Vec::new())?;
    let digest = sources.digest()?;
    let atlas = Atlas::build(&sources)?.normalised_for_snapshot(dir);
    let layers = LayerSet::build(&atlas);
    Ok(encode(&atlas, &layers, digest)?)
}

/// What [`write_for_dir`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The snapshot file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// Whether its content changed (false: it was already up to date).
    pub changed: bool,
}

/// Writes `dir/atlas.snapshot` for the files of `dir` (what `territoires snapshot`, `build-geodata` and
/// `import-list` call), leaving the file untouched when it is already up to date.
///
/// # Errors
/// The files' load errors, an unwritable file.
pub fn write_for_dir(dir: &Path) -> Result<Written, LoadError> {
    let fresh = build_from_dir(dir)?;
    let path = dir.join(FILE_NAME);
    // Compared unpacked: the same data is the same snapshot, whatever the compressor's version wrote.
    let old = std::fs::read(&path).ok().and_then(|old| container::unpack(&old).ok().map(|u| (old.len(), u)));
    match old {
        Some((len, unpacked)) if unpacked == fresh => Ok(Written { path, bytes: len, changed: false }),
        _ => {
            let packed = container::pack(&fresh).map_err(SnapshotError::from)?;
            std::fs::write(&path, &packed)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            Ok(Written { path, bytes: packed.len(), changed: true })
        }
    }
}

/// Where a command's data comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DataOrigin {
    /// The snapshot built into the binary.
    Embedded,
    /// Files, built as they are (`--geodata DIR`, `--territories`).
    Files(AtlasSources),
    /// The default geodata directory: read from the built-in snapshot while its files are the ones the
    /// snapshot was made from, else built from the files.
    FilesOrEmbedded(AtlasSources),
}

/// Where loaded data actually came from, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provenance {
    /// The built-in snapshot.
    Snapshot,
    /// Files; the reason when the built-in snapshot was passed over.
    Files(Option<String>),
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Snapshot => f.write_str("from the built-in snapshot"),
            Self::Files(None) => f.write_str("from files"),
            Self::Files(Some(why)) => write!(f, "from files ({why})"),
        }
    }
}

enum Choice<'a> {
    Snapshot,
    Files(&'a AtlasSources, Option<String>),
}

impl DataOrigin {
    /// Decides between the built-in snapshot and the files.
    fn choose(&self) -> Result<Choice<'_>, LoadError> {
        match self {
            Self::Embedded if EMBEDDED.is_empty() => Err(SnapshotError::NotBuiltIn.into()),
            Self::Embedded => Ok(Choice::Snapshot),
            Self::Files(sources) => Ok(Choice::Files(sources, None)),
            Self::FilesOrEmbedded(sources) => match header(EMBEDDED) {
                Ok(h) if h.digest == sources.digest()? => Ok(Choice::Snapshot),
                Ok(_) => Ok(Choice::Files(sources, Some("they differ from the built-in snapshot".into()))),
                Err(e) => Ok(Choice::Files(sources, Some(format!("built-in snapshot unusable: {e}")))),
            },
        }
    }

    /// The Atlas (no layers: what lookups need).
    ///
    /// # Errors
    /// The files' load errors, an unusable built-in snapshot with no files to fall back on.
    pub fn atlas(&self) -> Result<(Atlas, Provenance), LoadError> {
        match self.choose()? {
            Choice::Snapshot => match (decode_atlas(EMBEDDED), self) {
                (Ok(atlas), _) => Ok((atlas, Provenance::Snapshot)),
                (Err(e), Self::FilesOrEmbedded(sources)) => {
                    Ok((Atlas::build(sources)?, Provenance::Files(Some(format!("built-in snapshot: {e}")))))
                }
                (Err(e), _) => Err(e.into()),
            },
            Choice::Files(sources, why) => Ok((Atlas::build(sources)?, Provenance::Files(why))),
        }
    }

    /// The Atlas and its layers (what the server needs).
    ///
    /// # Errors
    /// As [`DataOrigin::atlas`].
    pub fn atlas_and_layers(&self) -> Result<(Atlas, LayerSet, Provenance), LoadError> {
        let from_files = |sources: &AtlasSources, why| -> Result<_, LoadError> {
            let atlas = Atlas::build(sources)?;
            let layers = LayerSet::build(&atlas);
            Ok((atlas, layers, Provenance::Files(why)))
        };
        match self.choose()? {
            Choice::Snapshot => match (decode_all(EMBEDDED), self) {
                (Ok((atlas, layers)), _) => Ok((atlas, layers, Provenance::Snapshot)),
                (Err(e), Self::FilesOrEmbedded(sources)) => {
                    from_files(sources, Some(format!("built-in snapshot: {e}")))
                }
                (Err(e), _) => Err(e.into()),
            },
            Choice::Files(sources, why) => from_files(sources, why),
        }
    }
}
