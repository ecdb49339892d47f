//! CSV batches: any body is refused as a whole (bad header) or answered row for row, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod support;

fuzz_target!(|data: &[u8]| {
    let atlas = support::atlas();
    let mut output = Vec::new();
    if let Ok(stats) = territoires::batch::annotate_csv(atlas, data, &mut output, "fuzz") {
        // The output keeps the separator sniffed from the input's first line (the one with the most of
        // `;`, tab, `,`; `,` on a tie), a header, and one record per row read.
        let header = data.split(|&b| b == b'\n').next().unwrap_or_default();
        let count = |d: u8| header.iter().filter(|&&c| c == d).count();
        let delimiter =
            [b';', b'\t', b','].into_iter().max_by_key(|&d| (count(d), d == b',')).unwrap_or(b',');
        let records = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(&output[..])
            .byte_records()
            .count();
        assert_eq!(records as u64, stats.rows, "N in, N out");
    }
});
