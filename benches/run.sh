#!/usr/bin/env bash
# Runs every benchmark of issues 5 and 17 on this machine, in one go, and prints the table of figures:
#   1. in-process lookups (criterion: single thread, rayon, CSV batch) + per-point distribution
#   2. the same points through shapely 2 / GEOS          (benches/shapely_lookup.py)
#   3. the same points through PostGIS                   (benches/postgis_lookup.sh)
#   4. HTTP GET /api/lookup vs /healthz and a static file under wrk at 1, 16 and 64 connections
#   5. 1M-site CSV batch through POST /api/lookup and through the CLI, with peak memory
#   6. start-up time and resident memory (geodata + editions 2023 and 2019)
#   7. layers and tiles: bytes and time to first byte, cold and warm
#   8. start-up of the binary alone (built-in snapshot) against the same binary building from files
#   9. a 5M-row SIRENE-shaped file through the CLI against DuckDB's pass-through (not with --quick)
#
# Usage: benches/run.sh [--quick] [--no-install]
#   --quick       100k points, short runs: checks the script, not for the record
#   --no-install  do not apt-get / pip install anything (fail if missing)
# Installs what it needs (Debian: postgresql postgis wrk time curl bc; PyPI: shapely 2 in a venv under
# target/bench/venv, and duckdb and pyarrow for step 9). Needs ../shared/data (the ANCT lists): without
# it, prints SKIPPED and exits 0.
# Results: target/bench/results/*.json and the table in target/bench/results/table.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
QUICK=0
INSTALL=1
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --no-install) INSTALL=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

SHARED=$ROOT/../shared/data
LIST_2023=$SHARED/anct-ti-phase2-2024-07/ti_geom.geojson
LIST_2019=$SHARED/anct-ti-phase1-2022/members.csv
if [ ! -f "$LIST_2023" ] || [ ! -f "$LIST_2019" ]; then
  echo "SKIPPED: $SHARED (the ANCT lists of 2023 and 2019) is absent; the benchmarks need it"
  exit 0
fi

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET/bench
RES=$OUT/results
mkdir -p "$RES"
BIN=$TARGET/release/territoires
PORT=${TERRITOIRES_BENCH_PORT:-18080}
BASE=http://127.0.0.1:$PORT
EDITIONS=(--territories "2023=$LIST_2023" --territories "2019=$LIST_2019")
if [ $QUICK = 1 ]; then
  POINTS=100000; WRK_SECONDS=2; STARTS=1; CRITERION_ARGS=(--measurement-time 3 --warm-up-time 1)
else
  POINTS=1000000; WRK_SECONDS=6; STARTS=3; CRITERION_ARGS=()
fi
export TERRITOIRES_BENCH_POINTS=$POINTS
STARTED=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - STARTED )) s)"; }

# ---------------------------------------------------------------------------------------------- install
install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v curl >/dev/null || missing+=(curl)
  command -v bc >/dev/null || missing+=(bc)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing+=(postgis)
  if [ ${#missing[@]} -gt 0 ]; then
    [ $INSTALL = 1 ] || { echo "missing: ${missing[*]} (run without --no-install)" >&2; exit 1; }
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$OUT/venv/bin/python" ]; then
    [ $INSTALL = 1 ] || { echo "missing: $OUT/venv (run without --no-install)" >&2; exit 1; }
    python3 -m venv "$OUT/venv"
  fi
  if ! "$OUT/venv/bin/python" -c 'import shapely, numpy; assert shapely.__version__.startswith("2.")' 2>/dev/null; then
    [ $INSTALL = 1 ] || { echo "missing: shapely 2 in $OUT/venv" >&2; exit 1; }
    "$OUT/venv/bin/pip" install -q 'shapely==2.*' numpy
  fi
  if [ $QUICK = 0 ] && ! "$OUT/venv/bin/python" -c 'import duckdb, pyarrow' 2>/dev/null; then
    [ $INSTALL = 1 ] || { echo "missing: duckdb and pyarrow in $OUT/venv" >&2; exit 1; }
    "$OUT/venv/bin/pip" install -q duckdb pyarrow
  fi
}

machine() {
  local model cores mem_gb rev
  model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  cores=$(nproc)
  mem_gb=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
  rev=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo "+uncommitted src")
  cat > "$RES/machine.json" <<JSON
{"date": "$(date -u +%Y-%m-%dT%H:%MZ)", "cpu": "$model", "cores": $cores, "mem_gib": $mem_gb,
 "os": "$(. /etc/os-release && echo "$PRETTY_NAME")", "rustc": "$(rustc --version)",
 "revision": "$rev", "load_before": "$(cut -d' ' -f1-3 /proc/loadavg)", "quick": $QUICK, "points": $POINTS}
JSON
}

