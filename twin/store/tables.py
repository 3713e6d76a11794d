"""The one feature model every vector layer shares, made into a table from the layer's catalog entry.

Every layer table has: a stable ``id`` (a UUID the database derives from layer, source, source id and
version, so a re-import keeps it), ``source`` (dataset name), ``source_id``, ``version`` (1, 2, ... as
snapshots alter the feature: its versions share source and source id), ``import_id`` (the import that
wrote the row as it is: its transaction time), ``name``, ``valid_from``/``valid_to`` (dates; null is
open), ``geom`` in the twin's CRS (3D where the layer is), then its typed attributes.

Each layer table has a twin in :data:`HISTORY_SCHEMA` holding rows as they were before an import
deleted or altered them, with the import that did (``superseded_by``): what undoing an import puts back,
and what the twin said on any earlier day.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from psycopg import sql
from sqlalchemy import (
    BigInteger,
    Integer,
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
from twin.store import HISTORY_SCHEMA, LAYER_SCHEMA


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
    return Table(
        layer.id,
        metadata,
        # Derived from the layer, source, source id and version, so a re-import gives a feature the same id,
        # and, as the key, it keeps (source, source_id, version) unique; the database computes it, so bulk
        # loads need not.
        Column("id", UUID(as_uuid=True), Computed(stable_id(layer.id), persisted=True), primary_key=True),
        *_feature_columns(layer, srid),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from",
                        name=f"{layer.id}_valid_period"),
        Index(f"{layer.id}_geom_idx", "geom", postgresql_using="gist"),
        Index(f"{layer.id}_valid_idx", "valid_from", "valid_to"),
        Index(f"{layer.id}_lineage_idx", "source", "source_id"),
        schema=LAYER_SCHEMA,
        comment=layer.title,
    )


def history_table(layer: Layer, metadata: MetaData, srid: int) -> Table:
    """Rows of one layer's table as they were before an import deleted or altered them, in
    :data:`HISTORY_SCHEMA`: the same columns (``id`` copied, not computed) and the import that did."""
    return Table(
        layer.id,
        metadata,
        Column("id", UUID(as_uuid=True), nullable=False),
        *_feature_columns(layer, srid),
        Column("superseded_by", Integer, nullable=False, comment="the import that deleted or altered the row"),
        Index(f"{layer.id}_superseded_idx", "superseded_by"),
        Index(f"{layer.id}_history_lineage_idx", "source", "source_id"),
        schema=HISTORY_SCHEMA,
        comment=f"{layer.title}: earlier rows",
    )


def _feature_columns(layer: Layer, srid: int) -> list[Column]:
    if layer.is_raster:
        raise ValueError(f"raster layer '{layer.id}' has no feature table")
    geometry = Geometry(geometry_type(layer), srid=srid, dimension=3 if layer.z else 2, spatial_index=False)
    return [
        Column("source", Text, nullable=False, comment="dataset the feature came from"),
        Column("source_id", Text, nullable=False, comment="the feature's id in its dataset"),
        Column("version", Integer, nullable=False, server_default="1",
               comment="1, 2, ...: the feature's versions, as snapshots of its source altered it"),
        Column("import_id", Integer, comment="the import that wrote the row as it is"),
        Column("name", Text),
        Column("valid_from", Date, comment="first day it existed; null: always"),
        Column("valid_to", Date, comment="first day it no longer existed; null: still exists"),
        Column("geom", geometry, nullable=False),
        *(attribute_column(name, attribute, srid) for name, attribute in layer.attributes.items()),
    ]


def stable_id(layer_id: str, version: str = "version") -> str:
    """SQL for a row's id: version 1's is the feature's own (layer, source and source id), later
    versions' add their number. ``version``: the SQL of the version (a column by default)."""
    # chr(31), the unit separator, cannot end a source id read from a file, so no id of one version
    # equals another's.
    return sql.SQL("md5({prefix} || source || ':' || source_id || "
                   "CASE WHEN {version} = 1 THEN '' ELSE chr(31) || {version}::text END)::uuid").format(
        prefix=sql.Literal(f"{layer_id}:"), version=sql.SQL(version)).as_string()


def layer_metadata(catalog: Catalog, srid: int) -> MetaData:
    """Tables of every vector layer of the catalog, and their history tables."""
    metadata = MetaData()
    for layer in catalog.vector_layers:
        layer_table(layer, metadata, srid)
        history_table(layer, metadata, srid)
    return metadata
