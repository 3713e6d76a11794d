"""Pipe clearance check (GB 50289-2016): pairs of pipes of different utilities whose walls come closer in
3D than the minimum clearance for that pair, with the place and the shortfall, in groups: a run of pairs
along the same two networks is one place (``group``), the worst place first.

The clearances are data, ``gb50289.toml`` beside this module (its header names the standard's tables and the
columns taken); the comparison is in ``clearance.sql``, one query per pair of utilities so that each
join runs on the two layers' GiST indexes.
"""

from __future__ import annotations

import itertools
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import shapely

from twin.analyses import params
from twin.analyses.cache import run
from twin.analyses.queries import compose, envelope, table, template
from twin.analyses.results import Analysis, Finding, Result, findings
from twin.errors import SourceError
from twin.time import year_end

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOLERANCE_M = 0.001  # a wall this much inside the clearance is survey rounding, not a shortfall
ENDS = "_ends"  # a finding's pipes' ends while grouping: not kept in the result
CLEARANCES = Path(__file__).with_name("gb50289.toml")
TUNNELS = "utility_tunnels"  # the layer a pipe's ``tunnel`` names a feature of


@dataclass(frozen=True)
class Clearance:
    """The minimum wall-to-wall clearances between two utilities' pipes (None: the standard gives none),
    and what each was checked against (the table's header lists the sources; "unchecked: ..." or
    "assumed" where none agrees)."""

    utilities: tuple[str, str]
    horizontal_m: float | None
    vertical_m: float | None
    basis: str
    horizontal_source: str | None = None
    vertical_source: str | None = None


