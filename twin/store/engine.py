"""SQLAlchemy connections to the twin's database, for schema work and queries that are not hot paths.
Connection failures become one-line :class:`StoreError`s that say what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from twin.errors import StoreError
from twin.store.url import database_url, unreachable

CONNECT_TIMEOUT_S = 10


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for this process (default: the twin's database)."""
    url = make_url(url or database_url()).set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "twin"})


@contextmanager
def connect(url: str | None = None) -> Iterator[Connection]:
    """A connection in a transaction that commits on success and rolls back on error."""
    url = url or database_url()
    try:
        connection = get_engine(url).connect()
    except OperationalError as exc:
        raise StoreError(unreachable(url, exc.orig or exc)) from None
    with connection, connection.begin():
        yield connection
