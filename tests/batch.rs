//! Property tests of the batch paths on the real Atlas: whatever the rows or features, N in gives N out,
//! in order; good sites are answered, bad ones say why (issue 6).

use proptest::prelude::*;
use territoires::batch::{BatchOptions, annotate_csv, annotate_feature_collection};

use crate::support::atlas_2023;

/// A coordinate field: a number inside France, a number out of range, or something that is not one.
fn coordinate() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        4 => (-4.5f64..7.5).prop_map(|v| (format!("{v}"), true)),
        1 => (181.0f64..1e300).prop_map(|v| (format!("{v}"), false)),
        1 => "[a-zA-Z;, \"\n]{0,6}".prop_map(|s| (s, false)),
        1 => Just(("NaN".to_owned(), false)),
        1 => Just((String::new(), false)),
    ]
}

/// A CSV answer copies the lines of pieces without quotes as they came and writes the others field by
/// field: either way each row comes out exactly as the `csv` crate writes the same fields, short rows
/// padded to the header's width, every input field kept.
#[test]
fn csv_answers_are_written_as_the_csv_crate_writes_them() {
    let atlas = atlas_2023();
    let mut input = String::from("id;name;lon;lat\r\n");
    for i in 0..4000u32 {
        let (lon, lat) = (2.0 + f64::from(i % 97) * 0.05, 44.0 + f64::from(i % 89) * 0.07);
        // Quoted fields only towards the end: the first pieces are copied, the last written field by field.
        let row = match (i % 6, i >= 3600) {
            (0, true) => format!("{i};\"Quai \"\"A\"\"; n\u{b0}3\";{lon};{lat}\r\n"),
            (1, true) => format!("{i};\"deux\nlignes\";{lon};{lat}\n"),
            (0, false) => format!("{i};Besan\u{e7}on;{lon};{lat}\n"),
            (1, false) => format!("{i};court\r\n"),
            (2, _) => format!("{i};long;{lon};{lat};en trop;\r\n"),
            (3, _) => format!("{i};;;\n"),
            _ => format!("{i};site {i};{lon};{lat}\r\n"),
        };
        input.push_str(&row);
    }
    let mut output = Vec::new();
    let stats = annotate_csv(atlas, input.as_bytes(), &mut output, "mixed", &BatchOptions::default())
        .expect("answered");
    assert_eq!(stats.rows, 4000);
    let body = output.strip_prefix(b"\xef\xbb\xbf").expect("a BOM");
    let read = |bytes: &[u8]| -> Vec<csv::ByteRecord> {
        let mut reader =
            csv::ReaderBuilder::new().delimiter(b';').flexible(true).has_headers(false).from_reader(bytes);
        reader.byte_records().map(|r| r.expect("a record")).collect()
    };
    let (inputs, outputs) = (read(input.as_bytes()), read(body));
    assert_eq!(outputs.len(), inputs.len(), "N in, N out");
    // Three answer columns per edition, then commune, located_by, check and error.
    let added = atlas.editions().len() * 3 + 4;
    assert_eq!(outputs[0].len(), 4 + added, "header");
    let mut rewritten = csv::WriterBuilder::new().delimiter(b';').flexible(true).from_writer(Vec::new());
    for (i, (out, inp)) in outputs.iter().zip(&inputs).enumerate().skip(1) {
        let width = inp.len().max(4);
        let kept: Vec<&[u8]> = out.iter().take(width).collect();
        let padded: Vec<&[u8]> = inp.iter().chain(std::iter::repeat(&b""[..])).take(width).collect();
        assert_eq!(kept, padded, "row {i}: input fields kept");
        assert_eq!(out.len(), width + added, "row {i}: the answer columns after the input's");
        rewritten.write_byte_record(out).expect("written");
    }
    let header_end = body.iter().position(|&b| b == b'\n').expect("a header line") + 1;
    let rewritten = rewritten.into_inner().expect("written");
    assert!(body[header_end..] == rewritten[..], "the answer is byte for byte what the csv crate writes");
}

