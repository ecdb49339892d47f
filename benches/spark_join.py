#!/usr/bin/env python3
"""Tags a SIRENE-shaped file with its Territoires d'industrie on a Spark cluster (here local mode), by
commune code against `commune-territories.parquet`, and times it beside the CLI on the same rows.

The recipe for national files: export the commune table once (`territoires export --format communes`),
broadcast it (35,000 rows, a few MB) and join on the commune code; no geometry on the cluster.

    python3 benches/spark_join.py --export DIR [--rows 5000000] [--bin target/release/territoires]

DIR is a `territoires export` output (it needs communes.parquet and commune-territories.parquet).
Each generated row is one establishment placed at a point inside its commune (shapely's
representative point of the commune polygon), so the code join (Spark) and the point lookup (the CLI)
must give the same territory: the script counts the rows where they differ and fails if any does.
Prints one JSON line with the times; needs pyspark, pyarrow, shapely and a Java runtime.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely


def sirene_like(export_dir, rows, seed=20261202):
    """`rows` establishments over the communes, weighted by nothing: a SIRET, the commune code, lon/lat."""
    import numpy as np

    communes = pq.read_table(os.path.join(export_dir, "communes.parquet"), columns=["code", "geometry"])
    codes = communes.column("code").to_pylist()
    points = shapely.point_on_surface(shapely.from_wkb(communes.column("geometry").to_pylist()))
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    pick = np.random.default_rng(seed).integers(0, len(codes), rows)
    return pa.table(
        {
            "siret": pa.array([f"{i:014d}" for i in range(rows)]),
            "codeCommuneEtablissement": pa.array([codes[i] for i in pick]),
            "lon": pa.array(np.round(lon[pick], 7)),
            "lat": pa.array(np.round(lat[pick], 7)),
        }
    )


def spark_join(sirene_path, table_path, out_path):
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import broadcast

    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("territoires-join")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session_s = time.perf_counter() - started
    t0 = time.perf_counter()
    sirene = spark.read.parquet(sirene_path)
    communes = spark.read.parquet(table_path).select("code_insee", "territory_2023", "territory_2019")
    tagged = sirene.join(broadcast(communes), sirene.codeCommuneEtablissement == communes.code_insee, "left")
    tagged.drop("code_insee").write.mode("overwrite").parquet(out_path)
    join_s = time.perf_counter() - t0
    spark.stop()
    return session_s, join_s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--export", required=True, help="a territoires export directory")
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--bin", default="target/release/territoires")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="spark-join-")
    table = sirene_like(args.export, args.rows)
    sirene_parquet = os.path.join(work, "sirene.parquet")
    sirene_csv = os.path.join(work, "sirene.csv")
    pq.write_table(table, sirene_parquet)
    pacsv.write_csv(table, sirene_csv)

    session_s, join_s = spark_join(
        sirene_parquet, os.path.join(args.export, "commune-territories.parquet"), os.path.join(work, "tagged")
    )

    t0 = time.perf_counter()
    with open(sirene_csv, "rb") as src, open(os.path.join(work, "cli.csv"), "wb") as out:
        subprocess.run([args.bin, "lookup", "--csv", "-"], stdin=src, stdout=out, check=True)
    cli_s = time.perf_counter() - t0

    spark_rows = pq.read_table(os.path.join(work, "tagged"), columns=["siret", "territory_2023"])
    spark_rows = spark_rows.sort_by("siret")
    cli_rows = pacsv.read_csv(
        os.path.join(work, "cli.csv"),
        convert_options=pacsv.ConvertOptions(
            column_types={"siret": pa.string(), "territory_2023": pa.string()}, include_columns=["siret", "territory_2023"]
        ),
    )
    assert spark_rows.num_rows == cli_rows.num_rows == args.rows, (spark_rows.num_rows, cli_rows.num_rows)
    a = spark_rows.column("territory_2023").to_pylist()
    b = [v or None for v in cli_rows.column("territory_2023").to_pylist()]
    differ = sum(1 for x, y in zip(a, b) if (x or None) != y)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "spark_session_s": round(session_s, 2),
                "spark_join_s": round(join_s, 2),
                "cli_lookup_s": round(cli_s, 2),
                "tagged_2023": sum(1 for x in a if x),
                "rows_differing": differ,
                "work": work,
            }
        )
    )
    if differ:
        sys.exit(f"{differ} rows differ between the code join and the point lookup")


if __name__ == "__main__":
    main()
