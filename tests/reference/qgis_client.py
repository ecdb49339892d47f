"""QGIS (Debian's python3-qgis, 3.22) as a real client of a running `territoires serve`, run by the system
Python (`/usr/bin/python3`) with QT_QPA_PLATFORM=offscreen from test_clients_qgis.py, which asserts on the JSON
this prints on its last line.

    qgis_client.py BASE_URL OUT_DIR

- Each OGC API – Features collection as a QGIS `OAPIF` layer: valid or not, the features QGIS reads, their ids,
  how many are not valid for GEOS (QgsGeometry.isGeosValid).
- The territories' vector tiles as a `QgsVectorTileLayer`. QGIS 3.22 cannot open a TileJSON URL as a vector
  tile source, so the layer is made from the `tiles` template the TileJSON gives (`type=xyz&url=...`), with
  its zooms. While it renders, a renderer that wraps QGIS's own basic renderer records, per tile QGIS
  decoded, the features of each MVT layer QGIS found (the test compares them with another decoder).
- One PNG per view and per layer (OAPIF and vector tiles), black fill without outline on white, in
  EPSG:3857; for each, the share of non-background pixels and the overlap (intersection over union) of
  the two layers' pixels.

QGIS may crash while tearing down, so the script ends with os._exit(0) after printing."""

import json
import os
import sys
import time
import urllib.request

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFillSymbol,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

import numpy as np

COLLECTIONS = ["territories-2023", "territories-2019", "epci", "ept"]
TILE_LAYER = "territories-2023"
# Views in CRS84: metropolitan France (tiles around zoom 6) and Hauts-de-France (tiles around zoom 8).
VIEWS = {
    "france": ((-5.3, 41.2, 9.7, 51.2), 900),
    "hauts-de-france": ((1.3, 48.8, 4.4, 51.1), 900),
}


def oapif_layer(base, collection):
    uri = f"url='{base}/ogc' typename='{collection}' restrictToRequestBBOX='0'"
    return QgsVectorLayer(uri, collection, "OAPIF")


def read_oapif(base, collection):
    started = time.time()
    layer = oapif_layer(base, collection)
    out = {"valid": layer.isValid(), "provider_count": layer.featureCount()}
    if not layer.isValid():
        return out
    id_field = "id" if collection.startswith("territories") else "code"
    ids, invalid, empty = [], [], 0
    for f in layer.getFeatures():
        g = f.geometry()
        ids.append(f[id_field])
        if g.isEmpty():
            empty += 1
        elif not g.isGeosValid():
            invalid.append(f[id_field])
        if QgsWkbTypes.geometryType(g.wkbType()) != QgsWkbTypes.PolygonGeometry:
            invalid.append(f"{f[id_field]}: not a polygon")
    out.update(features=len(ids), ids=ids, invalid=invalid, empty=empty,
               fields=[f.name() for f in layer.fields()], seconds=round(time.time() - started, 2))
    return out


def black_fill():
    return QgsFillSymbol.createSimple({"color": "0,0,0,255", "outline_style": "no"})


class RecordingRenderer(QgsVectorTileBasicRenderer):
    """QGIS's basic vector tile renderer that also writes down, per tile, the feature count of each layer."""

    def __init__(self, record):
        super().__init__()
        self.record = record

    def clone(self):
        copy = RecordingRenderer(self.record)
        copy.setStyles(self.styles())
        return copy

    def renderTile(self, tile, context):
        t = tile.id()
        self.record[f"{t.zoomLevel()}/{t.column()}/{t.row()}"] = {
            name: len(tile.layerFeatures(name)) for name in tile.layers()
        }
        super().renderTile(tile, context)


def tile_layer(base, record):
    with urllib.request.urlopen(f"{base}/tiles/{TILE_LAYER}.json", timeout=60) as r:
        tilejson = json.loads(r.read())
    template = tilejson["tiles"][0]
    uri = f"type=xyz&url={template}&zmin={tilejson['minzoom']}&zmax={tilejson['maxzoom']}"
    layer = QgsVectorTileLayer(uri, TILE_LAYER)
    style = QgsVectorTileBasicRendererStyle("fill", "", QgsWkbTypes.PolygonGeometry)
    style.setSymbol(black_fill())
    renderer = RecordingRenderer(record)
    renderer.setStyles([style])
    layer.setRenderer(renderer)
    info = {"uri": uri, "valid": layer.isValid(), "source_min_zoom": layer.sourceMinZoom(),
            "source_max_zoom": layer.sourceMaxZoom(), "tilejson_bounds": tilejson["bounds"]}
    return layer, info


def render(layer, bounds, width, path):
    """Render one layer over `bounds` (CRS84) in EPSG:3857 at `width` pixels; the filled pixels as a mask."""
    web = QgsCoordinateReferenceSystem("EPSG:3857")
    to_web = QgsCoordinateTransform(QgsCoordinateReferenceSystem("OGC:CRS84"), web, QgsProject.instance())
    extent = to_web.transformBoundingBox(QgsRectangle(*bounds))
    height = round(width * extent.height() / extent.width())
    settings = QgsMapSettings()
    settings.setDestinationCrs(web)
    settings.setLayers([layer])
    settings.setOutputSize(QSize(width, height))
    settings.setExtent(extent)
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(str(path), "PNG")
    image = image.convertToFormat(image.Format_RGB32)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    pixels = np.frombuffer(bytes(ptr), dtype=np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    pixels = pixels[:, : image.width(), :3]
    filled = pixels.max(axis=2) < 128
    errors = [str(e.message) for e in job.errors()]
    return filled, {"png": str(path), "width": image.width(), "height": image.height(),
                    "filled": float(filled.mean()), "errors": errors,
                    "scale": settings.scale()}


def main():
    base, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    result = {"qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION, "oapif": {}, "renders": {}}
    for collection in COLLECTIONS:
        result["oapif"][collection] = read_oapif(base, collection)

    record = {}
    tiles, info = tile_layer(base, record)
    result["tiles"] = info
    oapif = oapif_layer(base, TILE_LAYER)
    oapif.setRenderer(QgsSingleSymbolRenderer(black_fill()))
    for view, (bounds, width) in VIEWS.items():
        record.clear()
        a, ra = render(oapif, bounds, width, os.path.join(out_dir, f"{view}-oapif.png"))
        b, rb = render(tiles, bounds, width, os.path.join(out_dir, f"{view}-tiles.png"))
        union = int((a | b).sum())
        result["renders"][view] = {
            "oapif": ra,
            "tiles": rb,
            "overlap": float((a & b).sum() / union) if union else 0.0,
            "tile_features": dict(record),
        }
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
