"""The people who may see the twin from beyond its own machine (twin.auth): a name, a password kept as a
scrypt hash, and a role, ``reader`` (the viewer and the API's reading) or ``editor`` (also what the API
changes).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from twin.store import CORE_SCHEMA

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("password", sa.Text, nullable=False, comment="scrypt$n$r$p$salt$hash, base64 (twin.auth)"),
        sa.Column("role", sa.Text, sa.CheckConstraint("role IN ('reader', 'editor')"), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema=CORE_SCHEMA, comment="who may see the twin from beyond its machine, and do what")


def downgrade() -> None:
    op.drop_table("users", schema=CORE_SCHEMA)
