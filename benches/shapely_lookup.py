#!/usr/bin/env python3
"""The bench points through shapely 2 (GEOS): which member polygon of edition 2023 contains each point.

Reads DIR/points.csv and DIR/members_2023.csv (written by `cargo run --release --example bench_data`),
prepares the member polygons and times two forms over all points at once (GEOS is single-threaded),
each the best of REPEAT runs:

- `within`: an STRtree of the members, `tree.query(points, predicate="within")`, the form the issue
  names. shapely prepares the *input* geometry of a predicate query, here each point, so the prepared
  members do not help this form;
- `contains`: an STRtree of the points (built inside the timing), `tree.query(members,
  predicate="contains")`, where each member is prepared (GEOS's indexed point-in-area locator) and
  tested against its candidate points: shapely's fast form for points in polygons.

Both must find the same pairs. Members map to territories; writes DIR/answers_shapely.csv (from the
`within` form) and prints one JSON object with the timings.

Usage: shapely_lookup.py DIR [REPEAT]
"""
import csv
import json
import os
import sys
import time

import numpy as np
import shapely
from shapely import STRtree


def main():
    data = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3

    t = time.perf_counter()
    territories, wkbs = [], []
    with open(os.path.join(data, "members_2023.csv"), newline="") as f:
        for row in csv.DictReader(f):
            territories.append(row["territory"])
            wkbs.append(row["wkb"])
    members = shapely.from_wkb(np.array(wkbs, dtype=object))
    territories = np.array(territories, dtype=object)
    xy = np.loadtxt(os.path.join(data, "points.csv"), delimiter=",", skiprows=1, usecols=(1, 2))
    read_s = time.perf_counter() - t

    t = time.perf_counter()
    points = shapely.points(xy[:, 0], xy[:, 1])
    points_s = time.perf_counter() - t

    t = time.perf_counter()
    shapely.prepare(members)
    tree = STRtree(members)
    prepare_s = time.perf_counter() - t

    runs = []
    hits = None
    for _ in range(repeat):
        t = time.perf_counter()
        hits = tree.query(points, predicate="within")
        runs.append(time.perf_counter() - t)
    query_s = min(runs)
    n = len(points)

    contains_runs = []
    reverse = None
    for _ in range(repeat):
        t = time.perf_counter()
        reverse = STRtree(points).query(members, predicate="contains")
        contains_runs.append(time.perf_counter() - t)
    contains_s = min(contains_runs)
    same_pairs = set(zip(hits[0].tolist(), hits[1].tolist())) == set(zip(reverse[1].tolist(), reverse[0].tolist()))

    point_idx, member_idx = hits
    inside = np.unique(point_idx)
    with open(os.path.join(data, "answers_shapely.csv"), "w") as f:
        f.write("id,territory\n")
        answers = {}
        for p, m in zip(point_idx.tolist(), member_idx.tolist()):
            answers.setdefault(p, set()).add(territories[m])
        for p in sorted(answers):
            f.write(f"{p},{';'.join(sorted(answers[p]))}\n")

    print(json.dumps({
        "shapely": shapely.__version__,
        "geos": ".".join(map(str, shapely.geos_version)),
        "numpy": np.__version__,
        "points": n,
        "members": len(members),
        "inside": int(len(inside)),
        "read_s": round(read_s, 3),
        "make_points_s": round(points_s, 3),
        "prepare_and_tree_s": round(prepare_s, 3),
        "query_runs_s": [round(r, 4) for r in runs],
        "query_best_s": round(query_s, 4),
        "ns_per_point": round(query_s / n * 1e9, 1),
        "ns_per_point_with_points_and_tree": round((query_s + points_s + prepare_s) / n * 1e9, 1),
        "contains_runs_s": [round(r, 4) for r in contains_runs],
        "contains_best_s": round(contains_s, 4),
        "contains_ns_per_point": round(contains_s / n * 1e9, 1),
        "forms_agree": same_pairs,
    }))


if __name__ == "__main__":
    main()
