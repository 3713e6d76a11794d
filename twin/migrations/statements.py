"""SQL statements of the revisions, their names and values composed (and quoted) by psycopg, run on the
migration's connection."""

from __future__ import annotations

from alembic import op
from psycopg import sql

from twin.store.database import psycopg_of


def execute(statement: str, **parts: sql.Composable) -> None:
    """Run ``statement`` with its ``{name}`` placeholders filled by ``parts``."""
    psycopg_of(op.get_bind()).execute(sql.SQL(statement).format(**parts))