# ---------------------------------------------------------------------------------------------- server
SERVER_PID=""
start_server() {
  "$BIN" serve --addr "127.0.0.1:$PORT" "${EDITIONS[@]}" >>"$RES/server.log" 2>&1 &
  SERVER_PID=$!
}
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT
wait_ready() {
  until curl -sf -o /dev/null "$BASE/healthz"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died; see $RES/server.log" >&2; exit 1; }
    sleep 0.005
  done
}
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }

startup() {
  : > "$RES/server.log"
  local runs=() t0 t1
  for i in $(seq "$STARTS"); do
    t0=$(date +%s%N)
    start_server
    wait_ready
    t1=$(date +%s%N)
    # Built from files, the server logs its steps: "(unit files N ms, lists N ms, outlines and indexes N ms)".
    steps=""
    if [[ $(grep -a 'loaded ' "$RES/server.log" | tail -1) =~ unit\ files\ ([0-9]+)\ ms,\ lists\ ([0-9]+)\ ms,\ outlines\ and\ indexes\ ([0-9]+)\ ms ]]; then
      steps="\"units_ms\": ${BASH_REMATCH[1]}, \"editions_ms\": ${BASH_REMATCH[2]}, \"index_ms\": ${BASH_REMATCH[3]}"
    fi
    runs+=("{\"ready_ms\": $(( (t1 - t0) / 1000000 )), \"rss_kb\": $(status_kb VmRSS), \"hwm_kb\": $(status_kb VmHWM)${steps:+, $steps}}")
    [ "$i" = "$STARTS" ] || stop_server
  done
  (IFS=,; echo "[${runs[*]}]") > "$RES/startup.json"
}

# Layers and tiles on the server just started: first request to each URL (cold), then again (warm).
layers() {
  local urls=(
    "/api/layers/territories.geojson?edition=2023"
    "/api/layers/territories.geojson?edition=2023&zoom=4"
    "/api/layers/territories.geojson?edition=2023&zoom=8"
    "/api/layers/units.geojson?kind=epci&zoom=6"
    "/tiles/territories-2023/5/16/11.mvt"
    "/tiles/territories-2023/8/129/88.mvt"
    "/tiles/epci/10/518/353.mvt"
  )
  local rows=() u cold warm plain
  for u in "${urls[@]}"; do
    cold=$(curl -s -o /dev/null -H 'Accept-Encoding: br, gzip' -w '%{size_download} %{time_starttransfer}' "$BASE$u")
    warm=$(curl -s -o /dev/null -H 'Accept-Encoding: br, gzip' -w '%{size_download} %{time_starttransfer}' "$BASE$u")
    plain=$(curl -s -o /dev/null -w '%{size_download} %{time_starttransfer}' "$BASE$u")
    rows+=("$(echo "$u $cold $warm $plain" | awk '{printf "{\"url\": \"%s\", \"bytes_br\": %d, \"cold_ms\": %.2f, \"warm_ms\": %.2f, \"bytes_raw\": %d, \"raw_ms\": %.2f}", $1, $2, $3 * 1000, $5 * 1000, $6, $7 * 1000}')")
  done
  (IFS=,; echo "[${rows[*]}]") > "$RES/layers.json"
}

# Each route at 1, 16 and 64 connections; routes interleaved, two rounds, the better round kept for each
# (the machine may be shared: a burst from elsewhere then spoils one round, not the figure).
http_load() {
  local c t round route path best
  head -n 100001 "$OUT/points.csv" > "$OUT/points_100k.csv"
  # The static ceiling: a tiny file of web/ served from memory, or the page itself.
  STATIC=/favicon.svg
  curl -sf -o /dev/null "$BASE$STATIC" || STATIC=/
  echo "$STATIC" > "$RES/http_static_path.txt"
  wrk -t1 -c16 -d2s -s benches/wrk_lookup.lua "$BASE" -- points "$OUT/points_100k.csv" >/dev/null # warm-up
  for c in 1 16 64; do
    t=$(( c < 2 ? 1 : 2 ))
    echo "  $c connection(s), $t wrk thread(s)"
    for round in 1 2; do
      for route in lookup healthz static; do
        case $route in
          lookup) args=(points "$OUT/points_100k.csv") ;;
          healthz) args=(path /healthz) ;;
          static) args=(path "$STATIC") ;;
        esac
        wrk -t$t -c$c -d${WRK_SECONDS}s -s benches/wrk_lookup.lua "$BASE" -- "${args[@]}" \
          | tail -1 > "$RES/wrk_${route}_c${c}_r$round.json"
      done
    done
    for route in lookup healthz static; do
      best=$(for round in 1 2; do
        path=$RES/wrk_${route}_c${c}_r$round.json
        echo "$(sed -E 's/.*"rps": ([0-9.]+).*/\1/' "$path") $path"
      done | sort -rn | head -1 | cut -d' ' -f2)
      cp "$best" "$RES/wrk_${route}_c$c.json"
    done
  done
}

