"""PostgreSQL's binary COPY stream, built a column at a time with numpy instead of a row at a time.

Formatting rows one by one in Python (psycopg's ``write_row``) cost about 1 s per 100,000 rows of a
building layer; building each column's fields in one numpy step and joining them cost a third of that.
Format: https://www.postgresql.org/docs/current/sql-copy.html (Binary Format).
"""

from __future__ import annotations

import json
from itertools import chain, repeat

import numpy as np
import pandas as pd

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = b"\xff\xff"
_NULL = b"\xff\xff\xff\xff"
_PG_EPOCH = np.datetime64("2000-01-01", "D")
_FIXED = {"float8": ">f8", "int8": ">i8", "bool": "?", "date": ">i4"}


def fields(values: pd.Series | list | None, kind: str, count: int) -> list[bytes]:
    """Each row's field (length prefix and value, or the NULL marker) for one column of COPY type ``kind``."""
    if values is None:
        return [_NULL] * count
    if kind in _FIXED:
        return _fixed(values, kind, count)
    if kind == "bytea":
        return [_NULL if value is None else len(value).to_bytes(4, "big") + value for value in values]
    if kind == "jsonb":
        encoded = (None if value is None else b"\x01" + json.dumps(value, ensure_ascii=False, default=str).encode()
                   for value in _objects(values))
    else:  # text
        encoded = (None if value is None else str(value).encode() for value in _objects(values))
    return [_NULL if value is None else len(value).to_bytes(4, "big") + value for value in encoded]


def rows(columns: list[list[bytes]]) -> bytes:
    """The rows of the chunk, each a field count and its fields."""
    header = len(columns).to_bytes(2, "big")
    return b"".join(chain.from_iterable(zip(repeat(header), *columns)))


def _objects(values: pd.Series | list) -> list:
    if isinstance(values, pd.Series):
        return values.astype(object).where(values.notna(), None).tolist()
    return values


def _fixed(values: pd.Series | list, kind: str, count: int) -> list[bytes]:
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    present = series.notna().to_numpy()
    width = np.dtype(_FIXED[kind]).itemsize
    record = np.zeros(count, dtype=[("length", ">i4"), ("value", _FIXED[kind])])
    record["length"] = width
    if kind == "date":
        days = pd.to_datetime(series[present].astype(object)).to_numpy("datetime64[D]") - _PG_EPOCH
        record["value"][present] = days.astype("int64")
    elif kind == "bool":
        record["value"][present] = series[present].astype(bool).to_numpy()
    else:
        record["value"][present] = series[present].to_numpy(dtype=_FIXED[kind].replace(">", "<"))
    buffer = record.tobytes()
    step = 4 + width
    out = [buffer[start : start + step] for start in range(0, count * step, step)]
    for row in np.flatnonzero(~present).tolist():
        out[row] = _NULL
    return out
