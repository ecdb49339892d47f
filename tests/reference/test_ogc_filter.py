"""OGC API – Features Part 3 (CQL2 filters) on the running server, checked against GEOS (shapely) on the
committed commune shapefile read with pyshp, so the server's own geometry code cannot confirm itself:
S_INTERSECTS, S_WITHIN and S_DISJOINT with a polygon, a box and a Lambert-93 polygon (`filter-crs`, brought
to degrees by PROJ here), and LIKE and comparisons against the shapefile's attributes."""

import json
import re
import urllib.parse

import pytest
import shapely
from pyproj import Transformer
from shapely import wkt

from reference_data import communes_of

# A triangle over the Soissonnais and the Laonnois, and a box around Château-Thierry.
TRIANGLE = "POLYGON((3.15 49.30, 3.75 49.35, 3.45 49.62, 3.15 49.30))"
BOX = (3.30, 48.98, 3.50, 49.10)
EPSG_2154 = "http://www.opengis.net/def/crs/EPSG/0/2154"


def matched(server, collection, filter_text, **extra):
    query = {"filter": filter_text, "limit": "10000", **extra}
    doc = server.json(f"/ogc/collections/{collection}/items?{urllib.parse.urlencode(query)}")
    assert doc["numberMatched"] == len(doc["features"]), "one page holds the answer"
    return sorted(f["id"] for f in doc["features"])


def reference(communes, predicate):
    return sorted(r["INSEE"] for r, g in zip(communes.records, communes.geoms) if predicate(r, g))


@pytest.fixture(scope="module")
def communes(geodata):
    return communes_of(geodata)


def test_s_intersects_a_polygon_is_what_geos_finds(server, communes):
    polygon = wkt.loads(TRIANGLE)
    expected = reference(communes, lambda r, g: g.intersects(polygon))
    assert len(expected) > 100
    assert matched(server, "communes", f"S_INTERSECTS(geometry, {TRIANGLE})") == expected


def test_s_within_a_box_and_its_complement(server, communes):
    box = shapely.box(*BOX)
    expected = reference(communes, lambda r, g: g.within(box))
    assert "02168" in expected and len(expected) > 5
    bbox = ",".join(map(str, BOX))
    assert matched(server, "communes", f"S_WITHIN(geometry, BBOX({bbox}))") == expected
    # Disjoint within the box's département window: the communes there that do not meet the box.
    near = shapely.box(BOX[0] - 0.2, BOX[1] - 0.2, BOX[2] + 0.2, BOX[3] + 0.2)
    expected = reference(communes, lambda r, g: g.within(near) and not g.intersects(box))
    near_wkt = near.wkt
    got = matched(server, "communes", f"S_WITHIN(geometry, {near_wkt}) AND S_DISJOINT(geometry, BBOX({bbox}))")
    assert got == expected and len(got) > 20


def test_a_lambert93_polygon_with_filter_crs(server, communes):
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    corners = [to_l93.transform(x, y) for x, y in wkt.loads(TRIANGLE).exterior.coords]
    l93 = "POLYGON((" + ", ".join(f"{x:.3f} {y:.3f}" for x, y in corners) + "))"
    # Each vertex is brought back to degrees, the edges staying straight in degrees, as the server does.
    back = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    polygon = shapely.Polygon([back.transform(x, y) for x, y in corners])
    expected = reference(communes, lambda r, g: g.intersects(polygon))
    got = matched(server, "communes", f"S_INTERSECTS(geometry, {l93})", **{"filter-crs": EPSG_2154})
    assert got == expected


def test_like_and_comparisons_match_the_shapefile(server, communes):
    pattern = re.compile(r"^Saint-.*-sur-.*$")
    expected = reference(communes, lambda r, g: pattern.match(r["NOM"]))
    assert len(expected) > 100
    assert matched(server, "communes", "name LIKE 'Saint-%-sur-%'") == expected
    expected = reference(communes, lambda r, g: r["INSEE"].startswith("02") and r["POP"] >= 2000)
    got = matched(server, "communes", "code LIKE '02%' AND population >= 2000")
    assert got == expected and len(got) > 10
    # The same in CQL2 JSON.
    expr = {
        "op": "and",
        "args": [
            {"op": "like", "args": [{"property": "code"}, "02%"]},
            {"op": ">=", "args": [{"property": "population"}, 2000]},
        ],
    }
    assert matched(server, "communes", json.dumps(expr), **{"filter-lang": "cql2-json"}) == expected
