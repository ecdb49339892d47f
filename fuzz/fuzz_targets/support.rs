//! A small Atlas for the batch targets: the 11 EPT of geodata/ and one edition of two territories.

use std::path::PathBuf;
use std::sync::OnceLock;

use territoires::atlas::{Atlas, AtlasSources, EditionSource};

pub fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let list = std::env::temp_dir().join("territoires-fuzz-list.csv");
        std::fs::write(&list, "id_ti,lib_ti,member_siren\nf-1,Nord,200057867\nf-2,Est,200057875\n")
            .expect("the list is written");
        let edition = EditionSource::parse(&format!("f={}", list.display())).expect("edition");
        let sources =
            AtlasSources {
                unit_files: vec![root.join("geodata/ept.shp")],
                editions: vec![edition],
                code_table: None,
            };
        Atlas::build(&sources).expect("the EPT Atlas builds")
    })
}
