//! `.prj` WKT: any text is a CRS or an error naming what is unknown, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(crs) = territoires::source::crs::Crs::from_prj(text) {
            let _ = crs.to_wgs84();
        }
    }
});
