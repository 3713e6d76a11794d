"""The database role the API reads with, and a check, before serving, that it can read every layer and
its history (a feature's versions as the twin held them before an import: twin.service.versions)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twin.catalog import Catalog
from twin.errors import AccessRefused, StoreError
from twin.settings import get_settings
from twin.store import CORE_SCHEMA, HISTORY_SCHEMA, LAYER_SCHEMA, READER_ROLE, database
from twin.store.url import database_url, safe_url

# twin's own table that the versions route reads: when each import ran ("recorded")
CORE_TABLES = ("imports",)


def reader_url() -> str:
    """TWIN_SERVICE_DATABASE_URL, or else the twin's own database (own cluster or TWIN_DATABASE_URL)
    on the same server, as the read-only role and without the owner's password."""
    configured = get_settings().service_database_url
    if configured is not None:
        parts = urlsplit(configured)
        if parts.scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
            raise StoreError(f"TWIN_SERVICE_DATABASE_URL: '{parts.scheme or configured}' is not PostgreSQL; "
                             "give postgresql://user:password@host:port/database")
        return urlunsplit(("postgresql", *parts[1:]))
    parts = urlsplit(database_url())
    server = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{READER_ROLE}@{server}", *parts[2:]))


def check_reader(url: str, catalog: Catalog) -> None:
    """Fail early, in one line, when the API's role cannot connect or cannot read a layer's table, its
    history table or the import log."""
    hint = (f"run `twin db migrate` (it makes the read-only role {READER_ROLE}), or set "
            "TWIN_SERVICE_DATABASE_URL to a role that may read the twin")
    try:
        with database.raw(url) as connection:
            tables = [(schema, layer.id) for schema in (LAYER_SCHEMA, HISTORY_SCHEMA)
                      for layer in catalog.vector_layers] + [(CORE_SCHEMA, table) for table in CORE_TABLES]
            rows = connection.execute(
                # Tables not made yet (a twin without a CRS has none) are not unreadable. In a schema the
                # role may not use, to_regclass fails the whole query (it would read as "unreachable"):
                # its tables are unreadable, said so before looking them up.
                "SELECT s || '.' || t, CASE WHEN to_regnamespace(s) IS NULL THEN true "
                "WHEN NOT has_schema_privilege(s, 'USAGE') THEN false ELSE coalesce(has_table_privilege("
                "to_regclass(format('%%I.%%I', s, t))::oid, 'SELECT'), true) END "
                "FROM unnest(%s::text[], %s::text[]) AS tables(s, t)",
                ([schema for schema, _ in tables], [table for _, table in tables])).fetchall()
    except AccessRefused as exc:  # a server answered (unreachable ones raise their own StoreError)
        raise StoreError(f"the API cannot connect to the twin as {safe_url(url)}: {exc.reason}; {hint}") from None
    unreadable = [table for table, readable in rows if not readable]
    if unreadable:
        raise StoreError(f"the API's role at {safe_url(url)} cannot read the tables "
                         f"{', '.join(unreadable)}; {hint}")
