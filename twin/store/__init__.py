"""The PostGIS store.

- :mod:`.url`: where the database is (``TWIN_DATABASE_URL`` or the project's own cluster)
- :mod:`.cluster`: the project's own PostgreSQL cluster under ``TWIN_HOME``
- :mod:`.database`: the one way to the database: pooled SQLAlchemy connections, and their psycopg ones
- :mod:`.tables`: the feature model, one table per vector layer
- :mod:`.migrate`: Alembic revisions and the catalog's layer tables
- :mod:`.meta`: facts a twin records about itself (its CRS, its terrain)
"""

from psycopg import sql

LAYER_SCHEMA = "layers"  # one table per vector layer; what the OGC API service publishes
CORE_SCHEMA = "twin"  # twin's own bookkeeping: meta, rasters, imports, rejects
HISTORY_SCHEMA = "history"  # each layer's rows as they were before an import replaced or closed them
# The read-only role the OGC API service connects as, one per cluster: made and granted by migrations 0004
# and 0005. Named here, where the store owns it, so that migrating never imports twin.service (whose
# __init__ sets TiPg's environment).
READER_ROLE = "twin_reader"


# Tables named for SQL composed with psycopg.sql: the library quotes them.
def core_table(name: str) -> sql.Identifier:
    """One of twin's own tables (meta, rasters, imports, rejects)."""
    return sql.Identifier(CORE_SCHEMA, name)


def layer_table(layer_id: str) -> sql.Identifier:
    """A vector layer's table."""
    return sql.Identifier(LAYER_SCHEMA, layer_id)


def history_table(layer_id: str) -> sql.Identifier:
    """A vector layer's history table."""
    return sql.Identifier(HISTORY_SCHEMA, layer_id)
