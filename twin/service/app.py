"""The FastAPI app: TiPg's OGC API endpoints over the ``layers`` schema, configured from twin's settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from tipg.collections import register_collection_catalog
from tipg.database import close_db_connection, connect_to_db
from tipg.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from tipg.factory import Endpoints
from tipg.settings import DatabaseSettings, PostgresSettings

from twin.store import LAYER_SCHEMA


def create_app(database_url: str) -> FastAPI:
    """The service app for the twin at ``database_url`` (a libpq URL)."""
    database = DatabaseSettings(schemas=[LAYER_SCHEMA], datetime_extent=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await connect_to_db(app, schemas=database.schemas, settings=PostgresSettings(database_url=database_url))
        await register_collection_catalog(app, db_settings=database)
        yield
        await close_db_connection(app)

    app = FastAPI(title="twin", openapi_url="/api", docs_url="/api.html", lifespan=lifespan)
    app.include_router(Endpoints(title="twin").router)
    add_exception_handlers(app, DEFAULT_STATUS_CODES)

    @app.get("/healthz", tags=["Health Check"], operation_id="healthCheck")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
