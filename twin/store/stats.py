"""Row counts of the catalog's layers, as the CLI, the viewer's panel and the service show them."""

from __future__ import annotations

from sqlalchemy import Connection, column, func, inspect, literal, select, table, union_all

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
        rasters = table("rasters", column("layer"), schema=CORE_SCHEMA)
        rows = connection.execute(select(rasters.c.layer, func.count()).group_by(rasters.c.layer))
        raster_counts = dict(rows.all())
    counts: dict[str, int | None] = {}
    vector = [layer.id for layer in catalog.vector_layers if layer.id in tables]
    if vector:
        union = union_all(*(select(literal(layer_id), func.count())
                            .select_from(table(layer_id, column("version"), schema=LAYER_SCHEMA))
                            .where(column("version") == 1) for layer_id in vector))
        counts.update(dict(connection.execute(union).all()))
    for layer in catalog:
        if layer.is_raster:
            counts[layer.id] = raster_counts.get(layer.id, 0) if has_rasters else None
        else:
            counts.setdefault(layer.id, None)
    return counts


def held(connection: Connection) -> int:
    """Features in all layer tables together, and registered rasters."""
    tables = inspect(connection).get_table_names(schema=LAYER_SCHEMA)
    parts = [select(func.count()).select_from(table(name, schema=LAYER_SCHEMA)) for name in tables]
    if inspect(connection).has_table("rasters", schema=CORE_SCHEMA):
        parts.append(select(func.count()).select_from(table("rasters", schema=CORE_SCHEMA)))
    return sum(connection.execute(union_all(*parts)).scalars()) if parts else 0
