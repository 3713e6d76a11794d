"""How the service answers what goes wrong: a bad request is a 400 (an unknown collection or feature a
404) whose ``detail`` is one line naming the parameter; only a fault of the service is a 500. A
:class:`Problem` is told in the language the request asks for (:func:`language`)."""

from __future__ import annotations

import re

from asyncpg import exceptions as pg
from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from tipg import errors

from twin import i18n
from twin.errors import ParameterError


class Problem(HTTPException):
    """What the client got wrong, as message ``key`` of the messages' ``api`` section with its ``params``,
    after ``parameter: `` where one parameter is at fault; its ``detail`` is the English."""

    def __init__(self, status: int, key: str, parameter: str | None = None, **params: object) -> None:
        self.key, self.parameter, self.params = key, parameter, params
        super().__init__(status_code=status, detail=self.told(i18n.DEFAULT))

    def told(self, language: str) -> str:
        message = i18n.text(f"api.{self.key}", language, **self.params)
        return f"{self.parameter}: {message}" if self.parameter else message


def language(request: Request) -> str:
    """The language the request asks for (TWIN_LANGUAGE where set, else its Accept-Language)."""
    return i18n.language_for(i18n.accepted(request.headers.get("accept-language")))


def language_headers(told_in: str) -> dict[str, str]:
    # Vary: a cache must not hand one client's language to another.
    return {"content-language": told_in, "vary": "Accept-Language"}


# TiPg's errors that come from what the client asked (TiPg answers most of them 422): status, and the
# parameter to name where TiPg's message does not.
_CLIENT_ERRORS: dict[type[Exception], tuple[int, str | None]] = {
    errors.InvalidBBox: (400, "bbox"),
    errors.InvalidDatetime: (400, "datetime"),
    errors.InvalidLimit: (400, "limit"),
    errors.InvalidPropertyName: (400, None),
    errors.InvalidGeometryColumnName: (400, "geom-column"),
    errors.InvalidDatetimeColumnName: (400, "datetime-column"),
    errors.MissingGeometryColumn: (400, None),
    errors.NotFound: (404, None),
}

# TiPg's own messages a client can reach, in twin's words (messages' api section; any other goes out in
# TiPg's English), and what PostgreSQL's refusals are prefixed with.
_TIPG_SAYS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Item (?P<value>.+) in Collection (?P<collection>.+) does not exist\.$"), "no_feature"),
    (re.compile(r"^Invalid Geometry Column(?: Name)?:? (?P<value>.+?)\.?$"), "no_geometry_column"),
    (re.compile(r"^Invalid Datetime Column(?: Name)?:? (?P<value>.+?)\.?$"), "no_datetime_column"),
)


def add_error_handlers(app: FastAPI) -> None:
    errors.add_exception_handlers(app, errors.DEFAULT_STATUS_CODES)  # TiPg's: logged, 500 for the rest
    app.add_exception_handler(Problem, _told)
    app.add_exception_handler(ParameterError, parameter_answer)
    for error, (status, parameter) in _CLIENT_ERRORS.items():
        app.add_exception_handler(error, _answer(status, parameter))
    app.add_exception_handler(RequestValidationError, _invalid_parameters)
    # What PostgreSQL refuses in a filter's values or operators (the checks in TwinCollection catch the
    # usual ones first); a privilege error is no client's fault.
    app.add_exception_handler(pg.DataError, _answer(400, "filter", "database_refused"))
    app.add_exception_handler(pg.SyntaxOrAccessError, _answer(400, "filter", "database_refused"))
    app.add_exception_handler(pg.InsufficientPrivilegeError, errors.exception_handler_factory(500))
    app.add_exception_handler(pg.QueryCanceledError, _answer(503, None, "too_long"))
    app.add_exception_handler(StarletteHTTPException, _no_path)


def _told(request: Request, exc: Problem) -> JSONResponse:
    told_in = language(request)
    return JSONResponse({"detail": exc.told(told_in)}, status_code=exc.status_code, headers=language_headers(told_in))


def parameter_answer(request: Request, exc: ParameterError) -> JSONResponse:
    """The 400 for an analysis's parameter (the same checks the viewer's panels make), in the request's language."""
    told_in = language(request)
    return JSONResponse({"detail": exc.told(told_in)}, status_code=400, headers=language_headers(told_in))


def _answer(status: int, prefix: str | None = None, key: str | None = None):
    """The handler of an error from TiPg or PostgreSQL: ``status``, after ``prefix: `` (the parameter),
    TiPg's message in twin's words where :data:`_TIPG_SAYS` knows it, else worded by ``key`` (its reason,
    the error's first line) or as it came."""
    def handler(request: Request, exc: Exception) -> JSONResponse:
        told_in = language(request)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = i18n.text(f"api.{key}", told_in, reason=reason) if key else reason
        for pattern, says in _TIPG_SAYS:
            if match := pattern.match(reason):
                message = i18n.text(f"api.{says}", told_in, **match.groupdict())
        return JSONResponse({"detail": f"{prefix}: {message}" if prefix else message}, status_code=status,
                            headers=language_headers(told_in))

    return handler


async def _no_path(request: Request, exc: StarletteHTTPException) -> Response:
    """Starlette's own answers (a path or method the API does not have), in the request's language."""
    if exc.status_code not in (404, 405):
        return await http_exception_handler(request, exc)
    told_in = language(request)
    key = "no_path" if exc.status_code == 404 else "no_method"
    return JSONResponse({"detail": i18n.text(f"api.{key}", told_in, path=request.url.path, method=request.method)},
                        status_code=exc.status_code, headers={**(exc.headers or {}), **language_headers(told_in)})


def _invalid_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 for a parameter of the wrong type or range, as a 400 naming it, in twin's words."""
    told_in = language(request)
    problems = [f"{error['loc'][-1]}: {_invalid(error, told_in)}" for error in exc.errors()]
    return JSONResponse({"detail": "; ".join(problems)}, status_code=400, headers=language_headers(told_in))


def _invalid(error: dict, told_in: str) -> str:
    context = dict(error.get("ctx", {}))
    if "expected" in context:  # pydantic's "'a', 'b' or 'c'", its "or" English
        context["expected"] = str(context["expected"]).replace("' or '", "', '")
    try:
        return i18n.text(f"validation.{error['type']}", told_in, input=error.get("input"), **context)
    except KeyError:  # a check twin's parameters do not make: pydantic's English
        return error["msg"]
