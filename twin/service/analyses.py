"""The analyses of :mod:`twin.analyses` as routes of the service, under ``/analyses``.

Each answers GeoJSON (``application/geo+json``): the analysis's result as a FeatureCollection in WGS84
(:mod:`twin.service.geojson`), its ``defaults`` naming the parameters the request left out and what the
analysis took for them (a year: the last year of the twin's data); the change between two years answers
plain JSON. Long lists come a page at a time, each page from the one result the analyses' cache keeps. A
bad parameter is a 400 naming it (the analyses raise :class:`ParameterError`, FastAPI's type checks are
answered by the app's handler); an analysis that runs past the statement timeout is a
503 that says to narrow it. The analyses read through the same read-only role as the collections, with a
psycopg connection of their own per request (:mod:`twin.service.database`: they run in FastAPI's thread
pool, not on TiPg's asyncpg pool, so that the viewer can call the very same functions).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.routing import APIRoute

from twin.analyses.burst import SERVICE_M, VALVE_SNAP_M, burst_isolation
from twin.analyses.changes import change_between
from twin.analyses.clearance import pipe_clearance
from twin.analyses.coverage5g import DEFAULT_RANGE_M, LEVELS, coverage_5g
from twin.analyses.hydrants import COVER_RADIUS_M, SPACING_M, hydrant_coverage
from twin.analyses.nearest import MOST, nearest_resources
from twin.analyses.params import MAX_YEARS
from twin.analyses.results import Result
from twin.catalog import load_catalog
from twin.service.database import GeoJSONResponse, ReadingRoute, connector
from twin.service.geojson import ToWgs84, collection

PREFIX = "/analyses"
BAD_YEAR = "year: 12345 is not a year from 1 to 9999"


class _Route(ReadingRoute):
    too_long = "the analysis took longer than the service allows; narrow it (a bbox, fewer years)"


# -- what the OpenAPI document says ---------------------------------------------------------------------
def _doc(summary: str, description: str, example: dict[str, Any], media_type: str = "application/geo+json"
         ) -> dict[str, Any]:
    """A route's summary, description and answers, with an example of its answer."""
    return {"summary": summary, "description": description, "responses": {
        "200": {"content": {media_type: {"example": example}}},
        "400": {"description": "A parameter is malformed or out of range; `detail` names it.",
                "content": {"application/json": {"example": {"detail": BAD_YEAR}}}},
        "503": {"description": "The analysis took too long (narrow it) or the database did not answer."}}}


def _answer(analysis: str, summary: dict, geometry: dict, **properties: Any) -> dict:
    """An example answer: a FeatureCollection of one feature."""
    return {"type": "FeatureCollection", "analysis": analysis, "summary": summary,
            "features": [{"type": "Feature", "geometry": geometry, "properties": properties}]}


HYDRANTS = _doc(
    "Hydrant coverage (GB 50974-2014, GB 55036-2022)",
    f"Buildings farther than {COVER_RADIUS_M:.0f} m from every hydrant in service in the year (`finding: "
    f"uncovered_building`, with the distance to the nearest), and stretches of road standing then that run "
    f"more than {SPACING_M:.0f} m without a hydrant (`finding: hydrant_gap`, with where along the road).",
    _answer("hydrant-coverage", {"uncovered_buildings": 0, "hydrant_gaps": 1},
            {"type": "LineString", "coordinates": [[117.7301, 39.1302], [117.7323, 39.1302]]},
            finding="hydrant_gap", layer="roads", from_m=0.0, to_m=190.0, gap_m=190.0))
NEAREST = _doc(
    "Nearest emergency resources",
    "The n nearest police stations, fire brigades and hospitals in service to a point, each with its "
    "straight-line distance and its distance along the roads (the point and the resource snapped to the "
    "nearest road, the roads' centre lines walked both ways), ranked by the latter, with the route. Give the "
    "point as lon/lat or as x/y.",
    _answer("nearest-resources", {"police_stations": 1},
            {"type": "Point", "coordinates": [117.7512, 39.1421]},
            role="resource", rank=1, layer="police_stations", straight_m=320.5, network_m=448.6))
CLEARANCE = _doc(
    "Pipe clearance check (GB 50289-2016)",
    "Pairs of pipes of different utilities whose walls come closer in 3D than the minimum clearance for the "
    "two (Table 4.1.9 beside each other, Table 4.1.14 where they cross; twin/analyses/gb50289.toml, each "
    "value with what it was checked against, `checked`), at the middle of the shortest line between them. "
    "Pairs are grouped into places: a run of pairs along the same two networks, one after the other, is one "
    "`group` (1 the worst) with `group_findings` pairs and its worst `group_shortfall_m`; the list comes "
    "group by group, the worst first, each group's worst pair first.",
    _answer("pipe-clearance", {"pairs": 1, "groups": 1}, {"type": "Point", "coordinates": [117.73, 39.13, 0.07]},
            utility_a="communications", utility_b="power", relation="crossing", wall_distance_m=0.02,
            required_m=0.25, shortfall_m=0.23, group=1, group_findings=1, group_shortfall_m=0.23))
