"""A snapshot import (``--as-of DATE``): the source as it stood on a day, compared with what the twin holds
of it, so that a city's successive surveys become the twin's years.

Features are matched by source id, or, where the source has none (row numbers stand in), by footprint: a
feature is the same one when its geometry lies within ``tolerance_m`` of an open one (Hausdorff distance),
each the other's nearest. Then, on DATE:

- new: opens (on its own ``valid_from`` in a source's first snapshot, where the file gives one, or a
  later one: a planned feature);
- vanished: closes (``valid_to`` = DATE);
- altered (geometry to the millimetre, name or any attribute): its version closes and the next opens;
- back after it had closed: its next version opens;
- vanished or altered, but dated by its source on or after DATE (planned): never stood, so its version is
  removed, or replaced by the file's;
- unchanged: left as it is, with the import that wrote it; so is a feature whose row the import
  rejected (a bad geometry in this edition is no demolition).

Rows an import closes are kept as they were in the history tables first, so the import can be undone.
Snapshots of a source go in date order: one dated on or before the source's last is refused (undo the
later ones and import them again in order), as rewriting what came after it would be guesswork.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from importers.loading import Load, Progress, Snapshot, copy_rows, holds, keep_rows
from twin.errors import SourceError
from twin.store import core_table, layer_table

_STAGED = sql.Identifier("snapshot")  # the file's rows, a temporary table
_LATEST = sql.Identifier("snapshot_latest")  # each of the source's features' last version
# Geometries equal to the millimetre in X, Y and Z (a re-run of the same transformation gives the same
# coordinates; a resurvey that moves nothing should not make a version).
_SNAPPED = "ST_SnapToGrid({}, 'POINT(0 0 0 0)'::geometry, 0.001, 0.001, 0.001, 0)"


def apply(connection: psycopg.Connection, load: Load, snapshot: Snapshot, rejected: list[str],
          progress: Progress | None) -> dict[str, int]:
    """Apply the snapshot ``load`` (already logged as ``load.import_id``), whose rows with the source ids
    ``rejected`` were rejected; the counts of each kind of change."""
    layer, as_of = load.layer, snapshot.as_of
    _check_order(connection, load, snapshot)
    columns = [name for name, _ in load.copy_columns()]
    table = layer_table(layer.id)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    connection.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
                       .format(_STAGED, names, table))
    copy_rows(connection, _STAGED, load, progress)
    connection.execute(sql.SQL("CREATE INDEX ON {} (source_id)").format(_STAGED))
    params = {"source": load.source, "as_of": as_of, "import": load.import_id, "tolerance": snapshot.tolerance_m,
              "rejected": [] if load.ids_from_rows else rejected}  # row numbers name no feature
    first = not holds(connection, layer.id, load.source)
    matched = None
    if load.ids_from_rows and not first:
        matched = _match_footprints(connection, table, params)
    connection.execute(sql.SQL(
        "CREATE TEMP TABLE {latest} ON COMMIT DROP AS SELECT DISTINCT ON (source_id) id, source_id, version, "
        "valid_from, (valid_to IS NULL OR valid_to > %(as_of)s) AS open FROM {table} WHERE source = %(source)s "
        "ORDER BY source_id, version DESC").format(latest=_LATEST, table=table), params)
    connection.execute(sql.SQL("CREATE INDEX ON {} (source_id)").format(_LATEST))
    same = sql.SQL(" AND ").join(
        [sql.SQL("{} = {}").format(sql.SQL(_SNAPPED.format("t.geom")), sql.SQL(_SNAPPED.format("s.geom")))]
        + [sql.SQL("t.{0} IS NOT DISTINCT FROM s.{0}").format(sql.Identifier(name))
           for name in columns if name not in ("source", "source_id", "import_id", "geom", "valid_from", "valid_to")])
    connection.execute(sql.SQL(
        "CREATE TEMP TABLE snapshot_kinds ON COMMIT DROP AS "
        "SELECT coalesce(s.source_id, l.source_id) AS source_id, l.id AS last_id, l.version, "
        "(l.valid_from IS NULL OR l.valid_from < %(as_of)s) AS begun, CASE "
        "WHEN l.source_id IS NULL THEN 'new' "
        "WHEN s.source_id IS NULL THEN CASE WHEN l.source_id = ANY(%(rejected)s) THEN 'rejected' ELSE 'vanished' END "
        "WHEN NOT l.open THEN 'back' WHEN {same} THEN 'unchanged' ELSE 'altered' END AS kind "
        "FROM {staged} s FULL JOIN {latest} l USING (source_id) "
        "LEFT JOIN {table} t ON t.id = l.id WHERE s.source_id IS NOT NULL OR l.open"
    ).format(same=same, staged=_STAGED, latest=_LATEST, table=table), params)
    ending = "id IN (SELECT last_id FROM snapshot_kinds WHERE kind IN ('vanished', 'altered') AND {})"
    keep_rows(connection, layer, sql.SQL(ending.format("true")), (), load.import_id)
    connection.execute(sql.SQL("UPDATE {} SET valid_to = %(as_of)s, import_id = %(import)s WHERE {}")
                       .format(table, sql.SQL(ending.format("begun"))), params)
    # A feature its source dated on or after this day (planned, say) never stood before it: its version is
    # replaced (altered) or removed (vanished) rather than closed.
    connection.execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, sql.SQL(ending.format("NOT begun"))))
    inserted = [name for name in columns if name != "valid_from"]
    connection.execute(sql.SQL(
        "INSERT INTO {table} ({names}, version, valid_from) "
        "SELECT {values}, CASE WHEN k.begun IS FALSE THEN k.version ELSE coalesce(k.version + 1, 1) END, "
        "CASE WHEN %(first)s OR k.begun IS FALSE THEN coalesce(s.valid_from, %(as_of)s) "
        "ELSE greatest(s.valid_from, %(as_of)s) END "  # later than the day: planned; else it opens on the day
        "FROM {staged} s JOIN snapshot_kinds k USING (source_id) WHERE k.kind IN ('new', 'altered', 'back')"
    ).format(table=table, names=sql.SQL(", ").join(map(sql.Identifier, inserted)), staged=_STAGED,
             values=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(name)) for name in inserted)),
        {**params, "first": first})
    counts = dict(connection.execute("SELECT kind, count(*) FROM snapshot_kinds GROUP BY kind").fetchall())
    changes = {kind: int(counts.get(kind, 0)) for kind in ("new", "altered", "vanished", "back", "unchanged")}
    if counts.get("rejected"):
        changes["rejected_kept"] = int(counts["rejected"])
    if matched is not None:
        changes["matched_by_footprint"] = matched
    # The next layer of the same import (one transaction) makes them again.
    connection.execute("DROP TABLE IF EXISTS snapshot, snapshot_latest, snapshot_kinds, snapshot_pairs")
    return changes


def _check_order(connection: psycopg.Connection, load: Load, snapshot: Snapshot) -> None:
    row = connection.execute(
        sql.SQL("SELECT as_of, id FROM {} WHERE layer = %s AND source = %s AND id <> %s "
                "AND as_of >= %s ORDER BY as_of DESC LIMIT 1").format(core_table("imports")),
        (load.layer.id, load.source, load.import_id, snapshot.as_of)).fetchone()
    if row:
        raise SourceError(
            f"{snapshot.path}: source '{load.source}' of layer '{load.layer.id}' already holds a snapshot as of {row[0]} (import "
            f"{row[1]}); snapshots go in date order, so one as of {snapshot.as_of} cannot come after it: undo the "
            f"later ones (twin import --undo {row[1]}) and import the snapshots again, oldest first")


def _match_footprints(connection: psycopg.Connection, table: sql.Identifier, params: dict) -> int:
    """Give the file's rows (numbered, not identified) the source ids of the open features whose geometry
    each is nearest to, within the tolerance, where that feature is nearest to it too; the others get ids
    of their own (the snapshot's date and their row number). How many matched."""
    connection.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(_STAGED))
    connection.execute(sql.SQL(
        "CREATE TEMP TABLE snapshot_pairs ON COMMIT DROP AS "
        "SELECT s.source_id AS row_id, t.source_id, ST_HausdorffDistance(s.geom, t.geom) AS distance "
        "FROM {staged} s JOIN {table} t ON t.source = %(source)s AND (t.valid_to IS NULL OR t.valid_to > %(as_of)s) "
        "AND ST_DWithin(s.geom, t.geom, %(tolerance)s) WHERE ST_HausdorffDistance(s.geom, t.geom) <= %(tolerance)s"
    ).format(staged=_STAGED, table=table), params)
    connection.execute(sql.SQL(
        "WITH best_of_row AS (SELECT DISTINCT ON (row_id) row_id, source_id FROM snapshot_pairs "
        "ORDER BY row_id, distance, source_id), "
        "best_of_feature AS (SELECT DISTINCT ON (source_id) row_id, source_id FROM snapshot_pairs "
        "ORDER BY source_id, distance, row_id), "
        "mutual AS (SELECT row_id, source_id FROM best_of_row JOIN best_of_feature USING (row_id, source_id)) "
        "UPDATE {staged} s SET source_id = coalesce((SELECT m.source_id FROM mutual m WHERE m.row_id = s.source_id), "
        "%(as_of)s::text || '#' || s.source_id)"
    ).format(staged=_STAGED), params)
    return connection.execute(sql.SQL("SELECT count(*) FROM {} WHERE source_id NOT LIKE %(as_of)s::text || '#%%'")
                              .format(_STAGED), params).fetchone()[0]
