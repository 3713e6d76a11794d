"""The binary COPY that loads an import, in this process against the tests' real PostGIS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from importers import copy_binary
from importers.loading import _copy

CHUNKS = 50  # many more than the producer may get ahead of the COPY (its queue holds two)
CHUNK_ROWS = 20_000
STATEMENT = sql.SQL("COPY counted (n) FROM STDIN (FORMAT binary)")


def _chunks(refused_at: int | None = None) -> Iterator[tuple[memoryview, int]]:
    """Chunks of one int8 column; the first row of chunk ``refused_at`` breaks the table's CHECK."""
    for index in range(CHUNKS):
        values = [-1 if index == refused_at and row == 0 else row for row in range(CHUNK_ROWS)]
        yield copy_binary.rows([copy_binary.fields(values, "int8", CHUNK_ROWS)]), CHUNK_ROWS


def _new_threads(before: set[threading.Thread]) -> list[str]:
    return [thread.name for thread in set(threading.enumerate()) - before if thread.is_alive()]


@contextmanager
def _connection(url: str) -> Iterator[psycopg.Connection]:
    """A connection of the test's own (not the pool's: one test kills it) with the table ``counted``."""
    connection = psycopg.connect(url)
    try:
        connection.execute("CREATE TEMPORARY TABLE counted (n int8 CHECK (n >= 0))")
        yield connection
    finally:
        connection.close()


def test_a_copy_writes_every_chunk_and_joins_its_producer(database_url: str) -> None:
    before = set(threading.enumerate())
    with _connection(database_url) as connection:
        _copy(connection, STATEMENT, _chunks(), None)
        assert connection.execute("SELECT count(*) FROM counted").fetchone() == (CHUNKS * CHUNK_ROWS,)
    assert _new_threads(before) == []


def test_a_copy_that_cannot_start_leaves_no_thread(database_url: str) -> None:
    before = set(threading.enumerate())
    with _connection(database_url) as connection, pytest.raises(psycopg.errors.UndefinedTable):
        _copy(connection, sql.SQL("COPY missing (n) FROM STDIN (FORMAT binary)"), _chunks(), None)
    assert _new_threads(before) == []


def test_a_refused_row_fails_the_copy_and_leaves_no_thread(database_url: str) -> None:
    # psycopg learns of a refused row only when the COPY ends, once every chunk is written.
    before = set(threading.enumerate())
    with _connection(database_url) as connection, pytest.raises(psycopg.errors.CheckViolation):
        _copy(connection, STATEMENT, _chunks(refused_at=0), None)
    assert _new_threads(before) == []


class _Terminating:
    """A progress bar that, at the first chunk written, has the server end the COPY's connection (as a
    restart or an administrator's pg_terminate_backend would): the next ``copy.write`` raises while the
    producer waits on its full queue."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid, self.done = url, pid, False

    def update(self, n: int) -> None:
        if not self.done:
            self.done = True
            with psycopg.connect(self.url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 10000)", (self.pid,))

    def set_description(self, desc: str) -> None:
        pass


def test_a_copy_failing_midway_stops_and_joins_its_producer(database_url: str) -> None:
    before = set(threading.enumerate())
    with _connection(database_url) as connection, pytest.raises(psycopg.OperationalError, match="connection"):
        _copy(connection, STATEMENT, _chunks(), _Terminating(database_url, connection.info.backend_pid))
    assert _new_threads(before) == []
