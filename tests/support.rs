//! Shared test fixtures: paths to real data and a once-built Atlas with edition 2023.

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

/// `../shared/data/<rel>` when it exists; otherwise prints why the caller skips.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {} is absent (it ships beside the repo in CI)", p.display());
        None
    }
}

/// Returns early from a test when shared data is absent.
macro_rules! require_shared {
    ($rel:expr) => {
        match $crate::support::shared($rel) {
            Some(p) => p,
            None => return,
        }
    };
}

pub const PHASE2_CSV: &str = "anct-ti-phase2-2024-07/members.csv";
pub const PHASE2_GEOJSON: &str = "anct-ti-phase2-2024-07/ti_geom.geojson";
pub const PHASE1_CSV: &str = "anct-ti-phase1-2022/members.csv";
pub const KNOWN_SITES: &str = "examples/known-sites.csv";

pub fn edition(id: &str, path: &Path) -> EditionSource {
    EditionSource::parse(&format!("{id}={}", path.display())).expect("valid edition")
}

/// geodata/ with the sample edition, 2023 (ANCT GeoJSON) and 2019 (phase I CSV); built once per test run.
pub fn atlas_2023() -> Option<&'static Atlas> {
    shared_atlas_2023().map(|a| &**a)
}

/// The same Atlas, shareable with routers.
pub fn shared_atlas_2023() -> Option<&'static Arc<Atlas>> {
    static ATLAS: OnceLock<Option<Arc<Atlas>>> = OnceLock::new();
    ATLAS
        .get_or_init(|| {
            let phase2 = shared(PHASE2_GEOJSON)?;
            let phase1 = shared(PHASE1_CSV)?;
            let editions = vec![
                edition("sample", &geodata().join("territories/sample.csv")),
                edition("2023", &phase2),
                edition("2019", &phase1),
            ];
            let sources = AtlasSources::from_geodata_dir(&geodata(), editions).expect("geodata present");
            Some(Arc::new(Atlas::build(&sources).unwrap_or_else(|e| panic!("atlas builds: {e}"))))
        })
        .as_ref()
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

pub fn known_sites() -> Option<Vec<KnownSite>> {
    let path = shared(KNOWN_SITES)?;
    let mut reader = csv::Reader::from_path(&path).expect("known sites readable");
    Some(reader.deserialize().map(|r| r.expect("known site row")).collect())
}
