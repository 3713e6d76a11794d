"""Import speed: the same GeoPackage of polygons loaded by ``ogr2ogr -f PostgreSQL`` and by ``twin import``,
in the same run, into the same PostGIS; prints features/s of each and their ratio. Then a second edition
of the file (some features altered, some gone, some new) imported as a snapshot (``--as-of``) and as a
plain re-import, beside ogr2ogr loading that edition.

Usage: .venv/bin/python scripts/bench_import.py [--features 100000 1000000] [--repeat 3]
Needs Debian's gdal-bin (ogr2ogr) and twin's own database (`twin db up`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "twin_bench"


def make_gpkg(path: Path, n: int, seed: int = 0) -> None:
    """``n`` building footprints (4-8 corners) on a grid near the Eco-city, in EPSG:4548."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    cx = 506000 + (i % side) * 25.0
    cy = 4330000 + (i // side) * 25.0
    corners = rng.integers(4, 9, n)
    polygons = []
    for x, y, k in zip(cx, cy, corners):
        # Corners in angle order on one circle: a convex, valid footprint.
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = rng.uniform(5, 10)
        polygons.append(shapely.Polygon(np.column_stack([x + radius * np.cos(angles), y + radius * np.sin(angles)])))
    frame = gpd.GeoDataFrame(
        {
            "height_m": rng.uniform(6, 100, n).round(1),
            "floors": rng.integers(1, 33, n),
            "use": rng.choice(["residential", "office", "school", "commercial"], n),
            "build_year": rng.integers(2008, 2021, n),
            "name": [f"Building {k}" for k in range(n)],
        },
        geometry=polygons,
        crs="EPSG:4548",
    )
    pyogrio.write_dataframe(frame, path, layer="buildings", driver="GPKG")


def admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def fresh_database(url: str) -> str:
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return url.rsplit("/", 1)[0] + f"/{BENCH_DB}"


def run_ogr2ogr(gpkg: Path, url: str) -> float:
    """ogr2ogr as a user runs it: it loads a new table with COPY by default (PG_USE_COPY)."""
    env = dict(os.environ, CPL_LOG="/dev/null")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("DROP TABLE IF EXISTS ogr_buildings")
    started = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", f"PG:{libpq(url)}", str(gpkg), "buildings", "-nln", "ogr_buildings",
         "-lco", "GEOMETRY_NAME=geom", "-nlt", "PROMOTE_TO_MULTI", "-gt", "65536"],
        check=True, env=env,
    )
    return time.perf_counter() - started


def run_twin(gpkg: Path, url: str, *flags: str, empty: bool = True) -> float:
    env = dict(os.environ, TWIN_DATABASE_URL=url, TWIN_CRS="EPSG:4548")
    twin = [sys.executable, "-m", "twin"]
    subprocess.run([*twin, "db", "migrate"], check=True, env=env, capture_output=True)
    if empty:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE layers.buildings, history.buildings, twin.imports CASCADE")
    started = time.perf_counter()
    subprocess.run([*twin, "import", str(gpkg), "--layer", "buildings", "--source", "bench", *flags], check=True,
                   env=env)
    return time.perf_counter() - started


