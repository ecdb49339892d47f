//! Unit layers as GeoJSON: any file gives units or an error naming the file, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("territoires-fuzz-{}.geojson", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ =
            territoires::source::read_units_with_report(&path, &territoires::source::ReadOptions::default());
    }
});
