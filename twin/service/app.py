"""The FastAPI app: TiPg's OGC API Features and Tiles over the catalog's layers, read as the read-only role.

What twin adds to TiPg, each in its module: the collections (catalog titles, the time rule, checks of
what a request names, items paged without making the rows skipped: collections.py), checked parameters
(params.py; a tile's address against its TileMatrixSet: tiles.py), answers to faults (problems.py),
the titles in the collection list (titles.py), quicker links (endpoints.py), a feature's versions
(versions.py), and the role it reads with (reader.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from tipg.database import close_db_connection, connect_to_db
from tipg.settings import DatabaseSettings, PostgresSettings

from twin.auth import Judge
from twin.catalog import load_catalog
from twin.service.analyses import analyses_router
from twin.service.collections import collection_params, register_collections
from twin.service.endpoints import TwinEndpoints
from twin.service.params import check_query, describe
from twin.service.problems import add_error_handlers
from twin.service.reader import check_reader, reader_url
from twin.service.tipg_env import PAGE_MAX
from twin.service.guard import Guard
from twin.service.titles import CatalogTitles
from twin.service.versions import versions_router
from twin.store import LAYER_SCHEMA

STATEMENT_TIMEOUT = "30s"  # no one request holds a database connection longer

DESCRIPTION = f"""The city's digital twin as OGC API Features and Tiles: every vector layer of the catalog
is a collection. Items come as GeoJSON in WGS84 (CRS84) whatever the twin's own CRS, {PAGE_MAX} at most
a page (`limit`), filtered by `bbox` (WGS84), `datetime` (a year or date: the city as it stood then, by
each feature's valid_from/valid_to), properties (`?name=...`) and CQL2 (`filter`). A feature's versions
(as snapshot imports made them) are at `/collections/{{layer}}/items/{{id}}/versions`: all of them, the one
standing at a `datetime`, or what the twin said at a moment (`recorded`). Read only."""


def create_app(database_url: str | None = None) -> FastAPI:
    """The service app reading the twin at ``database_url`` (default: the read-only role's URL,
    :func:`reader_url`); fails at once, in one line, if that role cannot read the catalog's layers."""
    catalog = load_catalog()
    url = database_url or reader_url()
    check_reader(url, catalog)
    database = DatabaseSettings(schemas=[LAYER_SCHEMA], datetime_extent=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # JIT off: PostGIS's costly functions push a page of items past jit_above_cost, and compiling
        # took 85 ms of a 1000-item page's 130 ms (the analyses' connections turn it off for the same reason)
        await connect_to_db(app, schemas=database.schemas, settings=PostgresSettings(database_url=url),
                            server_settings={"statement_timeout": STATEMENT_TIMEOUT, "jit": "off"})
        await register_collections(app, catalog, database)
        yield
        await close_db_connection(app)

    app = FastAPI(title="twin", description=DESCRIPTION, openapi_url="/api", docs_url="/api.html",
                  lifespan=lifespan)
    app.include_router(TwinEndpoints(title="twin", collection_dependency=collection_params).router,
                       dependencies=[Depends(check_query)])
    app.include_router(versions_router(url, STATEMENT_TIMEOUT))
    app.include_router(analyses_router(url, STATEMENT_TIMEOUT))
    add_error_handlers(app)
    app.add_middleware(CatalogTitles, catalog=catalog)
    app.add_middleware(Guard, judge=Judge(url))  # the last added runs first: before anything is read

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(get_openapi(title=app.title, version=app.version,
                                                      description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document

    @app.get("/healthz", tags=["Health Check"], operation_id="healthCheck")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
