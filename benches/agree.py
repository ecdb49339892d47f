#!/usr/bin/env python3
"""Compares two answer files (`id,territory` rows, one per point inside a territory; `;` joins several).

Usage: agree.py OURS.csv OTHER.csv  -> prints one JSON object: counts inside, agreeing, and the points
only one side puts inside or where the territories differ (with up to 5 examples of each).
"""
import csv
import json
import sys


def read(path):
    with open(path, newline="") as f:
        return {int(r["id"]): frozenset(r["territory"].split(";")) for r in csv.DictReader(f)}


def compare(ours_path, other_path):
    ours, other = read(ours_path), read(other_path)
    only_ours = sorted(set(ours) - set(other))
    only_other = sorted(set(other) - set(ours))
    different = sorted(i for i in set(ours) & set(other) if ours[i] != other[i])
    return {
        "inside_ours": len(ours),
        "inside_other": len(other),
        "agree": len(set(ours) & set(other)) - len(different),
        "only_ours": len(only_ours),
        "only_other": len(only_other),
        "different_territory": len(different),
        "examples_only_ours": only_ours[:5],
        "examples_only_other": only_other[:5],
        "examples_different": different[:5],
    }


if __name__ == "__main__":
    print(json.dumps(compare(sys.argv[1], sys.argv[2])))
