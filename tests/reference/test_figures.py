"""Communes and population per territory, EPCI and EPT, counted here with pyshp from geodata/communes.dbf
and with the csv module from the committed lists, against what the running binary answers."""

import csv
from collections import defaultdict

import shapefile


def _communes(geodata):
    with shapefile.Reader(str(geodata / "communes"), encoding="utf-8") as r:
        names = [f[0] for f in r.fields[1:]]
        for rec in r.iterRecords():
            row = dict(zip(names, rec))
            # 21 communes have no population in the source; they add nothing.
            yield row["SIREN"], row["EPCI"] or "", row["EPT"] or "", int(row["POP"] or 0)


def _expected(geodata, edition):
    members = defaultdict(set)
    with open(geodata / "territories" / f"{edition}.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            members[row["id_ti"]].add(row["member_siren"])
    communes = list(_communes(geodata))
    out = {}
    for tid, sirens in members.items():
        covered = [c for c in communes if c[0] in sirens or c[1] in sirens or c[2] in sirens]
        out[tid] = (len(covered), sum(c[3] for c in covered))
    return out


def test_every_territory_of_both_editions(server, geodata):
    for edition, count in (("2023", 183), ("2019", 149)):
        expected = _expected(geodata, edition)
        answered = server.json(f"/api/territories?edition={edition}")
        assert len(answered) == len(expected) == count
        for t in answered:
            assert (t["communes"], t["population"]) == expected[t["id"]], (edition, t["id"])
    soissons = server.json("/api/territories/2023/ti-3214")
    # The sum of POP over its 164 communes (the 107,206 is not what this field gives).
    assert (soissons["communes"], soissons["population"]) == (164, 107206)


def test_epci_and_ept_in_units_and_ogc_items(server, geodata):
    totals = defaultdict(lambda: [0, 0])
    for _, epci, ept, pop in _communes(geodata):
        for parent in (epci, ept):
            if parent:
                totals[parent][0] += 1
                totals[parent][1] += pop
    for code in ("240200477", "200054781", "200057990"):
        unit = server.json(f"/api/units/{code}")
        assert [unit["communes"], unit["population"]] == totals[code], code
    items = server.json("/ogc/collections/ept/items?limit=100")["features"]
    assert len(items) == 11
    for f in items:
        p = f["properties"]
        assert [p["communes"], p["population"]] == totals[p["code"]], p["code"]


def test_editions_name_their_label_date_and_licence(server):
    editions = {e["id"]: e for e in server.json("/api/editions")}
    assert editions["2023"]["meta"]["label"]["fr"] == "Phase II (2023-2027)"
    assert editions["2023"]["meta"]["list_date"] == "2024-07-04"
    assert editions["2023"]["meta"]["attribution"] == "ANCT — Territoires d'industrie, données 2024-07-04"
    assert editions["2019"]["meta"]["label"]["en"] == "Phase I (2019-2022)"
    collection = server.json("/ogc/collections/territories-2023")
    assert "Phase II (2023-2027)" in collection["title"]
    assert any(link["rel"] == "license" for link in collection["links"])
