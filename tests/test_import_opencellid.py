"""OpenCelliD exports, with and without the header row: NR cells become 5G base stations."""

from __future__ import annotations

import csv
import datetime
import gzip
from pathlib import Path

CALGARY = "EPSG:3776"  # NAD83 / Alberta 3TM ref merid 114 W
HEADER = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
CELLS = ("NR,302,220,1,100,-1,-113.93,50.91,1000,4,1,1761126446,1764562142,0\n"
         "LTE,302,220,1,101,-1,-113.94,50.92,2000,4,1,1761126446,1764562142,0\n"
         "NR,302,220,1,102,-1,-113.95,50.93,500,4,1,1761126446,1764562142,0\n")


def _nr_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["radio"] == "NR"]


def test_real_export_with_header(make_twin, real_copy) -> None:
    path = real_copy("cells/opencellid_calgary.csv")
    twin = make_twin(CALGARY)
    result = twin.run("import", str(path), "--layer", "base_stations_5g")
    assert "9 imported, 0 rejected" in result.stderr
    assert "2,597 cells of other radios skipped (GSM 63, LTE 2,390, UMTS 144)" in result.stderr
    expected = {
        f"{row['mcc']}-{row['net']}-{row['area']}-{row['cell']}": (
            row["cell"], float(row["range"]),
            datetime.datetime.fromtimestamp(int(row["created"]), datetime.timezone.utc).date(),
            float(row["lon"]), float(row["lat"]))
        for row in _nr_rows(path)
    }
    rows = twin.sql("SELECT source_id, cell_id, range_m, valid_from, ST_X(ST_Transform(geom, 4326)), "
                    "ST_Y(ST_Transform(geom, 4326)), radio, mcc, mnc FROM layers.base_stations_5g")
    assert len(rows) == 9
    for source_id, cell, range_m, valid_from, lon, lat, radio, mcc, mnc in rows:
        want = expected[source_id]
        assert (cell, range_m, valid_from) == want[:3]
        assert abs(lon - want[3]) < 1e-7 and abs(lat - want[4]) < 1e-7
        assert (radio, mcc, mnc) == ("NR", 302, 220)


def test_export_without_header_gives_the_same_cells(make_twin, real_copy, tmp_path: Path) -> None:
    path = real_copy("cells/opencellid_calgary.csv")
    headless = tmp_path / "302.csv"
    headless.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    twin = make_twin(CALGARY)
    twin.run("import", str(path), "--layer", "base_stations_5g", "--source", "with")
    twin.run("import", str(headless), "--layer", "base_stations_5g", "--source", "without")
    query = "SELECT source_id, range_m, ST_AsText(geom) FROM layers.base_stations_5g WHERE source = %s ORDER BY 1"
    assert twin.sql(query, "with") == twin.sql(query, "without")
    assert len(twin.sql(query, "without")) == 9


def test_bad_coordinates_are_rejected_with_the_row_number(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text(
        "NR,302,220,1,100,-1,-113.93,50.91,1000,4,1,1761126446,1764562142,0\n"
        "NR,302,220,1,101,-1,west,50.91,1000,4,1,1761126446,1764562142,0\n",
        encoding="utf-8",
    )
    twin = make_twin(CALGARY)
    result = twin.run("import", str(path), "--layer", "base_stations_5g")
    assert "1 imported, 1 rejected" in result.stderr
    assert twin.sql("SELECT row_number, source_id, reason FROM twin.rejects") == [(2, "302-220-1-101", "no geometry")]


def test_empty_and_broken_exports_are_refused(make_twin, tmp_path: Path) -> None:
    twin = make_twin(CALGARY)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = twin.run("import", str(empty), "--layer", "base_stations_5g", check=False)
    assert result.returncode == 1 and result.stderr.strip() == f"twin: {empty}: the file is empty"
    header_only = tmp_path / "header.csv"
    header_only.write_text("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n")
    result = twin.run("import", str(header_only), "--layer", "base_stations_5g", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"twin: {header_only}: no features for layer 'base_stations_5g' in the file"
    assert twin.count("base_stations_5g") == 0


def test_gzipped_exports_are_read_as_shipped(make_twin, tmp_path: Path) -> None:
    # OpenCelliD ships cell_towers.csv.gz (with the header) and <mcc>.csv.gz per country (without).
    full, country, plain = tmp_path / "cell_towers.csv.gz", tmp_path / "302.csv.gz", tmp_path / "cells.csv"
    full.write_bytes(gzip.compress((HEADER + CELLS).encode()))
    country.write_bytes(gzip.compress(CELLS.encode()))
    plain.write_text(HEADER + CELLS, encoding="utf-8")
    twin = make_twin(CALGARY)
    for path in (full, country, plain):
        result = twin.run("import", str(path), "--source", path.name)  # the format says which layer
        assert "2 imported, 0 rejected" in result.stderr, result.stderr
        assert "1 cells of other radios skipped (LTE 1)" in result.stderr
    query = "SELECT source_id, range_m, ST_AsText(geom) FROM layers.base_stations_5g WHERE source = %s ORDER BY 1"
    assert twin.sql(query, full.name) == twin.sql(query, country.name) == twin.sql(query, plain.name)
    assert [row[0] for row in twin.sql(query, full.name)] == ["302-220-1-100", "302-220-1-102"]


def test_a_cut_short_gzip_is_refused_in_one_line(make_twin, tmp_path: Path) -> None:
    whole = gzip.compress((HEADER + CELLS * 200).encode())
    path = tmp_path / "cell_towers.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    result = make_twin(CALGARY).run("import", str(path), "--layer", "base_stations_5g", check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (f"twin: {path}: not a readable gzip file (cut short); "
                                     "give the export as OpenCelliD ships it, or unpacked")
