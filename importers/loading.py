"""Writing an import: one transaction that logs the import and its rejects, keeps the source's rows in
the history tables and replaces them with a binary COPY (or, for a snapshot, applies what changed:
:mod:`importers.snapshot`), or, on any failure, leaves the store exactly as it was."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from importers import copy_binary
from twin.catalog import FEATURE_COLUMNS, Layer
from twin.store import core_table, history_table, layer_table

CHUNK_ROWS = 20_000
# Loading this many rows into an empty table, building its indexes once afterwards (a sort) beats
# updating them row by row several times over.
REBUILD_ROWS = 20_000
_COPY_TYPES = {"text": "text", "integer": "int8", "real": "float8", "date": "date", "boolean": "bool",
               "json": "jsonb", "solid": "bytea"}


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
    import_id: int | None = None  # the import writing the rows, once logged
    ids_from_rows: bool = False  # the source has no ids of its own: row numbers stand in

    def __len__(self) -> int:
        return len(self.geometry)

    def copy_columns(self) -> list[tuple[str, str]]:
        """(column, COPY type) in the order :meth:`chunk` writes them."""
        fixed = [("source", "text"), ("source_id", "text"), ("import_id", "int4"), ("name", "text"),
                 ("valid_from", "date"), ("valid_to", "date"), ("geom", "bytea")]
        return fixed + [(name, _COPY_TYPES[self.layer.attributes[name].type]) for name in self.columns]

    def chunk(self, start: int, stop: int) -> memoryview:
        """Rows ``start:stop`` in PostgreSQL's binary COPY format (geometries as EWKB)."""
        part = slice(start, stop)
        count = stop - start
        values: list[pd.Series | list | pa.Array | None] = [
            [self.source] * count,
            _part(self.source_ids, part),
            [self.import_id] * count,
            _part(self.names, part),
            _part(self.valid_from, part),
            _part(self.valid_to, part),
            _ewkb(self.geometry[part], self.srid, self.layer.geometry),
        ]
        for name, series in self.columns.items():
            if self.layer.attributes[name].type == "solid":
                values.append(_ewkb(series.iloc[part].to_numpy(object), self.srid, "polygon"))
            else:
                values.append(_part(series, part))
        kinds = [kind for _, kind in self.copy_columns()]
        return copy_binary.rows([copy_binary.fields(column, kind, count) for column, kind in zip(values, kinds)])


def _part(series: pd.Series | None, part: slice) -> pd.Series | None:
    return None if series is None else series.iloc[part]


# Extended WKB (PostGIS): flags in the high bits of the type word; a multi-part's type is its part's + 3.
_SRID_FLAG = 0x20000000
_SINGLE_PARTS = {"line": 2, "polygon": 3}  # LineString, Polygon


def _ewkb(geometry: np.ndarray, srid: int, kind: str) -> pa.BinaryArray:
    """EWKB with ``srid`` of each geometry (null where none); single lines and polygons written as
    multi-parts of one, the table's type, by wrapping their WKB rather than copying the geometries."""
    wkb = pa.array(shapely.to_wkb(geometry, flavor="extended", byte_order=1), type=pa.binary())
    count = len(wkb)
    offsets = np.frombuffer(wkb.buffers()[1], np.int32)[wkb.offset : wkb.offset + count + 1]
    data = np.frombuffer(wkb.buffers()[2], np.uint8) if count and offsets[-1] > offsets[0] else np.zeros(5, np.uint8)
    present = np.diff(offsets) > 0
    starts = np.where(present, offsets[:-1], 0)
    words = sum(data[starts + 1 + i].astype(np.uint32) << (8 * i) for i in range(4))
    single = present & ((words & 0xFF) == _SINGLE_PARTS.get(kind, 0))
    # Plain: the type word gains the SRID flag and the SRID follows it. Wrapped: a multi-part header
    # with the SRID and a part count of one, then the single geometry's own WKB.
    heads = copy_binary.fixed_width(_header(words, srid).tobytes(), 9, count)
    tails = pc.binary_slice(wkb, 5, np.iinfo(np.int32).max)  # pyarrow 26 fails without a stop
    if single.any():
        wrap = pa.array(single)
        wrapped = _header(words + 3, srid, parts=1)
        heads = pc.if_else(wrap, copy_binary.fixed_width(wrapped.tobytes(), 13, count), heads)
        tails = pc.if_else(wrap, wkb, tails)
    return pc.binary_join_element_wise(heads, tails, copy_binary.EMPTY)  # null where ``wkb`` is