@cache
def clearances(path: Path = CLEARANCES) -> tuple[str, list[Clearance]]:
    """The clearance table's source and its pairs, checked: every pair of its utilities once, clearances
    as non-negative numbers."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        utilities = list(data["utilities"])
        pairs = [Clearance(tuple(entry["utilities"]), entry.get("horizontal_m"), entry.get("vertical_m"),
                           entry["basis"], entry.get("horizontal_source"), entry.get("vertical_source"))
                 for entry in data["pair"]]
        source = str(data["source"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise SourceError(f"{path}: not a clearance table ({exc})") from None
    seen = [frozenset(pair.utilities) for pair in pairs]
    expected = {frozenset(pair) for pair in itertools.combinations(utilities, 2)}
    if len(seen) != len(set(seen)) or set(seen) != expected:
        raise SourceError(f"{path}: needs each pair of {', '.join(utilities)} exactly once")
    for pair in pairs:
        for kind, value, checked in (("horizontal", pair.horizontal_m, pair.horizontal_source),
                                     ("vertical", pair.vertical_m, pair.vertical_source)):
            if value is not None and not (isinstance(value, (int, float)) and value >= 0):
                raise SourceError(f"{path}: pair {'/'.join(pair.utilities)} has clearance {value!r}; "
                                  "give metres, 0 or more")
            if value is not None and not (isinstance(checked, str) and checked.strip()):
                raise SourceError(f"{path}: pair {'/'.join(pair.utilities)} gives no {kind}_source: name what "
                                  "its value was checked against, or say unchecked")
    return source, pairs


def pipe_clearance(connection: psycopg.Connection, year: int | None = None, bbox: str | None = None,
                   box: tuple[float, float, float, float] | None = None) -> Result:
    """Pipes closer than their clearance in ``year`` (default: the last year of the twin's data), within
    ``bbox`` (WGS84) or ``box`` (the twin's CRS) if given: the places (the middle of the shortest line
    between the two pipes, 3D), grouped (:func:`_grouped`), the worst shortfall first."""
    return run(connection, PIPE_CLEARANCE, year=year, bbox=bbox, box=box)


def _check(year: int | None, bbox: str | None, box: tuple[float, float, float, float] | None) -> dict[str, Any]:
    return {"year": params.year(year), **params.area(bbox, box)}


def _compute(connection: psycopg.Connection, year: int, bbox: list[float] | None, box: list[float] | None
             ) -> Result:
    started = time.perf_counter()
    area = envelope(connection, bbox, box)
    source, pairs = clearances()
    radius = _largest_radii(connection, {utility for pair in pairs for utility in pair.utilities})
    found = []
    for pair in pairs:
        a, b = pair.utilities
        largest = max(value for value in (pair.horizontal_m, pair.vertical_m, 0.0) if value is not None)
        if largest <= 0:
            continue
        rows = connection.execute(template("clearance", a=table(a), b=table(b), tunnels=table(TUNNELS), box=area), {
            "day": year_end(year), "reach": largest + radius[a] + radius[b],
            "horizontal": pair.horizontal_m, "vertical": pair.vertical_m,
            "tolerance": TOLERANCE_M}).fetchall()
        found += findings(rows, lambda id_a, name_a, id_b, name_b, crossing, wall, required, ends_a, ends_b, a=a,
                          b=b, pair=pair: {
            "utility_a": a, "pipe_a": str(id_a), "name_a": name_a, "utility_b": b, "pipe_b": str(id_b),
            "name_b": name_b, "relation": "crossing" if crossing else "parallel", "wall_distance_m": wall,
            "required_m": required, "shortfall_m": round(required - wall, 3), "basis": pair.basis,
            "checked": pair.vertical_source if crossing else pair.horizontal_source,
            ENDS: (_ends(ends_a), _ends(ends_b))})
    found = _grouped(found)
    by_pair: dict[str, int] = {}
    groups: dict[str, set[int]] = {}
    for f in found:
        key = f"{f.properties['utility_a']}/{f.properties['utility_b']}"
        by_pair[key] = by_pair.get(key, 0) + 1
        groups.setdefault(key, set()).add(f.properties["group"])
    return Result("pipe-clearance", {"year": year, "bbox": bbox, "box": box, "source": source},
                  {"pairs": len(found), "groups": len({f.properties["group"] for f in found}), "by_utilities": by_pair,
                   "groups_by_utilities": {key: len(ids) for key, ids in groups.items()},
                   "seconds": round(time.perf_counter() - started, 3)}, found)


def _ends(wkb: bytes | None) -> frozenset[tuple[float, float]]:
    """A pipe's ends in plan, to the centimetre."""
    if wkb is None:
        return frozenset()
    points = shapely.get_coordinates(shapely.from_wkb(wkb))
    return frozenset((round(x, 2), round(y, 2)) for x, y in points)


def _grouped(found: list[Finding]) -> list[Finding]:
    """The findings in groups, worst shortfall first: findings of the same two utilities are one group
    where they run one after the other along both networks (each finding's pipes the same, or meeting end
    to end, as the pieces of one road's pipes do), so that a run of pairs along a road, or the pieces of
    one faulty stretch, is one place on the list. Each finding gets ``group`` (1 the worst),
    ``group_findings`` and ``group_shortfall_m``; within a group the worst come first, ties broken by the
    pipes, so that pages of the same request always cut the list at the same places."""
    parent = list(range(len(found)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    at: dict[tuple[str, tuple[float, float]], set[str]] = {}  # (utility, end) -> pipes ending there
    for f in found:
        p = f.properties
        for side, ends in zip("ab", p[ENDS]):
            for end in ends:
                at.setdefault((p[f"utility_{side}"], end), set()).add(p[f"pipe_{side}"])

    def along(p: dict, side: str) -> set[str]:
        """A finding's pipe of one side and the pipes of its utility that meet it end to end."""
        utility, ends = p[f"utility_{side}"], p[ENDS]["ab".index(side)]
        return {p[f"pipe_{side}"]}.union(*(at.get((utility, end), set()) for end in ends))

    by_pipe: dict[tuple[str, str, str], list[int]] = {}
    for i, f in enumerate(found):
        p = f.properties
        by_pipe.setdefault((p["utility_a"], p["utility_b"], p["pipe_a"]), []).append(i)
    for i, f in enumerate(found):
        p = f.properties
        partners = along(p, "b")
        for pipe in along(p, "a"):
            for j in by_pipe.get((p["utility_a"], p["utility_b"], pipe), []):
                if found[j].properties["pipe_b"] in partners:
                    parent[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(len(found)):
        members.setdefault(root(i), []).append(i)

    def order(i: int) -> tuple:
        p = found[i].properties
        return -p["shortfall_m"], p["pipe_a"], p["pipe_b"]

    ranked = sorted((sorted(group, key=order) for group in members.values()), key=lambda group: order(group[0]))
    out = []
    for rank, group in enumerate(ranked, start=1):
        worst = found[group[0]].properties["shortfall_m"]
        for i in group:
            f = found[i]
            properties = {k: v for k, v in f.properties.items() if k != ENDS}
            properties.update(group=rank, group_findings=len(group), group_shortfall_m=worst)
            out.append(Finding(f.geometry, properties))
    return out


def _largest_radii(connection: psycopg.Connection, utilities: set[str]) -> dict[str, float]:
    """Each pipe layer's largest half size in metres (diameter, or a duct's larger side)."""
    radii = {}
    for utility in sorted(utilities):
        query = compose("SELECT coalesce(max(greatest(diameter_mm, section_width_mm, section_height_mm)), 0) "
                        "/ 2000.0 FROM {layer}", layer=table(utility))
        radii[utility] = float(connection.execute(query).fetchone()[0])
    return radii


PIPE_CLEARANCE = Analysis("pipe-clearance", tuple(sorted({utility for pair in clearances()[1] for utility in pair.utilities})),
                          _check, _compute)
