"""Layer tables, one per vector layer of the catalog.

The catalog is data, so this revision reads it: a layer file added later gets its table from
``twin db migrate``, which runs the same :func:`sync_layer_tables` after the revisions.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from twin.catalog import load_catalog
from twin.store.migrate import drop_layer_tables, recorded_srid, sync_layer_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    srid = recorded_srid(connection)
    if srid is not None:  # else made once the twin has a CRS (twin.store.migrate.fix_crs)
        sync_layer_tables(connection, load_catalog(), srid)


def downgrade() -> None:
    drop_layer_tables(op.get_bind())
