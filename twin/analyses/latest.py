"""The year an analysis answers for when it is asked without one: the last year the twin's data knows of
(:func:`twin.time.year_range`, the viewer's time slider's last year), not the calendar's.

A twin's data ends where its last snapshot or its last dated feature ends (the demo Eco-city's in 2020);
"this year" would answer for a year the data says nothing new about, and a different year every January,
so the same question would stop finding its cached answer. Else, for a twin without dated data, this year.

Finding the last year reads every time-varying layer; it is kept per database and state of the import log
(an import, or undoing one, changes it), so asking costs one look at ``twin.imports``.
"""

from __future__ import annotations

import threading
from datetime import date

import psycopg
from psycopg import sql

from twin.catalog import load_catalog
from twin.store import core_table
from twin.time import year_range

_KEPT = 64  # databases and import states remembered (a service reads one twin; tests read several)
_known: dict[tuple, int] = {}
_lock = threading.Lock()


def last_year(connection: psycopg.Connection) -> int:
    """The last year of the data of the twin ``connection`` reads, else this year."""
    query = sql.SQL("SELECT max(id), count(*) FROM {}").format(core_table("imports"))
    imports = connection.execute(query).fetchone()
    info = connection.info
    key = (info.host, info.port, info.dbname, *imports)
    with _lock:
        if key in _known:
            return _known[key]
    span = year_range(connection, load_catalog())
    found = span[1] if span else date.today().year
    with _lock:
        if len(_known) >= _KEPT:
            _known.clear()
        _known[key] = found
    return found