def _header(words: np.ndarray, srid: int, parts: int | None = None) -> np.ndarray:
    """Each row's EWKB header: little-endian, its type word with the SRID flag, the SRID, and for a
    multi-part its count of parts."""
    fields = [("order", "u1"), ("type", "<u4"), ("srid", "<u4")] + ([("parts", "<u4")] if parts else [])
    header = np.zeros(len(words), dtype=fields)
    header["order"], header["type"], header["srid"] = 1, words | _SRID_FLAG, srid
    if parts:
        header["parts"] = parts
    return header


class Progress(Protocol):
    """What the load reports to: a tqdm bar."""

    def update(self, n: int) -> object: ...

    def set_description(self, desc: str) -> None: ...


def write(connection: psycopg.Connection, load: Load, log: dict[str, object], rejects: pd.DataFrame,
          progress: Progress | None = None, snapshot: Snapshot | None = None) -> dict[str, int] | None:
    """Write ``load`` and record the import, inside the caller's transaction: replace ``load.source`` in
    the layer's table, or with ``snapshot``, apply the changes since its last snapshot (their counts)."""
    table = layer_table(load.layer.id)
    # Another import into the same layer waits here rather than interleaving.
    connection.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(table))
    load.import_id = _log(connection, log, rejects, snapshot)
    if snapshot is not None:
        from importers import snapshot as snapshots

        changes = snapshots.apply(connection, load, snapshot, rejects["source_id"].dropna().astype(str).tolist(),
                                  progress)
        connection.execute(sql.SQL("UPDATE {} SET changes = %s WHERE id = %s").format(core_table("imports")),
                           (Jsonb(changes), load.import_id))
        return changes
    others = holds(connection, load.layer.id, load.source, others=True)
    keep_rows(connection, load.layer, sql.SQL("source = %s"), (load.source,), load.import_id)
    if others:
        connection.execute(sql.SQL("DELETE FROM {} WHERE source = %s").format(table), (load.source,))
    else:
        # The table holds only this source: emptying it is cheaper, and PostgreSQL can skip the WAL for a
        # COPY into a table truncated in the same transaction.
        connection.execute(sql.SQL("TRUNCATE {}").format(table))
    indexes = _drop_indexes(connection, load.layer.id) if not others and len(load) >= REBUILD_ROWS else []
    copy_rows(connection, table, load, progress)
    if indexes and progress is not None:  # a second or so a million rows, after the bar is full
        progress.set_description(f"indexing {load.layer.id}")
    for definition in indexes:
        connection.execute(definition)
    return None


@dataclass(frozen=True)
class Snapshot:
    """A snapshot import: ``path``, the source as it stood on ``as_of``, matched with what the twin holds of it."""

    path: Path
    as_of: date
    tolerance_m: float  # how far a footprint may move and still be the same feature (sources without ids)


def holds(connection: psycopg.Connection, layer_id: str, source: str, *, others: bool = False) -> bool:
    """Whether the layer's table holds rows of ``source`` (with ``others``: rows of any source but it)."""
    which = sql.SQL("source <> %s" if others else "source = %s")
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(layer_table(layer_id), which)
    return connection.execute(query, (source,)).fetchone()[0]


def keep_rows(connection: psycopg.Connection, layer: Layer, where: sql.Composable, params: tuple,
              import_id: int) -> int:
    """Copy the layer's rows that ``where`` selects into its history table, as superseded by ``import_id``,
    before that import deletes or alters them; how many."""
    columns = sql.SQL(", ").join(map(sql.Identifier, [*FEATURE_COLUMNS, *layer.attributes]))
    return connection.execute(
        sql.SQL("INSERT INTO {history} ({columns}, superseded_by) SELECT {columns}, %s FROM {table} WHERE {where}")
        .format(history=history_table(layer.id), table=layer_table(layer.id),
                columns=columns, where=where),
        (import_id, *params),
    ).rowcount


