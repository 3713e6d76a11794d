"""Routes that read the twin through psycopg, beside TiPg's asyncpg pool: the analyses and a feature's
versions call the same functions the viewer and the CLI call (:mod:`twin.analyses`, :mod:`twin.history`),
which take a psycopg connection; FastAPI runs these routes in its thread pool.

:func:`connector` hands each request a pooled connection (:mod:`twin.store.database`) as the service's
read-only role, with the service's statement timeout; :class:`ReadingRoute` answers what goes wrong there:
a :class:`ParameterError` is a 400, a query past the timeout or a database that does not answer a 503.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import psycopg
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from twin.errors import ParameterError, StoreError
from twin.service.problems import parameter_answer
from twin.store import database


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


def connector(database_url: str, statement_timeout: str, application_name: str
              ) -> Callable[[], AbstractContextManager[psycopg.Connection]]:
    """A function handing out a pooled connection to ``database_url`` with ``statement_timeout`` (a
    PostgreSQL duration) per query, named ``application_name`` in pg_stat_activity."""
    # JIT compiling costs these queries about half a second each and saves nothing
    options = f"-c statement_timeout={statement_timeout} -c jit=off"
    return partial(database.raw, database_url, options=options, application_name=application_name)


class ReadingRoute(APIRoute):
    """A route whose :class:`ParameterError` is a 400, and whose database's faults are 503s."""

    too_long = "the request took longer than the service allows"  # what a 503 for the timeout says

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ParameterError as exc:
                return parameter_answer(request, exc)
            except psycopg.errors.QueryCanceled:
                return JSONResponse({"detail": self.too_long}, status_code=503)
            except (psycopg.OperationalError, StoreError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                return JSONResponse({"detail": f"the twin's database cannot answer: {reason}"},
                                    status_code=503)

        return answer
