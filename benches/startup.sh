#!/usr/bin/env bash
# Start-up of the release binary (issue 17 §1), from an empty folder with the binary alone (the built-in
# snapshot) beside the reference in the same run: the same binary building from files (`--geodata`).
#   one-shot `lookup --lon 3.33 --lat 49.38`: median and max wall time of N runs, peak resident memory;
#   `serve`: process start → first healthy /healthz, resident memory then; `POST /admin/reload` time.
# Usage: benches/startup.sh [N] [JSON]   (default 11; builds target/release/territoires first)
#   JSON: also write the figures there, for benches/report.py's table of targets.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-11}
JSON=${2:-}
cargo build --release --locked --quiet
BIN="$ROOT/target/release/territoires"
EMPTY=$(mktemp -d)
cp "$BIN" "$EMPTY/territoires"
trap 'rm -rf "$EMPTY"; [ -z "${PID:-}" ] || kill "$PID" 2>/dev/null || true' EXIT
PORT=$((20000 + RANDOM % 20000))
TOKEN=bench

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# lookup LABEL ARGS...: N one-shot lookups from the empty folder; prints "median max peak_rss_mb".
lookup() {
  local times=() rss=0 t0 t1 m
  for _ in $(seq "$N"); do
    t0=$(date +%s%N)
    m=$( cd "$EMPTY" && /usr/bin/time -f '%M' ./territoires lookup --lon 3.33 --lat 49.38 "$@" 2>&1 >/dev/null | tail -1 )
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
    [ "$m" -gt "$rss" ] && rss=$m
  done
  printf '%s %s %s\n' "$(printf '%s\n' "${times[@]}" | median)" "$(printf '%s\n' "${times[@]}" | sort -n | tail -1)" "$((rss / 1024))"
}

# serve ARGS...: N starts from the empty folder; prints "median_ready_ms median_rss_mb median_reload_ms".
serve() {
  local ready=() rss=() reload=() t0 t1
  for _ in $(seq "$N"); do
    t0=$(date +%s%N)
    (cd "$EMPTY" && exec ./territoires serve --addr "127.0.0.1:$PORT" --admin-token "$TOKEN" "$@" 2>/dev/null) &
    PID=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.002; done
    t1=$(date +%s%N)
    ready+=($(( (t1 - t0) / 1000000 )))
    rss+=($(( $(awk '$1 == "VmRSS:" {print $2}' "/proc/$PID/status") / 1024 )))
    t0=$(date +%s%N)
    curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/admin/reload"
    t1=$(date +%s%N)
    reload+=($(( (t1 - t0) / 1000000 )))
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  done
  printf '%s %s %s\n' "$(printf '%s\n' "${ready[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)" \
    "$(printf '%s\n' "${reload[@]}" | median)"
}

read -r l_med l_max l_rss < <(lookup)
read -r f_med f_max f_rss < <(lookup --geodata "$ROOT/geodata")
read -r s_ready s_rss s_reload < <(serve)
read -r g_ready g_rss g_reload < <(serve --geodata "$ROOT/geodata")
size=$(stat -c %s geodata/atlas.snapshot)

echo "date $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"
echo "load before $(cut -d' ' -f1-3 /proc/loadavg), $N runs each, rev $(git rev-parse --short HEAD)"
echo
echo "| measure | built-in snapshot (empty folder) | from files (--geodata) |"
echo "|---|---|---|"
echo "| one-shot lookup, median (max) wall | $l_med ms ($l_max ms) | $f_med ms ($f_max ms) |"
echo "| one-shot lookup, peak resident | $l_rss MB | $f_rss MB |"
echo "| serve: start → healthy /healthz, median | $s_ready ms | $g_ready ms |"
echo "| serve: resident when ready, median | $s_rss MB | $g_rss MB |"
echo "| reload (POST /admin/reload), median | $s_reload ms | $g_reload ms |"
echo "| snapshot file (geodata/atlas.snapshot) | $((size / 1000000)) MB | |"
if [ -n "$JSON" ]; then
  printf '{"runs": %d, "lookup_ms": %s, "lookup_max_ms": %s, "lookup_rss_mb": %s, "ready_ms": %s, "ready_rss_mb": %s, "reload_ms": %s, "files_lookup_ms": %s, "files_ready_ms": %s, "files_ready_rss_mb": %s, "files_reload_ms": %s}\n' \
    "$N" "$l_med" "$l_max" "$l_rss" "$s_ready" "$s_rss" "$s_reload" "$f_med" "$g_ready" "$g_rss" "$g_reload" > "$JSON"
fi
