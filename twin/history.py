"""The twin's two times: when a feature stood in the city (valid time: ``valid_from``/``valid_to``) and
when the twin learnt it (transaction time: the import that wrote each row, and, in the history tables,
the import that replaced it). From them: a feature's versions, what the twin said on any earlier day, the
import log, and undoing an import.

A feature is its layer, source and source id; its versions are the rows that share them (``version``
1, 2, ...); its id is version 1's (:func:`twin.store.tables.stable_id`), and any version's id finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from twin.catalog import FEATURE_COLUMNS, Catalog, Layer
from twin.errors import ParameterError
from twin.store import core_table, history_table, layer_table

IMPORTS = core_table("imports")


def _recorded(column: str) -> sql.Composed:
    """When the import that ``column`` names entered its rows: its transaction's start, the same for every
    layer it wrote."""
    return sql.SQL("(SELECT imported_at FROM {} i WHERE i.id = {})").format(IMPORTS, sql.Identifier(column))


@dataclass(frozen=True)
class Import:
    """One row of the import log."""

    id: int
    layer: str
    source: str
    format: str
    path: str
    imported: int
    rejected: int
    imported_at: datetime
    as_of: date | None
    changes: dict[str, int] | None

    def __str__(self) -> str:
        snapshot = f" as of {self.as_of}" if self.as_of else ""
        changes = ""
        if self.changes:
            changes = " (" + ", ".join(f"{count:,} {kind}" for kind, count in self.changes.items()
                                       if kind in ("new", "altered", "vanished", "back", "unchanged") and count) + ")"
        return (f"{self.id:>5}  {self.imported_at:%Y-%m-%d %H:%M}  {self.layer:<20} {self.source:<20} "
                f"{self.imported:>9,}{snapshot}{changes}")


def imports(connection: psycopg.Connection, layer: str | None = None) -> list[Import]:
    """The import log, oldest first (of one layer, where given)."""
    rows = connection.execute(
        sql.SQL("SELECT id, layer, source, format, path, imported, rejected, imported_at, as_of, changes "
                "FROM {} WHERE %(layer)s::text IS NULL OR layer = %(layer)s ORDER BY id").format(IMPORTS),
        {"layer": layer}).fetchall()
    return [Import(*row) for row in rows]


def undo(connection: psycopg.Connection, catalog: Catalog, import_id: int) -> list[Import]:
    """Undo import ``import_id`` and those made with it (one ``twin import`` of several layers), inside
    the caller's transaction: its rows removed, the rows it replaced or closed put back, its log entry and
    rejects gone. Refused while a later import of the same layer and source builds on it. The undone."""
    undone = [entry for entry in imports(connection) if entry.id in _run(connection, import_id)]
    for entry in undone:
        later = connection.execute(
            sql.SQL("SELECT id FROM {} WHERE layer = %s AND source = %s AND id > %s ORDER BY id DESC").format(IMPORTS),
            (entry.layer, entry.source, entry.id)).fetchone()
        if later and later[0] not in {other.id for other in undone}:
            raise ParameterError(f"--undo {import_id}: import {later[0]} of source '{entry.source}' into layer "
                                 f"'{entry.layer}' came after it and builds on it; undo {later[0]} first")
    for entry in undone:
        layer = catalog[entry.layer]
        table, history = layer_table(layer.id), history_table(layer.id)
        connection.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(table))
        connection.execute(sql.SQL("DELETE FROM {} WHERE import_id = %s").format(table), (entry.id,))
        kept = sql.SQL(", ").join(map(sql.Identifier, [*FEATURE_COLUMNS[1:], *layer.attributes]))  # id: computed
        connection.execute(sql.SQL("INSERT INTO {table} ({kept}) SELECT {kept} FROM {history} WHERE superseded_by = %s")
                           .format(table=table, history=history, kept=kept), (entry.id,))
        connection.execute(sql.SQL("DELETE FROM {} WHERE superseded_by = %s").format(history), (entry.id,))
    connection.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(IMPORTS), ([entry.id for entry in undone],))
    return undone


def _run(connection: psycopg.Connection, import_id: int) -> set[int]:
    rows = connection.execute(
        sql.SQL("SELECT id FROM {0} WHERE run = (SELECT run FROM {0} WHERE id = %s)").format(IMPORTS),
        (import_id,)).fetchall()
    if not rows:
        raise ParameterError(f"--undo {import_id}: no import has that id (`twin imports` lists them)")
    return {row[0] for row in rows}


def versions(connection: psycopg.Connection, layer: Layer, feature_id: str,
             recorded: datetime | None = None, srid: int | None = None) -> list[dict]:
    """Every version of the feature that ``feature_id`` (the id of any of its versions) is, oldest first,
    as the twin holds them now, or as it held them at ``recorded``; each with when it was recorded and its
    attributes (the geometry as GeoJSON, in the twin's CRS or, given ``srid``, transformed to that one).
    Empty when no row has that id."""
    shown = [name for name in FEATURE_COLUMNS if name != "geom"]
    shown += [name for name, attribute in layer.attributes.items() if attribute.type != "solid"]
    columns = sql.SQL(", ").join(map(sql.Identifier, shown))
    table, history = layer_table(layer.id), history_table(layer.id)
    said = sql.SQL("")
    rows_then = sql.SQL("")
    if recorded is not None:
        said = sql.SQL("WHERE (import_id IS NULL OR {} <= %(recorded)s)").format(_recorded("import_id"))
        rows_then = sql.SQL(
            " UNION ALL SELECT {columns}, geom FROM {history} WHERE source = (SELECT source FROM feature) "
            "AND source_id = (SELECT source_id FROM feature) AND (import_id IS NULL OR {written} <= %(recorded)s) "
            "AND {superseded} > %(recorded)s").format(columns=columns, history=history,
                                                     written=_recorded("import_id"), superseded=_recorded("superseded_by"))
    query = sql.SQL(
        "WITH feature AS (SELECT source, source_id FROM {table} WHERE id = %(id)s "
        "UNION SELECT source, source_id FROM {history} WHERE id = %(id)s LIMIT 1), "
        "rows AS (SELECT * FROM (SELECT {columns}, geom FROM {table} WHERE source = (SELECT source FROM feature) "
        "AND source_id = (SELECT source_id FROM feature)) now {said}{rows_then}) "
        "SELECT rows.*, ST_AsGeoJSON({geometry})::json AS geometry, {recorded} AS recorded "
        "FROM rows ORDER BY version, recorded"
    ).format(table=table, history=history, columns=columns, said=said, rows_then=rows_then,
             recorded=_recorded("import_id"),
             geometry=sql.SQL("geom") if srid is None else sql.SQL("ST_Transform(geom, {})").format(srid))
    with connection.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(query, {"id": feature_id, "recorded": recorded}).fetchall()
    for row in rows:
        row.pop("geom")
    return rows


def version_on(rows: list[dict], day: date) -> dict | None:
    """Of a feature's versions (:func:`versions`), the one standing on ``day`` (twin.time's rule), if any."""
    for row in rows:
        if (row["valid_from"] is None or row["valid_from"] <= day) and (row["valid_to"] is None or row["valid_to"] > day):
            return row
    return None