def make_edition(gpkg: Path, later: Path, seed: int = 1) -> dict[str, int]:
    """A later edition of ``gpkg``: 5 % of the buildings heightened, 2 % gone, 2 % more new ones (the
    GeoPackage's fids stay the buildings' ids, as a city's database keeps them)."""
    frame = pyogrio.read_dataframe(gpkg, fid_as_index=True)
    rng = np.random.default_rng(seed)
    count = len(frame)
    order = rng.permutation(count)
    altered, gone = order[: count // 20], order[count // 20 : count // 20 + count // 50]
    frame.iloc[altered, frame.columns.get_loc("height_m")] += 3.0
    new = frame.iloc[gone].copy()
    new.index = np.arange(count + 1, count + 1 + len(new))
    new["geometry"] = shapely.transform(new.geometry.to_numpy(), lambda xy: xy + 12.5)
    edition = pd.concat([frame.drop(frame.index[gone]), new])
    pyogrio.write_dataframe(edition.reset_index(names="fid"), later, layer="buildings", driver="GPKG",
                            layer_options={"FID": "fid"})
    return {"altered": len(altered), "gone": len(gone), "new": len(new)}


def bench_snapshot(features: int, repeat: int, url: str, folder: Path) -> None:
    gpkg, later = folder / f"buildings_{features}.gpkg", folder / f"buildings_{features}_later.gpkg"
    make_gpkg(gpkg, features)
    edition = make_edition(gpkg, later)
    runs: dict[str, list[float]] = {"ogr2ogr -f PostgreSQL (the later edition)": [],
                                    "twin import --as-of (the later edition)": [],
                                    "twin import, re-import replacing (history kept)": []}
    for _ in range(repeat):
        runs["ogr2ogr -f PostgreSQL (the later edition)"].append(run_ogr2ogr(later, url))
        run_twin(gpkg, url, "--as-of", "2015-01-01")
        runs["twin import --as-of (the later edition)"].append(
            run_twin(later, url, "--as-of", "2020-01-01", empty=False))
        run_twin(gpkg, url)
        runs["twin import, re-import replacing (history kept)"].append(run_twin(later, url, empty=False))
    gpkg.unlink()
    later.unlink()
    best = {name: min(times) for name, times in runs.items()}
    reference = best["ogr2ogr -f PostgreSQL (the later edition)"]
    print(f"\nA second edition of {features:,} polygons ({edition['altered']:,} altered, {edition['gone']:,} gone, "
          f"{edition['new']:,} new) over the first, best of {repeat}\n")
    print("| tool | seconds | features/s | ogr2ogr's time / this |")
    print("|---|---:|---:|---:|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.2f} | {features / seconds:,.0f} | {reference / seconds:.2f}x |", flush=True)


def floor_parts(gpkg: Path, url: str) -> dict[str, float]:
    """What any Python import of this file into twin's table costs at the least, checking nothing: the
    interpreter importing numpy, shapely, pyogrio and psycopg; reading the file as Arrow; PostgreSQL's
    binary COPY of the rows (EWKB spliced from the file's WKB) into the emptied table without indexes;
    rebuilding its indexes. The sum bounds from below what twin's design can reach."""
    import pyogrio.raw

    from importers import copy_binary

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy, shapely, pyogrio, psycopg"], check=True)
    parts = {"start-up and imports": time.perf_counter() - started}
    started = time.perf_counter()
    _, table = pyogrio.raw.read_arrow(gpkg)
    parts["read (Arrow)"] = time.perf_counter() - started
    # Multi-polygon of one part, with an SRID, around the file's polygon WKB: EWKB without parsing.
    head = b"\x01" + (6 | 0x20000000).to_bytes(4, "little") + (4548).to_bytes(4, "little") + (1).to_bytes(4, "little")
    geometry = [head + wkb for wkb in table.column("geom").to_pylist()]
    count = len(geometry)
    columns = [copy_binary.fields(["floor"] * count, "text", count),
               copy_binary.fields([str(i) for i in range(count)], "text", count),
               copy_binary.fields(geometry, "bytea", count),
               copy_binary.fields(table.column("height_m").to_pylist(), "float8", count),
               copy_binary.fields(table.column("name").to_pylist(), "text", count)]
    data = copy_binary.SIGNATURE + copy_binary.rows(columns) + copy_binary.TRAILER
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE layers.buildings")
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        indexes = conn.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                               "WHERE indrelid = 'layers.buildings'::regclass AND NOT indisprimary").fetchall()
        conn.execute("ALTER TABLE layers.buildings DROP CONSTRAINT buildings_pkey")
        for (definition,) in indexes:
            conn.execute("DROP INDEX layers." + definition.split(" INDEX ", 1)[1].split(" ", 1)[0])
        started = time.perf_counter()
        with conn.cursor().copy("COPY layers.buildings (source, source_id, geom, height_m, name) "
                                "FROM STDIN (FORMAT binary)") as copy:
            copy.write(data)
        parts["COPY (binary, no indexes)"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ALTER TABLE layers.buildings ADD PRIMARY KEY (id)")
        for (definition,) in indexes:
            conn.execute(definition)
        parts["index rebuild"] = time.perf_counter() - started
        conn.rollback()  # leave the table as the migration made it
    return parts


def libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return f"host={parsed.host} port={parsed.port} user={parsed.username} dbname={parsed.database}"


def bench(features: int, repeat: int, url: str, folder: Path) -> None:
    gpkg = folder / f"buildings_{features}.gpkg"
    make_gpkg(gpkg, features)
    runs: dict[str, list[float]] = {"ogr2ogr -f PostgreSQL": [], "twin import": []}
    floors: list[dict[str, float]] = []
    for _ in range(repeat):
        runs["ogr2ogr -f PostgreSQL"].append(run_ogr2ogr(gpkg, url))
        runs["twin import"].append(run_twin(gpkg, url))
        floors.append(floor_parts(gpkg, url))
    gpkg.unlink()
    best = {name: min(times) for name, times in runs.items()}
    rate = {name: features / seconds for name, seconds in best.items()}
    print(f"\n{features:,} polygons from one GeoPackage into PostGIS, best of {repeat}\n")
    print("| tool | seconds | features/s | twin's ratio |")
    print("|---|---:|---:|---:|")
    for name in runs:
        ratio = rate["twin import"] / rate[name]
        print(f"| {name} | {best[name]:.2f} | {rate[name]:,.0f} | {ratio:.2f}x |")
    floor = {part: min(run[part] for run in floors) for part in floors[0]}
    total = sum(floor.values())
    target = best["ogr2ogr -f PostgreSQL"] / 1.5
    print(f"\nThe least any Python import into twin's table costs, checking nothing (best of {repeat}):\n")
    print("| part | seconds |")
    print("|---|---:|")
    for part, seconds in floor.items():
        print(f"| {part} | {seconds:.2f} |")
    print(f"| **sum** | **{total:.2f}** ({features / total:,.0f} features/s, "
          f"{features / total / rate['ogr2ogr -f PostgreSQL']:.2f}x ogr2ogr; 1.5x needs {target:.2f} s) |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("ogr2ogr"):
        print("bench_import: ogr2ogr not found; install Debian's gdal-bin (make test does)", file=sys.stderr)
        return 1
    url = subprocess.run([sys.executable, "-m", "twin", "db", "url"], check=True, capture_output=True,
                         text=True).stdout.strip()
    url = fresh_database(url)
    with tempfile.TemporaryDirectory() as folder:
        for features in args.features:
            bench(features, args.repeat, url, Path(folder))
        for features in args.features:
            bench_snapshot(features, args.repeat, url, Path(folder))
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
