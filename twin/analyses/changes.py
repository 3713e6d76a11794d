"""Change between two years: per layer, what appeared, what disappeared and what was altered (another
version standing), as :func:`twin.time.changes` counts it (the viewer's compare panel calls that
directly; this is its answer as an analysis, cached and served)."""

from __future__ import annotations

import time
from dataclasses import asdict
from functools import partial
from typing import Any

import psycopg

from twin.analyses import params
from twin.analyses.cache import run
from twin.analyses.results import Analysis, Finding, Result
from twin.catalog import Catalog
from twin.errors import ParameterError
from twin.time import changes


def change_between(connection: psycopg.Connection, catalog: Catalog, year_a: int, year_b: int) -> Result:
    """What stood at the end of ``year_b`` and not of ``year_a`` (appeared), the reverse (disappeared) and
    what stood at both in another version at ``year_b`` (altered): a finding (without a place) per vector
    layer with any change, with km (lines) and floor area (buildings); the summary totals the three
    counts."""
    analysis = Analysis("changes", tuple(layer.id for layer in catalog.vector_layers), _check,
                        partial(_compute, catalog=catalog))
    return run(connection, analysis, year_a=year_a, year_b=year_b)


def _check(year_a: int, year_b: int) -> dict[str, Any]:
    year_a, year_b = params.year(year_a, "from"), params.year(year_b, "to")
    if year_a > year_b:
        raise ParameterError.of("from", "from_after_to", value=year_a, to=year_b)
    return {"year_a": year_a, "year_b": year_b}


def _compute(connection: psycopg.Connection, year_a: int, year_b: int, catalog: Catalog) -> Result:
    started = time.perf_counter()
    layers = [{**asdict(change), "title": catalog[change.layer].title}
              for change in changes(connection, catalog, year_a, year_b)]
    return Result("changes", {"from": year_a, "to": year_b},
                  {"appeared": sum(layer["appeared"] for layer in layers),
                   "disappeared": sum(layer["disappeared"] for layer in layers),
                   "altered": sum(layer["altered"] for layer in layers),
                   "seconds": round(time.perf_counter() - started, 3)},
                  [Finding(None, layer) for layer in layers])
