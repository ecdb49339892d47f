//! Writes the inputs the comparison benchmarks share, from the public library API: the bench points,
//! the member polygons of edition 2023 (one row per member unit, WKB hex, with its territory), and our
//! own answers for every point, so shapely/GEOS and PostGIS answer the very same question and their
//! answers can be checked against ours.
//!
//! ```sh
//! cargo run --release --example bench_data -- [OUT_DIR]   # default target/bench
//! ```
//!
//! Prints `SKIPPED` and exits 0 when `../shared/data` (the ANCT lists) is absent.

#[path = "../benches/support/points.rs"]
#[allow(dead_code)]
mod points;

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::{MultiPolygon, Point};
use territoires::atlas::{Atlas, AtlasSources, EditionSource};

/// The edition the lookups are compared on.
const EDITION: &str = "2023";
const PHASE2_GEOJSON: &str = "anct-ti-phase2-2024-07/ti_geom.geojson";

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args().nth(1).map_or_else(|| root.join("target/bench"), PathBuf::from);
    let list = root.join("../shared/data").join(PHASE2_GEOJSON);
    if !list.exists() {
        println!("SKIPPED: {} is absent; the lookup comparisons need the ANCT 2023 list", list.display());
        return Ok(());
    }
    std::fs::create_dir_all(&out)?;

    let started = Instant::now();
    let edition =
        EditionSource::parse(&format!("{EDITION}={}", list.display())).map_err(anyhow::Error::msg)?;
    let sources = AtlasSources::from_geodata_dir(&root.join("geodata"), vec![edition])?;
    let atlas = Atlas::build(&sources)?;
    let build_s = started.elapsed().as_secs_f64();

    let members = write_members(&atlas, &out.join("members_2023.csv"))?;
    let n = points::count_from_env();
    let pts = points::points(n, points::SEED);
    write_points(&pts, &out.join("points.csv"))?;
    let (inside, by_box) = write_answers(&atlas, &pts, &out.join("answers_ours.csv"))?;

    #[allow(clippy::cast_precision_loss)]
    let share = inside as f64 / n as f64;
    let summary = serde_json::json!({
        "points": n,
        "seed": format!("{:#x}", points::SEED),
        "inside": inside,
        "inside_share": share,
        "inside_by_box": by_box,
        "members": members,
        "atlas_build_s": build_s,
    });
    std::fs::write(out.join("data.json"), serde_json::to_string_pretty(&summary)?)?;
    println!(
        "bench data in {}: {n} points ({inside} inside a 2023 territory, {:.1}%), {members} member polygons; atlas built in {build_s:.2} s",
        out.display(),
        share * 100.0
    );
    Ok(())
}

/// One row per member unit of the edition: territory id, unit kind, unit code, geometry as WKB hex.
fn write_members(atlas: &Atlas, path: &Path) -> anyhow::Result<usize> {
    let entry = atlas.edition(EDITION).ok_or_else(|| anyhow::anyhow!("edition {EDITION} not loaded"))?;
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "territory,kind,code,wkb")?;
    let mut rows = 0;
    for territory in &entry.edition.territories {
        for member in &territory.members {
            let unit = atlas.unit(member.unit);
            writeln!(
                w,
                "{},{},{},{}",
                territory.id,
                unit.kind,
                unit.code(),
                hex::encode(wkb(&unit.geometry))
            )?;
            rows += 1;
        }
    }
    w.flush()?;
    Ok(rows)
}

/// Little-endian WKB of a MultiPolygon (OGC simple features, type 6).
fn wkb(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let count = |n: usize| u32::try_from(n).expect("fewer than 2^32 parts").to_le_bytes();
    let mut b = vec![1u8];
    b.extend(6u32.to_le_bytes());
    b.extend(count(mp.0.len()));
    for poly in &mp.0 {
        b.push(1);
        b.extend(3u32.to_le_bytes());
        b.extend(count(1 + poly.interiors().len()));
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            b.extend(count(ring.0.len()));
            for c in &ring.0 {
                b.extend(c.x.to_le_bytes());
                b.extend(c.y.to_le_bytes());
            }
        }
    }
    b
}

fn write_points(pts: &[[f64; 2]], path: &Path) -> anyhow::Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "id,lon,lat")?;
    for (i, [lon, lat]) in pts.iter().enumerate() {
        writeln!(w, "{i},{lon:.6},{lat:.6}")?;
    }
    w.flush()?;
    Ok(())
}

/// Our answer for each point inside a territory of the edition (`id,territory`), via
/// `Atlas::territories_containing`; returns the count inside and the count inside per bbox.
fn write_answers(
    atlas: &Atlas,
    pts: &[[f64; 2]],
    path: &Path,
) -> anyhow::Result<(usize, serde_json::Map<String, serde_json::Value>)> {
    let e = atlas
        .editions()
        .iter()
        .position(|e| e.edition.id.as_str() == EDITION)
        .ok_or_else(|| anyhow::anyhow!("edition {EDITION} not loaded"))?;
    let territories = &atlas.editions()[e].edition.territories;
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "id,territory")?;
    let mut inside = 0;
    let mut by_box = serde_json::Map::new();
    let mut line = String::new();
    for (i, &[lon, lat]) in pts.iter().enumerate() {
        let hits: Vec<&str> = atlas
            .territories_containing(Point::new(lon, lat))
            .into_iter()
            .filter(|h| h.edition.get() == e)
            .map(|h| territories[h.territory.get()].id.as_str())
            .collect();
        if hits.is_empty() {
            continue;
        }
        inside += 1;
        let name = points::BOXES
            .iter()
            .find(|(_, _, b)| (b[0]..=b[2]).contains(&lon) && (b[1]..=b[3]).contains(&lat))
            .map_or("other", |(n, _, _)| n);
        let count = by_box.entry(name).or_insert(serde_json::Value::from(0u64));
        *count = serde_json::Value::from(count.as_u64().unwrap_or(0) + 1);
        line.clear();
        let _ = write!(line, "{i},{}", hits.join(";"));
        writeln!(w, "{line}")?;
    }
    w.flush()?;
    Ok((inside, by_box))
}
