"""Batch lookups of the files planners hold, checked with PROJ (pyproj) and GEOS (shapely): sites given in
Lambert-93, Web Mercator and the overseas systems answer like the same sites in WGS84; INSEE's SIRENE
geolocation shape is read with no option; and the border precision the batch flags is measured on the
committed communes. The coordinates are projected here by PROJ, never by the service."""

import csv
import io
import os
import subprocess

import numpy as np
import pyproj
import pytest
import shapefile
import shapely
import shapely.ops

from conftest import ROOT

BIN = os.environ.get("TERRITOIRES_BIN", str(ROOT / "target/debug/territoires"))
GEODATA = str(ROOT / "geodata")
PRECISION_M = 100  # batch::BORDER_PRECISION_M


def lookup_csv(text, *flags, encoding="utf-8"):
    run = subprocess.run([BIN, "lookup", "--csv", "-", "--geodata", GEODATA, *flags],
                         input=text.encode(encoding), capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr.decode()
    return run.stdout, run.stderr.decode()


def rows_of(out, delimiter=","):
    assert out.startswith(b"\xef\xbb\xbf"), "CSV answers carry a UTF-8 BOM by default"
    return list(csv.DictReader(io.StringIO(out.decode("utf-8-sig")), delimiter=delimiter))


def known_sites():
    with open(ROOT / "tests/fixtures/known-sites.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def communes():
    with shapefile.Reader(str(ROOT / "geodata/communes.shp")) as r:
        fields = [f[0] for f in r.fields[1:]]
        return [(dict(zip(fields, rec)), shp) for rec, shp in zip(r.records(), r.shapes())]


def wgs84_answers(points):
    text = "id,lon,lat\n" + "".join(f"{i},{float(lon)!r},{float(lat)!r}\n" for i, (lon, lat) in enumerate(points))
    out, _ = lookup_csv(text)
    return rows_of(out)


@pytest.mark.parametrize("epsg", [2154, 3857])
def test_projected_known_sites_answer_like_wgs84(epsg):
    sites = [s for s in known_sites() if float(s["lat"]) > 41]  # metropole
    to = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    text = "name;x;y\n" + "".join(
        "{};{:.3f};{:.3f}\n".format(s["name"], *to.transform(float(s["lon"]), float(s["lat"]))) for s in sites)
    out, _ = lookup_csv(text, "--crs", f"EPSG:{epsg}")
    rows = rows_of(out, ";")
    assert [r["name"] for r in rows] == [s["name"] for s in sites]
    for r, s in zip(rows, sites):
        assert r["territory_2023"] == s["territory_2023"], (epsg, s["name"], r)
        assert r["located_by"] == "point" and r["error"] == "", r
        assert r["commune"] == s["insee_com"], r


def test_per_row_epsg_overseas_answers_like_wgs84():
    # One point inside 12 communes of each DROM département and 40 of the metropole, each row in its CRS.
    drom = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
    chosen, taken = [], {}
    for rec, shp in communes():
        key = rec["INSEE"][:3] if rec["INSEE"][:3] in drom else "metropole"
        if key == "metropole" and not rec["INSEE"].endswith("01"):
            continue
        if taken.get(key, 0) >= (40 if key == "metropole" else 12):
            continue
        taken[key] = taken.get(key, 0) + 1
        p = shapely.geometry.shape(shp.__geo_interface__).point_on_surface()
        chosen.append((rec["INSEE"], (p.x, p.y), drom.get(key, 2154)))
    assert len({e for *_, e in chosen}) == 5
    lines = ["siret;x;y;epsg"]
    for code, (lon, lat), epsg in chosen:
        x, y = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
        lines.append(f"{code};{x:.2f};{y:.2f};{epsg}")
    out, _ = lookup_csv("\n".join(lines) + "\n")
    rows = rows_of(out, ";")
    reference = wgs84_answers([p for _, p, _ in chosen])
    assert len(rows) == len(chosen) == len(reference)
    for r, ref, (code, _, epsg) in zip(rows, reference, chosen):
        assert r["error"] == "" and r["commune"] == code, (epsg, r)
        assert (r["territory_2023"], r["territory_2019"]) == (ref["territory_2023"], ref["territory_2019"]), (epsg, r)


def test_lambert_without_a_crs_says_which_flag():
    out, _ = lookup_csv("id,x,y\n1,740000,6900000\n")
    (row,) = rows_of(out)
    assert "cannot be degrees" in row["error"] and "--crs" in row["error"], row


def test_sirene_geolocation_file_is_read_with_no_option():
    path = ROOT / "tests/fixtures/sirene-geoloc-sample.csv"
    with open(path, encoding="utf-8") as f:
        source = list(csv.DictReader(f, delimiter=";"))
    run = subprocess.run([BIN, "lookup", "--csv", str(path), "--geodata", GEODATA], capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr
    rows = rows_of(run.stdout, ";")
    assert [r["siret"] for r in rows] == [s["siret"] for s in source], "N rows in, N out, in order"
    # Reference: the row's x/y projected to WGS84 by PROJ, looked up as lon/lat.
    points = []
    for s in source:
        if s["x"] and s["epsg"]:
            points.append(pyproj.Transformer.from_crs(int(s["epsg"]), 4326, always_xy=True).transform(float(s["x"]), float(s["y"])))
        else:
            points.append((0.0, 0.0))
    reference = wgs84_answers(points)
    by = {}
    for s, r, ref in zip(source, rows, reference):
        by.setdefault(r["located_by"].split("+")[0], []).append(r)
        if not s["x"]:
            # No coordinates: answered from plg_code_commune, and says so.
            assert r["located_by"] == "commune_code" and r["error"] == "", r
        elif s["qualite_xy"] == "33":
            assert r["located_by"] == "commune_code" and "qualite_xy 33" in r["check"], r
        else:
            assert r["located_by"].startswith("point"), r
            assert (r["territory_2023"], r["territory_2019"]) == (ref["territory_2023"], ref["territory_2019"]), r
            assert r["border_m_2023"] != "", r
    assert len(by["point"]) > 200 and len(by["commune_code"]) == 15 + 24, {k: len(v) for k, v in by.items()}
    assert all(r["error"] == "" for r in rows), [r for r in rows if r["error"]][:3]


def test_border_distance_matches_geos_and_the_flag_follows_it():
    # Distances from 45 sites to the nearest phase II border: the nearest border point found by GEOS on
    # Lambert-93 outlines, the distance to it measured on the ellipsoid by PROJ (the service measures
    # on a sphere of mean radius: within 0.6 %).
    sites = [s for s in known_sites() if float(s["lat"]) > 41]
    rng = np.random.default_rng(3)
    pts = [(float(s["lon"]), float(s["lat"])) for s in sites] + [
        (lon, lat) for lon, lat in zip(rng.uniform(-1, 7, 30), rng.uniform(43.5, 50, 30))]
    rows = wgs84_answers(pts)
    to = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)
    shapes = {}
    for layer, key in [("epci", "SIREN"), ("ept", "SIREN"), ("communes", "INSEE")]:
        with shapefile.Reader(str(ROOT / f"geodata/{layer}.shp")) as r:
            fields = [f[0] for f in r.fields[1:]]
            for rec, shp in zip(r.records(), r.shapes()):
                shapes[dict(zip(fields, rec))[key]] = shp
    members = {}
    with open(ROOT / "geodata/territories/2023.csv", encoding="utf-8") as f:
        for m in csv.DictReader(f):
            members.setdefault(m["id_ti"], []).append(shapes[m["member_insee_com"] or m["member_siren"]])
    outlines = [
        shapely.transform(shapely.union_all([shapely.geometry.shape(s.__geo_interface__) for s in ms]),
                          lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1]))).boundary
        for ms in members.values()
    ]
    borders = shapely.union_all(outlines)
    back = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)
    geod = pyproj.Geod(ellps="GRS80")
    for (lon, lat), r in zip(pts, rows):
        _, nearest = shapely.ops.nearest_points(shapely.Point(to.transform(lon, lat)), borders)
        expected = geod.inv(lon, lat, *back.transform(nearest.x, nearest.y))[2]
        got = float(r["border_m_2023"])
        assert abs(got - expected) <= max(2.0, 0.006 * expected), (lon, lat, got, expected)
        assert ("from a territory border" in r["check"]) == (min(got, float(r["border_m_2019"])) < PRECISION_M), r


