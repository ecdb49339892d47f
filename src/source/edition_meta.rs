//! The `.meta.json` sidecar beside a territory list (`2023.csv` → `2023.meta.json`): edition label, period,
//! list date, source, licence and attribution. Reads and writes that file only; lists are read elsewhere.

use std::path::{Path, PathBuf};

use super::composition::CompositionError;
use crate::model::{EditionId, EditionMeta};

/// A sidecar that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The file exists but cannot be read.
    #[error("{file}: cannot read file: {message}")]
    Io {
        /// The sidecar.
        file: String,
        /// The system's reason.
        message: String,
    },
    /// The file is not metadata JSON.
    #[error("{file}: not edition metadata: {message}")]
    Invalid {
        /// The sidecar.
        file: String,
        /// serde's reason, with line and column.
        message: String,
    },
}

impl From<MetaError> for CompositionError {
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::Io { file, message } => Self::Io { file, message },
            MetaError::Invalid { file, message } => {
                Self::Format { file, message: format!("not edition metadata: {message}") }
            }
        }
    }
}

/// The sidecar path of a list file: same directory, the list's stem followed by `.meta.json`.
///
/// ```
/// use std::path::Path;
/// use territoires::source::edition_meta::sidecar_path;
/// assert_eq!(sidecar_path(Path::new("geodata/territories/2023.csv")), Path::new("geodata/territories/2023.meta.json"));
/// ```
#[must_use]
pub fn sidecar_path(list: &Path) -> PathBuf {
    let stem = list.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    list.with_file_name(format!("{stem}.meta.json"))
}

/// The metadata of the list at `list`: its sidecar when there is one, else [`EditionMeta::fallback`].
/// The edition id is always `id` (a list loaded as `--territories X=FILE` is edition X).
///
/// # Errors
/// A sidecar that cannot be read or is not valid metadata JSON, naming the file and line.
pub fn read_edition_meta(list: &Path, id: &EditionId) -> Result<EditionMeta, MetaError> {
    let path = sidecar_path(list);
    let file = path.display().to_string();
    let meta = match std::fs::read(&path) {
        Ok(bytes) => {
            let mut meta: EditionMeta = serde_json::from_slice(&bytes)
                .map_err(|e| MetaError::Invalid { file: file.clone(), message: e.to_string() })?;
            meta.edition = id.to_string();
            if meta.label.fr.trim().is_empty() {
                meta.label.fr = id.to_string();
            }
            if meta.label.en.trim().is_empty() {
                meta.label.en = meta.label.fr.clone();
            }
            meta
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => EditionMeta::fallback(id),
        Err(e) => return Err(MetaError::Io { file, message: e.to_string() }),
    };
    Ok(crate::figures::with_population_source(meta))
}

/// The sidecar's text: pretty JSON with a final newline (stable, so re-imports give the same bytes).
///
/// # Errors
/// Never in practice (the metadata is plain data); serde's error otherwise.
pub fn meta_json(meta: &EditionMeta) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(meta)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_is_read_and_absent_sidecar_falls_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let list = dir.path().join("x.csv");
        let id = EditionId::parse("x").expect("id");
        let meta = read_edition_meta(&list, &id).expect("fallback");
        assert_eq!(meta.label.fr, "x");
        assert_eq!(meta.population.as_ref().map(|p| p.year), Some(crate::figures::POPULATION_YEAR));
        std::fs::write(dir.path().join("x.meta.json"), r#"{"edition":"y","label":{"fr":"Phase I","en":""}}"#)
            .expect("write");
        let meta = read_edition_meta(&list, &id).expect("sidecar");
        assert_eq!((meta.edition.as_str(), meta.label.en.as_str()), ("x", "Phase I"));
        std::fs::write(dir.path().join("x.meta.json"), "{\n\"label\": 3}").expect("write");
        let err = read_edition_meta(&list, &id).expect_err("bad sidecar").to_string();
        assert!(err.contains("x.meta.json") && err.contains("line 2"), "{err}");
    }
}
