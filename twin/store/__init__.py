"""The PostGIS store: where it is (:mod:`.engine`), the project's own cluster (:mod:`.cluster`), the
layer tables (:mod:`.tables`) and schema changes (:mod:`.migrate`)."""

from twin.store.engine import connect, database_url, get_engine, is_external, own_cluster

__all__ = ["connect", "database_url", "get_engine", "is_external", "own_cluster"]
