"""`territoires export` read back by the readers people use: pyarrow + shapely (GeoParquet), GDAL's
ogrinfo/ogr2ogr (FlatGeobuf), DuckDB (the commune table joined to a SIRENE-shaped table), and the
`pmtiles` package with a separate MVT decoder (the archive). Nothing here uses the service's own code."""

import csv
import gzip
import io
import json
import math
import os
import random
import subprocess
import time

import duckdb
import mapbox_vector_tile
import pyarrow.parquet as pq
import pytest
import shapefile
import shapely
from pmtiles.reader import MmapSource, Reader
from pyproj import Geod

from conftest import ROOT

BIN = os.environ.get("TERRITOIRES_BIN", str(ROOT / "target/debug/territoires"))
COUNTS = {"territories-2023": 183, "territories-2019": 149, "epci": 1255, "ept": 11}
SOISSONS = (3.328181, 49.383574)


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    started = time.time()
    run = subprocess.run(
        [BIN, "export", "--out", str(out), "--geodata", str(ROOT / "geodata")],
        capture_output=True, text=True, timeout=1800,
    )
    assert run.returncode == 0, run.stderr
    print(f"export took {time.time() - started:.1f} s\n{run.stdout}")
    return out


def communes_in_geodata():
    with shapefile.Reader(str(ROOT / "geodata/communes.shp")) as r:
        fields = [f[0] for f in r.fields[1:]]
        return [dict(zip(fields, rec)) for rec in r.records()]


@pytest.mark.parametrize("name", [*COUNTS, "communes"])
def test_geoparquet_reads_back_valid_with_geo_metadata(exported, name):
    table = pq.read_table(exported / f"{name}.parquet")
    geo = json.loads(pq.read_metadata(exported / f"{name}.parquet").metadata[b"geo"])
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB" and column["geometry_types"] == ["MultiPolygon"]
    assert "crs" not in column  # absent means OGC:CRS84 in GeoParquet
    expected = COUNTS.get(name) or len(communes_in_geodata())
    assert table.num_rows == expected
    geoms = shapely.from_wkb(table.column("geometry").to_pylist())
    assert all(shapely.is_valid(geoms)), [r for r, ok in zip(table.column("id").to_pylist(), shapely.is_valid(geoms)) if not ok][:5]
    assert shapely.get_type_id(geoms).tolist() == [6] * expected  # MultiPolygon
    bounds = shapely.total_bounds(geoms)
    assert column["bbox"] == pytest.approx(list(bounds), abs=1e-12)
    # The covering column is each row's own bounds.
    bbox = table.column("bbox").to_pylist()
    for b, g in zip(bbox, shapely.bounds(geoms)):
        assert [b["xmin"], b["ymin"], b["xmax"], b["ymax"]] == pytest.approx(list(g), abs=1e-12)
    ids = table.column("id").to_pylist()
    assert len(set(ids)) == expected


@pytest.mark.parametrize("name", ["territories-2023", "epci"])
def test_geoparquet_areas_match_proj(exported, name):
    table = pq.read_table(exported / f"{name}.parquet", columns=["id", "area_km2", "geometry"])
    geod = Geod(ellps="WGS84")
    for row in table.to_pylist():
        g = shapely.from_wkb(row["geometry"])
        area = abs(geod.geometry_area_perimeter(g)[0]) / 1e6
        assert row["area_km2"] == pytest.approx(area, rel=2e-4, abs=0.01), row["id"]


def test_geoparquet_has_the_api_properties(exported, server):
    table = pq.read_table(exported / "territories-2023.parquet").drop(["geometry", "bbox"]).to_pylist()
    items = server.json("/ogc/collections/territories-2023/items?limit=1000")["features"]
    by_id = {f["id"]: f["properties"] for f in items}
    assert len(by_id) == len(table)
    for row in table:
        api = by_id[row["id"]]
        for key, value in row.items():
            if key in api:
                assert api[key] == (pytest.approx(value) if isinstance(value, float) else value), (row["id"], key)
        assert set(api) <= set(row), set(api) - set(row)


@pytest.mark.parametrize("name", COUNTS)
def test_flatgeobuf_opens_in_gdal_with_its_index(exported, name):
    path = exported / f"{name}.fgb"
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True).stdout
    assert f"Feature Count: {COUNTS[name]}" in info, info
    assert "Geometry: Multi Polygon" in info, info
    assert 'ID["EPSG",4326]' in info, info
    # A bbox filter around Soissons goes through the packed R-tree and finds the features whose boxes meet it.
    x, y = SOISSONS
    spat = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", "-spat", str(x - 0.001), str(y - 0.001), str(x + 0.001), str(y + 0.001), str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    found = [line.split("=", 1)[1].strip() for line in spat.splitlines() if line.strip().startswith("id (String) =")]
    expected = {"territories-2023": "ti-3214", "epci": "240200477"}.get(name)
    if expected:
        assert expected in found, found
    # Every geometry GDAL reads is valid for GEOS.
    geojson = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path)], capture_output=True, text=True, check=True
    ).stdout
    features = json.loads(geojson)["features"]
    assert len(features) == COUNTS[name]
    assert all(shapely.geometry.shape(f["geometry"]).is_valid for f in features)


