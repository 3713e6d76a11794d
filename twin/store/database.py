"""The one way to the twin's database: one SQLAlchemy engine per database for the process (psycopg 3 as
its driver, connections pooled), handing out connections in a transaction. :func:`connect` gives the
SQLAlchemy connection (Core queries, schema work); :func:`raw` the same pooled connection's psycopg one,
for COPY and the fast paths written for psycopg; :func:`maintenance` an autocommit one to the server's
``postgres`` database, for CREATE DATABASE. Connection failures become one-line
:class:`StoreError`\\ s that say what to do. (TiPg's routes read through its own asyncpg pool.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import psycopg
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from twin.errors import AccessRefused, StoreError
from twin.store.url import database_url, safe_url, unreachable

CONNECT_TIMEOUT_S = 10


@lru_cache(maxsize=8)
def engine(url: str | None = None, options: str | None = None, application_name: str = "twin") -> Engine:
    """The process's engine for ``url`` (default: the twin's database), its connections opened with the
    server ``options`` (``-c statement_timeout=30s``) and named ``application_name`` in pg_stat_activity."""
    url = make_url(url or database_url()).set(drivername="postgresql+psycopg")
    arguments: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": application_name}
    if options:
        arguments["options"] = options
    return create_engine(url, pool_pre_ping=True, connect_args=arguments)


@contextmanager
def connect(url: str | None = None, **settings: str) -> Iterator[Connection]:
    """A pooled connection in a transaction that commits on success and rolls back on error
    (``settings``: :func:`engine`'s ``options`` and ``application_name``)."""
    connection = _open(url or database_url(), settings)
    with connection, connection.begin():
        yield connection


@contextmanager
def maintenance(url: str | None = None, **settings: str) -> Iterator[psycopg.Connection]:
    """A psycopg connection in autocommit to the maintenance database (``postgres``) of the server
    ``url`` is on (default: the twin's), for what cannot run in a transaction: CREATE or DROP DATABASE.
    Back in the pool afterwards, its isolation level reset."""
    url = make_url(url or database_url()).set(database="postgres").render_as_string(hide_password=False)
    with _open(url, settings).execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield psycopg_of(connection)


def _open(url: str, settings: dict[str, str]) -> Connection:
    """A connection from :func:`engine`'s pool; a failure to connect as a one-line :class:`StoreError`."""
    try:
        return engine(url, **settings).connect()
    except OperationalError as exc:
        reason = exc.orig or exc
        if "FATAL" in str(reason):  # a server answered: the role, its password or the database is wrong
            first = str(reason).strip().splitlines()[0]
            raise AccessRefused(f"the database at {safe_url(url)} refused the connection: {first}", first) from None
        raise StoreError(unreachable(url, reason)) from None


@contextmanager
def raw(url: str | None = None, **settings: str) -> Iterator[psycopg.Connection]:
    """:func:`connect`'s psycopg connection: the same transaction, committed on success, rolled back on
    error, and the connection back in the pool afterwards."""
    with connect(url, **settings) as connection:
        yield psycopg_of(connection)


def psycopg_of(connection: Connection) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy one (for COPY, or code written for psycopg)."""
    return connection.connection.driver_connection
