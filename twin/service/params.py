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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from cql2 import Expr
from fastapi import Request

from twin.analyses.params import bbox
from twin.service.problems import Problem
from twin.service.tiles import check_tile
from twin.service.tipg_env import PAGE_DEFAULT, PAGE_MAX
from twin.time import year_end

_YEAR = re.compile(r"^\d{4}$")
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# How a client may name CRS84 (OGC API Features Part 2 gives the URI; the CURIE and https are common).
_CRS84_NAMES = frozenset({CRS84, CRS84.replace("http:", "https:"), "OGC:CRS84", "[OGC:CRS84]"})
# OGC API Features Part 2's parameters, each with the message saying what it has in CRS84 only.
CRS_PARAMETERS = {"crs": "crs_items", "bbox-crs": "crs_bbox", "filter-crs": "crs_filter"}


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


def _day(text: str, end: bool) -> date:
    """One end of a ``datetime``: a year, a date or a date-time; ``..`` or nothing is open."""
    if text in ("..", ""):
        return date.max if end else date.min
    try:
        if _YEAR.match(text):
            return year_end(int(text))
        return datetime.fromisoformat(text).date() if "T" in text.upper() else date.fromisoformat(text)
    except ValueError:
        raise Problem(400, "not_a_time", "datetime", value=text) from None


def span(datetime_: str) -> Span:
    """A year, a day or an interval of them (``datetime``), as the days it covers."""
    ends = datetime_.split("/")
    if len(ends) == 1:
        day = _day(ends[0], end=False)
        return Span(day, day)
    if len(ends) > 2 or all(part in ("..", "") for part in ends):
        raise Problem(400, "not_an_interval", "datetime", value=datetime_)
    days = Span(_day(ends[0], end=False), _day(ends[1], end=True))
    if days.start > days.end:
        raise Problem(400, "interval_backwards", "datetime", value=datetime_)
    return days


def instant(datetime_: str) -> date:
    """A year, a day or a date-time (``datetime`` where one moment is asked for: the day it names), as
    :func:`span` reads either end of an interval."""
    if "/" in datetime_ or datetime_ == "..":
        raise Problem(400, "not_an_instant", "datetime", value=datetime_)
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
            raise Problem(400, "not_feature_id", "ids", value=value)


def check_crs(params: Mapping[str, str]) -> None:
    """OGC API Features Part 2's CRS parameters, each naming CRS84, the one CRS offered (TiPg writes and
    reads WGS84 longitude/latitude only): another is refused rather than ignored, which would hand back
    coordinates in another CRS than the one asked for."""
    for parameter, message in CRS_PARAMETERS.items():
        value = params.get(parameter)
        if value is not None and value.strip() not in _CRS84_NAMES:
            raise Problem(400, message, parameter, value=value, crs84=CRS84)


def check_filter(query: str, filter_lang: str | None) -> None:
    """A CQL2 filter that parses (as TiPg parses it); what it names is checked by the collection."""
    try:
        Expr(Expr(query).to_json())
    except Exception as exc:  # noqa: BLE001  (cql2 raises plain Exceptions, a caret diagram as message)
        lines = [line.strip(" =|") for line in str(exc).splitlines() if line.strip(" =|^")] or [str(exc)]
        where = lines[0].removeprefix("-->").strip()
        raise Problem(400, "not_valid_filter", "filter", filter_lang=filter_lang or "CQL2", where=where,
                      problem=lines[-1]) from None


def check_query(request: Request) -> None:
    """The parameters TiPg would parse without checking (an empty one TiPg ignores, and so does this)."""
    if "z" in request.path_params:  # a tile
        check_tile(request.path_params)
    params = request.query_params
    if (limit := params.get("limit")) is not None and not limit.isdigit():  # a tile's limit has no check
        raise Problem(400, "not_a_number", "limit", value=limit)
    check_crs(params)
    if box := params.get("bbox"):
        bbox(box)  # the analyses' rule, its ParameterError a 400 (problems.parameter_answer)
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
