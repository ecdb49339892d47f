//! CSV batches: any body is refused as a whole (bad header) or answered row for row, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod support;

fuzz_target!(|data: &[u8]| {
    let atlas = support::atlas();
    let mut output = Vec::new();
    if let Ok(stats) = territoires::batch::annotate_csv(atlas, data, &mut output, "fuzz") {
        // The output has a header and one record per row counted.
        let records = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(*output.iter().find(|b| matches!(b, b',' | b';' | b'\t')).unwrap_or(&b','))
            .from_reader(&output[..])
            .byte_records()
            .count();
        assert_eq!(records as u64, stats.rows, "N in, N out");
    }
});
