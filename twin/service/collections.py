"""The collections: one per vector layer of the catalog, TiPg's table collections with the catalog's
title and description, the layer id as collection id, and the twin's time rule behind ``datetime``.

TiPg builds the SQL; :class:`TwinCollection` adds the time condition, checks what a request names
(feature ids, properties, CQL2 functions) before TiPg puts it into a query, and picks an items page before
making its features (TiPg's own query made every row it skipped).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated, Any

import asyncpg
from cql2 import Expr
from fastapi import FastAPI, Path, Request
from tipg.collections import Catalog as TiPgCatalog
from tipg.collections import (Collection, Feature, PgCollection, _quote_ident, features_settings,
                               pg_get_collection_index)
from tipg.errors import InvalidPropertyName
from tipg.settings import DatabaseSettings

from twin.catalog import Catalog
from twin.service.params import is_uuid, span
from twin.service.problems import Problem
from twin.time import EXISTED

# CQL2's operators and functions (OGC 21-065) as cql2-json names them; anything else in a filter would
# reach PostgreSQL as a function call of the user's choosing.
CQL2_OPERATORS = frozenset({
    "and", "or", "not", "=", "<>", "<", ">", "<=", ">=", "like", "between", "in", "isNull",
    "casei", "accenti", "+", "-", "*", "/", "%", "^", "div",
    "s_intersects", "s_equals", "s_disjoint", "s_touches", "s_within", "s_overlaps", "s_crosses",
    "s_contains",
    "t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals", "t_finishedBy", "t_finishes",
    "t_intersects", "t_meets", "t_metBy", "t_overlappedBy", "t_overlaps", "t_startedBy", "t_starts",
    "a_equals", "a_contains", "a_containedBy", "a_overlaps",
})
GEOMETRY = "geom"  # the feature's geometry, in every layer table (twin.store.tables)
_NUMBERS = frozenset({"smallint", "integer", "bigint", "real", "double precision", "float8", "numeric"})


class TwinCollection(PgCollection):
    """A layer table, as TiPg serves it, with the twin's meaning of ``datetime``."""

    def cql_where(self, ids: list[str] | None = None, datetime: list[str] | None = None,
                  bbox: list[float] | None = None, properties: list[tuple[str, Any]] | None = None,
                  cql: Expr | None = None, **rest: Any) -> Expr | None:
        """TiPg's WHERE, with ``datetime`` (its ends, as TiPg splits it; checked by params.check_query) as
        the features that existed on some day of it (:data:`twin.time.EXISTED`)."""
        for value in ids or ():  # an item's path: ids= was checked in params.check_query
            if not is_uuid(value):
                raise Problem(404, "no_feature", value=value, collection=self.id)
        for name, value in properties or ():
            self._check_value(name, value)
        if cql is not None:
            self._check_filter(cql.to_json())
        where = super().cql_where(ids=ids, bbox=bbox, properties=properties, cql=cql, **rest)
        if datetime is None:
            return where
        days = span("/".join(datetime))
        existed = Expr(EXISTED.format(start=_cql_date(days.start), end=_cql_date(days.end)))
        return existed if where is None else where + existed

    async def _features_query(self, conn: asyncpg.Connection, *, where: Expr | None = None,
                              sortby: str | None = None, properties: list[str] | None = None,
                              geom: str | None = None, limit: int | None = None, offset: int | None = None,
                              bbox_only: bool | None = None, simplify: float | None = None,
                              geom_as_wkt: bool = False, function_parameters: dict[str, str] | None
                              ) -> AsyncIterator[Feature]:
        """TiPg's items query, with the page picked before its features are made: TiPg's ``SELECT <the
        GeoJSON of each row> ... ORDER BY id LIMIT n OFFSET m`` transforms and encodes every row it skips,
        so the page at offset 19,000 of the buildings cost 96 ms where its 10 rows cost 9 ms, and paging
        through a layer cost the square of its size (GDAL's 10-feature pages: 78 s for the buildings)."""
        params: list[Any] = []
        order = self._sortby(sortby)
        page = " ".join([f"SELECT * {self._from(function_parameters, params)}", self._where_clause(where),
                         order, f"LIMIT {int(limit or features_settings.default_features_limit)}",
                         f"OFFSET {int(offset or 0)}"])
        select = self._select(properties=properties, geometry_column=self.get_geometry_column(geom),
                              bbox_only=bbox_only, simplify=simplify, geom_as_wkt=geom_as_wkt)
        query = f"{select} FROM ({page}) AS {_quote_ident(self.table)} {order}"
        for row in await conn.fetch(query, *params):
            properties_ = dict(row)
            geometry, id_ = properties_.pop("tipg_geom"), properties_.pop("tipg_id")
            yield Feature(type="Feature", geometry=geometry, id=id_, properties=properties_)

    def _sort_expressions(self, sortby: str | None) -> list[tuple[str, str]]:
        try:
            return super()._sort_expressions(sortby)
        except InvalidPropertyName:
            missing = [name for part in (sortby or "").split(",")
                       if not self.get_column(name := part.strip().lstrip("+-").strip())]
            raise Problem(400, "no_sort_property", "sortby", collection=self.id, property=", ".join(missing),
                          known=", ".join(self.columns())) from None

    def _check_value(self, name: str, value: str) -> None:
        """A property filter's value must be of the column's type (else PostgreSQL fails the query)."""
        kind = self.get_column(name).type
        try:
            if kind in _NUMBERS:
                float(value)
            elif kind == "date":
                date.fromisoformat(value)
            elif (kind == "uuid" and not is_uuid(value)) or (kind.startswith("bool")
                                                             and value.lower() not in ("true", "false")):
                raise ValueError
        except ValueError:
            raise Problem(400, "not_a_type", name, value=value, kind=kind, name=name) from None

    def _check_filter(self, node: Any) -> None:
        """Every property a CQL2 filter names is a queryable, every operator one of CQL2's."""
        if isinstance(node, list):
            for item in node:
                self._check_filter(item)
        elif isinstance(node, dict):
            if "property" in node and self.get_column(node["property"]) is None:
                known = ", ".join(sorted(self.queryables))
                raise Problem(400, "no_property", "filter", collection=self.id, property=node["property"], known=known)
            if "op" in node and node["op"] not in CQL2_OPERATORS:
                raise Problem(400, "not_cql2", "filter", op=node["op"])
            for value in node.values():
                self._check_filter(value)