def copy_rows(connection: psycopg.Connection, table: sql.Identifier, load: Load, progress: Progress | None) -> None:
    """COPY ``load``'s rows into ``table`` (a layer table, or a snapshot's staging table)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        table, sql.SQL(", ").join(sql.Identifier(name) for name, _ in load.copy_columns())
    )
    _copy(connection, statement, _chunks(load), progress)


def _log(connection: psycopg.Connection, log: dict[str, object], rejects: pd.DataFrame,
         snapshot: Snapshot | None) -> int:
    """Record the import and its rejected rows; its id."""
    import_id = connection.execute(
        sql.SQL("INSERT INTO {} (layer, source, format, path, crs, imported, rejected, seconds, as_of) "
                "VALUES (%(layer)s, %(source)s, %(format)s, %(path)s, %(crs)s, %(imported)s, %(rejected)s, "
                "%(seconds)s, %(as_of)s) RETURNING id").format(core_table("imports")),
        {**log, "as_of": snapshot.as_of if snapshot else None},
    ).fetchone()[0]
    if len(rejects):
        with connection.cursor().copy(
            sql.SQL("COPY {} (import_id, row_number, source_id, reason, data) FROM STDIN").format(core_table("rejects"))
        ) as copy:
            for row in rejects.itertuples(index=False):
                copy.write_row((import_id, int(row.row_number), row.source_id, row.reason, row.data))
    return import_id


def _drop_indexes(connection: psycopg.Connection, layer_id: str) -> list[str]:
    """Drop the table's indexes (its primary key too); returns the statements that make them again."""
    connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
    rows = connection.execute(
        "SELECT n.nspname, x.relname, pg_get_indexdef(i.indexrelid), c.conname, "
        "pg_get_constraintdef(c.oid) FROM pg_index i "
        "JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_namespace n ON n.oid = x.relnamespace "
        "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
        "WHERE i.indrelid = %s::regclass",
        (layer_table(layer_id).as_string(connection),),
    ).fetchall()
    table = layer_table(layer_id)
    remake: list[str] = []
    for schema, index, definition, constraint, constraint_definition in rows:
        if constraint:
            connection.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(constraint)))
            remake.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(table, sql.Identifier(constraint))
                          .as_string(connection) + constraint_definition)
        else:
            connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, index)))
            remake.append(definition)
    return remake


def _chunks(load: Load) -> Iterator[tuple[memoryview, int]]:
    for start in range(0, len(load), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, len(load))
        yield load.chunk(start, stop), stop - start


def _copy(connection: psycopg.Connection, statement: sql.Composed, chunks: Iterator[tuple[memoryview, int]],
          progress: Progress | None) -> None:
    """COPY while the next chunk is being made: PostgreSQL parses one chunk as Python prepares the next."""
    ready: queue.Queue[tuple[memoryview, int] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()  # the COPY has ended, well or not: make no more chunks

    def hand(item: tuple[memoryview, int] | BaseException | None) -> bool:
        """Queue ``item`` unless the COPY has ended; whether it was."""
        if stop.is_set():
            return False
        ready.put(item)
        return True

    def produce() -> None:
        try:
            for chunk in chunks:
                if not hand(chunk):
                    return
        except BaseException as exc:  # handed to the writer, which raises it in the caller's thread
            hand(exc)
            return
        hand(None)

    producer = threading.Thread(target=produce, name="twin-copy-producer", daemon=True)
    producer.start()
    try:
        with connection.cursor().copy(statement) as copy:
            copy.write(copy_binary.SIGNATURE)
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                data, count = item
                copy.write(data)
                if progress is not None:
                    progress.update(count)
            copy.write(copy_binary.TRAILER)
    finally:
        # When the COPY fails midway (the connection lost, an interrupt) the producer may be waiting on
        # the full queue. Told to stop, it queues at most the one item it was already handing over, for
        # which draining leaves room; then it ends and is joined.
        stop.set()
        _drain(ready)
        producer.join()


def _drain(ready: queue.Queue) -> None:
    while True:
        try:
            ready.get_nowait()
        except queue.Empty:
            return
