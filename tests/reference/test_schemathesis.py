"""Schemathesis (property-based testing from the OpenAPI document) against the real binary on loopback, with
every check (`--checks all`): requests the document calls valid must be accepted, requests it calls invalid
refused, and every answer must have a documented status, media type and schema. So the document served at
/api/openapi.json has to describe the API as it behaves.

Bounded to a few examples per operation (about a minute on two cores) and seeded, so a CI run is repeatable;
`SCHEMATHESIS_EXAMPLES` raises the count for a longer local run.

Every operation is tested. Where a check is switched off for one operation, the reason is below, in
`SETTINGS`: each is a rule the server keeps that OpenAPI cannot state, and another test covers it."""

import os
import subprocess
import time

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))

# Per-operation settings (schemathesis.toml `[[operations]]`), each with why.
SETTINGS = [
    (
        # OGC API – Features /req/core/limit-response: a `limit` over the documented maximum (10,000) is
        # answered with 10,000 features, not refused, so the "invalid data is rejected" check cannot hold
        # for `limit`. And `filter` is CQL2 whose grammar and queryable names, `sortby`'s property names
        # and `bbox`'s order and CRS-dependent bounds cannot be written in OpenAPI: a schema-valid string
        # can be a 400. tests/ogc.rs, test_ogc_filter.py and test_ogc_crs.py check those against GEOS/PROJ.
        "GET /ogc/collections/{id}/items",
        {"checks.negative_data_rejection.enabled": "false",
         "checks.positive_data_acceptance.enabled": "false"},
    ),
    (
        # A CSV, XLSX or Parquet body is a table whose location columns (lon/lat, x/y, commune code, SIREN,
        # postal code) OpenAPI cannot describe: a random string or byte sequence is rightly a 400.
        # test_batch_inputs.py posts real tables.
        "POST /api/lookup",
        {"checks.positive_data_acceptance.enabled": "false"},
    ),
    (
        # The same tables, read for their header and first rows: an empty or headerless body is a 400,
        # while any other text is a CSV with some header, which inspect describes (a table without a
        # location column is reported as `unsure`, not refused), so a "wrongly typed" body is no error.
        # tests/batch_formats.rs and batch.test.mjs inspect real CSV, XLSX and Parquet files.
        "POST /api/lookup/inspect",
        {"checks.positive_data_acceptance.enabled": "false",
         "checks.negative_data_rejection.enabled": "false"},
    ),
    (
        # A map layer's `bbox` is four numbers (documented by a pattern), but their bounds and order (west ≤
        # east, south ≤ north) are a rule between them that a pattern cannot state: a 400.
        # tests/layers_valid.rs and tests/api.rs query real boxes.
        "GET /api/layers/territories.geojson",
        {"checks.positive_data_acceptance.enabled": "false"},
    ),
    (
        "GET /api/layers/units.geojson",
        {"checks.positive_data_acceptance.enabled": "false"},
    ),
    (
        # A polygon valid by the schema may still be no surface (a ring of four equal points): a 400.
        # tests/api.rs and test_areas.py post real parcels.
        "POST /api/intersects",
        {"checks.positive_data_acceptance.enabled": "false"},
    ),
]


def config_file(path):
    # Every check, as `--checks all` would (which would also override the settings per operation).
    # No stateful phase: the API creates nothing to chain requests on, and Schemathesis 4.32 infers links
    # from the `href`s of the OGC answers that pair `/ogc/collections/{id}` with `/tiles/{layer}/...`
    # parameters it then cannot find (its own "Invalid OpenAPI Links Definition", not the document's).
    lines = ["[checks]", "enabled = true", "", "[phases.stateful]", "enabled = false", ""]
    for name, settings in SETTINGS:
        lines.append("[[operations]]")
        lines.append(f'include-name = "{name}"')
        tables = {}
        for key, value in settings.items():
            table, _, leaf = key.rpartition(".")
            tables.setdefault(table, []).append(f"{leaf} = {value}")
        lines.append("")
        for table, entries in tables.items():
            lines.append(f"[operations.{table}]")
            lines.extend(entries)
            lines.append("")
    path.write_text("\n".join(lines))
    return path


def test_schemathesis_finds_nothing(server, tmp_path):
    config = config_file(tmp_path / "schemathesis.toml")
    started = time.time()
    run = subprocess.run(
        ["st", "--config-file", str(config), "run", f"{server.base}/api/openapi.json",
         "--max-examples", str(EXAMPLES), "--seed", "20240615",
         # One worker: Hypothesis describes its strategies from source, which two threads can trip over.
         "--workers", "1", "--no-color", "--request-timeout", "60",
         "--report", "junit", "--report-dir", str(tmp_path / "report")],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,  # its cache stays out of the repository
        env=dict(os.environ, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost"),
    )
    took = time.time() - started
    summary = run.stdout[-6000:]
    assert run.returncode == 0, f"schemathesis found failures ({took:.0f} s):\n{summary}\n{run.stderr[-2000:]}"
    # Every documented operation ran: none skipped or left out.
    assert "No operations" not in run.stdout and "Skipped" not in summary.split("SUMMARY")[-1], summary
    print(f"schemathesis: no failure in {took:.0f} s\n{summary[-1500:]}")
