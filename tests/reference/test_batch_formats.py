"""Batch answers in another format than the request's (`Accept`), read back with openpyxl and pyarrow —
readers that share no code with the service — and compared with the CSV answer of the same rows: N rows
in, N out, in order, every input column kept, the same answers. Also the columns a table is read by
(`POST /api/lookup/inspect`) and chosen by name (`?lon=...`)."""

import csv
import io
import json
import urllib.error
import urllib.request

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PARQUET = "application/vnd.apache.parquet"


def post(server, path, body, content_type, accept=None):
    headers = {"content-type": content_type}
    if accept:
        headers["accept"] = accept
    req = urllib.request.Request(server.base + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def csv_rows(body):
    """The CSV answer as header and rows of text."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return rows[0], rows[1:]


def xlsx_rows(body):
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def parquet_table(body):
    return pq.read_table(io.BytesIO(body))


def same_text(value, text):
    """A typed cell (number, None) against the CSV's text of the same cell."""
    if value is None:
        return text == ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text != "" and float(text) == value
    return str(value) == text


def known_sites_csv():
    return (ROOT / "tests/fixtures/known-sites.csv").read_bytes()


def sirene_csv():
    return (ROOT / "tests/fixtures/sirene-geoloc-sample.csv").read_bytes()


@pytest.fixture(scope="module")
def csv_answer(server):
    status, headers, body = post(server, "/api/lookup", sirene_csv(), CSV)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    return rows[0], rows[1:]


def test_csv_answered_as_xlsx_has_the_csv_answer_cell_for_cell(server, csv_answer):
    header, rows = csv_answer
    status, headers, body = post(server, "/api/lookup", sirene_csv(), CSV, accept=XLSX)
    assert status == 200 and headers["content-type"] == XLSX, headers
    assert "Accept" in headers.get("vary", "")
    x_header, x_rows = xlsx_rows(body)
    assert x_header == header
    assert len(x_rows) == len(rows) == 300
    for x_row, row in zip(x_rows, rows):
        assert len(x_row) == len(row)
        for value, text in zip(x_row, row):
            assert same_text(value, text), (value, text, row)
    # A code keeps its leading zero as text; a coordinate that reads back exactly is a number.
    siret = header.index("siret")
    assert all(isinstance(r[siret], (int, float)) for r in x_rows)
    assert x_rows[0][header.index("x")] == 734812 and x_rows[0][header.index("y")] == 6296111.3
    assert all(isinstance(r[header.index("plg_code_commune")], (int, str)) for r in x_rows)


def test_csv_answered_as_parquet_keeps_every_column_as_text(server, csv_answer):
    header, rows = csv_answer
    status, headers, body = post(server, "/api/lookup", sirene_csv(), CSV, accept=PARQUET)
    assert status == 200 and headers["content-type"] == PARQUET
    table = parquet_table(body)
    assert table.column_names == header
    assert table.num_rows == len(rows)
    for i, name in enumerate(header):
        values = table.column(name).to_pylist()
        kind = table.schema.field(name).type
        for value, row in zip(values, rows):
            if kind == pa.float64():  # border_m_E
                assert same_text(value, row[i]), (name, value, row[i])
            else:
                assert (value or "") == row[i], (name, value, row[i])


def test_xlsx_and_parquet_answered_as_csv_match_the_csv_answer(server, tmp_path):
    # The known sites as a workbook (numbers as numbers, codes as text) and as Parquet (typed columns).
    header, rows = csv_rows(known_sites_csv())
    numbers = {"lon", "lat"}
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sites"
    sheet.append(header)
    for row in rows:
        sheet.append([float(v) if h in numbers else v for h, v in zip(header, row)])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = buffer.getvalue()
    table = pa.table({h: [float(r[i]) for r in rows] if h in numbers else [r[i] for r in rows]
                      for i, h in enumerate(header)})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    parquet = sink.getvalue()

    status, _, body = post(server, "/api/lookup", known_sites_csv(), CSV, accept="text/csv")
    assert status == 200
    want_header, want = csv_rows(body)
    for content_type, data in [(XLSX, xlsx), (PARQUET, parquet)]:
        status, headers, body = post(server, "/api/lookup", data, content_type, accept="text/csv")
        assert status == 200 and headers["content-type"].startswith("text/csv"), (content_type, body[:200])
        got_header, got = csv_rows(body)
        assert got_header == want_header, content_type
        assert len(got) == len(want) == len(rows)
        for g, w in zip(got, want):
            assert g == w, (content_type, g, w)

    # XLSX → Parquet: the numbers stay doubles, the text stays text, the answers are the CSV's.
    status, _, body = post(server, "/api/lookup", xlsx, XLSX, accept=PARQUET)
    assert status == 200
    answered = parquet_table(body)
    assert answered.schema.field("lon").type == pa.float64()
    assert answered.schema.field("insee_com").type == pa.string()
    t = want_header.index("territory_2023_2")
    assert answered.column("territory_2023_2").to_pylist() == [w[t] for w in want]
    # An empty cell is a null.
    assert [v or "" for v in answered.column("insee_com").to_pylist()] == [r[header.index("insee_com")] for r in rows]


def test_dictionary_columns_answer_as_plain_ones(server):
    # pandas writes a categorical column as an Arrow dictionary: its codes must place rows as the same
    # plain text does, and an answer keeps the column (and its values) as it came, in every format.
    header, rows = csv_rows(known_sites_csv())
    kept = [h for h in header if h not in ("lon", "lat")]  # answered by the insee_com code

    def parquet(dictionary):
        columns = {}
        for h in kept:
            values = pa.array([r[header.index(h)] for r in rows])
            columns[h] = values.dictionary_encode() if dictionary else values
        sink = io.BytesIO()
        pq.write_table(pa.table(columns), sink)
        return sink.getvalue()

    plain, categorical = parquet(False), parquet(True)
    assert pq.read_schema(io.BytesIO(categorical)).field("insee_com").type == pa.dictionary(pa.int32(), pa.string())
    status, _, want = post(server, "/api/lookup", plain, PARQUET, accept="text/csv")
    assert status == 200
    want_header, want_rows = csv_rows(want)
    coded = sum(r[header.index("insee_com")] != "" for r in rows)  # all but a point at sea
    assert sum(r[want_header.index("located_by")] == "commune_code" for r in want_rows) == coded >= len(rows) - 1
    status, _, got = post(server, "/api/lookup", categorical, PARQUET, accept="text/csv")
    assert status == 200 and csv_rows(got) == (want_header, want_rows)
    status, _, got = post(server, "/api/lookup", categorical, PARQUET)
    assert status == 200
    table = parquet_table(got)
    assert table.schema.field("insee_com").type == pa.dictionary(pa.int32(), pa.string())
    assert table.column("insee_com").to_pylist() == [r[header.index("insee_com")] for r in rows]
    t = want_header.index("territory_2023_2")
    assert table.column("territory_2023_2").to_pylist() == [w[t] for w in want_rows]


def test_unsatisfiable_accept_is_406_and_star_is_the_body_format(server):
    status, headers, body = post(server, "/api/lookup", known_sites_csv(), CSV, accept="image/png")
    assert status == 406
    error = json.loads(body)["error"]
    assert error["code"] == "not_acceptable" and "image/png" in error["message"]
    status, headers, _ = post(server, "/api/lookup", known_sites_csv(), CSV, accept="image/png, */*;q=0.1")
    assert status == 200 and headers["content-type"].startswith("text/csv")


def test_inspect_and_chosen_columns(server):
    status, _, body = post(server, "/api/lookup/inspect", sirene_csv(), CSV)
    assert status == 200
    inspected = json.loads(body)
    read = {c["key"]: c["column"] for c in inspected["columns"]}
    assert (read["x"], read["y"], read["epsg"], read["lon"]) == ("x", "y", "epsg", "x_longitude")
    assert {"reason": "both_pairs"} in inspected["unsure"]
    assert len(inspected["sample"]) == 5 and inspected["separator"] == ";"

    # Read by lon/lat only (x/y left unused): rows without WGS84 coordinates fall back to their commune.
    status, _, body = post(server, "/api/lookup?x=&y=", sirene_csv(), CSV)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 300
    # SIRENE's quality 33 (the commune's centre) is answered by commune even with a point.
    with_point = [r for r in rows if r["x_longitude"] and r["qualite_xy"] != "33"]
    assert with_point and all(r["located_by"].startswith("point") for r in with_point)

    status, _, body = post(server, "/api/lookup?lon=Longitude%20GPS&lat=lat", sirene_csv(), CSV)
    assert status == 400
    message = json.loads(body)["error"]["message"]
    assert "Longitude GPS" in message and "x_longitude" in message