def test_geojson_matches_geoparquet(exported):
    with open(exported / "territories-2023.geojson", encoding="utf-8") as f:
        features = json.load(f)["features"]
    table = pq.read_table(exported / "territories-2023.parquet").to_pylist()
    assert [f["id"] for f in features] == [r["id"] for r in table]
    for f, r in zip(features, table):
        assert shapely.geometry.shape(f["geometry"]).equals_exact(shapely.from_wkb(r["geometry"]), 0)


def test_commune_table_covers_every_commune(exported):
    rows = pq.read_table(exported / "commune-territories.parquet").to_pylist()
    codes = sorted(c["INSEE"] for c in communes_in_geodata())
    assert sorted(r["code_insee"] for r in rows) == codes
    with open(exported / "commune-territories.csv", encoding="utf-8", newline="") as f:
        assert list(csv.DictReader(f)) == [{k: v or "" for k, v in r.items()} for r in rows]


def test_commune_table_answers_known_sites_in_duckdb(exported):
    # known-sites.csv is an independent list: real places with the phase II territory ANCT gives them.
    got = duckdb.sql(f"""
        SELECT s.name, s.territory_2023 || ' ' || s.epci_siren AS expected,
               c.territory_2023 || ' ' || c.epci_siren AS got
        FROM read_csv('{ROOT / "tests/fixtures/known-sites.csv"}', all_varchar = true) s
        LEFT JOIN '{exported / "commune-territories.parquet"}' c ON c.code_insee = s.insee_com
    """).fetchall()
    assert len(got) == 17
    assert [(n, e) for n, e, _ in got] == [(n, g) for n, _, g in got]


def test_duckdb_join_equals_the_lookup_of_the_same_rows(exported, tmp_path):
    # A SIRENE-shaped table: one establishment at a point inside each of 400 random communes.
    with shapefile.Reader(str(ROOT / "geodata/communes.shp")) as r:
        fields = [f[0] for f in r.fields[1:]]
        chosen = random.Random(7).sample(range(len(r)), 400)
        rows = []
        for i in chosen:
            rec = dict(zip(fields, r.record(i)))
            point = shapely.geometry.shape(r.shape(i).__geo_interface__).point_on_surface()
            code = rec["INSEE"]
            rows.append({"siret": f"{i:014d}", "plg_code_commune": code, "longitude": point.x, "latitude": point.y})
    sites = tmp_path / "sirene.csv"
    with open(sites, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=";")
        w.writeheader()
        w.writerows(rows)
    lookup = subprocess.run([BIN, "lookup", "--csv", str(sites), "--geodata", str(ROOT / "geodata")],
                            capture_output=True, check=True).stdout.decode("utf-8-sig")
    by_point = {r["siret"]: (r["territory_2023"], r["territory_2019"]) for r in csv.DictReader(io.StringIO(lookup), delimiter=";")}
    joined = duckdb.sql(f"""
        SELECT s.siret, coalesce(c.territory_2023, ''), coalesce(c.territory_2019, '')
        FROM read_csv('{sites}', delim = ';', all_varchar = true) s
        LEFT JOIN '{exported / "commune-territories.parquet"}' c ON c.code_insee = s.plg_code_commune
        ORDER BY s.siret
    """).fetchall()
    assert len(joined) == 400
    assert {s: (a, b) for s, a, b in joined} == by_point
    assert sum(1 for a, _ in by_point.values() if a) > 50  # not a table of empty answers


def tile_of(z, lon, lat):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_pmtiles_archive_holds_soissons_in_ti_3214(exported, server):
    with open(exported / "tiles.pmtiles", "rb") as f:
        reader = Reader(MmapSource(f))
        header = reader.header()
        assert header["min_zoom"] == 0 and header["max_zoom"] == 12
        metadata = reader.metadata()
        names = {layer["id"] for layer in metadata["vector_layers"]}
        assert names == {*COUNTS}
        x, y = tile_of(12, *SOISSONS)
        tile = mapbox_vector_tile.decode(gzip.decompress(reader.get(12, x, y)))
        ids = [feat["properties"]["id"] for feat in tile["territories-2023"]["features"]]
        assert "ti-3214" in ids
        assert "240200477" in [feat["properties"]["id"] for feat in tile["epci"]["features"]]
        # The same features, properties and geometry as the server's own tile.
        served = mapbox_vector_tile.decode(server.get(f"/tiles/territories-2023/12/{x}/{y}.mvt"))
        assert tile["territories-2023"]["features"] == served["territories-2023"]["features"]
        # Every zoom has tiles, and a tile far out at sea is absent.
        for z in range(13):
            tx, ty = tile_of(z, *SOISSONS)
            assert reader.get(z, tx, ty), z
        assert reader.get(12, *tile_of(12, -30.0, 45.0)) is None
