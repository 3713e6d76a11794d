"""Writing an import: one transaction that replaces the source's rows with a bulk COPY, logs the import
and its rejects, or, on any failure, leaves the store exactly as it was."""

from __future__ import annotations

import io
import threading
import queue
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from twin.catalog import Layer
from twin.store.tables import CORE_SCHEMA, LAYER_SCHEMA

CHUNK_ROWS = 20_000
# Above this many rows into an empty table, building the spatial index once after the COPY beats
# updating it row by row.
REINDEX_ROWS = 20_000


@dataclass
class Load:
    """The rows to write: the feature model's columns and the layer's attributes, in twin's CRS."""

    layer: Layer
    source: str
    srid: int
    source_ids: pd.Series
    names: pd.Series | None
    valid_from: pd.Series | None
    valid_to: pd.Series | None
    geometry: np.ndarray
    columns: dict[str, pd.Series]

    def frame(self) -> pd.DataFrame:
        """The COPY's columns, as text PostgreSQL parses (geometries as hex EWKB)."""
        n = len(self.geometry)
        data: dict[str, object] = {
            "source": np.full(n, self.source, dtype=object),
            "source_id": self.source_ids.to_numpy(),
            "name": _or_nulls(self.names, n),
            "valid_from": _or_nulls(self.valid_from, n),
            "valid_to": _or_nulls(self.valid_to, n),
            "geom": _ewkb(self.geometry, self.srid),
        }
        for name, values in self.columns.items():
            kind = self.layer.attributes[name].type
            data[name] = _ewkb(values.to_numpy(object), self.srid) if kind == "solid" else values.to_numpy()
        return pd.DataFrame(data)


def _or_nulls(values: pd.Series | None, n: int) -> np.ndarray:
    return np.full(n, None, dtype=object) if values is None else values.to_numpy(object)


def _ewkb(geometry: np.ndarray, srid: int) -> np.ndarray:
    present = ~shapely.is_missing(geometry)
    out = np.full(len(geometry), None, dtype=object)
    if present.any():
        with_srid = shapely.set_srid(geometry[present], srid)
        out[present] = shapely.to_wkb(with_srid, hex=True, include_srid=True, flavor="extended")
    return out


def _csv_chunks(frame: pd.DataFrame) -> Iterator[bytes]:
    for start in range(0, len(frame), CHUNK_ROWS):
        buffer = io.StringIO()
        frame.iloc[start : start + CHUNK_ROWS].to_csv(buffer, header=False, index=False, na_rep="")
        yield buffer.getvalue().encode("utf-8")


def write(connection: psycopg.Connection, load: Load, log: dict[str, object],
          rejects: pd.DataFrame, progress: object = None) -> None:
    """Replace ``load.source`` in the layer's table and record the import, inside the caller's transaction."""
    table = sql.Identifier(LAYER_SCHEMA, load.layer.id)
    # Another import into the same layer waits here rather than interleaving.
    connection.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(table))
    connection.execute(sql.SQL("DELETE FROM {} WHERE source = %s").format(table), (load.source,))
    connection.execute(f"DELETE FROM {CORE_SCHEMA}.imports WHERE layer = %s AND source = %s",
                       (load.layer.id, load.source))
    frame = load.frame()
    empty = connection.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(table)).fetchone()[0]
    index = f"{load.layer.id}_geom_idx"
    rebuild = empty and len(frame) >= REINDEX_ROWS
    if rebuild:
        connection.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(LAYER_SCHEMA, index)))
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in frame.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(table, columns)
    _copy(connection, statement, _csv_chunks(frame), progress)
    if rebuild:
        connection.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(sql.Identifier(index), table))
    import_id = connection.execute(
        f"INSERT INTO {CORE_SCHEMA}.imports (layer, source, format, path, crs, imported, rejected, seconds) "
        "VALUES (%(layer)s, %(source)s, %(format)s, %(path)s, %(crs)s, %(imported)s, %(rejected)s, %(seconds)s) "
        "RETURNING id",
        log,
    ).fetchone()[0]
    if len(rejects):
        with connection.cursor().copy(
            f"COPY {CORE_SCHEMA}.rejects (import_id, row_number, source_id, reason, data) FROM STDIN"
        ) as copy:
            for row in rejects.itertuples(index=False):
                copy.write_row((import_id, int(row.row_number), row.source_id, row.reason, row.data))


def _copy(connection: psycopg.Connection, statement: sql.Composed, chunks: Iterator[bytes],
          progress: object) -> None:
    """COPY while the next chunk is being made: PostgreSQL parses one chunk as Python formats the next."""
    ready: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=2)

    def produce() -> None:
        try:
            for chunk in chunks:
                ready.put(chunk)
        except BaseException as exc:  # handed to the writer, which raises it in the caller's thread
            ready.put(exc)
            return
        ready.put(None)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    with connection.cursor().copy(statement) as copy:
        while (chunk := ready.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            copy.write(chunk)
            if progress is not None:
                progress.update(chunk.count(b"\n"))  # type: ignore[attr-defined]
    producer.join()
