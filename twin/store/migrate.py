"""Schema changes: Alembic revisions for twin's own tables, then the layer tables the catalog asks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from twin.catalog import Catalog, load_catalog
from twin.errors import SchemaError
from twin.settings import get_settings
from twin.store.engine import connect
from twin.store import LAYER_SCHEMA, meta
from twin.store.tables import layer_metadata, srid_of

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@dataclass
class SyncReport:
    """What :func:`sync_layer_tables` changed, and what it left for a person to decide."""

    created: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # columns or tables the catalog no longer names


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def twin_crs(connection: Connection) -> str:
    """The CRS this twin's database was made with."""
    return meta.twin_crs(connection.connection.driver_connection)


def twin_srid(connection: Connection) -> int:
    return srid_of(twin_crs(connection))


def migrate(to: str = "head", url: str | None = None) -> SyncReport:
    """Move the schema to revision ``to`` (``head``, ``base``, ``-1``, a revision id), in one transaction.

    At head the layer tables are also brought in line with the catalog.
    """
    catalog = load_catalog()
    with connect(url) as connection:
        current = current_revision(connection)
        if current is not None:
            _check_crs(connection)
        config = alembic_config(connection)
        going_down = to == "base" or to.startswith("-") or (current is not None and _is_older(to, current))
        if going_down:
            command.downgrade(config, to)
            return SyncReport()
        command.upgrade(config, to)
        if current_revision(connection) == head_revision():
            return sync_layer_tables(connection, catalog, twin_srid(connection))
        return SyncReport()


def sync_layer_tables(connection: Connection, catalog: Catalog, srid: int) -> SyncReport:
    """Create the tables of new layers and the columns of new attributes; never drop anything.

    Tables and columns the catalog no longer names are reported, not dropped: they may hold data.
    """
    report = SyncReport()
    inspector = inspect(connection)
    existing = set(inspector.get_table_names(schema=LAYER_SCHEMA))
    metadata = layer_metadata(catalog, srid)
    operations = Operations(MigrationContext.configure(connection))
    for table in metadata.sorted_tables:
        if table.name not in existing:
            table.create(connection)
            report.created.append(table.name)
            continue
        have = {column["name"] for column in inspector.get_columns(table.name, schema=LAYER_SCHEMA)}
        for column in table.columns:
            if column.name not in have:
                operations.add_column(table.name, column.copy(), schema=LAYER_SCHEMA)
                report.added_columns.append(f"{table.name}.{column.name}")
        report.orphans += [f"{table.name}.{name}" for name in sorted(have - set(table.columns.keys()))]
    report.orphans += sorted(existing - {table.name for table in metadata.sorted_tables})
    return report


def drop_layer_tables(connection: Connection) -> None:
    for name in inspect(connection).get_table_names(schema=LAYER_SCHEMA):
        connection.execute(text(f'DROP TABLE {LAYER_SCHEMA}."{name}" CASCADE'))


def _check_crs(connection: Connection) -> None:
    wanted = get_settings().crs.upper()
    have = twin_crs(connection)
    if have != wanted:
        raise SchemaError(
            f"this database holds a twin in {have} but TWIN_CRS is {wanted}; "
            "set TWIN_CRS to match or point TWIN_DATABASE_URL at a new database"
        )


def _is_older(revision: str, than: str) -> bool:
    if revision == "head":
        return False
    script = ScriptDirectory.from_config(alembic_config())
    return revision != than and revision in {rev.revision for rev in script.iterate_revisions(than, "base")}