BURST = _doc(
    "Burst isolation",
    f"For a burst water-supply pipe: the valves to close (met by a trace over the network from the pipe; "
    f"valves within {VALVE_SNAP_M:.0f} m of a pipe sit on it, check valves are passed), the pipes isolated, "
    f"and the buildings cut off (those whose nearest pipe in service, within {SERVICE_M:.0f} m, is "
    "isolated).",
    _answer("burst-isolation", {"valves_to_close": 2, "isolated_pipes": 1},
            {"type": "Point", "coordinates": [117.74, 39.14, -0.5]}, role="close", layer="valves",
            valve_type="gate"))
COVERAGE = _doc(
    "5G coverage per management grid and year",
    f"Per management grid and year, the buildings standing and those within range of an NR station in "
    f"service (its range_m, else {DEFAULT_RANGE_M:.0f} m), by count and by floor area, with their shares; "
    "one feature per grid and year.",
    _answer("coverage-5g", {"years": {"2020": {"building_share": 0.97}}},
            {"type": "MultiPolygon", "coordinates": [[[[117.72, 39.12], [117.7246, 39.12],
                                                       [117.7246, 39.1236], [117.72, 39.1236],
                                                       [117.72, 39.12]]]]},
            code="ECO-00-00", year=2020, buildings=120, buildings_covered=117, building_share=0.975))
CHANGES = _doc(
    "Change between two years",
    "Per layer, the features standing at the end of `to` and not of `from` (appeared) and the reverse "
    "(disappeared), with km of lines and floor area of buildings, and those standing at both in another "
    "version at `to` (altered: a snapshot import changed them; "
    "`/collections/{layer}/items/{id}/versions` shows how).",
    {"analysis": "changes", "parameters": {"from": 2015, "to": 2020}, "layers": [
        {"layer": "buildings", "title": "Buildings", "appeared": 1, "disappeared": 1, "altered": 2,
         "appeared_km": None, "disappeared_km": None, "appeared_floor_area_m2": 1600.0,
         "disappeared_floor_area_m2": 1200.0},
        {"layer": "roads", "title": "Roads", "appeared": 266, "disappeared": 0, "altered": 0,
         "appeared_km": 53.2, "disappeared_km": 0.0, "appeared_floor_area_m2": None,
         "disappeared_floor_area_m2": None}],
     "summary": {"appeared": 267, "disappeared": 1, "altered": 2, "seconds": 0.1}},
    media_type="application/json")

DEFAULT_YEAR = ("Default: the last year of the twin's data (the viewer's time slider's last year; 2020 for "
                "the demo Eco-city), which the answer's `defaults` member then names.")
YEAR = Query(description="The year asked about: the city as it stood on 31 December (twin.time's rule for "
                         f"every layer's valid_from/valid_to). {DEFAULT_YEAR}", examples=[2020])
BBOX = Query(description="Only this box: minLon,minLat,maxLon,maxLat in WGS84 degrees.",
             examples=["117.73,39.13,117.76,39.155"])
Year = Annotated[int | None, YEAR]
Bbox = Annotated[str | None, BBOX]
# Findings come a page at a time, as items do: a whole city's clearance findings are megabytes.
PAGE = 1000
MOST_A_PAGE = 10_000
Limit = Annotated[int, Query(ge=1, le=MOST_A_PAGE, description=f"Findings on this page, 1 to {MOST_A_PAGE:,} "
                                                               "(the summary counts them all).", examples=[PAGE])]
Offset = Annotated[int, Query(ge=0, description="Findings skipped: where this page starts.", examples=[0])]


def defaulted(result: Result, **given: Any) -> dict[str, Any]:
    """The answer's ``defaults`` member: of the parameters ``given`` (as the request gave them), those it
    left out, with the value the analysis took in their place, so that no default is taken silently."""
    return {name: result.parameters[name] for name, value in given.items()
            if (value is None or value == "") and name in result.parameters}


def whole(result: Result, to_wgs84: ToWgs84, defaults: dict[str, Any]) -> dict:
    """Every finding of ``result``."""
    return collection(result, [to_wgs84.feature(finding) for finding in result.findings], defaults=defaults)


def paged(result: Result, to_wgs84: ToWgs84, request: Request, limit: int, offset: int,
          defaults: dict[str, Any]) -> dict:
    """The findings ``offset`` to ``offset + limit``, counted as OGC API Features counts items, with a link
    to the next page while there is one."""
    found = result.findings
    page = [to_wgs84.feature(finding) for finding in found[offset : offset + limit]]
    links = [{"rel": "self", "type": GeoJSONResponse.media_type, "href": str(request.url)}]
    if offset + limit < len(found):
        following = request.url.include_query_params(limit=limit, offset=offset + limit)
        links.append({"rel": "next", "type": GeoJSONResponse.media_type, "href": str(following)})
    return collection(result, page, defaults=defaults, numberMatched=len(found), numberReturned=len(page),
                      links=links)


