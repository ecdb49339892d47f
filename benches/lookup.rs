//! Point lookups against the full Atlas (geodata/ + the ANCT 2023 list from ../shared/data), on the
//! bench points every contender shares: single thread, all cores (rayon), and the CSV batch path.
//!
//! ```sh
//! cargo bench --bench lookup                 # criterion groups + the per-point distribution
//! TERRITOIRES_BENCH_POINTS=100000 cargo bench --bench lookup   # a quicker run on fewer points
//! ```
//!
//! Before the criterion groups, one pass times every point on its own (timer overhead subtracted) and
//! prints the median and tail per-point times, since the target is a median; it also counts R-tree
//! candidates and the vertices tested per point, to show where lookup time goes. That pass writes
//! `target/bench/results/lookup_points.json` for `benches/run.sh`. Without ../shared/data the bench
//! prints SKIPPED and measures nothing.

#[path = "support/points.rs"]
#[allow(dead_code)]
mod points;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use geo::{BoundingRect, CoordsIter, Point};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use territoires::atlas::{Atlas, AtlasSources, EditionSource};
use territoires::batch::{BatchOptions, annotate_csv};
use territoires::model::UnitKind;

const PHASE2_GEOJSON: &str = "anct-ti-phase2-2024-07/ti_geom.geojson";
/// Points for the slower full `Atlas::lookup` (nearest territory for every outside point).
const FULL_LOOKUP_POINTS: usize = 100_000;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let list = root.join("../shared/data").join(PHASE2_GEOJSON);
    if !list.exists() {
        println!("SKIPPED: {} is absent; the lookup bench needs the ANCT 2023 list", list.display());
        return;
    }
    let started = Instant::now();
    let edition = EditionSource::parse(&format!("2023={}", list.display())).expect("edition source");
    let sources = AtlasSources::from_geodata_dir(&root.join("geodata"), vec![edition]).expect("geodata");
    let atlas = Atlas::build(&sources).unwrap_or_else(|e| panic!("atlas builds: {e}"));
    let n = points::count_from_env();
    let pts: Vec<Point<f64>> =
        points::points(n, points::SEED).into_iter().map(|[x, y]| Point::new(x, y)).collect();
    println!("atlas (geodata + edition 2023) built in {:.2} s; {n} points", started.elapsed().as_secs_f64());

    let mut c = Criterion::default().configure_from_args();
    // Criterion's own `--list` and `--test` runs (cargo test --benches) skip the timing pass.
    if !std::env::args().any(|a| a == "--list" || a == "--test") {
        per_point_pass(&atlas, &pts, &root.join("target/bench/results/lookup_points.json"));
    }
    bench_single(&mut c, &atlas, &pts);
    bench_parallel(&mut c, &atlas, &pts);
    bench_csv(&mut c, &atlas, &pts);
    c.final_summary();
}

fn bench_single(c: &mut Criterion, atlas: &Atlas, pts: &[Point<f64>]) {
    let mut g = c.benchmark_group("lookup_1thread");
    g.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(pts.len() as u64));
    g.bench_function(BenchmarkId::new("territories_containing", pts.len()), |b| {
        b.iter(|| {
            let mut inside = 0usize;
            for &p in pts {
                inside += usize::from(!atlas.territories_containing(black_box(p)).is_empty());
            }
            inside
        });
    });
    let few = &pts[..pts.len().min(FULL_LOOKUP_POINTS)];
    g.throughput(Throughput::Elements(few.len() as u64));
    g.bench_function(BenchmarkId::new("lookup", few.len()), |b| {
        b.iter(|| {
            for p in few {
                black_box(atlas.lookup(black_box(p.x()), p.y()).expect("valid point"));
            }
        });
    });
    g.finish();
}

fn bench_parallel(c: &mut Criterion, atlas: &Atlas, pts: &[Point<f64>]) {
    let mut g = c.benchmark_group(format!("lookup_rayon_{}threads", rayon::current_num_threads()));
    g.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(pts.len() as u64));
    g.bench_function(BenchmarkId::new("territories_containing", pts.len()), |b| {
        b.iter(|| {
            pts.par_iter().filter(|&&p| !atlas.territories_containing(black_box(p)).is_empty()).count()
        });
    });
    let few = &pts[..pts.len().min(FULL_LOOKUP_POINTS)];
    g.throughput(Throughput::Elements(few.len() as u64));
    g.bench_function(BenchmarkId::new("lookup", few.len()), |b| {
        b.iter(|| {
            few.par_iter()
                .map(|p| atlas.lookup(p.x(), p.y()).expect("valid point").territories.len())
                .sum::<usize>()
        });
    });
    g.finish();
}

/// The CLI and `POST /api/lookup` CSV path: parse, look up (rayon, by chunks), write; to a sink.
fn bench_csv(c: &mut Criterion, atlas: &Atlas, pts: &[Point<f64>]) {
    let mut csv = String::from("id,lon,lat\n");
    for (i, p) in pts.iter().enumerate() {
        csv.push_str(&format!("{i},{:.6},{:.6}\n", p.x(), p.y()));
    }
    let mut g = c.benchmark_group("batch_csv");
    g.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(pts.len() as u64));
    g.bench_function(BenchmarkId::new("annotate_csv", pts.len()), |b| {
        b.iter(|| {
            annotate_csv(atlas, csv.as_bytes(), std::io::sink(), "bench", &BatchOptions::default())
                .expect("batch runs")
                .rows
        });
    });
    g.finish();
}

