"""Import log and reject report: one row per (layer, source) import, one per rejected source row.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from twin.store import CORE_SCHEMA

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("crs", sa.Text, comment="the CRS the source was read in"),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("layer", "source", name="imports_layer_source_key"),
        schema=CORE_SCHEMA,
        comment="the last import of each source into each layer",
    )
    op.create_table(
        "rejects",
        sa.Column("import_id", sa.Integer, sa.ForeignKey(f"{CORE_SCHEMA}.imports.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False, comment="as a person finds it in the source"),
        sa.Column("source_id", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("data", JSONB, comment="the row's attributes as read"),
        schema=CORE_SCHEMA,
        comment="source rows an import did not load, and why",
    )
    op.create_index("rejects_import_idx", "rejects", ["import_id", "row_number"], schema=CORE_SCHEMA)


def downgrade() -> None:
    op.drop_table("rejects", schema=CORE_SCHEMA)
    op.drop_table("imports", schema=CORE_SCHEMA)
