"""Query parameters, checked before TiPg reads them: a bad value is a 400 that names the parameter, never a
500 from deep inside a query. :func:`check_query` runs first on every route of the TiPg router (a router
dependency: FastAPI analyses it once, where ``dependency_overrides`` would cost a fresh analysis per
request), reading the raw query string, so TiPg's own parameters and OpenAPI entries stay as they are.

TiPg's own ``datetime`` filters one date column; the twin's features have a life (``valid_from`` to
``valid_to``), so :func:`span` reads ``datetime`` as the days it covers, which :class:`TwinCollection`
turns into the time rule of :mod:`twin.time`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from cql2 import Expr
from fastapi import HTTPException, Request

from twin.analyses.params import bbox
from twin.errors import ParameterError
from twin.service.tipg_env import PAGE_DEFAULT, PAGE_MAX
from twin.time import year_end

_YEAR = re.compile(r"^\d{4}$")


def bad(parameter: str, message: str) -> HTTPException:
    """The 400 for one parameter: ``parameter: what is wrong``."""
    return HTTPException(status_code=400, detail=f"{parameter}: {message}")


@dataclass(frozen=True)
class Span:
    """The days a ``datetime`` asks about, ends included; an open end is the first or last day there is."""

    start: date
    end: date


# What the OpenAPI document says of each parameter, where twin's meaning is not TiPg's wording.
DESCRIPTIONS = {
    "bbox": "Only features meeting this box: minLon,minLat,maxLon,maxLat in WGS84 degrees (CRS84); "
            "6 numbers with heights are accepted, heights ignored.",
    "datetime": "Only features that existed then, by their valid_from/valid_to: a year (2015: as the city "
                "stood on 31 December 2015), a date (2015-06-01), an RFC 3339 date-time (its date), or an "
                "interval of these (2010/2015, ../2015, 2010/..): what existed on any day of it.",
    "limit": f"Features per page: at most {PAGE_MAX}, {PAGE_DEFAULT} if not given; more is a 400.",
    "offset": "Features to skip before the page starts (the `next` link carries it).",
    "ids": "Only these features: comma-separated feature ids (UUIDs).",
    "filter": "A CQL2 filter (cql2-text or cql2-json) over the collection's queryables; geometries in CRS84.",
    "datetime-column": "Not used: `datetime` always reads each feature's valid_from/valid_to.",
}


PAGING = ("limit", "offset")


def check_bbox(text: str) -> None:
    """The same bbox rule as the analyses' (:func:`twin.analyses.params.bbox`), as a 400."""
    try:
        bbox(text)
    except ParameterError as exc:
        raise bad("bbox", str(exc).removeprefix("bbox: ")) from None


def _day(text: str, end: bool) -> date:
    """One end of a ``datetime``: a year, a date or a date-time; ``..`` or nothing is open."""
    if text in ("..", ""):
        return date.max if end else date.min
    try:
        if _YEAR.match(text):
            return year_end(int(text))
        return datetime.fromisoformat(text).date() if "T" in text.upper() else date.fromisoformat(text)
    except ValueError:
        raise bad("datetime", f"'{text}' is not a year (2015), a date (2015-06-01) or an RFC 3339 "
                              "date-time") from None


def span(datetime_: str) -> Span:
    """A year, a day or an interval of them (``datetime``), as the days it covers."""
    ends = datetime_.split("/")
    if len(ends) == 1:
        day = _day(ends[0], end=False)
        return Span(day, day)
    if len(ends) > 2 or all(part in ("..", "") for part in ends):
        raise bad("datetime", f"'{datetime_}' is not an instant or an interval start/end with at least one "
                              "end given")
    days = Span(_day(ends[0], end=False), _day(ends[1], end=True))
    if days.start > days.end:
        raise bad("datetime", f"the interval '{datetime_}' starts after it ends")
    return days


def instant(datetime_: str) -> date:
    """A year, a day or a date-time (``datetime`` where one moment is asked for: the day it names), as
    :func:`span` reads either end of an interval."""
    if "/" in datetime_ or datetime_ == "..":
        raise bad("datetime", f"'{datetime_}' is an interval; give one year (2015), date (2015-06-01) or "
                              "RFC 3339 date-time")
    return _day(datetime_, end=False)


def is_uuid(value: str) -> bool:
    """Whether ``value`` can be a feature id (a UUID; PostgreSQL would fail the query on anything else)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def check_ids(ids: str) -> None:
    """Feature ids, each a UUID."""
    for value in ids.split(","):
        if not is_uuid(value.strip()):
            raise bad("ids", f"'{value}' is not a feature id (feature ids are UUIDs)")


def check_filter(query: str, filter_lang: str | None) -> None:
    """A CQL2 filter that parses (as TiPg parses it); what it names is checked by the collection."""
    try:
        Expr(Expr(query).to_json())
    except Exception as exc:  # noqa: BLE001  (cql2 raises plain Exceptions, a caret diagram as message)
        lines = [line.strip(" =|") for line in str(exc).splitlines() if line.strip(" =|^")] or [str(exc)]
        where = lines[0].removeprefix("-->").strip()
        raise bad("filter", f"not valid {filter_lang or 'CQL2'} at {where}: {lines[-1]}") from None


def check_query(request: Request) -> None:
    """The parameters TiPg would parse without checking (an empty one TiPg ignores, and so does this)."""
    params = request.query_params
    if (limit := params.get("limit")) is not None and not limit.isdigit():  # a tile's limit has no check
        raise bad("limit", f"'{limit}' is not a number of features (0 or more)")
    if bbox := params.get("bbox"):
        check_bbox(bbox)
    if datetime_ := params.get("datetime"):
        span(datetime_)
    if ids := params.get("ids"):
        check_ids(ids)
    if query := params.get("filter"):
        check_filter(query, params.get("filter-lang"))


def describe(openapi: dict) -> dict:
    """The OpenAPI document with twin's words for the parameters above (TiPg's say what TiPg alone does)."""
    for path, operations in openapi.get("paths", {}).items():
        # features and tiles, not the list, nor the versions route (versions.py), which says its own
        if not path.startswith("/collections/{collectionId}/") or path.endswith("/versions"):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter.get("name")
                if parameter.get("in") == "query" and name in DESCRIPTIONS and (
                        name not in PAGING or path.endswith("/items")):  # a tile's limit is TiPg's own
                    parameter["description"] = DESCRIPTIONS[name]
    return openapi
