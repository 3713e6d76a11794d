"""Core schema: PostGIS, the twin and layers schemas, the twin's facts (meta), raster registry.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.schema import CreateSchema, DropSchema

from twin.store import CORE_SCHEMA, LAYER_SCHEMA

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(CreateSchema(CORE_SCHEMA, if_not_exists=True))
    op.execute(CreateSchema(LAYER_SCHEMA, if_not_exists=True))
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        schema=CORE_SCHEMA,
        comment="facts about this twin: its city's name, CRS (and SRID) and extent (twin.store.city)",
    )
    op.create_table(
        "rasters",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, comment="the year a time-varying raster shows; null: any"),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("crs", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        # Typed with the twin's SRID once it has a CRS (twin.store.migrate.fix_crs).
        sa.Column("bounds", Geometry("POLYGON", spatial_index=False), nullable=False,
                  comment="extent in the twin's CRS"),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("layer", "source", "year", name="rasters_layer_source_year_key",
                            postgresql_nulls_not_distinct=True),
        schema=CORE_SCHEMA,
        comment="raster layers (DEM, land cover): files registered with their extent",
    )


def downgrade() -> None:
    op.execute(DropSchema(LAYER_SCHEMA, cascade=True, if_exists=True))
    op.execute(DropSchema(CORE_SCHEMA, cascade=True, if_exists=True))
