#!/usr/bin/env python3
"""Prints the markdown table of a benches/run.sh run from its JSON results (standard library only).

Usage: report.py RESULTS_DIR CRITERION_DIR
"""
import glob
import json
import os
import statistics
import sys

RES, CRIT = sys.argv[1], sys.argv[2]


def load(name, default=None):
    path = os.path.join(RES, name)
    if not os.path.exists(path):
        return default
    with open(path) as f:
        text = f.read().strip()
    return json.loads(text) if text else default


def criterion_ns(group_glob, bench, n):
    """Median time per iteration / n, in ns per point, from criterion's estimates (newest match)."""
    paths = glob.glob(os.path.join(CRIT, group_glob, bench, str(n), "new", "estimates.json"))
    if not paths:
        return None, None
    path = max(paths, key=os.path.getmtime)
    with open(path) as f:
        est = json.load(f)
    group = os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(path)))))
    return est["median"]["point_estimate"] / n, group


def fmt(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"


machine = load("machine.json", {})
data = load("data.json", {})
n = data.get("points") or machine.get("points") or 1_000_000
full_n = min(n, 100_000)
took = open(os.path.join(RES, "took.txt")).read().strip() if os.path.exists(os.path.join(RES, "took.txt")) else ""
out = []
p = out.append

p(f"Run of {machine.get('date', '?')} on {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
  f"{machine.get('mem_gib', '?')} GiB, {machine.get('os', '?')}; {machine.get('rustc', '?')}; revision "
  f"{machine.get('revision', '?')}. Load average before: {machine.get('load_before', '?')}; {took}."
  + (" QUICK RUN (fewer points, short runs): not for the record." if machine.get("quick") else ""))
p("")
p(f"Points: {n:,} (seed {data.get('seed', '?')}), {data.get('inside', 0):,} inside a 2023 territory "
  f"({data.get('inside_share', 0) * 100:.1f}%); {data.get('members', '?')} member polygons of edition 2023.")
p("")

# ------------------------------------------------------------------------------------------ lookups
single, _ = criterion_ns("lookup_1thread", "territories_containing", n)
full, _ = criterion_ns("lookup_1thread", "lookup", full_n)
par, par_group = criterion_ns("lookup_rayon_*", "territories_containing", n)
par_full, _ = criterion_ns("lookup_rayon_*", "lookup", full_n)
csv_ns, _ = criterion_ns("batch_csv", "annotate_csv", n)
pts = load("lookup_points.json", {})
sh = load("shapely.json", {})
pg = load("postgis.json", {})
threads = (par_group or "").replace("lookup_rayon_", "").replace("threads", "") or "?"

p("### 1-3. Point lookups: which 2023 territory contains each point")
p("")
p("| contender | what is timed | ns/point | points/s | ours ÷ it |")
p("|---|---|---:|---:|---:|")
rows = []
if single:
    rows.append(("**ours**, 1 thread", "`Atlas::territories_containing`, criterion median over the 1M points", single, None))
if pts:
    tc = pts["territories_containing"]
    p50 = tc["p50_ns"]
    rows.append(("**ours**, 1 thread, per point", f"median of {tc['n']:,} single-point timings "
                 f"(p90 {tc['p90_ns']} ns, p99 {tc['p99_ns']} ns; timer overhead {pts['timer_overhead_ns']} ns subtracted)", p50, None))
if full:
    rows.append(("**ours**, 1 thread, full answer", f"`Atlas::lookup` (+ nearest territory, names), first {full_n:,} points", full, None))
if par:
    rows.append((f"**ours**, rayon {threads} threads", "`territories_containing` over the 1M points", par, None))
if par_full:
    rows.append((f"**ours**, rayon {threads} threads, full answer", f"`Atlas::lookup`, first {full_n:,} points", par_full, None))
if sh:
    runs = sh["query_runs_s"]
    rows.append((f"shapely {sh['shapely']} / GEOS {sh['geos']}, 1 thread",
                 f"`STRtree.query(points, predicate=\"within\")`, prepared members, best of {len(runs)} "
                 f"(median {statistics.median(runs):.3f} s)", sh["ns_per_point"], single))
    rows.append(("shapely, incl. making points + tree", "same + `shapely.points` + `prepare` + `STRtree`",
                 sh["ns_per_point_with_points_and_tree"], single))
    cr = sh["contains_runs_s"]
    rows.append(("shapely / GEOS, 1 thread, prepared members",
                 f"`STRtree(points).query(members, predicate=\"contains\")` (tree of points built in the timing), "
                 f"best of {len(cr)} (median {statistics.median(cr):.3f} s); same pairs as `within`: {sh['forms_agree']}",
                 sh["contains_ns_per_point"], single))
if pg:
    v = pg["versions"]
    k = 1e9 / n
    rows.append((f"PostGIS ({v}), 1 core", "`ST_Contains` join, GiST on both, `max_parallel_workers_per_gather=0`",
                 pg["join_1core_s"] * k, single))
    rows.append(("PostGIS, 1 core, incl. load", f"same + load (COPY, geometry, GiST, ANALYZE: {pg['load_s']:.2f} s)",
                 (pg["join_1core_s"] + pg["load_s"]) * k, single))
    rows.append(("PostGIS, parallel (default 2 workers)", "`ST_Contains` join, PostgreSQL's default plan",
                 pg["join_parallel_s"] * k, par))
    rows.append(("PostGIS, parallel, incl. load", "same + load", (pg["join_parallel_s"] + pg["load_s"]) * k, par))
    rows.append((f"PostGIS, `ST_Subdivide(geom, 255)` ({pg['subdivided_pieces']} pieces), 1 core",
                 f"join on subdivided members (subdividing + index: {pg['subdivide_s']:.2f} s)",
                 pg["join_subdivided_1core_s"] * k, single))
    rows.append(("PostGIS, subdivided, parallel", "same, default parallel plan", pg["join_subdivided_parallel_s"] * k, par))
for name, what, ns, ours in rows:
    per_second = "–" if "per point" in name or not ns else fmt(1e9 / ns)  # a median latency is no rate
    p(f"| {name} | {what} | {fmt(ns)} | {per_second} | {ratio(ours, ns) if ours else ''} |")
p("")
p("Ratios compare like with like: our single-thread `territories_containing` against the single-thread "
  "references, our rayon figure against PostGIS's parallel plans; below 1 means we are faster.")
p("")
agree = [("shapely", load("agree_shapely.json")), ("PostGIS", load("agree_postgis.json")),
         ("PostGIS subdivided", load("agree_postgis_sub.json"))]
p("Answers compared point by point with ours (`ST_Contains`/`within` exclude boundaries, ours include them):")
p("")
p("| contender | inside (ours) | inside (it) | same territory | only ours | only it | other territory |")
p("|---|---:|---:|---:|---:|---:|---:|")
for name, a in agree:
    if a:
        p(f"| {name} | {a['inside_ours']:,} | {a['inside_other']:,} | {a['agree']:,} | {a['only_ours']} | "
          f"{a['only_other']} | {a['different_territory']} |")
p("")
if pts:
    w = pts.get("work", {})
    p("Where a lookup's time goes (single-point timings, ns):")
    p("")
    p("| step | p50 | p90 | p99 | mean |")
    p("|---|---:|---:|---:|---:|")
    for key, label in [("territories_containing", "`territories_containing`, all points"),
                       ("territories_containing_inside", "… points inside a territory"),
                       ("territories_containing_outside", "… points outside"),
                       ("units_containing", "`units_containing` (the point index alone)"),
                       ("units_containing_inside", "… points inside a territory"),
                       ("units_containing_outside", "… points outside"),
                       ("lookup_full", "`lookup` (full answer)")]:
        s = pts.get(key)
        if not s:
            continue
        p(f"| {label} ({s['n']:,}) | {s['p50_ns']:,} | {s['p90_ns']:,} | {s['p99_ns']:,} | {s['mean_ns']:,.0f} |")
    p("")
    if w:
        p(f"Per point, a plain R-tree of the {w['commune_pieces']:,} commune polygon boxes gives "
          f"{w['candidates_mean']} candidates on average (median {w['candidates_p50']}), whose rings hold "
          f"{w['vertices_tested_mean']:,.0f} vertices on average (median {w['vertices_tested_p50']:,}) for a plain "
          f"point-in-polygon test to walk ({w['commune_vertices']:,} vertices in all).")
        p("")

# ------------------------------------------------------------------------------------------ HTTP
static_path = "/"
if os.path.exists(os.path.join(RES, "http_static_path.txt")):
    static_path = open(os.path.join(RES, "http_static_path.txt")).read().strip()
p("### 4. HTTP: `GET /api/lookup` against `/healthz` and a static file (wrk on loopback, same 2 cores)")
p("")
p("Server: `territoires serve` (release) with geodata/ and editions 2023 + 2019, default settings (no line "
  "per request: those are `--access-log`'s), log to a file. wrk: 1 thread for 1 connection, 2 otherwise; lookups cycle through the "
  "first 100,000 bench points. Each route ran twice per connection count, interleaved with the others; "
  "the better run is shown.")
p("")
p("| connections | route | req/s | p50 ms | p90 ms | p99 ms | lookup ÷ it |")
p("|---:|---|---:|---:|---:|---:|---:|")
for c in (1, 16, 64):
    lk = load(f"wrk_lookup_c{c}.json")
    for route, name in (("lookup", "`GET /api/lookup?lon=&lat=`"), ("healthz", "`GET /healthz`"), ("static", f"`GET {static_path}` (static, from memory)")):
        r = load(f"wrk_{route}_c{c}.json")
        if not r:
            continue
        errs = f" ({r['errors']} socket errors, {r['non_2xx']} non-2xx)" if r["errors"] or r["non_2xx"] else ""
        rel = "" if route == "lookup" or not lk else f"{lk['rps'] / r['rps']:.2f}"
        p(f"| {c} | {name}{errs} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {rel} |")
p("")

# ------------------------------------------------------------------------------------------ batch
api, cli = load("batch_api.json"), load("batch_cli.json")
p("### 5. Batch: CSV of sites → territories of 2023 and 2019")
p("")
p("| path | sites | seconds | sites/s | memory |")
p("|---|---:|---:|---:|---|")
if csv_ns:
    p(f"| in-process `batch::annotate_csv` (criterion, edition 2023 only, to a sink) | {n:,} | {csv_ns * n / 1e9:.2f} | "
      f"{1e9 / csv_ns:,.0f} | – |")
if api:
    p(f"| `POST /api/lookup` (text/csv, {api['bytes_in'] / 1e6:.0f} MB in, {api['bytes_out'] / 1e6:.0f} MB out, "
      f"status {api['status']}) | {api['sites']:,} | {api['seconds']:.2f} | {api['sites'] / api['seconds']:,.0f} | "
      f"server RSS {api['rss_before_kb'] / 1024:.0f} MB before, peak {api['hwm_after_kb'] / 1024:.0f} MB, "
      f"{api['rss_after_kb'] / 1024:.0f} MB after |")
if cli:
    rate = (cli["rows"] - cli["small_rows"]) / (cli["seconds"] - cli["small_s"]) if cli["seconds"] > cli["small_s"] else None
    p(f"| CLI `lookup --csv` (whole process, start-up included) | {cli['rows']:,} | {cli['seconds']:.2f} | "
      f"{cli['rows'] / cli['seconds']:,.0f} | peak RSS {cli['max_rss_kb'] / 1024:.0f} MB |")
    p(f"| CLI `lookup --csv`, {cli['small_rows']:,} rows | {cli['small_rows']:,} | {cli['small_s']:.2f} | – | "
      f"peak RSS {cli['small_max_rss_kb'] / 1024:.0f} MB |")
    p(f"| CLI lookup work alone (difference of the two runs) | {cli['rows'] - cli['small_rows']:,} | "
      f"{cli['seconds'] - cli['small_s']:.2f} | {fmt(rate)} | peak RSS {(cli['max_rss_kb'] - cli['small_max_rss_kb']) / 1024:+.0f} MB |")
p("")

# ------------------------------------------------------------------------------------------ start-up
st = load("startup.json", [])
if st:
    ready = statistics.median(r["ready_ms"] for r in st)
    rss = statistics.median(r["rss_kb"] for r in st) / 1024
    hwm = statistics.median(r["hwm_kb"] for r in st) / 1024
    p("### 6. Start-up from files: `territoires serve` building from geodata/ and the lists of 2023 and 2019")
    p("")
    p(f"Process start to first `/healthz` answer: median {ready:,.0f} ms over {len(st)} runs "
      f"({', '.join(str(r['ready_ms']) for r in st)} ms); resident memory when ready {rss:.0f} MB "
      f"(peak during the build {hwm:.0f} MB).")
    steps = [r for r in st if "index_ms" in r]
    if steps:
        med = lambda k: statistics.median(r[k] for r in steps)
        p("")
        p(f"Build steps as the server logs them (median): reading unit files {med('units_ms'):,.0f} ms, "
          f"territory lists {med('editions_ms'):,.0f} ms, outlines + indexes {med('index_ms'):,.0f} ms; "
          f"the rest of the start-up (the layers, process, runtime, first answer) {ready - med('units_ms') - med('editions_ms') - med('index_ms'):,.0f} ms.")
    p("")

lay = load("layers.json", [])
if lay:
    p("### 7. Layers and tiles (first request cold, second warm; `Accept-Encoding: br, gzip`, and identity)")
    p("")
    p("| URL | bytes (br) | TTFB cold ms | TTFB warm ms | bytes (identity) | TTFB identity ms |")
    p("|---|---:|---:|---:|---:|---:|")
    for r in lay:
        p(f"| `{r['url']}` | {r['bytes_br']:,} | {r['cold_ms']:.1f} | {r['warm_ms']:.1f} | {r['bytes_raw']:,} | {r['raw_ms']:.1f} |")
    p("")

# ------------------------------------------------------------------------------------------ targets
p("### Targets of issue 5")
p("")
p("| target | measured | verdict |")
p("|---|---|---|")


def verdict(ok, miss):
    return "met" if ok else f"**missed**: {miss}"


if pts:
    m = pts["territories_containing"]["p50_ns"]
    p(f"| single-thread lookup median ≤ 200 ns | {m} ns | {verdict(m <= 200, f'{m / 200:.1f}× the target')} |")
if single and sh:
    r = single / min(sh["ns_per_point"], sh["contains_ns_per_point"])
    p(f"| faster than shapely/GEOS prepared (ratio < 1, against shapely's faster form) | {r:.2f} | "
      f"{verdict(r < 1, f'{r:.2f}× GEOS time')} |")
if api:
    rate = api["sites"] / api["seconds"]
    p(f"| API batch ≥ 1M sites/s | {rate:,.0f}/s | {verdict(rate >= 1e6, f'{1e6 / rate:.1f}× too slow')} |")
if cli and cli["seconds"] > cli["small_s"]:
    rate = (cli["rows"] - cli["small_rows"]) / (cli["seconds"] - cli["small_s"])
    flat = cli["max_rss_kb"] - cli["small_max_rss_kb"]
    p(f"| CLI batch ≥ 1M sites/s of lookup work | {rate:,.0f}/s | {verdict(rate >= 1e6, f'{1e6 / rate:.1f}× too slow')} |")
    p(f"| CLI memory flat | {flat / 1024:+.0f} MB from {cli['small_rows']:,} to {cli['rows']:,} rows | "
      f"{verdict(flat < 50 * 1024, 'grows with the input')} |")
if api:
    grow = (api["hwm_after_kb"] - api["rss_before_kb"]) / 1024
    p(f"| API batch memory flat | peak {grow:+.0f} MB over the idle server for a {api['bytes_in'] / 1e6:.0f} MB body | "
      f"{verdict(grow < 50, '%.0f MB over 50 MB' % (grow - 50))} |")
lk, hz, stc = load("wrk_lookup_c64.json"), load("wrk_healthz_c64.json"), load("wrk_static_c64.json")
if lk and hz:
    r = lk["rps"] / hz["rps"]
    p(f"| HTTP lookup at 64 connections ≥ 70% of /healthz | {r * 100:.1f}% | {verdict(r >= 0.7, f'{(0.7 - r) * 100:.1f} points short')} |")
if lk and stc:
    r = lk["rps"] / stc["rps"]
    p(f"| … and of the static file, the real ceiling | {r * 100:.1f}% | {verdict(r >= 0.7, f'{(0.7 - r) * 100:.1f} points short')} |")
    p99 = lk["p99_ms"]
    p(f"| HTTP lookup p99 < 10 ms at 64 connections | {p99:.2f} ms | {verdict(p99 < 10, f'{p99 / 10:.1f}× the target')} |")
if st:
    p(f"| start-up < 1.5 s | {ready / 1000:.2f} s | {verdict(ready < 1500, f'{ready / 1500:.1f}× the target')} |")
    p(f"| resident memory < 300 MB | {rss:.0f} MB | {verdict(rss < 300, f'{rss - 300:.0f} MB over')} |")

# ------------------------------------------------------------------------------------------ issue 17
s17, sir = load("startup_snapshot.json"), load("sirene.json")
p("")
p("### Targets of issue 17 (one self-contained binary)")
p("")
p("| target | measured | verdict |")
p("|---|---|---|")
if s17:
    runs = s17["runs"]
    p(f"| one-shot `lookup --lon --lat` from an empty folder, median < 150 ms (both editions) | "
      f"{s17['lookup_ms']} ms over {runs} runs (from files: {s17['files_lookup_ms']} ms) | "
      f"{verdict(s17['lookup_ms'] < 150, '%.1f× the target' % (s17['lookup_ms'] / 150))} |")
    p(f"| `serve` start → healthy `/healthz` < 300 ms | {s17['ready_ms']} ms (from files: {s17['files_ready_ms']} ms) | "
      f"{verdict(s17['ready_ms'] < 300, '%.1f× the target' % (s17['ready_ms'] / 300))} |")
    p(f"| resident memory when ready < 150 MB | {s17['ready_rss_mb']} MB (from files: {s17['files_ready_rss_mb']} MB) | "
      f"{verdict(s17['ready_rss_mb'] < 150, '%d MB over' % (s17['ready_rss_mb'] - 150))} |")
    p(f"| reload of the default data < 300 ms | {s17['reload_ms']} ms (from files: {s17['files_reload_ms']} ms) | "
      f"{verdict(s17['reload_ms'] < 300, '%.1f× the target' % (s17['reload_ms'] / 300))} |")
if csv_ns and sh:
    r = csv_ns / min(sh["ns_per_point"], sh["contains_ns_per_point"])
    p(f"| CSV batch (read, answer with border distances, write; all cores) < 0.25× shapely/GEOS prepared "
      f"(1 thread, its faster form, containment only) | {r:.2f} ({csv_ns:.0f} ns/site, {n:,} sites) | "
      f"{verdict(r < 0.25, '%.1f× the target' % (r / 0.25))} |")
if pts:
    m = pts["territories_containing"]["p50_ns"]
    p(f"| single-thread lookup median ≤ 100 ns | {m} ns | {verdict(m <= 100, '%.1f× the target' % (m / 100))} |")
if lk and hz:
    r = lk["rps"] / hz["rps"]
    p(f"| HTTP single lookups at 64 connections ≥ 90% of `/healthz` | {r * 100:.1f}% | "
      f"{verdict(r >= 0.9, '%.1f points short' % ((0.9 - r) * 100))} |")
    p(f"| … p99 < 5 ms | {lk['p99_ms']:.2f} ms | {verdict(lk['p99_ms'] < 5, '%.1f× the target' % (lk['p99_ms'] / 5))} |")
if sir:
    duck = sir["duckdb_csv_passthrough"]["wall_s"]
    for fmt in ("csv", "parquet"):
        f = sir[fmt]
        p(f"| SIRENE-shaped file ({sir['rows']:,} rows, {fmt.upper()}) ≥ 1.5 M rows/s through the CLI | "
          f"{f['rows_per_s']:,} rows/s ({f['wall_s']} s; DuckDB's CSV pass-through {duck} s) | "
          f"{verdict(f['rows_per_s'] >= 1.5e6, '%.1f× too slow' % (1.5e6 / f['rows_per_s']))} |")
else:
    p("| SIRENE-shaped file ≥ 1.5 M rows/s through the CLI | not run (`--quick`; `benches/sirene.sh`) | – |")

print("\n".join(out))
