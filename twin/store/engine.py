"""Where the database is, and connections to it.

``TWIN_DATABASE_URL`` names an existing PostGIS server; unset, twin uses its own cluster under
``TWIN_HOME``. Connection failures become one-line :class:`StoreError`s that say what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from twin.errors import StoreError
from twin.settings import get_settings
from twin.store.cluster import Cluster

CONNECT_TIMEOUT_S = 10


def own_cluster() -> Cluster:
    settings = get_settings()
    return Cluster(settings.home, settings.pg_port, settings.pg_bin)


def is_external() -> bool:
    """True when TWIN_DATABASE_URL points twin at a server it does not own."""
    return get_settings().database_url is not None


def database_url() -> str:
    """The libpq URL of the twin's database (what psql, ogr2ogr and asyncpg take)."""
    configured = get_settings().database_url
    if configured is None:
        return own_cluster().url()
    url = make_url(configured)
    if not url.drivername.startswith("postgresql"):
        raise StoreError(f"TWIN_DATABASE_URL: '{url.drivername}' is not PostgreSQL; give postgresql://...")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def sqlalchemy_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for this process (default: the twin's database)."""
    url = url or database_url()
    return create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "twin"},
    )


@contextmanager
def connect(url: str | None = None) -> Iterator[Connection]:
    """A connection in a transaction that commits on success and rolls back on error."""
    engine = get_engine(url)
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise StoreError(_unreachable(engine.url.render_as_string(hide_password=True), exc)) from None
    with connection, connection.begin():
        yield connection


def _unreachable(url: str, exc: OperationalError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    hint = (
        "check TWIN_DATABASE_URL, or unset it to use twin's own database"
        if is_external()
        else "run `twin db up`"
    )
    return f"cannot connect to the database at {url}: {reason}; {hint}"