def analyses_router(database_url: str, statement_timeout: str) -> APIRouter:
    """The routes, reading the twin at ``database_url`` with ``statement_timeout`` (a PostgreSQL
    duration) per query."""
    router = APIRouter(prefix=PREFIX, tags=["Analyses"], route_class=_Route)
    catalog = load_catalog()
    connect = connector(database_url, statement_timeout, "twin analyses")

    @router.get("", operation_id="listAnalyses", summary="The analyses this service runs")
    def index(request: Request) -> dict:
        base = str(request.base_url).rstrip("/")
        return {"analyses": [{"id": route.path.removeprefix(f"{PREFIX}/"), "title": route.summary,
                              "href": base + route.path} for route in router.routes
                             if isinstance(route, APIRoute) and route.path != PREFIX]}

    @router.get("/hydrant-coverage", operation_id="hydrantCoverage", response_class=GeoJSONResponse,
                **HYDRANTS)
    def hydrant_coverage_route(request: Request, year: Year = None, bbox: Bbox = None, limit: Limit = PAGE,
                               offset: Offset = 0) -> GeoJSONResponse:
        with connect() as connection:
            result = hydrant_coverage(connection, year, bbox)
            return GeoJSONResponse(paged(result, ToWgs84.of(connection), request, limit, offset,
                                         defaulted(result, year=year)))

    @router.get("/nearest-resources", operation_id="nearestResources", response_class=GeoJSONResponse,
                **NEAREST)
    def nearest_resources_route(
            lon: Annotated[float | None, Query(description="Longitude, WGS84 degrees.",
                                               examples=[117.75])] = None,
            lat: Annotated[float | None, Query(description="Latitude, WGS84 degrees.",
                                               examples=[39.14])] = None,
            x: Annotated[float | None, Query(description="Easting in the twin's CRS (instead of lon/lat).",
                                             examples=[562900.0])] = None,
            y: Annotated[float | None, Query(description="Northing in the twin's CRS (instead of lon/lat).",
                                             examples=[4333200.0])] = None,
            n: Annotated[int, Query(description=f"How many of each kind, 1 to {MOST}.", examples=[3])] = 3,
            year: Year = None) -> GeoJSONResponse:
        with connect() as connection:
            result = nearest_resources(connection, lon, lat, x, y, n, year)
            return GeoJSONResponse(whole(result, ToWgs84.of(connection), defaulted(result, year=year)))

    @router.get("/pipe-clearance", operation_id="pipeClearance", response_class=GeoJSONResponse, **CLEARANCE)
    def pipe_clearance_route(request: Request, year: Year = None, bbox: Bbox = None, limit: Limit = PAGE,
                             offset: Offset = 0) -> GeoJSONResponse:
        with connect() as connection:
            result = pipe_clearance(connection, year, bbox)
            return GeoJSONResponse(paged(result, ToWgs84.of(connection), request, limit, offset,
                                         defaulted(result, year=year)))

    @router.get("/burst-isolation", operation_id="burstIsolation", response_class=GeoJSONResponse, **BURST)
    def burst_isolation_route(
            pipe: Annotated[str, Query(description="The burst pipe of the water_supply layer: its feature id "
                                                   "(UUID) or its source id as the viewer shows it (the "
                                                   "version standing in the year; one two sources share is "
                                                   "a 400 listing their feature ids).",
                                       examples=["WA-h008-000", "93a60d12-5dca-90b2-e10b-d1c255ec2946"])],
            year: Year = None) -> GeoJSONResponse:
        with connect() as connection:
            result = burst_isolation(connection, pipe, year)
            return GeoJSONResponse(whole(result, ToWgs84.of(connection), defaulted(result, year=year)))

    @router.get("/coverage-5g", operation_id="coverage5g", response_class=GeoJSONResponse, **COVERAGE)
    def coverage_5g_route(
            year: Annotated[str | None, Query(description=f"A year (2020) or an interval of years "
                                                          f"(2018/2020), at most {MAX_YEARS}. {DEFAULT_YEAR}",
                                              examples=["2018/2020"])] = None,
            level: Annotated[str, Query(description=f"The grid level: {', '.join(LEVELS)}.",
                                        examples=["cell"])] = "cell") -> GeoJSONResponse:
        with connect() as connection:
            result = coverage_5g(connection, year, level)
            return GeoJSONResponse(whole(result, ToWgs84.of(connection), defaulted(result, year=year)))

    @router.get("/changes", operation_id="changes", **CHANGES)
    def changes_route(
            year_from: Annotated[int, Query(alias="from", description="The earlier year.", examples=[2015])],
            year_to: Annotated[int, Query(alias="to", description="The later year.", examples=[2020])]
    ) -> dict:
        with connect() as connection:
            result = change_between(connection, catalog, year_from, year_to)
        return {"analysis": result.analysis, "parameters": result.parameters,
                "layers": [finding.properties for finding in result.findings], "summary": result.summary}

    return router
