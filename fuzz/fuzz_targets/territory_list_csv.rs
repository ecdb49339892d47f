//! ANCT territory lists as CSV: any bytes give errors (with file and line), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = territoires::source::composition::parse_csv("fuzz.csv", data);
    for error in &parsed.errors {
        let _ = error.to_string();
    }
});
