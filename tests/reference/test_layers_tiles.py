"""Zoom layers and vector tiles checked with GEOS (shapely) and an independent MVT decoder
(mapbox_vector_tile): every served feature valid, none missing, tile polygons valid and wound as the
Mapbox Vector Tile spec 2.1 (section 4.3.4) requires. Regression tests for issue 11."""

import math

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape

LAYER_ZOOMS = [4, 6, 8, 10, 12]
TILE_ZOOMS = range(0, 15)

# Places spread over France: dense borders, a coastline, a territory with a tricky outline, overseas.
PLACES = {
    "Lille": (3.06, 50.63),
    "Paris": (2.35, 48.85),
    "Marseille": (5.37, 43.30),
    "Soissons": (3.328181, 49.383574),
    "Brest coast": (-4.49, 48.39),
    "Etang de Berre": (5.1148, 43.5111),
    "Reunion": (55.45, -21.0),
}


def tile_of(lon, lat, z):
    n = 2**z
    phi = math.radians(lat)
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * n)
    return x, y


def layers(server):
    """(layer URL without zoom, tile layer name, expected feature count) for every loaded edition and unit kind."""
    out = []
    for e in server.json("/api/editions"):
        out.append((f"/api/layers/territories.geojson?edition={e['id']}", f"territories-{e['id']}", e["territories"]))
    health = server.json("/healthz")
    units = health.get("units", {})
    for kind in ["epci", "ept"]:
        count = units.get(kind) or units.get(kind.upper())
        if count:
            out.append((f"/api/layers/units.geojson?kind={kind}", kind, count))
    return out


def signed_area(ring):
    """Surveyor's formula on raw tile coordinates (positive for the spec's exterior rings, y down)."""
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1)) / 2.0


def test_every_layer_feature_is_valid_with_geos_at_every_zoom(server):
    problems = []
    checked = 0
    for url, _, expected in layers(server):
        for z in LAYER_ZOOMS:
            fc = server.json(f"{url}&zoom={z}")
            features = fc["features"]
            if len(features) != expected:
                problems.append(f"{url}&zoom={z}: {len(features)} features, expected {expected}")
            for f in features:
                g = shape(f["geometry"])
                checked += 1
                if g.is_empty or not shapely.is_valid(g):
                    problems.append(f"{url}&zoom={z} {f['id']}: {shapely.is_valid_reason(g)}")
    assert checked > 0
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def tiles_to_check():
    """Around each place: the tile holding it at zooms 0-14, and its 3x3 neighbourhood at zooms 6, 9 and 12."""
    seen = set()
    for lon, lat in PLACES.values():
        for z in TILE_ZOOMS:
            x, y = tile_of(lon, lat, z)
            reach = 1 if z in (6, 9, 12) else 0
            for dx in range(-reach, reach + 1):
                for dy in range(-reach, reach + 1):
                    tx, ty = x + dx, y + dy
                    if 0 <= tx < 2**z and 0 <= ty < 2**z and (z, tx, ty) not in seen:
                        seen.add((z, tx, ty))
                        yield z, tx, ty


def test_tile_polygons_are_valid_and_wound_as_the_spec_says(server):
    problems = []
    polygons = 0
    for _, name, _ in layers(server):
        for z, x, y in tiles_to_check():
            data = server.get(f"/tiles/{name}/{z}/{x}/{y}.mvt")
            decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
            for layer in decoded.values():
                assert layer["extent"] == 4096
                for f in layer["features"]:
                    g = f["geometry"]
                    where = f"{name} {z}/{x}/{y} {f['properties'].get('id')}"
                    assert g["type"] in ("Polygon", "MultiPolygon"), where
                    parts = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
                    for rings in parts:
                        polygons += 1
                        if signed_area(rings[0]) <= 0:
                            problems.append(f"{where}: exterior ring not positive (clockwise on screen)")
                        for hole in rings[1:]:
                            if signed_area(hole) >= 0:
                                problems.append(f"{where}: interior ring not negative")
                        p = shapely.Polygon(rings[0], rings[1:])
                        if not shapely.is_valid(p):
                            problems.append(f"{where}: polygon {shapely.is_valid_reason(p)}")
                    whole = shape(g)
                    if not shapely.is_valid(whole):
                        problems.append(f"{where}: feature {shapely.is_valid_reason(whole)}")
                    for px, py in shapely.get_coordinates(whole):
                        # The buffer is 64 units; the clipping overlay may snap a vertex a few units past it.
                        if not (-68 <= px <= 4096 + 68 and -68 <= py <= 4096 + 68):
                            problems.append(f"{where}: point {px},{py} beyond the 64-unit buffer")
                            break
    assert polygons > 0
    assert not problems, f"{len(problems)} of {polygons} polygons with problems:\n" + "\n".join(problems[:60])
