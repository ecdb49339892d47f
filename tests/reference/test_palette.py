"""The region palette of the map (web/js/regions.json) read by colour-blind visitors.

Territories are filled by region at the map's opacity over its land colour (web/js/style.js). Two
territories of different regions that touch must stay told apart under every common colour-vision
deficiency: the colours seen are simulated with colorspacious (Machado 2009, full severity) and compared in
CAM02-UCS, a perceptually uniform space. Which regions touch is measured with GEOS (shapely) on the
territory outlines the server gives, in Lambert-93 (pyproj), not taken from a list. The dark territory
outline must also contrast with every fill (WCAG 2.1, 1.4.11 non-text contrast 3:1), so a territory's
extent never rests on colour alone."""

import json
from itertools import combinations

import colorspacious
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from conftest import ROOT

REGIONS = json.loads((ROOT / "web/js/regions.json").read_text())
STYLE = (ROOT / "web/js/style.js").read_text()

# web/js/style.js: COLORS.land, COLORS.outline, and the fill opacity with no comparison.
LAND = "#f4f1e8"
OUTLINE = "#3d3d3d"
FILL_OPACITY = 0.6
# Territories closer than this count as neighbours (the generalised outlines leave slivers between them).
TOUCH_M = 500
# A CAM02-UCS distance under which two flat map colours are hard to tell apart at a glance.
MIN_DELTA_E = 8.0
# A fill and the land around it: at least this far apart.
MIN_LAND_DELTA_E = 10.0
DEFICIENCIES = [
    ("normal", None),
    ("deuteranomaly", {"name": "sRGB1+CVD", "cvd_type": "deuteranomaly", "severity": 100}),
    ("protanomaly", {"name": "sRGB1+CVD", "cvd_type": "protanomaly", "severity": 100}),
    ("tritanomaly", {"name": "sRGB1+CVD", "cvd_type": "tritanomaly", "severity": 100}),
]


def test_the_constants_here_are_the_maps():
    for value in (LAND, OUTLINE):
        assert f"'{value}'" in STYLE, value
    assert f"['case', hovered, 0.85, {FILL_OPACITY}]" in STYLE


def rgb1(hex_colour):
    h = hex_colour.lstrip("#")
    return [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]


def seen(hex_colour):
    """The fill as drawn: the region colour at the map's opacity over the land."""
    return [FILL_OPACITY * c + (1 - FILL_OPACITY) * l for c, l in zip(rgb1(hex_colour), rgb1(LAND))]


def simulate(rgb, cvd):
    if cvd is None:
        return rgb
    return [min(1.0, max(0.0, v)) for v in colorspacious.cspace_convert(rgb, cvd, "sRGB1")]


def luminance(rgb):
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b):
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.fixture(scope="module")
def neighbours(server):
    """Pairs of region codes with territories (of either edition) within TOUCH_M of each other."""
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)

    def project(xy):
        return np.column_stack(to_l93.transform(xy[:, 0], xy[:, 1]))

    pairs = set()
    for edition in server.json("/api/editions"):
        layer = server.json(f"/api/layers/territories.geojson?edition={edition['id']}")
        feats = [(f["properties"]["region"], shapely.transform(shape(f["geometry"]), project)) for f in layer["features"]]
        tree = shapely.STRtree([g for _, g in feats])
        for i, (region, geom) in enumerate(feats):
            for j in tree.query(geom, predicate="dwithin", distance=TOUCH_M):
                other = feats[j][0]
                if j > i and other != region:
                    pairs.add(tuple(sorted((str(region), str(other)))))
    return pairs


def test_neighbouring_regions_are_measured_on_the_outlines(neighbours):
    # Known borders between territories of two regions (both editions together): Hauts-de-France with
    # Normandie and Grand Est; Auvergne-Rhone-Alpes with Occitanie; no overseas region touches another.
    for pair in [("28", "32"), ("32", "44"), ("76", "84"), ("27", "84")]:
        assert pair in neighbours, pair
    assert not any(code in {"01", "02", "03", "04", "06"} for pair in neighbours for code in pair)
    assert len(neighbours) >= 15, sorted(neighbours)


@pytest.mark.parametrize("name,cvd", DEFICIENCIES, ids=[d[0] for d in DEFICIENCIES])
def test_neighbouring_regions_stay_apart_for_colour_blind_visitors(neighbours, name, cvd):
    close = []
    for a, b in sorted(neighbours):
        ca, cb = (simulate(seen(REGIONS[c]["color"]), cvd) for c in (a, b))
        delta = colorspacious.deltaE(ca, cb, input_space="sRGB1", uniform_space="CAM02-UCS")
        if delta < MIN_DELTA_E:
            close.append(f"{REGIONS[a]['name']} / {REGIONS[b]['name']}: {delta:.1f}")
    assert close == [], f"{name}: neighbouring regions too alike: {close}"


def test_every_region_has_its_own_colour():
    colours = [r["color"].lower() for r in REGIONS.values()]
    assert len(set(colours)) == len(colours)
    for (ca, a), (cb, b) in combinations([(r["color"], r["name"]) for r in REGIONS.values()], 2):
        delta = colorspacious.deltaE(seen(ca), seen(cb), input_space="sRGB1", uniform_space="CAM02-UCS")
        assert delta >= 3.0, f"{a} / {b}: {delta:.1f}"


def test_every_fill_stands_out_from_the_land():
    # Inside a territory or not is said by colour and outline together; the colour alone must still show it.
    for code, r in REGIONS.items():
        for name, cvd in DEFICIENCIES:
            fill, land = simulate(seen(r["color"]), cvd), simulate(rgb1(LAND), cvd)
            delta = colorspacious.deltaE(fill, land, input_space="sRGB1", uniform_space="CAM02-UCS")
            assert delta >= MIN_LAND_DELTA_E, f"{r['name']} ({code}, {name}): {delta:.1f} from the land"


def test_the_outline_contrasts_with_every_fill():
    # WCAG 2.1 success criterion 1.4.11: graphical objects at least 3:1 against adjacent colours.
    for code, r in REGIONS.items():
        for name, cvd in DEFICIENCIES:
            ratio = contrast(simulate(seen(r["color"]), cvd), rgb1(OUTLINE))
            assert ratio >= 3.0, f"{r['name']} ({code}, {name}): outline contrast {ratio:.2f}"