def test_the_flagged_precision_is_the_generalisation_of_the_communes():
    # ADMIN EXPRESS COG carto is simplified: each kept vertex stands off the chord of its neighbours by
    # at least the simplification tolerance, except where borders were matched (collinear vertices).
    # The offsets rise steeply up to about 100 m and level off beyond: detail under ~100 m is gone, so
    # a border can be that far from the real one, and the batch flags sites closer than that.
    to = pyproj.Transformer.from_crs(4326, 2154, always_xy=True)
    offsets = []
    for i, (rec, shp) in enumerate(communes()):
        if rec["INSEE"].startswith("97") or i % 5:
            continue
        pts = np.array(shp.points)
        for a, b in zip(shp.parts, [*shp.parts[1:], len(pts)]):
            ring = pts[a:b]
            if len(ring) < 4:
                continue
            x, y = to.transform(ring[:, 0], ring[:, 1])
            p = np.c_[x, y][:-1]
            prev, nxt = np.roll(p, 1, 0), np.roll(p, -1, 0)
            chord = nxt - prev
            n = np.hypot(chord[:, 0], chord[:, 1])
            cross = np.abs(chord[:, 0] * (p[:, 1] - prev[:, 1]) - chord[:, 1] * (p[:, 0] - prev[:, 0]))
            offsets.append(cross[n > 0] / n[n > 0])
    d = np.concatenate(offsets)
    d = d[d > 1]  # matched borders
    hist, _ = np.histogram(d, bins=np.arange(0, 300, 20))
    knee = int(np.argmax(hist >= 0.9 * hist.max())) * 20
    print(f"{len(d)} vertices; offset percentiles 5/25/50: {np.percentile(d, [5, 25, 50]).round(0)}; knee at {knee} m")
    assert 60 <= knee <= PRECISION_M + 20, knee
    assert np.percentile(d, 5) < PRECISION_M < np.percentile(d, 50), "the flag is inside the range of the tolerance"


