#!/usr/bin/env bash
# The bench points through PostGIS: which member polygon of edition 2023 contains each point.
#
# Usage: benches/postgis_lookup.sh DIR   (DIR holds points.csv and members_2023.csv from
#        `cargo run --release --example bench_data`; writes DIR/answers_postgis.csv)
#
# Starts a throw-away PostgreSQL cluster (Debian's postgresql + postgis; run as the `postgres` user when
# called as root) in a temp dir on 127.0.0.1:$TERRITOIRES_PG_PORT (default 55432), loads both tables
# (COPY, geometry, GiST indexes on both, ANALYZE: the load time), then times the ST_Contains join,
# once with parallel workers allowed (PostgreSQL's default, 2 per gather) and once on one core, and the
# same join on member polygons cut with ST_Subdivide(geom, 255), a usual PostGIS tuning. Prints one
# JSON object on stdout; progress on stderr. The cluster is stopped and removed on exit.
set -euo pipefail

DATA=$(cd "$1" && pwd)
PORT=${TERRITOIRES_PG_PORT:-55432}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "postgresql is not installed (apt-get install postgresql postgis)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/territoires-pg.XXXXXX)
chmod 755 "$WORK"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$WORK"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

as_pg "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
# Settings for a bench box: plenty of memory for the load and the join, no durability costs.
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w start -o "-p $PORT -k $WORK \
  -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c work_mem=256MB -c maintenance_work_mem=1GB \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c jit=off" >/dev/null

sql() { psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAtX "$@"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l | awk '{printf "%.3f", $1}'; }

sql -c "CREATE EXTENSION postgis" >/dev/null
versions=$(sql -c "SELECT split_part(version(), ' ', 2) || ' / PostGIS ' || postgis_lib_version() || ' / GEOS ' || split_part(postgis_geos_version(), '-', 1)")

echo "postgis: loading" >&2
t=$(now)
sql <<'SQL'
CREATE UNLOGGED TABLE members_raw (territory text, kind text, code text, wkb text);
CREATE UNLOGGED TABLE points_raw (id integer, lon float8, lat float8);
SQL
sql -c "COPY members_raw FROM STDIN WITH (FORMAT csv, HEADER true)" < "$DATA/members_2023.csv"
sql -c "COPY points_raw FROM STDIN WITH (FORMAT csv, HEADER true)" < "$DATA/points.csv"
sql <<'SQL'
CREATE UNLOGGED TABLE members AS
  SELECT territory, kind, code, ST_SetSRID(wkb::geometry, 4326) AS geom FROM members_raw;
CREATE UNLOGGED TABLE points AS
  SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom FROM points_raw;
CREATE INDEX members_geom ON members USING gist (geom);
CREATE INDEX points_geom ON points USING gist (geom);
ANALYZE members;
ANALYZE points;
SQL
load_s=$(since "$t")

t=$(now)
sql <<'SQL'
CREATE UNLOGGED TABLE members_sub AS SELECT territory, ST_Subdivide(geom, 255) AS geom FROM members;
CREATE INDEX members_sub_geom ON members_sub USING gist (geom);
ANALYZE members_sub;
SQL
subdivide_s=$(since "$t")

join_sql() {
  echo "SELECT p.id, string_agg(DISTINCT m.territory, ';') AS territory
        FROM points p JOIN $1 m ON ST_Contains(m.geom, p.geom) GROUP BY p.id ORDER BY p.id"
}

# Times the join (best of 2; the answers of the last run go to $3) with `SET $2`.
run_join() {
  local table=$1 setting=$2 out=$3 best="" s
  for _ in 1 2; do
    t=$(now)
    sql -c "SET $setting" -c "COPY ($(join_sql "$table")) TO STDOUT WITH (FORMAT csv, HEADER true)" > "$out"
    s=$(since "$t")
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
  done
  echo "$best"
}

plan() { sql -c "SET $2" -c "EXPLAIN $(join_sql "$1")" | sed 's/"/\\"/g' | awk '{printf "%s\\n", $0}'; }
plan_par=$(plan members "max_parallel_workers_per_gather = 2")
plan_one=$(plan members "max_parallel_workers_per_gather = 0")
echo "postgis: join, parallel" >&2
par_s=$(run_join members "max_parallel_workers_per_gather = 2" "$DATA/answers_postgis.csv")
echo "postgis: join, one core" >&2
one_s=$(run_join members "max_parallel_workers_per_gather = 0" "$DATA/answers_postgis_1core.csv")
echo "postgis: join on subdivided members" >&2
sub_par_s=$(run_join members_sub "max_parallel_workers_per_gather = 2" "$DATA/answers_postgis_sub.csv")
sub_one_s=$(run_join members_sub "max_parallel_workers_per_gather = 0" "$DATA/answers_postgis_sub_1core.csv")
inside=$(($(wc -l < "$DATA/answers_postgis.csv") - 1))
sub_pieces=$(sql -c "SELECT count(*) FROM members_sub")

cat <<JSON
{"versions": "$versions", "inside": $inside, "load_s": $load_s, "subdivide_s": $subdivide_s,
 "subdivided_pieces": $sub_pieces,
 "join_parallel_s": $par_s, "join_1core_s": $one_s,
 "join_subdivided_parallel_s": $sub_par_s, "join_subdivided_1core_s": $sub_one_s,
 "plan_parallel": "$plan_par", "plan_1core": "$plan_one"}
JSON
