"""Where the twin's database is: ``TWIN_DATABASE_URL``, or else the project's own cluster."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twin.errors import StoreError
from twin.settings import get_settings
from twin.store.cluster import Cluster


def own_cluster() -> Cluster:
    settings = get_settings()
    return Cluster(settings.home, settings.pg_port, settings.pg_bin)


def is_external() -> bool:
    """True when TWIN_DATABASE_URL points twin at a server it does not own."""
    return get_settings().database_url is not None


def database_url() -> str:
    """The libpq URL of the twin's database (what psql, ogr2ogr, psycopg and asyncpg take)."""
    configured = get_settings().database_url
    if configured is None:
        return own_cluster().url()
    parts = urlsplit(configured)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise StoreError(f"TWIN_DATABASE_URL: '{parts.scheme or configured}' is not PostgreSQL; "
                         "give postgresql://user:password@host:port/database")
    return urlunsplit(("postgresql", *parts[1:]))


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, *parts[2:]))


def unreachable(url: str, exc: BaseException) -> str:
    """The one-line message for a database that does not answer."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = "check TWIN_DATABASE_URL, or unset it to use twin's own database" if is_external() else "run `twin db up`"
    return f"cannot connect to the database at {safe_url(url)}: {reason}; {hint}"
