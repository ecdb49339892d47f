//! Shared test fixtures: the committed geodata/ (editions 2023 and 2019), tests/fixtures/, and a once-built Atlas.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use territoires::atlas::{Atlas, AtlasSources, EditionSource};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed geodata directory.
pub fn geodata() -> PathBuf {
    root().join("geodata")
}

/// `../shared/data/<rel>` when it exists (only the cross-check of the committed lists uses it).
#[allow(dead_code)]
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared/data").join(rel);
    p.exists().then_some(p)
}

/// The committed official editions.
pub fn phase2() -> PathBuf {
    geodata().join("territories/2023.csv")
}

/// Phase I, as committed.
pub fn phase1() -> PathBuf {
    geodata().join("territories/2019.csv")
}

/// The illustrative sample list (a test fixture, no longer shipped in geodata/).
pub fn sample() -> PathBuf {
    root().join("tests/fixtures/sample.csv")
}

/// Known sites with their phase II territory (copied from ../shared/data/examples; see tests/fixtures/README.md).
pub fn known_sites_path() -> PathBuf {
    root().join("tests/fixtures/known-sites.csv")
}

pub fn edition(id: &str, path: &Path) -> EditionSource {
    EditionSource::parse(&format!("{id}={}", path.display())).expect("valid edition")
}

/// The sample fixture, then geodata/'s editions 2023 and 2019 as shipped (with their sidecars); built
/// once per test run.
pub fn atlas_2023() -> &'static Atlas {
    shared_atlas_2023()
}

/// The same Atlas, shareable with routers.
pub fn shared_atlas_2023() -> &'static Arc<Atlas> {
    static ATLAS: OnceLock<Arc<Atlas>> = OnceLock::new();
    ATLAS.get_or_init(|| {
        let editions =
            vec![edition("sample", &sample()), edition("2023", &phase2()), edition("2019", &phase1())];
        let sources = AtlasSources::from_geodata_dir(&geodata(), editions).expect("geodata present");
        Arc::new(Atlas::build(&sources).unwrap_or_else(|e| panic!("atlas builds: {e}")))
    })
}

/// The same Atlas with its layers rendered once, for routers.
pub fn shared_loaded() -> &'static Arc<territoires::http::Loaded> {
    static LOADED: OnceLock<Arc<territoires::http::Loaded>> = OnceLock::new();
    LOADED.get_or_init(|| {
        let atlas = shared_atlas_2023().clone();
        Arc::new(territoires::http::Loaded::new(atlas))
    })
}

/// One row of known-sites.csv.
#[derive(Debug, serde::Deserialize)]
pub struct KnownSite {
    pub name: String,
    pub insee_com: String,
    pub lon: f64,
    pub lat: f64,
    pub epci_siren: String,
    pub territory_2023: String,
}

pub fn known_sites() -> Vec<KnownSite> {
    let path = known_sites_path();
    let mut reader = csv::Reader::from_path(&path).expect("known sites readable");
    reader.deserialize().map(|r| r.expect("known site row")).collect()
}

/// A file with these contents in a new temporary directory (kept alive by the returned guard).
pub fn temp_file(name: &str, contents: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write a temporary file");
    (dir, path)
}
