"""QGIS (Debian's python3-qgis 3.22, headless) as a real client: the OGC API – Features collections as
`OAPIF` layers and the territories' vector tiles as a `QgsVectorTileLayer` made from the TileJSON's
template, both valid with the right features, each rendered to a PNG that is not blank and that covers the
same pixels as the other. QGIS runs under the system Python in `qgis_client.py`; its JSON is checked here,
the tiles QGIS decoded against an independent decoder (mapbox_vector_tile)."""

import json
import os
import subprocess
from pathlib import Path

import mapbox_vector_tile
import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("qgis_client.py")
EXPECTED = {"territories-2023": 183, "territories-2019": 149, "epci": 1255, "ept": 11}


@pytest.fixture(scope="module")
def qgis(server, tmp_path_factory):
    out = Path(os.environ.get("QGIS_RENDERS") or tmp_path_factory.mktemp("qgis"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NO_PROXY="127.0.0.1,localhost",
               no_proxy="127.0.0.1,localhost", XDG_RUNTIME_DIR=str(out))
    run = subprocess.run([SYSTEM_PYTHON, str(SCRIPT), server.base, str(out)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON from {SCRIPT.name}:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    return json.loads(lines[-1])


@pytest.mark.parametrize("collection", list(EXPECTED))
def test_oapif_layers_are_valid_with_every_feature(server, qgis, collection):
    layer = qgis["oapif"][collection]
    assert layer["valid"], collection
    assert layer["features"] == EXPECTED[collection]
    assert len(set(layer["ids"])) == len(layer["ids"])
    served = server.json(f"/ogc/collections/{collection}/items?limit=10000")["features"]
    assert set(layer["ids"]) == {f["id"] for f in served}
    assert layer["invalid"] == [] and layer["empty"] == 0
    for field in (["id", "name", "region", "members"] if collection.startswith("territories") else
                  ["code", "siren", "name", "kind"]):
        assert field in layer["fields"], (collection, field, layer["fields"])


def test_vector_tile_layer_from_the_tilejson_template_is_valid(server, qgis):
    tiles = qgis["tiles"]
    tilejson = server.json("/tiles/territories-2023.json")
    assert tiles["valid"], tiles
    assert tilejson["tiles"][0] in tiles["uri"]
    assert (tiles["source_min_zoom"], tiles["source_max_zoom"]) == (tilejson["minzoom"], tilejson["maxzoom"]) == (0, 12)


@pytest.mark.parametrize("view", ["france", "hauts-de-france"])
def test_qgis_decodes_the_same_tile_features_as_mapbox_vector_tile(server, qgis, view):
    rendered = qgis["renders"][view]["tile_features"]
    assert len(rendered) >= 4, rendered
    zooms = set()
    for key, layers in rendered.items():
        z, x, y = key.split("/")
        zooms.add(int(z))
        decoded = mapbox_vector_tile.decode(server.get(f"/tiles/territories-2023/{z}/{x}/{y}.mvt"))
        assert layers == {name: len(layer["features"]) for name, layer in decoded.items()}, key
    assert sum(n for layers in rendered.values() for n in layers.values()) > 0
    # QGIS picks the tile zoom from the scale: 1:7.3 million (France, 900 px) -> 5, 1:1.5 million -> 8.
    assert zooms == {{"france": 5, "hauts-de-france": 8}[view]}, zooms


@pytest.mark.parametrize("view, overlap", [("france", 0.965), ("hauts-de-france", 0.985)])
def test_renders_are_not_blank_and_the_two_sources_cover_the_same_pixels(qgis, view, overlap):
    r = qgis["renders"][view]
    for source in ("oapif", "tiles"):
        assert r[source]["errors"] == [], (source, r[source]["errors"])
        assert Path(r[source]["png"]).stat().st_size > 1000
        # Territories cover a fifth to a half of these views; neither blank nor all black.
        assert 0.15 < r[source]["filled"] < 0.6, (source, r[source]["filled"])
    # Tiles are simplified for their zoom (5 over France, 8 over Hauts-de-France), the OAPIF layer is not.
    assert r["overlap"] > overlap, r["overlap"]
    print(f"{view}: filled oapif {r['oapif']['filled']:.3f}, tiles {r['tiles']['filled']:.3f}, overlap {r['overlap']:.4f}")
