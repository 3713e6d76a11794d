"""Row counts of the catalog's layers, as the CLI, the viewer's panel and the service show them."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from twin.catalog import Catalog
from twin.store import CORE_SCHEMA, LAYER_SCHEMA


def layer_counts(connection: Connection, catalog: Catalog) -> dict[str, int | None]:
    """Features per vector layer (each once, however many versions it has: its version 1) and registered
    rasters per raster layer; None where no table exists."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names(schema=LAYER_SCHEMA))
    has_rasters = inspector.has_table("rasters", schema=CORE_SCHEMA)
    raster_counts: dict[str, int] = {}
    if has_rasters:
        rows = connection.execute(text(f"SELECT layer, count(*) FROM {CORE_SCHEMA}.rasters GROUP BY layer"))
        raster_counts = dict(rows.all())
    counts: dict[str, int | None] = {}
    vector = [layer.id for layer in catalog.vector_layers if layer.id in tables]
    if vector:
        union = " UNION ALL ".join(
            f"SELECT '{layer_id}' AS id, count(*) FROM {LAYER_SCHEMA}.\"{layer_id}\" WHERE version = 1"
            for layer_id in vector
        )
        counts.update(dict(connection.execute(text(union)).all()))
    for layer in catalog:
        if layer.is_raster:
            counts[layer.id] = raster_counts.get(layer.id, 0) if has_rasters else None
        else:
            counts.setdefault(layer.id, None)
    return counts


def held(connection: Connection) -> int:
    """Features in all layer tables together, and registered rasters."""
    tables = inspect(connection).get_table_names(schema=LAYER_SCHEMA)
    parts = [f'SELECT count(*) FROM {LAYER_SCHEMA}."{name}"' for name in tables]
    if inspect(connection).has_table("rasters", schema=CORE_SCHEMA):
        parts.append(f"SELECT count(*) FROM {CORE_SCHEMA}.rasters")
    return sum(connection.execute(text(" UNION ALL ".join(parts))).scalars()) if parts else 0
