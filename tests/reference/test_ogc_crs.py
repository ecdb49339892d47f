"""OGC API – Features Part 2 on the running server, checked with PROJ (pyproj): every vertex of a feature
asked for in a projected CRS is where PROJ puts the same vertex of its CRS84 answer, for metropolitan France
and each overseas region in its own system; EPSG:4326 is latitude first; a Lambert-93 `bbox-crs` selects
what the CRS84 box PROJ computes for it selects."""

import urllib.parse

import numpy as np
import pytest
from pyproj import Transformer

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"

CASES = [
    # (collection, feature, EPSG code, tolerance in the target units)
    ("territories-2023", "ti-3214", 2154, 0.01),
    ("territories-2023", "ti-3214", 3857, 0.01),
    ("communes", "97101", 5490, 0.01),  # Les Abymes, Guadeloupe
    ("communes", "97209", 5490, 0.01),  # Fort-de-France, Martinique
    ("communes", "97302", 2972, 0.01),  # Cayenne, Guyane
    ("communes", "97411", 2975, 0.01),  # Saint-Denis, La Réunion
    ("communes", "97611", 4471, 0.01),  # Mamoudzou, Mayotte
]


def vertices(feature):
    return np.array(
        [xy for polygon in feature["geometry"]["coordinates"] for ring in polygon for xy in ring], dtype=float
    )


def item(server, collection, fid, crs=None):
    query = f"?crs={urllib.parse.quote(crs, safe='')}" if crs else ""
    return server.json(f"/ogc/collections/{collection}/items/{fid}{query}")


@pytest.mark.parametrize("collection,fid,code,tolerance", CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_projected_vertices_match_proj(server, collection, fid, code, tolerance):
    lonlat = vertices(item(server, collection, fid))
    projected = vertices(item(server, collection, fid, EPSG.format(code)))
    assert projected.shape == lonlat.shape
    to = Transformer.from_crs("OGC:CRS84", f"EPSG:{code}", always_xy=True)
    x, y = to.transform(lonlat[:, 0], lonlat[:, 1])
    error = np.hypot(projected[:, 0] - x, projected[:, 1] - y).max()
    print(f"{fid} EPSG:{code}: max {error:.2e} over {len(x)} vertices")
    assert error < tolerance, f"{fid} in EPSG:{code}: {error:.4f} from PROJ over {len(x)} vertices"


def test_epsg_4326_is_latitude_first(server):
    lonlat = vertices(item(server, "territories-2023", "ti-3214"))
    latlon = vertices(item(server, "territories-2023", "ti-3214", EPSG.format(4326)))
    assert np.array_equal(latlon[:, ::-1], lonlat)


def test_a_lambert93_bbox_selects_what_its_crs84_envelope_selects(server):
    box = (715000, 6909000, 730000, 6922000)
    to = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    w, s, e, n = to.transform_bounds(*box, densify_pts=64)
    ids = lambda doc: sorted(f["id"] for f in doc["features"])  # noqa: E731
    by_l93 = server.json(
        "/ogc/collections/communes/items?limit=1000&bbox={}&bbox-crs={}".format(
            ",".join(map(str, box)), urllib.parse.quote(EPSG.format(2154), safe="")
        )
    )
    by_crs84 = server.json(f"/ogc/collections/communes/items?limit=1000&bbox={w},{s},{e},{n}")
    assert "02722" in ids(by_l93)
    assert ids(by_l93) == ids(by_crs84) and len(ids(by_l93)) > 20
