//! Writes a SIRENE-shaped geolocation file for the planner-inputs benchmark: INSEE's columns and `;`
//! separator, establishments placed inside communes drawn by population, their `x`/`y` in the commune's
//! own CRS (Lambert-93 in the metropole, the DROM systems overseas) with that code in the `epsg` column,
//! a share of rows with no coordinates (answered by `plg_code_commune`) or with `qualite_xy` 33, and
//! `x_longitude`/`y_latitude` filled on half of the rows, as in the published file. A second file keeps
//! each row's true WGS84 point and commune, so a run can be checked row by row.
//!
//! ```sh
//! cargo run --release --example sirene_bench_data -- ROWS OUT.csv [TRUTH.csv]   # e.g. 5000000
//! ```

#[path = "../benches/support/points.rs"]
#[allow(dead_code)]
mod points;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use geo::{BoundingRect, Contains, Point};
use territoires::atlas::{Atlas, AtlasSources};
use territoires::model::UnitKind;
use territoires::source::crs::{Crs, Reprojection};

/// The CRS INSEE gives a commune's establishments in, by département.
fn crs_of(insee: &str) -> Crs {
    match &insee[..3.min(insee.len())] {
        "971" | "972" => Crs::from_epsg(5490),
        "973" => Crs::from_epsg(2972),
        "974" => Crs::from_epsg(2975),
        "976" => Crs::from_epsg(4471),
        _ => Crs::from_epsg(2154),
    }
    .expect("a supported CRS")
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: usize =
        args.next().ok_or_else(|| anyhow::anyhow!("usage: ROWS OUT.csv [TRUTH.csv]"))?.parse()?;
    let out = args.next().ok_or_else(|| anyhow::anyhow!("usage: ROWS OUT.csv [TRUTH.csv]"))?;
    let truth = args.next();
    let started = Instant::now();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let atlas = Atlas::build(&AtlasSources::from_geodata_dir(&root.join("geodata"), Vec::new())?)?;

    // Communes with their population, as a cumulative table to draw from.
    let communes: Vec<_> = atlas.units_of_kind(UnitKind::Commune).to_vec();
    let mut cumulative = Vec::with_capacity(communes.len());
    let mut total = 0.0;
    for &c in &communes {
        total += atlas.unit_figures(c).population.max(1) as f64;
        cumulative.push(total);
    }
    let to_crs: Vec<(Crs, Reprojection)> = [2154, 5490, 2972, 2975, 4471]
        .into_iter()
        .map(|e| {
            let crs = Crs::from_epsg(e).expect("supported");
            (crs, Reprojection::new(Crs::Wgs84, crs).expect("a reprojection"))
        })
        .collect();

    let mut rng = points::SplitMix64::new(points::SEED ^ 0x5151);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let mut t =
        truth.map(|p| std::fs::File::create(p).map(|f| BufWriter::with_capacity(1 << 20, f))).transpose()?;
    writeln!(
        w,
        "siret;x;y;qualite_xy;epsg;plg_qp24;plg_iris;plg_zus;plg_qva;plg_code_commune;distance_precision;\
         qualite_qp24;qualite_iris;qualite_zus;qualite_qva;y_latitude;x_longitude"
    )?;
    if let Some(t) = t.as_mut() {
        writeln!(t, "lon,lat,commune")?;
    }
    for _ in 0..rows {
        let pick = rng.next_f64() * total;
        let i = cumulative.partition_point(|&c| c <= pick).min(communes.len() - 1);
        let unit = atlas.unit(communes[i]);
        let bbox = unit.geometry.bounding_rect().expect("a commune has a shape");
        let point = loop {
            let p = Point::new(
                bbox.min().x + rng.next_f64() * bbox.width(),
                bbox.min().y + rng.next_f64() * bbox.height(),
            );
            if unit.geometry.contains(&p) {
                break p;
            }
        };
        let crs = crs_of(unit.code());
        let (_, reprojection) = to_crs.iter().find(|(c, _)| *c == crs).expect("listed");
        let (x, y) = reprojection.point(point.x(), point.y())?;
        let siret = 10_000_000_000_000 + rng.next_u64() % 89_999_999_999_999;
        let roll = rng.next_f64();
        // About 3% of establishments are not geolocated, 5% are placed at the commune's centre.
        let quality = if roll < 0.03 {
            ""
        } else if roll < 0.08 {
            "33"
        } else if roll < 0.6 {
            "11"
        } else {
            "12"
        };
        let (xs, ys, epsg) = if quality.is_empty() {
            (String::new(), String::new(), String::new())
        } else {
            (format!("{x:.1}"), format!("{y:.1}"), crs.epsg().to_string())
        };
        let wgs84 = !quality.is_empty() && rng.next_f64() < 0.5;
        let (lat, lon) = if wgs84 {
            (format!("{:.6}", point.y()), format!("{:.6}", point.x()))
        } else {
            Default::default()
        };
        let precision = format!("{:.2}", rng.next_f64() * 80.0);
        writeln!(w, "{siret};{xs};{ys};{quality};{epsg};;;;;{};{precision};;;;;{lat};{lon}", unit.code())?;
        if let Some(t) = t.as_mut() {
            writeln!(t, "{:.9},{:.9},{}", point.x(), point.y(), unit.code())?;
        }
    }
    w.flush()?;
    if let Some(t) = t.as_mut() {
        t.flush()?;
    }
    eprintln!("{rows} rows written to {out} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