/// Times each point on its own, for the median the target speaks of, and counts the work per point.
fn per_point_pass(atlas: &Atlas, pts: &[Point<f64>], out: &std::path::Path) {
    // Timer overhead: the median of back-to-back `Instant::now()` pairs.
    let mut empty: Vec<u64> = (0..200_000)
        .map(|_| {
            let t = Instant::now();
            nanos(black_box(t).elapsed())
        })
        .collect();
    let overhead = median(&mut empty);

    // Separate passes, so no call finds the polygons the previous call for the same point warmed up.
    let mut inside = Vec::with_capacity(pts.len());
    let mut containing = Vec::with_capacity(pts.len());
    for &p in pts {
        let t = Instant::now();
        let hits = atlas.territories_containing(black_box(p));
        containing.push(nanos(t.elapsed()).saturating_sub(overhead));
        inside.push(!hits.is_empty());
    }
    let mut units_only = Vec::with_capacity(pts.len());
    for &p in pts {
        let t = Instant::now();
        black_box(atlas.units_containing(black_box(p)));
        units_only.push(nanos(t.elapsed()).saturating_sub(overhead));
    }
    let split = |v: &[u64], want: bool| -> Vec<u64> {
        v.iter().zip(&inside).filter(|&(_, &i)| i == want).map(|(&ns, _)| ns).collect()
    };
    let (mut containing_in, mut containing_out) = (split(&containing, true), split(&containing, false));
    let (mut units_in, mut units_out) = (split(&units_only, true), split(&units_only, false));
    let few = &pts[..pts.len().min(FULL_LOOKUP_POINTS)];
    let mut full = Vec::with_capacity(few.len());
    for p in few {
        let t = Instant::now();
        black_box(atlas.lookup(black_box(p.x()), p.y()).expect("valid point"));
        full.push(nanos(t.elapsed()).saturating_sub(overhead));
    }

    let work = work_per_point(atlas, pts);
    let stats = |v: &mut Vec<u64>| {
        v.sort_unstable();
        let q = |f: f64| v.get(((v.len() as f64 - 1.0) * f) as usize).copied().unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let mean = v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
        serde_json::json!({"n": v.len(), "p50_ns": q(0.5), "p90_ns": q(0.9), "p99_ns": q(0.99), "mean_ns": mean.round()})
    };
    let report = serde_json::json!({
        "points": pts.len(),
        "timer_overhead_ns": overhead,
        "territories_containing": stats(&mut containing),
        "territories_containing_inside": stats(&mut containing_in),
        "territories_containing_outside": stats(&mut containing_out),
        "units_containing": stats(&mut units_only),
        "units_containing_inside": stats(&mut units_in),
        "units_containing_outside": stats(&mut units_out),
        "lookup_full": stats(&mut full),
        "work": work,
    });
    println!("per-point times (ns, timer overhead {overhead} ns subtracted):");
    for key in [
        "territories_containing",
        "territories_containing_inside",
        "territories_containing_outside",
        "units_containing",
        "units_containing_inside",
        "lookup_full",
    ] {
        println!("  {key:32} {}", report[key]);
    }
    println!("  work per point: {work}");
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(out, serde_json::to_string_pretty(&report).unwrap_or_default()) {
        eprintln!("cannot write {}: {e}", out.display());
    }
}

/// R-tree candidates (commune polygon pieces whose box holds the point) and the ring vertices a plain
/// point-in-polygon test walks for them, per point: the work `PolygonIndex::covering` does.
fn work_per_point(atlas: &Atlas, pts: &[Point<f64>]) -> serde_json::Value {
    let mut pieces = Vec::new();
    for u in atlas.units_of_kind(UnitKind::Commune) {
        for poly in &atlas.unit(*u).geometry.0 {
            if let Some(r) = poly.bounding_rect() {
                let vertices = poly.coords_count();
                pieces.push(GeomWithData::new(
                    Rectangle::from_corners(r.min().into(), r.max().into()),
                    vertices,
                ));
            }
        }
    }
    let pieces_total = pieces.len();
    let vertices_total: usize = pieces.iter().map(|p| p.data).sum();
    let tree = RTree::bulk_load(pieces);
    let mut candidates: Vec<u64> = Vec::with_capacity(pts.len());
    let mut vertices: Vec<u64> = Vec::with_capacity(pts.len());
    for p in pts {
        let (mut c, mut v) = (0u64, 0u64);
        for piece in tree.locate_all_at_point(&[p.x(), p.y()]) {
            c += 1;
            v += piece.data as u64;
        }
        candidates.push(c);
        vertices.push(v);
    }
    #[allow(clippy::cast_precision_loss)]
    let mean = |v: &[u64]| (v.iter().sum::<u64>() as f64 / v.len().max(1) as f64 * 10.0).round() / 10.0;
    let (mc, mv) = (mean(&candidates), mean(&vertices));
    serde_json::json!({
        "commune_pieces": pieces_total,
        "commune_vertices": vertices_total,
        "candidates_mean": mc,
        "candidates_p50": median(&mut candidates),
        "vertices_tested_mean": mv,
        "vertices_tested_p50": median(&mut vertices),
    })
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn median(v: &mut [u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let mid = v.len() / 2;
    *v.select_nth_unstable(mid).1
}
