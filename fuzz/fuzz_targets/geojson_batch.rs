//! GeoJSON batches: any body is refused as a whole or answered feature for feature, as valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod support;

fuzz_target!(|data: &[u8]| {
    let atlas = support::atlas();
    let mut output = Vec::new();
    if let Ok(stats) = territoires::batch::annotate_feature_collection(atlas, data, &mut output, 10_000) {
        let answer: serde_json::Value = serde_json::from_slice(&output).expect("the answer is JSON");
        let features = answer["features"].as_array().expect("features");
        assert_eq!(features.len() as u64, stats.rows, "N in, N out");
    }
});
