"""The analyses with and without their results cache, on a demo Eco-city twin: for each, the time to
compute it (its cached answers forgotten first), the time to read it back from the cache, and a page of
1,000 findings as the service answers it (WGS84 GeoJSON) from the cached result; prints a markdown table
with the machine's load.

Usage: .venv/bin/python scripts/bench_analyses.py [--url URL] [--repeat 3]
Needs a demo twin (`make demo`, or `twin demo --no-serve`): TWIN_DATABASE_URL or --url names it.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import psycopg

from twin.analyses.burst import burst_isolation
from twin.analyses.cache import forget
from twin.analyses.changes import change_between
from twin.analyses.clearance import pipe_clearance
from twin.analyses.coverage5g import coverage_5g
from twin.analyses.hydrants import hydrant_coverage
from twin.analyses.nearest import nearest_resources
from twin.analyses.results import Result
from twin.catalog import load_catalog
from twin.service.geojson import ToWgs84
from twin.store import database

YEAR = 2020
CENTRE = "117.73,39.13,117.76,39.155"  # a WGS84 box in the middle of the demo city
PAGE = 1000


def questions(connection: psycopg.Connection) -> dict[str, Callable[[psycopg.Connection], Result]]:
    pipe = connection.execute("SELECT id::text FROM layers.water_supply ORDER BY source_id OFFSET 40 LIMIT 1").fetchone()[0]
    catalog = load_catalog()
    return {
        f"hydrant-coverage {YEAR}": lambda c: hydrant_coverage(c, YEAR),
        f"pipe-clearance {YEAR}, city": lambda c: pipe_clearance(c, YEAR),
        f"pipe-clearance {YEAR}, bbox": lambda c: pipe_clearance(c, YEAR, CENTRE),
        "nearest-resources": lambda c: nearest_resources(c, lon=117.745, lat=39.14, n=3, year=YEAR),
        "burst-isolation": lambda c: burst_isolation(c, pipe, YEAR),
        "coverage-5g 2018/2020": lambda c: coverage_5g(c, "2018/2020"),
        f"changes 2008/{YEAR}": lambda c: change_between(c, catalog, 2008, YEAR),
    }


def timed(url: str, ask: Callable[[psycopg.Connection], Result], forgotten: bool) -> tuple[float, Result]:
    with database.raw(url) as connection:
        if forgotten:
            forget(connection)
    with database.raw(url) as connection:
        started = time.perf_counter()
        result = ask(connection)
        return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("TWIN_DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    with database.raw(arguments.url) as connection:
        asked = questions(connection)
        to_wgs84 = ToWgs84.of(connection)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores; best of {arguments.repeat}\n")
    print("| analysis | findings | computed s | from the cache s | a page as GeoJSON s | computed / cached |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ask in asked.items():
        computed = min(timed(arguments.url, ask, True)[0] for _ in range(arguments.repeat))
        reads = [timed(arguments.url, ask, False) for _ in range(arguments.repeat)]
        cached = min(seconds for seconds, _ in reads)
        result = reads[-1][1]
        assert result.cached, f"{name}: not read from the cache"
        pages = []
        for _ in range(arguments.repeat):
            started = time.perf_counter()
            [to_wgs84.feature(finding) for finding in result.findings[:PAGE]]
            pages.append(time.perf_counter() - started)
        print(f"| {name} | {len(result.findings):,} | {computed:.3f} | {cached:.3f} | {min(pages):.3f} | "
              f"{computed / cached:.1f}x |")
    after = os.getloadavg()
    print(f"\nload average afterwards {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")


if __name__ == "__main__":
    main()
