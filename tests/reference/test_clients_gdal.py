"""GDAL (Debian's gdal-bin, its OAPIF driver) as a real client of the OGC API – Features on loopback: it
lists the collections, copies them page by page following the `next` links, reprojects them, filters them.
What GDAL reads is checked with GEOS (shapely), PROJ (pyproj) and the committed list itself.

Until the server implements OGC API – Features Part 2 (`crs=`) and Part 3 (CQL2 `filter`), reprojection and
`-where` run in GDAL on the downloaded features (client-side): these tests check that the features GDAL gets
make that work, and that GDAL sends the server nothing it rejects."""

import csv
import json
import os
import re
import subprocess

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from conftest import ROOT

# Every collection but the 34,000-odd communes, with its feature count in the committed data.
EXPECTED = {"territories-2023": 183, "territories-2019": 149, "epci": 1255, "ept": 11}
ITEMS_ROUTE = "/ogc/collections/{id}/items"


def gdal(*args):
    env = dict(os.environ, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    run = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, f"{' '.join(args)} failed:\n{run.stderr[-3000:]}"
    return run.stdout


def items_requests(server):
    """How many requests the server answered on the items route, from its Prometheus counters."""
    return sum(items_answers(server).values())


def items_answers(server):
    """Answers of the items route by HTTP status, from the server's Prometheus counters."""
    out = {}
    for line in server.get("/metrics").decode().splitlines():
        if line.startswith("territoires_http_requests_total{") and f'route="{ITEMS_ROUTE}"' in line:
            status = re.search(r'status="(\d+)"', line).group(1)
            out[status] = out.get(status, 0) + int(float(line.rsplit(" ", 1)[1]))
    return out


def served_features(server, collection):
    """The collection as the server itself serves it, in one page."""
    fc = server.json(f"/ogc/collections/{collection}/items?limit=10000")
    assert fc["numberReturned"] == fc["numberMatched"] == len(fc["features"])
    return fc["features"]


def read_geojson(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["features"]


def copy(server, tmp_path, collection, *options, name=None):
    """`ogr2ogr` of one collection to GeoJSON (RFC 7946 off: full precision, any CRS); its features."""
    out = tmp_path / f"{name or collection}.geojson"
    gdal("ogr2ogr", "-f", "GeoJSON", "-lco", "COORDINATE_PRECISION=15", *options, str(out),
         f"OAPIF:{server.base}/ogc", collection)
    return out, read_geojson(out)


def ogr_sql_row(path, sql):
    """The first row of an OGR SQLite-dialect query, as {field: value} (Spatialite's GEOS functions)."""
    text = gdal("ogrinfo", "-ro", "-q", str(path), "-dialect", "sqlite", "-sql", sql)
    return dict(re.findall(r"^\s+(\w+) \(\w+\) = (.*)$", text, re.M))


def test_ogrinfo_lists_every_collection(server):
    text = gdal("ogrinfo", "-ro", "-so", "-q", f"OAPIF:{server.base}/ogc")
    listed = re.findall(r"^\d+: (\S+)", text, re.M)
    served = [c["id"] for c in server.json("/ogc/collections")["collections"]]
    assert sorted(listed) == sorted(served)
    assert set(EXPECTED) | {"communes"} == set(listed)
    # One layer in detail: geometry type, feature count (numberMatched) and the collection's CRS84 extent.
    detail = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{server.base}/ogc", "territories-2023")
    assert re.search(r"^Geometry: Multi Polygon$", detail, re.M), detail
    assert re.search(r"^Feature Count: 183$", detail, re.M), detail
    extent = re.search(r"^Extent: \((\S+), (\S+)\) - \((\S+), (\S+)\)$", detail, re.M)
    bbox = server.json("/ogc/collections/territories-2023")["extent"]["spatial"]["bbox"][0]
    assert extent and [float(v) for v in extent.groups()] == pytest.approx(bbox, abs=1e-6), detail


@pytest.mark.parametrize("collection", list(EXPECTED))
def test_ogr2ogr_copies_every_feature_valid(server, tmp_path, collection):
    before = items_requests(server)
    out, features = copy(server, tmp_path, collection, "-oo", "PAGE_SIZE=10000")
    requests = items_requests(server) - before
    assert len(features) == EXPECTED[collection]
    # The same features as the server's own single page, by id, none twice.
    served = served_features(server, collection)
    ids = [f["properties"]["id" if collection.startswith("territories") else "code"] for f in features]
    assert len(set(ids)) == len(ids)
    assert set(ids) == {f["id"] for f in served}
    # Valid by GEOS twice: shapely on GDAL's output, and Spatialite's ST_IsValid inside GDAL.
    invalid = [i for i, f in zip(ids, features) if not shapely.is_valid(shape(f["geometry"]))]
    assert not invalid, invalid[:20]
    layer = out.stem
    row = ogr_sql_row(out, f'SELECT count(*) AS n, sum(ST_IsValid(geometry)) AS valid, '
                           f'sum(ST_IsEmpty(geometry)) AS empty FROM "{layer}"')
    assert row == {"n": str(EXPECTED[collection]), "valid": str(EXPECTED[collection]), "empty": "0"}
    # PAGE_SIZE=10000 (the server's largest limit): one page, plus GDAL's first probe of the layer.
    assert 1 <= requests <= 2, requests
    print(f"{collection}: {len(features)} features, all valid, {requests} items requests with PAGE_SIZE=10000")


def gdal_version():
    """GDAL's version as a tuple, `(3, 6, 2)` for Debian 12's."""
    text = gdal("gdalinfo", "--version")
    return tuple(int(p) for p in re.match(r"GDAL (\d+)\.(\d+)\.(\d+)", text).groups())


def test_default_paging_follows_next_links_to_the_last_feature(server, tmp_path):
    """Without `-oo PAGE_SIZE`, every page reached through the previous page's `next` link, and no feature
    lost or repeated on the way.

    How many pages depends on GDAL, not on the document: GDAL 3.6 (Debian 12) reads only the `resultType`
    and `filter-lang` enums from the OpenAPI document, never `limit`, and pages by 10 (126 pages of EPCI and
    its first probe). GDAL 3.8 and later page by 1000 and read `limit`'s `maximum` and `default` only under a
    path named after the collection relative to the landing page (`/collections/epci/items`), with the
    parameter as a `$ref`: with this server's default of 100 they would still choose 1000."""
    before = items_requests(server)
    _, features = copy(server, tmp_path, "epci", name="epci-paged")
    requests = items_requests(server) - before
    codes = [f["properties"]["code"] for f in features]
    assert len(codes) == len(set(codes)) == 1255
    if gdal_version() < (3, 8, 0):
        assert requests >= 126, requests
    else:
        assert requests <= 3, requests
    print(f"epci with GDAL {'.'.join(map(str, gdal_version()))}'s default page size: {requests} requests")


def lambert93_coordinates(geometry):
    return shapely.get_coordinates(shape(geometry))


def test_reprojection_to_lambert93_matches_proj(server, tmp_path):
    """`ogr2ogr -t_srs EPSG:2154` (client-side until Part 2) against pyproj on the server's own CRS84
    coordinates, vertex by vertex, for every metropolitan territory."""
    _, features = copy(server, tmp_path, "territories-2023", "-oo", "PAGE_SIZE=10000",
                       "-t_srs", "EPSG:2154", "-where", "region NOT IN ('01','02','03','04','06')",
                       name="ti-2154")
    served = {f["id"]: f for f in served_features(server, "territories-2023")}
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    worst, vertices = 0.0, 0
    for f in features:
        got = lambert93_coordinates(f["geometry"])
        lonlat = shapely.get_coordinates(shape(served[f["properties"]["id"]]["geometry"]))
        assert got.shape == lonlat.shape, f["properties"]["id"]
        x, y = to_l93.transform(lonlat[:, 0], lonlat[:, 1])
        err = ((got[:, 0] - x) ** 2 + (got[:, 1] - y) ** 2) ** 0.5
        worst = max(worst, float(err.max()))
        vertices += len(got)
        # Lambert-93 covers metropolitan France: every vertex within its published bounds.
        assert got[:, 0].min() > 0 and got[:, 0].max() < 1_300_000, f["properties"]["id"]
        assert got[:, 1].min() > 6_000_000 and got[:, 1].max() < 7_200_000, f["properties"]["id"]
    assert len(features) == sum(1 for f in served.values()
                                if f["properties"]["region"] not in ("01", "02", "03", "04", "06"))
    assert vertices > 50_000
    assert worst < 0.01, f"{worst} m"
    print(f"EPSG:2154 by GDAL vs pyproj: {len(features)} territories, {vertices} vertices, worst {worst:.2e} m")


def committed_2023():
    """The committed 2023 list, read as CSV: territory id -> (region, member count)."""
    out = {}
    with open(ROOT / "geodata/territories/2023.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            region, n = out.get(row["id_ti"], (row["insee_reg"], 0))
            out[row["id_ti"]] = (region, n + 1)
    return out


@pytest.mark.parametrize(
    "where, keep",
    [
        ("region = '32'", lambda region, members: region == "32"),
        ("members >= 5", lambda region, members: members >= 5),
        ("region IN ('11', '84') AND members < 3", lambda region, members: region in ("11", "84") and members < 3),
    ],
)
def test_where_filter_gives_the_committed_subset(server, tmp_path, where, keep):
    """`ogr2ogr -where` (evaluated by GDAL until Part 3's CQL2 `filter`): the subset of the committed list."""
    before = items_answers(server)
    _, features = copy(server, tmp_path, "territories-2023", "-oo", "PAGE_SIZE=10000", "-where", where,
                       name="where")
    after = items_answers(server)
    # GDAL downloads the whole collection (one page) and filters it; it sends no parameter the server
    # refuses (every items answer since `before` a 200; the server is shared with the other tests).
    grew = {status for status, n in after.items() if n > before.get(status, 0)}
    assert grew == {"200"} and after["200"] - before.get("200", 0) <= 2, (before, after)
    expected = {tid for tid, (region, members) in committed_2023().items() if keep(region, members)}
    got = {f["properties"]["id"] for f in features}
    assert expected, where
    assert got == expected, f"{where}: extra {sorted(got - expected)}, missing {sorted(expected - got)}"
    if where == "region = '32'":
        assert len(got) == 17


def test_spatial_filter_is_sent_as_bbox_and_matches_geos(server, tmp_path):
    """`-spat` goes to the server as `bbox` (server-side); GDAL then keeps the features whose geometry
    meets the box. Same set as GEOS on the server's full collection."""
    box = (2.0, 48.5, 3.5, 49.5)  # around Paris
    _, features = copy(server, tmp_path, "territories-2023", "-oo", "PAGE_SIZE=10000",
                       "-spat", *map(str, box), name="spat")
    rect = shapely.box(*box)
    expected = {f["id"] for f in served_features(server, "territories-2023")
                if shape(f["geometry"]).intersects(rect)}
    got = {f["properties"]["id"] for f in features}
    assert len(expected) >= 5
    assert got == expected
