"""Areas, outlines and polygon overlaps checked against GEOS (shapely) and PROJ's geodesic (pyproj), on the
communes read straight from geodata/: issue "Geometry truth beyond point lookups"."""

import math
import random

import pytest
import shapely
from shapely.geometry import shape, mapping

from reference_data import communes_of, geodesic_area_m2, polygons_only

# Territories whose area_km2 was once about -510 million km² per defective hole (regressions).
ONCE_NEGATIVE = {
    "2023": ["ti-2701", "ti-3207", "ti-3213", "ti-4404", "ti-4417", "ti-4419", "ti-5203", "ti-5205", "ti-5210", "ti-7505"],
    "2019": ["ti-2704", "ti-4414", "ti-7502", "ti-7503", "ti-7604"],
}


def editions(server):
    return [e["id"] for e in server.json("/api/editions")]


def territory_items(server, edition):
    """Every territory of an edition at full detail, through OGC API – Features (paged by `next`)."""
    items, url = [], f"/ogc/collections/territories-{edition}/items?limit=1000"
    while url:
        page = server.json(url)
        items.extend(page["features"])
        url = next((l["href"] for l in page["links"] if l["rel"] == "next"), None)
        if url and url.startswith("http"):
            url = url[len(server.base):]
    return items


@pytest.fixture(scope="session")
def communes(geodata):
    return communes_of(geodata)


@pytest.fixture(scope="session")
def territories(server, communes):
    """Per edition: id -> (served feature, member communes, reference outline from those communes)."""
    out = {}
    for edition in editions(server):
        table = {}
        for feature in territory_items(server, edition):
            tid = feature["id"]
            detail = server.json(f"/api/territories/{edition}/{tid}")
            members = set()
            for m in detail["member_list"]:
                found = communes.of_member(m["kind"], m["code"])
                assert found, f"{edition} {tid}: member {m['kind']} {m['code']} has no commune in geodata"
                members.update(found)
            table[tid] = (feature, sorted(members))
        out[edition] = table
    return out


def test_every_territory_area_is_the_sum_of_its_communes(territories, communes):
    checked = 0
    for edition, table in territories.items():
        for tid, (feature, members) in table.items():
            reference_km2 = sum(communes.area_m2(i) for i in members) / 1e6
            served = feature["properties"]["area_km2"]
            assert served > 0, f"{edition} {tid}: area_km2 {served}"
            assert abs(served - reference_km2) <= 0.005 * reference_km2, (
                f"{edition} {tid}: area_km2 {served}, communes sum {reference_km2:.2f}"
            )
            checked += 1
    assert checked == sum(len(t) for t in territories.values()) and checked > 0


def test_the_territories_once_negative_have_their_true_area(territories, communes):
    for edition, ids in ONCE_NEGATIVE.items():
        if edition not in territories:
            pytest.fail(f"edition {edition} is not loaded")
        for tid in ids:
            feature, members = territories[edition][tid]
            reference = sum(communes.area_m2(i) for i in members) / 1e6
            assert abs(feature["properties"]["area_km2"] - reference) <= 0.005 * reference, tid


def test_outlines_are_valid_and_have_no_hole_their_members_fill(territories, communes):
    problems = []
    for edition, table in territories.items():
        for tid, (feature, members) in table.items():
            geom = shape(feature["geometry"])
            if not geom.is_valid:
                problems.append(f"{edition} {tid}: {shapely.is_valid_reason(geom)}")
                continue
            member_set = set(members)
            polys = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
            for p in polys:
                for ring in p.interiors:
                    hole = shapely.Polygon(ring)
                    inside = hole.representative_point()
                    covering = [i for i in communes.tree.query(inside, predicate="within") if i in member_set]
                    if covering or geodesic_area_m2(hole) < 1.0:
                        problems.append(
                            f"{edition} {tid}: hole of {geodesic_area_m2(hole):.3f} m² at "
                            f"{inside.x:.6f},{inside.y:.6f} (member communes there: {covering})"
                        )
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


# --- POST /api/intersects against shapely ∩ member communes, areas by pyproj --------------------------


def star(cx, cy, r_outer, r_inner, points=5):
    coords = []
    for k in range(2 * points):
        r = r_outer if k % 2 == 0 else r_inner
        a = math.pi * k / points
        coords.append((cx + r * math.cos(a) / math.cos(math.radians(cy)), cy + r * math.sin(a)))
    return shapely.Polygon(coords)


def box(cx, cy, w_deg, h_deg):
    return shapely.box(cx - w_deg / 2, cy - h_deg / 2, cx + w_deg / 2, cy + h_deg / 2)