def test_windows_1252_keeps_its_accents_and_bom_can_be_left_out():
    text = "nom;lon;lat\nVillers-Cotterêts;3,091451;49,254817\n"
    out, _ = lookup_csv(text, encoding="cp1252")
    (row,) = rows_of(out, ";")
    assert row["nom"] == "Villers-Cotterêts" and row["territory_2023"] == "ti-3214", row
    plain, _ = lookup_csv(text, "--no-bom", encoding="cp1252")
    assert plain.startswith(b"nom;") and "Villers-Cotterêts".encode() in plain


def test_xlsx_and_parquet_come_back_with_the_same_rows_plus_the_answers(tmp_path):
    # Files written by openpyxl and pyarrow, as planners' tools write them; answers read back by the
    # same libraries. Codes stored as numbers (Excel drops the leading zero) still land right.
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    sites = known_sites()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sites"
    sheet.append(["nom", "code_insee", "lon", "lat"])
    for s in sites:
        code = int(s["insee_com"]) if s["insee_com"].isdigit() else s["insee_com"]
        sheet.append([s["name"], code, float(s["lon"]), float(s["lat"])])
    xlsx = tmp_path / "sites.xlsx"
    book.save(xlsx)
    answered = tmp_path / "answered.xlsx"
    run = subprocess.run([BIN, "lookup", "--input", str(xlsx), "--output", str(answered), "--geodata", GEODATA],
                         capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr
    back = openpyxl.load_workbook(answered, read_only=True)
    assert back.sheetnames == ["Sites"]
    rows = list(back["Sites"].iter_rows(values_only=True))
    header, rows = rows[0], rows[1:]
    assert header[:4] == ("nom", "code_insee", "lon", "lat") and "territory_2023" in header
    col = {h: i for i, h in enumerate(header)}
    assert len(rows) == len(sites)
    for r, s in zip(rows, sites):
        assert r[0] == s["name"] and r[2] == float(s["lon"]), "input cells kept with their types"
        assert (r[col["territory_2023"]] or "") == s["territory_2023"], (s["name"], r)
        if s["insee_com"]:
            assert r[col["located_by"]] == "point+code_agrees", r
            assert r[col["commune"]] == s["insee_com"], r
        assert isinstance(r[col["border_m_2023"]], (int, float)), r

    table = pa.table({
        "nom": [s["name"] for s in sites],
        "x": [pyproj.Transformer.from_crs(4326, 2154, always_xy=True).transform(float(s["lon"]), float(s["lat"]))[0] for s in sites],
        "y": [pyproj.Transformer.from_crs(4326, 2154, always_xy=True).transform(float(s["lon"]), float(s["lat"]))[1] for s in sites],
        "epsg": pa.array([2154] * len(sites), pa.int32()),
        "extra": pa.array([{"k": i} for i in range(len(sites))]),
    })
    parquet = tmp_path / "sites.parquet"
    pq.write_table(table, parquet, row_group_size=5)
    out = tmp_path / "answered.parquet"
    run = subprocess.run([BIN, "lookup", "--input", str(parquet), "--output", str(out), "--geodata", GEODATA],
                         capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr
    back = pq.read_table(out)
    assert back.schema.names[:5] == table.schema.names and back.schema.field("extra").type == table.schema.field("extra").type
    assert back.column("extra").to_pylist() == table.column("extra").to_pylist(), "other columns untouched"
    assert back.schema.field("border_m_2023").type == pa.float64()
    assert [t or "" for t in back.column("territory_2023").to_pylist()] == [s["territory_2023"] for s in sites]


def test_geoparquet_of_points_is_answered_by_its_geometry_and_stays_geoparquet(tmp_path):
    import json
    import pyarrow as pa
    import pyarrow.parquet as pq

    sites = known_sites()
    wkb = [shapely.to_wkb(shapely.Point(float(s["lon"]), float(s["lat"]))) for s in sites]
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}}
    table = pa.table({"nom": [s["name"] for s in sites], "geometry": wkb}).replace_schema_metadata({"geo": json.dumps(geo)})
    path = tmp_path / "sites.parquet"
    pq.write_table(table, path)
    run = subprocess.run([BIN, "lookup", "--input", str(path), "--output", str(tmp_path / "out.parquet"), "--geodata", GEODATA],
                         capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr
    back = pq.read_table(tmp_path / "out.parquet")
    assert json.loads(pq.read_metadata(tmp_path / "out.parquet").metadata[b"geo"]) == geo
    assert shapely.from_wkb(back.column("geometry").to_pylist())[0].equals(shapely.Point(float(sites[0]["lon"]), float(sites[0]["lat"])))
    assert [t or "" for t in back.column("territory_2023").to_pylist()] == [s["territory_2023"] for s in sites]
