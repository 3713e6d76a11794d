"""PostgreSQL's binary COPY as the importers write it (importers.copy_binary): every kind of column, NULLs
and odd values among them, written into a table of the blank twin (in the test's transaction, rolled
back) and read back as they went in. PostgreSQL itself is the judge of the format."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from importers import copy_binary
from twin.store.database import psycopg_of

pytestmark = pytest.mark.fast

COLUMNS = {"t": "text", "r": "float8", "i": "int8", "n": "int4", "b": "bool", "d": "date", "j": "jsonb",
           "g": "bytea"}


def copy_back(blank_twin, values: dict[str, object], count: int) -> list[tuple]:
    """COPY ``values`` (a column each, or None for a column of NULLs) into a table of COLUMNS, in one
    chunk, and read the rows back in order."""
    connection = psycopg_of(blank_twin)
    connection.execute("CREATE TEMP TABLE copied (row serial, " +
                       ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items()) + ")")
    fields = [copy_binary.fields(values.get(name), kind, count) for name, kind in COLUMNS.items()]
    with connection.cursor().copy(f"COPY copied ({', '.join(COLUMNS)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(copy_binary.SIGNATURE)
        copy.write(copy_binary.rows(fields))
        copy.write(copy_binary.TRAILER)
    return connection.execute(f"SELECT {', '.join(COLUMNS)} FROM copied ORDER BY row").fetchall()


def test_every_kind_with_nulls_reads_back_as_written(blank_twin) -> None:
    point = shapely.to_wkb(shapely.Point(563_000.5, 4_333_000.25))
    values = {
        "t": pd.Series(["管线 J1", None, "", "tab\tand\nnewline"]),
        "r": pd.Series([1.5, np.nan, -0.0, 1e300]),
        "i": pd.Series([1, None, -(2**63), 2**63 - 1], dtype="Int64"),
        "n": [7, None, -1, 2**31 - 1],
        "b": pd.Series([True, None, False, True], dtype="boolean"),
        "d": pd.Series([date(2015, 6, 30), None, date(1999, 12, 31), date(2000, 1, 1)], dtype=object),
        "j": [{"管径": 300, "ok": True}, None, [], "text"],
        "g": pa.array([point, None, b"", b"\x00\xff"], type=pa.binary()),
    }
    rows = copy_back(blank_twin, values, 4)
    assert rows[0] == ("管线 J1", 1.5, 1, 7, True, date(2015, 6, 30), {"管径": 300, "ok": True}, point)
    assert rows[1] == (None,) * len(COLUMNS)
    assert rows[2] == ("", -0.0, -(2**63), -1, False, date(1999, 12, 31), [], b"")
    assert rows[3] == ("tab\tand\nnewline", 1e300, 2**63 - 1, 2**31 - 1, True, date(2000, 1, 1), "text",
                       b"\x00\xff")


def test_a_column_of_nulls_and_values_not_yet_text(blank_twin) -> None:
    rows = copy_back(blank_twin, {"t": [12, 3.5, None], "j": pd.Series([{"at": date(2020, 1, 2)}, None, 5])}, 3)
    assert [row[0] for row in rows] == ["12", "3.5", None]  # what is not text is written as its str()
    assert [row[6] for row in rows] == [{"at": "2020-01-02"}, None, 5]  # JSON of what JSON lacks: its str()
    assert all(row[1:6] == (None,) * 5 for row in rows)  # the columns given no values: NULLs


def test_a_chunk_can_be_a_slice_of_a_larger_column(blank_twin) -> None:
    """Arrow slices keep their buffers' offset: the rows laid out are the slice's, not the column's start."""
    column = pa.array([b"a", b"bb", b"ccc", b"dddd"], type=pa.binary())
    rows = copy_back(blank_twin, {"g": column.slice(1, 2), "n": [1, 2]}, 2)
    assert [(row[3], row[7]) for row in rows] == [(1, b"bb"), (2, b"ccc")]
