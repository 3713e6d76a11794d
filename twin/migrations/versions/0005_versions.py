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
from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import JSONB

from twin.service import READER_ROLE
from twin.store import CORE_SCHEMA, HISTORY_SCHEMA, LAYER_SCHEMA
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
    name = f'{LAYER_SCHEMA}."{table}"'
    op.execute(f'ALTER TABLE {name} DROP CONSTRAINT IF EXISTS "{table}_pkey"')
    op.execute(f"ALTER TABLE {name} DROP COLUMN id")
    op.execute(f"ALTER TABLE {name} ADD COLUMN id uuid GENERATED ALWAYS AS ({expression}) STORED")
    op.execute(f'ALTER TABLE {name} ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (id)')


def upgrade() -> None:
    for table in _layer_tables():
        if "version" in _columns(table):  # made at this revision's shape by 0002
            continue
        name = f'{LAYER_SCHEMA}."{table}"'
        op.execute(f"ALTER TABLE {name} ADD COLUMN version integer NOT NULL DEFAULT 1, ADD COLUMN import_id integer")
        _remake_id(table, stable_id(table))
        op.execute(f'CREATE INDEX "{table}_lineage_idx" ON {name} (source, source_id)')
    op.drop_constraint("imports_layer_source_key", "imports", schema=CORE_SCHEMA)
    op.add_column("imports", sa.Column("as_of", sa.Date, comment="the day a snapshot import shows the source on"),
                  schema=CORE_SCHEMA)
    op.add_column("imports", sa.Column("run", sa.BigInteger, server_default=sa.text("txid_current()"),
                                       nullable=False, comment="imports made together (one transaction) share it"),
                  schema=CORE_SCHEMA)
    op.add_column("imports", sa.Column("changes", JSONB, comment="a snapshot's counts: new, altered, closed, unchanged"),
                  schema=CORE_SCHEMA)
    op.execute(f"COMMENT ON TABLE {CORE_SCHEMA}.imports IS 'every import, in order'")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA}")
    op.execute(f"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
        GRANT USAGE ON SCHEMA {HISTORY_SCHEMA} TO {READER_ROLE};
        GRANT SELECT ON ALL TABLES IN SCHEMA {HISTORY_SCHEMA} TO {READER_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA {HISTORY_SCHEMA} GRANT SELECT ON TABLES TO {READER_ROLE};
    END IF;
EXCEPTION
    WHEN insufficient_privilege THEN NULL;  -- see revision 0004
END $$""")


def downgrade() -> None:
    op.execute(f"DROP SCHEMA IF EXISTS {HISTORY_SCHEMA} CASCADE")
    # The log goes back to each source's last import, the layers to each feature's last version.
    op.execute(f"DELETE FROM {CORE_SCHEMA}.imports i USING {CORE_SCHEMA}.imports later "
               "WHERE later.layer = i.layer AND later.source = i.source AND later.id > i.id")
    for column in ("changes", "run", "as_of"):
        op.drop_column("imports", column, schema=CORE_SCHEMA)
    op.create_unique_constraint("imports_layer_source_key", "imports", ["layer", "source"], schema=CORE_SCHEMA)
    for table in _layer_tables():
        if "version" not in _columns(table):
            continue
        name = f'{LAYER_SCHEMA}."{table}"'
        op.execute(f"DELETE FROM {name} t USING {name} later WHERE later.source = t.source "
                   "AND later.source_id = t.source_id AND later.version > t.version")
        op.execute(f'DROP INDEX IF EXISTS {LAYER_SCHEMA}."{table}_lineage_idx"')
        _remake_id(table, f"md5('{table}:' || source || ':' || source_id)::uuid")
        op.execute(f"ALTER TABLE {name} DROP COLUMN version, DROP COLUMN import_id")
