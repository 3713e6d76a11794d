"""Versions and transaction time: a feature's versions share its source id, each row records the import
that wrote it, rows an import deletes or alters are kept in the ``history`` schema, and the import log
keeps every import (not only each source's last), with a snapshot's date.

The layer tables' ``id`` gains the version (PostgreSQL 15 cannot change a generated column's expression,
so the column is made again); the history tables themselves come from ``sync_layer_tables``, like the
layer tables.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from psycopg import sql
from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateSchema, DropSchema

from twin.migrations.statements import execute
from twin.store import CORE_SCHEMA, HISTORY_SCHEMA, LAYER_SCHEMA, READER_ROLE, core_table, layer_table
from twin.store.tables import stable_id

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _layer_tables() -> list[str]:
    return inspect(op.get_bind()).get_table_names(schema=LAYER_SCHEMA)


def _columns(table: str) -> set[str]:
    return {column["name"] for column in inspect(op.get_bind()).get_columns(table, schema=LAYER_SCHEMA)}


def _remake_id(table: str, expression: str) -> None:
    names = {"table": layer_table(table), "key": sql.Identifier(f"{table}_pkey")}
    execute("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {key}", **names)
    execute("ALTER TABLE {table} DROP COLUMN id", **names)
    execute("ALTER TABLE {table} ADD COLUMN id uuid GENERATED ALWAYS AS ({expression}) STORED",
         expression=sql.SQL(expression), **names)
    execute("ALTER TABLE {table} ADD CONSTRAINT {key} PRIMARY KEY (id)", **names)


def upgrade() -> None:
    for table in _layer_tables():
        if "version" in _columns(table):  # made at this revision's shape by 0002
            continue
        execute("ALTER TABLE {table} ADD COLUMN version integer NOT NULL DEFAULT 1, ADD COLUMN import_id integer",
             table=layer_table(table))
        _remake_id(table, stable_id(table))
        execute("CREATE INDEX {index} ON {table} (source, source_id)", index=sql.Identifier(f"{table}_lineage_idx"),
             table=layer_table(table))
    op.drop_constraint("imports_layer_source_key", "imports", schema=CORE_SCHEMA)
    op.add_column("imports", sa.Column("as_of", sa.Date, comment="the day a snapshot import shows the source on"),
                  schema=CORE_SCHEMA)
    op.add_column("imports", sa.Column("run", sa.BigInteger, server_default=sa.text("txid_current()"),
                                       nullable=False, comment="imports made together (one transaction) share it"),
                  schema=CORE_SCHEMA)
    op.add_column("imports", sa.Column("changes", JSONB, comment="a snapshot's counts: new, altered, closed, unchanged"),
                  schema=CORE_SCHEMA)
    op.create_table_comment("imports", "every import, in order", schema=CORE_SCHEMA)
    op.execute(CreateSchema(HISTORY_SCHEMA, if_not_exists=True))
    # The reader role may read the history; a user who may not grant (see revision 0004) leaves it be.
    execute("""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = {role_name}) THEN
        GRANT USAGE ON SCHEMA {schema} TO {role};
        GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role};
        ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role};
    END IF;
EXCEPTION
    WHEN insufficient_privilege THEN NULL;
END $$""", role_name=sql.Literal(READER_ROLE), role=sql.Identifier(READER_ROLE), schema=sql.Identifier(HISTORY_SCHEMA))


def downgrade() -> None:
    op.execute(DropSchema(HISTORY_SCHEMA, cascade=True, if_exists=True))
    # The log goes back to each source's last import, the layers to each feature's last version.
    execute("DELETE FROM {imports} i USING {imports} later WHERE later.layer = i.layer AND later.source = i.source "
         "AND later.id > i.id", imports=core_table("imports"))
    for column in ("changes", "run", "as_of"):
        op.drop_column("imports", column, schema=CORE_SCHEMA)
    op.create_unique_constraint("imports_layer_source_key", "imports", ["layer", "source"], schema=CORE_SCHEMA)
    for table in _layer_tables():
        if "version" not in _columns(table):
            continue
        execute("DELETE FROM {table} t USING {table} later WHERE later.source = t.source "
             "AND later.source_id = t.source_id AND later.version > t.version", table=layer_table(table))
        execute("DROP INDEX IF EXISTS {index}", index=sql.Identifier(LAYER_SCHEMA, f"{table}_lineage_idx"))
        _remake_id(table, sql.SQL("md5({} || source || ':' || source_id)::uuid").format(
            sql.Literal(f"{table}:")).as_string())
        execute("ALTER TABLE {table} DROP COLUMN version, DROP COLUMN import_id", table=layer_table(table))
