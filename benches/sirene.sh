#!/usr/bin/env bash
# The planner-inputs benchmark: a SIRENE-shaped geolocation file (INSEE's columns, `;`, Lambert-93 and
# DROM x/y with the CRS in each row's `epsg`, 3% of rows without coordinates, 5% at the commune centre)
# answered by the CLI as CSV and as Parquet, whole process, with peak memory; beside it, in the same run,
# DuckDB reading the same CSV and writing it back (2 threads): the cost of merely passing the file through
# a fast columnar engine, as a reference. Memory is flat when the 5M-row run peaks no higher than the
# 1M-row one (both read several 4 MiB blocks; a smaller file would not fill two). Every row is checked: the territory found from x/y equals the one found from the row's
# true WGS84 point (kept by the generator), and N rows come out in order.
#
# Usage: benches/sirene.sh [ROWS]     (default 5000000; writes target/bench/results/sirene.json)
# Needs: a release build (built here), python3 with duckdb and pyarrow (tests/reference/requirements.txt).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROWS=${1:-5000000}
SMALL=1000000
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET/bench/sirene
RES=$TARGET/bench/results
mkdir -p "$OUT" "$RES"
BIN=$TARGET/release/territoires

cargo build --release --locked --quiet --bin territoires --example sirene_bench_data
for n in "$SMALL" "$ROWS"; do
  [ -s "$OUT/sirene-$n.csv" ] || "$TARGET/release/examples/sirene_bench_data" "$n" "$OUT/sirene-$n.csv" "$OUT/truth-$n.csv"
  [ -s "$OUT/sirene-$n.parquet" ] || python3 - "$OUT/sirene-$n.csv" "$OUT/sirene-$n.parquet" <<'PY'
import sys, pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
# Codes stay text (leading zeros), coordinates are doubles, as in INSEE's Parquet edition.
text = ["siret", "plg_code_commune", "qualite_xy", "plg_qp24", "plg_iris", "plg_zus", "plg_qva",
        "qualite_qp24", "qualite_iris", "qualite_zus", "qualite_qva"]
table = pc.read_csv(sys.argv[1], parse_options=pc.ParseOptions(delimiter=";"),
                    convert_options=pc.ConvertOptions(column_types={c: pa.string() for c in text}))
pq.write_table(table, sys.argv[2], row_group_size=131072)
PY
done

# One timed run: wall seconds and peak resident kB.
timed() { /usr/bin/time -f '%e %M' -o "$OUT/time" "$@" >/dev/null; cat "$OUT/time"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A WALL RSS
for n in "$SMALL" "$ROWS"; do
  for fmt in csv parquet; do
    read -r w r < <(timed "$BIN" lookup --input "$OUT/sirene-$n.$fmt" --output "$OUT/answer-$n.$fmt")
    WALL[$fmt-$n]=$w; RSS[$fmt-$n]=$r
  done
done
startup=$(timed "$BIN" lookup --lon 3.33 --lat 49.38)
read -r duck_wall duck_rss < <(timed python3 - "$OUT/sirene-$ROWS.csv" "$OUT/duck.csv" <<'PY'
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}', delim=';', header=true, all_varchar=true)) "
            f"TO '{sys.argv[2]}' (DELIMITER ';', HEADER)")
PY
)

# Row by row: N rows, in order, and the 2023 territory from x/y equals the one from the true point.
python3 - "$OUT" "$ROWS" "$BIN" <<'PY'
import csv, subprocess, sys, pyarrow.parquet as pq
out, rows, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
subprocess.run([binary, "lookup", "--input", f"{out}/truth-{rows}.csv", "--output", f"{out}/truth-answer.csv"],
               check=True, stdout=subprocess.DEVNULL)
with open(f"{out}/answer-{rows}.csv", encoding="utf-8-sig", newline="") as a, \
     open(f"{out}/sirene-{rows}.csv", encoding="utf-8", newline="") as s, \
     open(f"{out}/truth-answer.csv", encoding="utf-8-sig", newline="") as t:
    answers, sites, truths = csv.DictReader(a, delimiter=";"), csv.DictReader(s, delimiter=";"), csv.DictReader(t)
    n = differ = by_point = 0
    for answer, site, truth in zip(answers, sites, truths, strict=True):
        n += 1
        assert answer["siret"] == site["siret"], f"row {n} out of order"
        if answer["located_by"].startswith("point"):
            by_point += 1
            if answer["territory_2023"] != truth["territory_2023"]:
                # x/y are written to 0.1 m: only a point on a border may fall on its other side.
                assert float(truth["border_m_2023"]) <= 1, f"row {n}: {answer} vs {truth}"
                differ += 1
    assert n == rows, f"{n} rows out of {rows}"
parquet_rows = pq.ParquetFile(f"{out}/answer-{rows}.parquet").metadata.num_rows
assert parquet_rows == rows, f"parquet: {parquet_rows} rows out of {rows}"
print(f"checked: {n} rows in order, {by_point} answered by point, {differ} within 1 m of a border"
      " on the other side of it than their true point")
PY

rate() { echo "scale=0; $1 / $2" | bc; }
cat > "$RES/sirene.json" <<JSON
{"rows": $ROWS, "small": $SMALL, "load_before": "$load_before", "load_after": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "date": "$(date -u +%Y-%m-%dT%H:%MZ)", "revision": "$(git rev-parse --short HEAD)",
 "csv": {"wall_s": ${WALL[csv-$ROWS]}, "rows_per_s": $(rate "$ROWS" "${WALL[csv-$ROWS]}"), "peak_kb": ${RSS[csv-$ROWS]},
         "small_wall_s": ${WALL[csv-$SMALL]}, "small_peak_kb": ${RSS[csv-$SMALL]}},
 "parquet": {"wall_s": ${WALL[parquet-$ROWS]}, "rows_per_s": $(rate "$ROWS" "${WALL[parquet-$ROWS]}"), "peak_kb": ${RSS[parquet-$ROWS]},
             "small_wall_s": ${WALL[parquet-$SMALL]}, "small_peak_kb": ${RSS[parquet-$SMALL]}},
 "one_lookup": {"wall_s": ${startup% *}, "peak_kb": ${startup#* }},
 "duckdb_csv_passthrough": {"wall_s": $duck_wall, "peak_kb": $duck_rss},
 "csv_file_bytes": $(stat -c %s "$OUT/sirene-$ROWS.csv"), "parquet_file_bytes": $(stat -c %s "$OUT/sirene-$ROWS.parquet")}
JSON
cat "$RES/sirene.json"