batch_api() {
  local before after_hwm r
  before=$(status_kb VmRSS)
  r=$(curl -sS -o "$OUT/batch_api_out.csv" -w '%{http_code} %{time_total} %{size_download}' \
    -H 'Content-Type: text/csv' --data-binary @"$OUT/points.csv" "$BASE/api/lookup")
  after_hwm=$(status_kb VmHWM)
  echo "$r $before $after_hwm $(status_kb VmRSS) $POINTS $(stat -c %s "$OUT/points.csv")" | awk '{printf "{\"status\": %d, \"seconds\": %.3f, \"bytes_out\": %d, \"rss_before_kb\": %d, \"hwm_after_kb\": %d, \"rss_after_kb\": %d, \"sites\": %d, \"bytes_in\": %d}\n", $1, $2, $3, $4, $5, $6, $7, $8}' > "$RES/batch_api.json"
}

batch_cli() {
  head -n 10001 "$OUT/points.csv" > "$OUT/points_10k.csv"
  local small big
  /usr/bin/time -f '%e %M' -o "$RES/cli_small.time" "$BIN" lookup --csv "$OUT/points_10k.csv" "${EDITIONS[@]}" \
    > /dev/null 2>"$RES/cli_small.err"
  /usr/bin/time -f '%e %M' -o "$RES/cli_big.time" "$BIN" lookup --csv "$OUT/points.csv" "${EDITIONS[@]}" \
    > /dev/null 2>"$RES/cli_big.err"
  small=$(tail -1 "$RES/cli_small.time")
  big=$(tail -1 "$RES/cli_big.time")
  echo "$small $big $POINTS" | awk '{printf "{\"small_rows\": 10000, \"small_s\": %.2f, \"small_max_rss_kb\": %d, \"rows\": %d, \"seconds\": %.2f, \"max_rss_kb\": %d}\n", $1, $2, $5, $3, $4}' > "$RES/batch_cli.json"
}

# ---------------------------------------------------------------------------------------------- run
step "install"
install_tools
machine
step "build (release)"
cargo build --release --locked --bin territoires --example bench_data
cargo bench --locked --bench lookup --no-run

step "bench data: $POINTS points, edition 2023 members"
"$TARGET/release/examples/bench_data" "$OUT"
cp "$OUT/data.json" "$RES/data.json"

step "1. criterion: in-process lookups"
cargo bench --locked --bench lookup -- "${CRITERION_ARGS[@]}" 2>&1 | tee "$RES/criterion.log" | grep -vE '^(Benchmarking|Warning|\s*$)' || true

step "2. shapely / GEOS"
"$OUT/venv/bin/python" benches/shapely_lookup.py "$OUT" 5 > "$RES/shapely.json"
python3 benches/agree.py "$OUT/answers_ours.csv" "$OUT/answers_shapely.csv" > "$RES/agree_shapely.json"
cat "$RES/shapely.json"

step "3. PostGIS"
benches/postgis_lookup.sh "$OUT" > "$RES/postgis.json"
python3 benches/agree.py "$OUT/answers_ours.csv" "$OUT/answers_postgis.csv" > "$RES/agree_postgis.json"
python3 benches/agree.py "$OUT/answers_ours.csv" "$OUT/answers_postgis_sub.csv" > "$RES/agree_postgis_sub.json"

step "6. start-up ($STARTS runs), 7. layers (cold/warm)"
startup
layers
step "4. HTTP load (wrk, 2 rounds of ${WRK_SECONDS} s per route)"
http_load
step "5. batch: POST /api/lookup ($POINTS sites), then the CLI"
batch_api
stop_server
batch_cli
step "8. start-up of the binary alone in an empty folder (built-in snapshot) against --geodata (benches/startup.sh)"
benches/startup.sh "$([ $QUICK = 1 ] && echo 3 || echo 11)" "$RES/startup_snapshot.json" | tee "$RES/startup-snapshot.md"

if [ $QUICK = 0 ]; then
  step "9. a 5M-row SIRENE-shaped file through the CLI, CSV and Parquet, against DuckDB (benches/sirene.sh)"
  PATH="$OUT/venv/bin:$PATH" benches/sirene.sh 5000000
else
  rm -f "$RES/sirene.json"
fi

step "done"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); took $(( $(date +%s) - STARTED )) s" | tee "$RES/took.txt"
python3 benches/report.py "$RES" "$TARGET/criterion" | tee "$RES/table.md"