/// A file of several read blocks (each block's rows answered together in site order, out of the file's
/// order) answers every row as a lookup of its point alone does, in the file's order: the territories of
/// each edition as `Atlas::lookup` gives them, and the same bytes as the rows answered a thousand at a
/// time. Blocks end at 4 MiB, or at 65,536 rows when rows are short: both are crossed here.
#[test]
fn a_file_of_many_blocks_answers_each_row_as_its_own_lookup() {
    let atlas = atlas_2023();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let rows: Vec<(f64, f64)> = (0..150_000).map(|_| (-4.8 + 13.0 * next(), 42.3 + 8.8 * next())).collect();
    let header = "id;lon;lat;filler\n";
    let answer = |input: &str| {
        let mut output = Vec::new();
        let options = BatchOptions::default().with_bom(false);
        annotate_csv(atlas, input.as_bytes(), &mut output, "blocks", &options).expect("answered");
        output
    };
    // Rows of about 67 bytes (10 MB: three blocks of 4 MiB), then of about 35 (three blocks of 65,536
    // rows or fewer).
    for width in [40, 0] {
        let line =
            |i: usize, (lon, lat): (f64, f64)| format!("{i};{lon:.6};{lat:.6};{:0>width$}\n", i * 7919);
        let input: String = std::iter::once(header.to_owned())
            .chain(rows.iter().enumerate().map(|(i, &p)| line(i, p)))
            .collect();
        assert!(width == 0 || input.len() > 2 * (4 << 20), "{} bytes", input.len());
        let whole = answer(&input);
        let body = &whole[whole.iter().position(|&b| b == b'\n').expect("header") + 1..];
        let mut by_thousands = Vec::new();
        for (k, chunk) in rows.chunks(1000).enumerate() {
            let part: String = std::iter::once(header.to_owned())
                .chain(chunk.iter().enumerate().map(|(i, &p)| line(k * 1000 + i, p)))
                .collect();
            let out = answer(&part);
            by_thousands.extend_from_slice(&out[out.iter().position(|&b| b == b'\n').expect("header") + 1..]);
        }
        assert!(
            body == &by_thousands[..],
            "rows of {width}: the same, answered in blocks or a thousand at a time"
        );

        let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(&whole[..]);
        let headers = reader.headers().expect("headers").clone();
        let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
        let answered: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
        assert_eq!(answered.len(), rows.len(), "N in, N out");
        for (i, (row, &(lon, lat))) in answered.iter().zip(&rows).enumerate() {
            assert_eq!(&row[0], i.to_string().as_str(), "order kept");
            // Every 37th row against a lookup of the point as written in the file (6 decimals).
            if i % 37 != 0 {
                continue;
            }
            let (lon, lat) =
                (format!("{lon:.6}").parse().expect("lon"), format!("{lat:.6}").parse().expect("lat"));
            let lookup = atlas.lookup(lon, lat).expect("a valid point");
            for edition in atlas.editions() {
                let id = edition.edition.id.to_string();
                let mut expected: Vec<&str> =
                    lookup.territories.iter().filter(|t| t.edition == id).map(|t| t.id.as_str()).collect();
                expected.sort_unstable();
                let mut got: Vec<&str> =
                    row[column(&format!("territory_{id}"))].split(';').filter(|s| !s.is_empty()).collect();
                got.sort_unstable();
                assert_eq!(got, expected, "row {i} ({lon}, {lat}), edition {id}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn csv_batches_answer_every_row_in_order(
        rows in proptest::collection::vec((coordinate(), coordinate()), 0..60),
        semicolon in any::<bool>(),
    ) {
        let atlas = atlas_2023();
        let delimiter = if semicolon { b';' } else { b',' };
        let mut writer = csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
        writer.write_record(["id", "lon", "lat"]).expect("header");
        for (i, ((lon, _), (lat, _))) in rows.iter().enumerate() {
            writer.write_record([i.to_string().as_str(), lon, lat]).expect("row");
        }
        let input = writer.into_inner().expect("csv");
        let mut output = Vec::new();
        let stats = annotate_csv(atlas, &input[..], &mut output, "prop", &BatchOptions::default()).expect("a batch with a header is answered");
        prop_assert_eq!(stats.rows as usize, rows.len());
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(&output[..]);
        let error_col = reader.headers().expect("headers").iter().position(|h| h == "error").expect("error column");
        let answered: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        prop_assert_eq!(answered.len(), rows.len(), "N in, N out");
        for (i, (row, ((_, lon_ok), (lat_ok_text, _)))) in answered.iter().zip(&rows).enumerate() {
            let id = i.to_string();
            prop_assert_eq!(&row[0], id.as_str(), "order kept");
            let lat_ok = lat_ok_text.parse::<f64>().is_ok_and(|v| (-90.0..=90.0).contains(&v)) && !lat_ok_text.is_empty();
            let good = *lon_ok && lat_ok;
            prop_assert_eq!(row[error_col].is_empty(), good, "row {}: {:?}", i, row);
        }
    }

    #[test]
    fn geojson_batches_answer_every_feature_in_order(
        sites in proptest::collection::vec(prop_oneof![
            3 => ((-4.5f64..7.5), (42.5f64..50.5)).prop_map(|(x, y)| serde_json::json!({"type":"Point","coordinates":[x, y]})),
            1 => Just(serde_json::json!({"type":"Point","coordinates":["a", 1]})),
            1 => Just(serde_json::json!({"type":"Point","coordinates":[500, 1]})),
            1 => Just(serde_json::json!({"type":"LineString","coordinates":[[1,2],[3,4]]})),
            1 => Just(serde_json::Value::Null),
            1 => Just(serde_json::json!([1, 2])),
        ], 0..40),
    ) {
        let atlas = atlas_2023();
        let features: Vec<serde_json::Value> = sites
            .iter()
            .enumerate()
            .map(|(i, g)| serde_json::json!({"type":"Feature","properties":{"i": i},"geometry": g}))
            .collect();
        let body = serde_json::json!({"type":"FeatureCollection","features":features}).to_string();
        let mut output = Vec::new();
        let stats = annotate_feature_collection(atlas, body.as_bytes(), &mut output, 1_000).expect("answered");
        let answer: serde_json::Value = serde_json::from_slice(&output).expect("the answer is JSON");
        let answered = answer["features"].as_array().expect("features");
        prop_assert_eq!(answered.len(), sites.len(), "N in, N out");
        prop_assert_eq!(stats.rows as usize, sites.len());
        for (i, (f, g)) in answered.iter().zip(&sites).enumerate() {
            prop_assert_eq!(&f["properties"]["i"], &serde_json::json!(i), "order kept");
            let usable = g["type"] == "Point" && g["coordinates"][0].as_f64().is_some_and(|x| x.abs() <= 180.0);
            prop_assert_eq!(f["properties"].get("error").is_none(), usable, "feature {}: {}", i, f);
        }
    }
}

#[test]
fn a_batch_over_its_limit_is_refused_before_any_answer() {
    let atlas = atlas_2023();
    let point = r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[3.3,49.4]}}"#;
    let body = format!(r#"{{"type":"FeatureCollection","features":[{point},{point},{point}]}}"#);
    let mut output = Vec::new();
    let refused = annotate_feature_collection(atlas, body.as_bytes(), &mut output, 2);
    assert!(
        matches!(refused, Err(territoires::batch::BatchError::TooManyRows { max: 2, .. })),
        "{refused:?}"
    );
    assert!(output.is_empty());
}
