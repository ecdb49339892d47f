"""The committed geodata read with pyshp and shapely only, independently of the service's readers:
communes with their EPCI/EPT, and each territory's communes and reference outline."""

import functools

import shapefile
import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.geometry.polygon import orient

GEOD = Geod(ellps="WGS84")


def geodesic_area_m2(geom):
    """Area on the WGS84 ellipsoid (PROJ's geodesic, Karney), rings oriented first so the sign is right."""
    if geom.is_empty:
        return 0.0
    polys = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    total = 0.0
    for p in polys:
        if p.geom_type != "Polygon" or p.is_empty:
            continue
        area, _ = GEOD.geometry_area_perimeter(orient(p, 1.0))
        total += area
    return total


def polygons_only(geom):
    """The polygonal part of an overlay result (GEOS may return collections with lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


class Communes:
    def __init__(self, geodata):
        reader = shapefile.Reader(str(geodata / "communes.shp"), encoding="utf-8")
        names = [f[0] for f in reader.fields[1:]]
        self.records = [dict(zip(names, r)) for r in reader.records()]
        self.geoms = [shape(s.__geo_interface__) for s in reader.shapes()]
        self.tree = shapely.STRtree(self.geoms)
        self.by_parent = {}
        self.by_insee = {}
        self.by_siren = {}
        for i, r in enumerate(self.records):
            self.by_insee[r["INSEE"]] = i
            if r["SIREN"]:
                self.by_siren[r["SIREN"]] = i
            for parent in (r["EPCI"], r["EPT"]):
                if parent:
                    self.by_parent.setdefault(parent, []).append(i)

    def of_member(self, kind, code):
        """Commune indexes of a territory member (EPCI/EPT by SIREN, or a commune by INSEE code or SIREN)."""
        if kind in ("EPCI", "EPT"):
            return self.by_parent.get(code, [])
        i = self.by_insee.get(code, self.by_siren.get(code))
        return [] if i is None else [i]

    @functools.lru_cache(maxsize=None)
    def area_m2(self, i):
        return geodesic_area_m2(self.geoms[i])


@functools.lru_cache(maxsize=1)
def communes_of(geodata):
    return Communes(geodata)
