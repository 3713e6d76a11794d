"""The one feature model every vector layer shares, made into a table from the layer's catalog entry.

Every layer table has: a stable ``id`` (a UUID the importer derives from layer, source and source id, so
a re-import keeps it), ``source`` (dataset name), ``source_id``, ``name``, ``valid_from``/``valid_to``
(dates; null is open), ``geom`` in the twin's CRS (3D where the layer is), then its typed attributes.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    Double,
    Index,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.types import TypeEngine

from twin.catalog import Attribute, Catalog, Layer
from twin.store import LAYER_SCHEMA


_GEOMETRY_TYPES = {"point": "POINT", "line": "MULTILINESTRING", "polygon": "MULTIPOLYGON"}


def geometry_type(layer: Layer) -> str:
    """The PostGIS geometry type of a vector layer's ``geom`` column, e.g. MULTILINESTRINGZ."""
    return _GEOMETRY_TYPES[layer.geometry] + ("Z" if layer.z else "")


def _column_type(attribute: Attribute, srid: int) -> TypeEngine:
    if attribute.type == "solid":
        # 3D boundary surfaces as a MultiPolygonZ: GEOS and shapely read it, which PolyhedralSurface lacks.
        return Geometry("MULTIPOLYGONZ", srid=srid, dimension=3, spatial_index=False)
    return {
        "text": Text(),
        "integer": BigInteger(),
        "real": Double(),
        "date": Date(),
        "boolean": Boolean(),
        "json": JSONB(),
    }[attribute.type]


def attribute_column(name: str, attribute: Attribute, srid: int) -> Column:
    return Column(name, _column_type(attribute, srid), comment=attribute.title)


def layer_table(layer: Layer, metadata: MetaData, srid: int) -> Table:
    """The table of one vector layer, in :data:`LAYER_SCHEMA`."""
    if layer.is_raster:
        raise ValueError(f"raster layer '{layer.id}' has no feature table")
    geometry = Geometry(geometry_type(layer), srid=srid, dimension=3 if layer.z else 2, spatial_index=False)
    return Table(
        layer.id,
        metadata,
        # Derived from the layer, source and source id, so a re-import gives a feature the same id, and,
        # as the key, it keeps (source, source_id) unique; the database computes it, so bulk loads need not.
        Column("id", UUID(as_uuid=True), Computed(_stable_id(layer.id), persisted=True), primary_key=True),
        Column("source", Text, nullable=False, comment="dataset the feature came from"),
        Column("source_id", Text, nullable=False, comment="the feature's id in its dataset"),
        Column("name", Text),
        Column("valid_from", Date, comment="first day it existed; null: always"),
        Column("valid_to", Date, comment="first day it no longer existed; null: still exists"),
        Column("geom", geometry, nullable=False),
        *(attribute_column(name, attribute, srid) for name, attribute in layer.attributes.items()),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from",
                        name=f"{layer.id}_valid_period"),
        Index(f"{layer.id}_geom_idx", "geom", postgresql_using="gist"),
        Index(f"{layer.id}_valid_idx", "valid_from", "valid_to"),
        schema=LAYER_SCHEMA,
        comment=layer.title,
    )


def _stable_id(layer_id: str) -> str:
    return f"md5('{layer_id}:' || source || ':' || source_id)::uuid"


def layer_metadata(catalog: Catalog, srid: int) -> MetaData:
    """Tables of every vector layer of the catalog."""
    metadata = MetaData(schema=LAYER_SCHEMA)
    for layer in catalog.vector_layers:
        layer_table(layer, metadata, srid)
    return metadata
