//! ANCT territory lists as GeoJSON: any bytes give errors (with feature index), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = territoires::source::composition::parse_geojson("fuzz.geojson", data);
    for error in &parsed.errors {
        let _ = error.to_string();
    }
});