def sites(communes, count, seed):
    """Rectangles, stars, boxes with holes and two-part multipolygons centred on random communes of the
    metropole, 1 to 40 km across."""
    rng = random.Random(seed)
    metropole = [i for i, r in enumerate(communes.records) if not r["INSEE"].startswith("97")]
    out = []
    for n in range(count):
        c = communes.geoms[rng.choice(metropole)].representative_point()
        size = rng.uniform(0.01, 0.35)
        shape_kind = n % 4
        if shape_kind == 0:
            site = box(c.x, c.y, size * rng.uniform(0.5, 2), size)
        elif shape_kind == 1:
            site = star(c.x, c.y, size, size * rng.uniform(0.3, 0.6))
        elif shape_kind == 2:
            outer = box(c.x, c.y, size, size)
            site = outer.difference(box(c.x, c.y, size / 3, size / 3))
        else:
            site = shapely.MultiPolygon([box(c.x - size, c.y, size / 2, size / 2), box(c.x + size, c.y, size / 2, size / 2)])
        out.append(site)
    return out


def as_geojson(site, clockwise):
    """The site as GeoJSON with every ring turned one way or the other (RFC 7946 readers accept both)."""
    oriented = shapely.geometry.polygon.orient
    polys = site.geoms if site.geom_type == "MultiPolygon" else [site]
    turned = [oriented(p, -1.0 if clockwise else 1.0) for p in polys]
    # shapely's orient makes holes the opposite of the exterior; reverse them too for "every ring one way".
    if clockwise:
        turned = [shapely.Polygon(p.exterior.coords, [list(r.coords)[::-1] for r in p.interiors]) for p in turned]
    g = turned[0] if len(turned) == 1 else shapely.MultiPolygon(turned)
    return mapping(g)


def reference_overlaps(site, edition_table, communes, outlines):
    found = {}
    for tid, (feature, members) in edition_table.items():
        outline = outlines[tid]
        if not outline.intersects(site):
            continue
        area = geodesic_area_m2(polygons_only(site.intersection(outline)))
        if area > 0:
            found[tid] = area
    return found


@pytest.fixture(scope="session")
def reference_outlines(territories, communes):
    return {
        edition: {tid: shapely.union_all([communes.geoms[i] for i in members]) for tid, (_, members) in table.items()}
        for edition, table in territories.items()
    }


def test_intersects_matches_geos_on_random_sites_in_both_orientations(server, territories, communes, reference_outlines):
    wrong = []
    checked = overlaps = 0
    for n, site in enumerate(sites(communes, 300, seed=20261202)):
        site_area = geodesic_area_m2(site)
        for clockwise in (False, True):
            status, answer = server.post_json("/api/intersects", as_geojson(site, clockwise))
            assert status == 200, answer
            assert abs(answer["site_area_m2"] - site_area) <= 0.001 * site_area, (n, clockwise, answer["site_area_m2"], site_area)
            for edition, table in territories.items():
                expected = reference_overlaps(site, table, communes, reference_outlines[edition])
                served = {t["id"]: t["area_m2"] for t in answer["territories"] if t["edition"] == edition}
                overlaps += len(expected)
                for tid in set(expected) | set(served):
                    e, s = expected.get(tid, 0.0), served.get(tid, 0.0)
                    # 1 % of the overlap, or 0.01 % of the site for slivers along coasts and borders.
                    if abs(e - s) > max(0.01 * e, 1e-4 * site_area):
                        wrong.append(f"site {n} cw={clockwise} {edition} {tid}: served {s:.0f} m², reference {e:.0f} m²")
                checked += 1
    assert checked == 300 * 2 * len(territories)
    # Sites land on random communes: most touch a territory, many straddle two.
    assert overlaps > 300, overlaps
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(wrong[:30])


def test_a_box_inside_lille_is_wholly_in_ti_3213(server, territories):
    if "2023" not in territories:
        pytest.fail("edition 2023 is not loaded")
    site = box(3.05, 50.63, 0.14, 0.1)  # about 10 km × 11 km around Lille
    for clockwise in (False, True):
        status, answer = server.post_json("/api/intersects", as_geojson(site, clockwise))
        assert status == 200
        hits = [t for t in answer["territories"] if t["edition"] == "2023"]
        assert [t["id"] for t in hits] == ["ti-3213"], hits
        assert hits[0]["share"] > 0.999


def test_a_self_intersecting_site_is_refused_with_the_reason(server):
    bowtie = {"type": "Polygon", "coordinates": [[[3.0, 49.0], [3.1, 49.1], [3.1, 49.0], [3.0, 49.1], [3.0, 49.0]]]}
    status, answer = server.post_json("/api/intersects", bowtie)
    assert status == 400
    assert "intersect" in answer["error"]["message"].lower(), answer
