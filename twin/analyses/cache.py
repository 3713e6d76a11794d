"""The analyses' results cache, in the twin's database (migration 0006), so that the next page of a list,
the viewer and the service, each in a process of its own, reuse one computation.

A result is keyed by its analysis, its parameters as checked (a default year made explicit), the data's
revision (for each layer the analysis reads, the id of its last import in ``twin.imports``) and the
analyses' own code (a hash of this package's files and of the time rule): a result is found only for the
data and the code it was computed from. An import, or undoing one, forgets the results of its layer
(a trigger on the import log), in its own transaction. Rows written into a layer's table by hand,
without an import, change no revision: call :func:`forget` after such a write.

Where the connection may not write the cache (a read-only role without the grant, a read-only
transaction), the analysis is computed and answered as if there were no cache.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from twin.analyses.latest import last_year
from twin.analyses.results import Analysis, Finding, Result
from twin.store import core_table
from twin.store.city import read as read_city

RESULTS, FINDINGS, IMPORTS = core_table("results"), core_table("findings"), core_table("imports")
MOST_KEPT = 500  # results kept; the least recently used go first (each viewer click on a map is one)
# What a connection that may not write the cache raises on trying.
NOT_WRITABLE = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
_TIME_RULE = Path(__file__).resolve().parents[1] / "time.py"


def run(connection: psycopg.Connection, analysis: Analysis, **arguments: Any) -> Result:
    """``analysis`` asked with ``arguments``: its cached result for the data as it stands, else computed
    (and kept, unless an import changed what it read while it ran). A ``year`` left out (None) is the
    last year of the twin's data (:mod:`twin.analyses.latest`), made explicit before the check, so the
    key and the answer's parameters name it."""
    if "year" in arguments and (arguments["year"] is None or str(arguments["year"]).strip() == ""):
        arguments = {**arguments, "year": last_year(connection)}
    parameters = analysis.check(**arguments)
    revision = _revision(connection, analysis.layers)
    key = _key(analysis.name, parameters, revision)
    found = _load(connection, key)
    if found is not None:
        return found
    # PostGIS's functions cost so much that PostgreSQL compiles nearly every query of an analysis, half a
    # second each, to save nothing (pipe clearance: 17 queries, 5-9 s with JIT, 0.3 s without).
    connection.execute("SET LOCAL jit = off")
    result = analysis.compute(connection, **parameters)
    if _revision(connection, analysis.layers) == revision:
        _keep(connection, key, analysis, revision, result)
    return result


def forget(connection: psycopg.Connection, layers: list[str] | None = None) -> int:
    """Forget the results that read any of ``layers`` (all results without): how many."""
    query = sql.SQL("DELETE FROM {} WHERE %(layers)s::text[] IS NULL OR layers && %(layers)s").format(RESULTS)
    return connection.execute(query, {"layers": layers}).rowcount


@cache
def code_revision() -> str:
    """A hash of what computes the answers: this package's code, SQL and tables, and the time rule."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted([*here.glob("*.py"), *here.glob("*.sql"), *here.glob("*.toml"), _TIME_RULE]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _revision(connection: psycopg.Connection, layers: tuple[str, ...]) -> dict[str, int]:
    query = sql.SQL("SELECT layer, max(id) FROM {} WHERE layer = ANY(%s) GROUP BY layer ORDER BY layer").format(IMPORTS)
    return dict(connection.execute(query, (list(layers),)).fetchall())


def _key(name: str, parameters: dict[str, Any], revision: dict[str, int]) -> str:
    text = json.dumps([name, parameters, revision, code_revision()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _load(connection: psycopg.Connection, key: str) -> Result | None:
    try:
        with connection.transaction():
            row = connection.execute(
                sql.SQL("UPDATE {} SET used_at = now() WHERE key = %s RETURNING id, analysis, parameters, summary")
                .format(RESULTS), (key,)).fetchone()
    except NOT_WRITABLE:
        return None
    if row is None:
        return None
    result_id, analysis, parameters, summary = row
    stored = connection.execute(
        sql.SQL("SELECT ST_AsBinary(geom), properties FROM {} WHERE result_id = %s ORDER BY ordinal").format(FINDINGS),
        (result_id,)).fetchall()
    shapes = shapely.from_wkb([geometry for geometry, _ in stored]) if stored else []
    return Result(analysis, parameters, summary, [Finding(shape, properties) for shape, (_, properties)
                                                   in zip(shapes, stored)], cached=True)


def _keep(connection: psycopg.Connection, key: str, analysis: Analysis, revision: dict[str, int],
          result: Result) -> None:
    srid = read_city(connection).srid or 0
    shapes = shapely.to_wkb(shapely.set_srid([f.geometry for f in result.findings], srid), hex=True,
                            include_srid=True) if result.findings else []
    try:
        with connection.transaction():
            row = connection.execute(
                sql.SQL("INSERT INTO {} (key, analysis, parameters, summary, layers, revision, found) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id").format(RESULTS),
                (key, result.analysis, Jsonb(result.parameters), Jsonb(result.summary), list(analysis.layers),
                 Jsonb(revision), len(result.findings))).fetchone()
            if row is None:  # kept meanwhile by another session asking the same
                return
            with connection.cursor().copy(
                    sql.SQL("COPY {} (result_id, ordinal, geom, properties) FROM STDIN").format(FINDINGS)) as copy:
                for ordinal, (shape, finding) in enumerate(zip(shapes, result.findings)):
                    copy.write_row((row[0], ordinal, shape, Jsonb(finding.properties)))
            connection.execute(sql.SQL("DELETE FROM {0} WHERE id IN (SELECT id FROM {0} ORDER BY used_at DESC, id DESC "
                                       "OFFSET %s)").format(RESULTS), (MOST_KEPT,))
    except NOT_WRITABLE:
        return
