"""A feature's versions: ``/collections/{layer}/items/{featureId}/versions``.

Every version of the feature (:func:`twin.history.versions`: the rows sharing its source and source id;
any version's id finds them) as a GeoJSON FeatureCollection in WGS84, oldest first, shaped like TiPg's
items: each Feature's ``id`` is that version's row id, its properties the row's columns and ``recorded``
(when the import that wrote it ran). ``datetime`` answers the one version standing then, by the same rule
as the items' ``datetime`` (:mod:`twin.time`); ``recorded`` answers what the twin said at a moment
(transaction time, from the history tables). It reads through psycopg, as the analyses do
(:mod:`twin.service.database`), so that the CLI, the viewer and the service share :mod:`twin.history`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from psycopg import sql
from tipg.collections import Collection

from twin.catalog import Layer, load_catalog
from twin.history import version_on, versions
from twin.service.collections import collection_params
from twin.service.database import GeoJSONResponse, ReadingRoute, connector
from twin.service.params import bad, check_crs, instant, is_uuid
from twin.service.problems import Problem
from twin.store import HISTORY_SCHEMA, LAYER_SCHEMA

PATH = "/collections/{collectionId}/items/{featureId}/versions"
WGS84 = 4326  # GeoJSON's CRS (RFC 7946), as TiPg's items give it, whatever the twin's CRS
EXAMPLE_ID = "6f1d5be2-31f3-6c8e-2b0d-3ad1a4f8c2a7"
# A '+' in a query string is a space once decoded: '...T12:00:00+08:00' unescaped arrives with ' 08:00'.
_SPACED_OFFSET = re.compile(r" (\d{2}(:?\d{2})?)$")


def moment(text: str) -> datetime:
    """``recorded``: an RFC 3339 date-time (its offset required: a moment is no moment without it), or a
    date, meaning the end of that day in UTC (what the twin said once the day was over)."""
    given = _SPACED_OFFSET.sub(r"+\1", text.strip())
    try:
        if "T" not in given.upper():
            return datetime.combine(date.fromisoformat(given), time.max, UTC)
        value = datetime.fromisoformat(given)
    except ValueError:
        raise bad("recorded", f"'{text}' is not an RFC 3339 date-time (2020-07-01T12:00:00Z) or a date "
                              "(2020-07-01)") from None
    if value.tzinfo is None:
        raise bad("recorded", f"'{text}' has no time zone offset; RFC 3339 needs one (Z, +08:00)")
    return value


def _feature(row: dict, links: list[dict]) -> dict:
    """One version as a GeoJSON Feature: its row id, WGS84 geometry, its columns as properties (the id too,
    as TiPg's items have it)."""
    properties = {name: value for name, value in row.items() if name != "geometry"}
    if properties["recorded"] is not None:  # the session's time zone is the server's: say it in UTC
        properties["recorded"] = properties["recorded"].astimezone(UTC)
    return jsonable_encoder({"type": "Feature", "id": row["id"], "geometry": row["geometry"],
                             "properties": properties, "links": links})


def _periods(rows: list[dict]) -> str:
    """When each version stood, for a 404 that says why none stood on the day asked about."""
    return ", ".join(f"{row['valid_from'] or '..'}/{row['valid_to'] or '..'}" for row in rows)


# -- what the OpenAPI document says ---------------------------------------------------------------------
def _example(row_id: str, version: int, stood: tuple[str, str | None], height_m: float, import_id: int,
             recorded: str) -> dict:
    """One version as the example answer shows it."""
    ring = [[117.7301, 39.1302], [117.7303, 39.1302], [117.7303, 39.1304], [117.7301, 39.1304],
            [117.7301, 39.1302]]
    return {"type": "Feature", "id": row_id, "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
            "properties": {"id": row_id, "source": "survey", "source_id": "B2", "version": version,
                           "import_id": import_id, "name": None, "valid_from": stood[0], "valid_to": stood[1],
                           "height_m": height_m, "recorded": recorded}}


_EXAMPLE = {"type": "FeatureCollection", "id": "buildings", "title": "Buildings", "numberMatched": 2,
            "numberReturned": 2, "features": [
                _example(EXAMPLE_ID, 1, ("2015-06-30", "2020-06-30"), 20.0, 7,
                         "2021-03-02T09:15:00.120000+00:00"),
                _example("0c2f9a4e-8d1b-5e76-a3c0-94b7e2d16f58", 2, ("2020-06-30", None), 30.0, 9,
                         "2021-03-02T09:20:41.870000+00:00")]}
DOC: dict[str, Any] = {
    "summary": "The versions of a feature",
    "description": (
        "Every version of the feature that `featureId` (the id of any of its versions) is, oldest first, "
        "as GeoJSON in WGS84 (CRS84): each Feature's `id` is that version's own, its properties include "
        "`version`, `valid_from`/`valid_to` (when it stood), `import_id` and `recorded` (the import that "
        "wrote it, and when: RFC 3339, UTC), `source`, `source_id` and the layer's attributes. A snapshot "
        "import (`twin import --as-of`) makes a new version of each feature it finds altered. `datetime` "
        "answers the one version standing then (a Feature), `recorded` what the twin said at that moment."),
    "responses": {
        "200": {"content": {"application/geo+json": {"example": _EXAMPLE}}},
        "400": {"description": "A malformed feature id, `datetime` or `recorded`; `detail` names it.",
                "content": {"application/json": {"example": {
                    "detail": "recorded: '2020-07-01T12:00' has no time zone offset; RFC 3339 needs one "
                              "(Z, +08:00)"}}}},
        "404": {"description": "No such collection or feature, none of its versions stood at `datetime`, "
                               "or the twin did not hold it yet at `recorded`.",
                "content": {"application/json": {"example": {
                    "detail": f"no version of feature '{EXAMPLE_ID}' in collection 'buildings' stood on "
                              "2012-12-31; its versions stood 2015-06-30/2020-06-30, 2020-06-30/.."}}}},
        "503": {"description": "The database took too long or did not answer."}},
}
FEATURE_ID = Path(description="The id of any version of the feature (a UUID, as items give it).",
                  examples=[EXAMPLE_ID])
DATETIME = Query(alias="datetime",
                 description="Only the version standing then, as a Feature: a year (2015: as the city stood "
                             "on 31 December 2015), a date (2015-06-01) or an RFC 3339 date-time (its date); "
                             "the items' rule, by valid_from/valid_to.", examples=["2015"])
RECORDED = Query(description="What the twin said at this moment (transaction time): an RFC 3339 date-time "
                             "with its offset (2020-07-01T12:00:00Z), or a date (the end of that day, UTC). "
                             "Default: now.", examples=["2020-07-01T12:00:00Z"])


def versions_router(database_url: str, statement_timeout: str) -> APIRouter:
    """The route, reading the twin at ``database_url`` with ``statement_timeout`` per query."""
    router = APIRouter(tags=["Feature versions"], route_class=ReadingRoute)
    catalog = load_catalog()
    connect = connector(database_url, statement_timeout, "twin versions")

    def read(layer: Layer, feature_id: str, then: datetime | None) -> tuple[list[dict], set[UUID]]:
        """The versions (WGS84), and which of their ids the layer table holds now; a 404 for none."""
        named = f"feature '{feature_id}' in collection '{layer.id}'"
        with connect() as connection:
            rows = versions(connection, layer, feature_id, then, srid=WGS84)
            if not rows and then is not None and versions(connection, layer, feature_id):
                raise HTTPException(404, f"the twin did not hold {named} yet at {then.isoformat()}")
            table = sql.Identifier(LAYER_SCHEMA, layer.id)
            if not rows:
                # A feature an import deleted (a plain re-import without it) is still in the history.
                history = sql.Identifier(HISTORY_SCHEMA, layer.id)
                deleted = connection.execute(sql.SQL("SELECT max(superseded_by) FROM {} WHERE id = %s")
                                             .format(history), (feature_id,)).fetchone()[0]
                if deleted is not None:
                    raise HTTPException(404, f"no {named} now: import {deleted} deleted it (`recorded` "
                                             "before that import shows it as the twin held it)")
                raise HTTPException(404, f"no {named}")
            held = connection.execute(sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(table),
                                      ([row["id"] for row in rows],)).fetchall()
        return rows, {row[0] for row in held}

    @router.get(PATH, operation_id="featureVersions", response_class=GeoJSONResponse, **DOC)
    def feature_versions(request: Request, collection: Annotated[Collection, Depends(collection_params)],
                         featureId: Annotated[str, FEATURE_ID],
                         datetime_: Annotated[str | None, DATETIME] = None,
                         recorded: Annotated[str | None, RECORDED] = None) -> GeoJSONResponse:
        check_crs(request.query_params)
        if not is_uuid(featureId):
            raise Problem(400, "not_feature_id", "featureId", value=featureId)
        day = instant(datetime_) if datetime_ else None  # an empty parameter is no parameter, as for items
        then = moment(recorded) if recorded else None
        rows, held = read(catalog[collection.id], featureId, then)
        base = str(request.base_url).rstrip("/")
        collection_link = {"rel": "collection", "type": "application/json", "title": "Collection",
                           "href": f"{base}/collections/{collection.id}"}

        def links(row: dict) -> list[dict]:
            # A version a later plain import deleted (seen through `recorded`) has no item to link to.
            if row["id"] not in held:
                return [collection_link]
            return [collection_link, {"rel": "item", "type": "application/geo+json",
                                      "title": "Item (as the twin holds it now)",
                                      "href": f"{base}/collections/{collection.id}/items/{row['id']}"}]

        self_link = {"rel": "self", "type": GeoJSONResponse.media_type, "href": str(request.url)}
        if day is not None:
            standing = version_on(rows, day)
            if standing is None:
                raise HTTPException(404, f"no version of feature '{featureId}' in collection "
                                         f"'{collection.id}' stood on {day}; its versions stood "
                                         f"{_periods(rows)}")
            return GeoJSONResponse(_feature(standing, [self_link, *links(standing)]))
        return GeoJSONResponse({"type": "FeatureCollection", "id": collection.id,
                                "title": collection.title or collection.id,
                                "numberMatched": len(rows), "numberReturned": len(rows),
                                "links": [self_link, collection_link],
                                "features": [_feature(row, links(row)) for row in rows]})

    return router
