"""Schema changes: Alembic revisions for twin's own tables, then the layer tables the catalog asks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Connection, inspect, text
from sqlalchemy.schema import CreateSchema

from pyproj import CRS

from twin import crs as crs_rules
from twin.catalog import Catalog, load_catalog
from twin.errors import SchemaError
from twin.settings import get_settings
from twin.store import HISTORY_SCHEMA, LAYER_SCHEMA, city, core_table, database
from twin.store.stats import held
from twin.store.tables import layer_metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# SRIDs twin gives CRSs PostGIS has no code for: PostGIS leaves 910000-998999 to its users.
LOCAL_SRIDS = 910_000


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


def recorded_srid(connection: Connection) -> int | None:
    """The SRID of the twin's geometry columns; None while the twin has no CRS."""
    return city.read(database.psycopg_of(connection)).srid


def migrate(to: str = "head", url: str | None = None) -> SyncReport:
    """Move the schema to revision ``to`` (``head``, ``base``, ``-1``, a revision id), in one transaction.

    At head the layer tables are also brought in line with the catalog.
    """
    catalog = load_catalog()
    with database.connect(url) as connection:
        current = current_revision(connection)
        if current is not None:
            _check_crs(connection)
        config = alembic_config(connection)
        going_down = to == "base" or to.startswith("-") or (current is not None and _is_older(to, current))
        if going_down:
            command.downgrade(config, to)
            return SyncReport()
        command.upgrade(config, to)
        if current_revision(connection) != head_revision():
            return SyncReport()
        wanted, srid = get_settings().crs, recorded_srid(connection)
        if wanted and srid is None:
            return fix_crs(connection, crs_rules.parse(wanted, "TWIN_CRS"), catalog)
        return sync_layer_tables(connection, catalog, srid) if srid is not None else SyncReport()


def fix_crs(connection: Connection, crs: CRS, catalog: Catalog | None = None) -> SyncReport:
    """Give a twin without a CRS its CRS: recorded with its SRID, the raster registry's extents and the
    layer tables made in it. Refused when the twin already has another."""
    crs_rules.check_projected(crs, "the twin's CRS")
    driver = database.psycopg_of(connection)
    have = city.read(driver)
    if have.crs is not None:
        if CRS.from_user_input(have.crs).equals(crs):
            return SyncReport()
        raise SchemaError(f"this twin's CRS is {have.crs}, not {crs_rules.name(crs)}; a twin has one CRS: make "
                          "another (its own TWIN_HOME or TWIN_DATABASE_URL) for data you want in another")
    srid = _srid(connection, crs_rules.horizontal(crs))
    named = crs_rules.name(crs)
    city.record(driver, "crs", named if named.startswith("EPSG:") else crs.to_wkt())
    city.record(driver, "srid", str(srid))
    driver.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN bounds TYPE geometry(POLYGON, {srid}) "
                           "USING ST_SetSRID(bounds, {srid})").format(core_table("rasters"), srid=sql.Literal(srid)))
    return sync_layer_tables(connection, catalog or load_catalog(), srid)


def unfix_crs(connection: Connection) -> None:
    """Undo :func:`fix_crs` for a twin whose first import failed: its layer tables are still empty."""
    driver = database.psycopg_of(connection)
    if city.read(driver).crs is None:
        return
    features = held(connection)
    if features:
        raise SchemaError(f"the twin holds {features:,} features: its CRS stays")
    drop_layer_tables(connection)
    driver.execute(sql.SQL("DELETE FROM {} WHERE key IN ('crs', 'srid')").format(core_table("meta")))
    driver.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN bounds TYPE geometry(POLYGON)").format(core_table("rasters")))


def _srid(connection: Connection, crs: CRS) -> int:
    """PostGIS's SRID for a horizontal CRS: its EPSG code where PostGIS knows it, else one registered in
    ``spatial_ref_sys`` (a city's local grid with its own transformation, given as WKT or a PROJ string)."""
    code = crs.to_epsg()
    if code and connection.execute(text("SELECT 1 FROM spatial_ref_sys WHERE srid = :s"), {"s": code}).first():
        return code
    srid = connection.execute(text("SELECT coalesce(max(srid) + 1, :first) FROM spatial_ref_sys WHERE srid >= :first"),
                              {"first": LOCAL_SRIDS}).scalar_one()
    connection.execute(text("INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                            "VALUES (:srid, 'twin', :srid, :wkt, :proj)"),
                       {"srid": srid, "wkt": crs.to_wkt("WKT1_GDAL"), "proj": crs.to_proj4()})
    return srid


def sync_layer_tables(connection: Connection, catalog: Catalog, srid: int) -> SyncReport:
    """Create the tables of new layers (and their history tables) and the columns of new attributes;
    never drop anything.

    Tables and columns the catalog no longer names are reported, not dropped: they may hold data.
    """
    report = SyncReport()
    connection.execute(CreateSchema(HISTORY_SCHEMA, if_not_exists=True))
    inspector = inspect(connection)
    metadata = layer_metadata(catalog, srid)
    operations = Operations(MigrationContext.configure(connection))
    for schema in (LAYER_SCHEMA, HISTORY_SCHEMA):
        existing = set(inspector.get_table_names(schema=schema))
        tables = [table for table in metadata.sorted_tables if table.schema == schema]
        prefix = "" if schema == LAYER_SCHEMA else f"{schema}."
        for table in tables:
            if table.name not in existing:
                table.create(connection)
                if schema == LAYER_SCHEMA:
                    report.created.append(table.name)
                continue
            have = {column["name"] for column in inspector.get_columns(table.name, schema=schema)}
            for column in table.columns:
                if column.name not in have:
                    operations.add_column(table.name, column.copy(), schema=schema)
                    report.added_columns.append(f"{prefix}{table.name}.{column.name}")
            report.orphans += [f"{prefix}{table.name}.{name}" for name in sorted(have - set(table.columns.keys()))]
        report.orphans += [f"{prefix}{name}" for name in sorted(existing - {table.name for table in tables})]
    return report


def drop_layer_tables(connection: Connection) -> None:
    driver = database.psycopg_of(connection)
    for schema in (LAYER_SCHEMA, HISTORY_SCHEMA):
        for name in inspect(connection).get_table_names(schema=schema):
            driver.execute(sql.SQL("DROP TABLE {} CASCADE").format(sql.Identifier(schema, name)))


def _check_crs(connection: Connection) -> None:
    wanted = get_settings().crs
    have = city.read(database.psycopg_of(connection)).crs
    if wanted and have and not CRS.from_user_input(have).equals(crs_rules.parse(wanted, "TWIN_CRS")):
        raise SchemaError(
            f"this database holds a twin in {have} but TWIN_CRS is {wanted}; "
            "set TWIN_CRS to match or point TWIN_DATABASE_URL at a new database"
        )


def _is_older(revision: str, than: str) -> bool:
    if revision == "head":
        return False
    script = ScriptDirectory.from_config(alembic_config())
    return revision != than and revision in {rev.revision for rev in script.iterate_revisions(than, "base")}