def _cql_date(day: date) -> str:
    return f"DATE('{day.isoformat()}')"


async def register_collections(app: FastAPI, catalog: Catalog, settings: DatabaseSettings) -> None:
    """Put the catalog's vector layers into ``app.state.collection_catalog`` (where TiPg's routes look),
    from what TiPg finds in the layer schema: tables the catalog does not name are not published."""
    async with app.state.pool.acquire() as connection:
        found = {found.table: found for found in await pg_get_collection_index(connection, settings)}
    collections: dict[str, Collection] = {}
    for layer in catalog.vector_layers:
        if layer.id in found:
            fields = found[layer.id].model_dump(by_alias=True)
            fields.update(id=layer.id, title=layer.title, description=layer.description or layer.title)
            # A layer's other geometries (a building's 3D surfaces) are attributes TiPg would not output
            # anyway; left in, their extent (the whole world when empty) would widen the collection's.
            for key in ("table_columns", "properties"):
                fields[key] = [column for column in fields[key] if column["name"] == GEOMETRY
                               or column["type"] not in ("geometry", "geography")]
            collections[layer.id] = TwinCollection.model_validate(fields)
    app.state.collection_catalog = TiPgCatalog(collections=collections, last_updated=datetime.now())


def collection_params(
    request: Request, collectionId: Annotated[str, Path(description="A layer id, e.g. buildings")]
) -> Collection:
    """The collection a path names; an unknown one is a 404 that lists the known ones."""
    collections = request.app.state.collection_catalog["collections"]
    if collectionId not in collections:
        raise Problem(404, "no_collection", id=collectionId, known=", ".join(collections))
    return collections[collectionId]
