"""Service load: ``items?bbox=...&limit=100`` on a table of 100k points, against twin's API (TiPg, one
uvicorn worker, as `twin serve` runs it) and against pygeoapi serving the same table (Flask, one gunicorn
worker with 8 threads), in the same run, at 1, 8 and 32 concurrent clients on loopback; prints a markdown
table of requests/s, p50/p99 latency, errors and twin's ratio, then what counting numberMatched costs.

Usage: .venv/bin/python scripts/bench_service.py [--points 100000] [--seconds 10] [--clients 1,8,32] [--keep]
Needs twin's database (`twin db up`, or TWIN_DATABASE_URL) and the bench extra (pygeoapi, gunicorn,
psycopg2-binary: `make test` installs it). Both servers read as the read-only role.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BENCH_DB = "twin_bench_service"
LAYER = "iot_sensors"  # a point layer of the catalog, filled with synthetic sensors
CITY = (117.72, 39.12, 117.78, 39.17)  # the Eco-city, WGS84
BOX_M = 500.0  # side of each request's bbox, metres
PAGE = 100
# The bench twin's CRS: UTM 50N over the Eco-city. Not twin's default EPSG:4548, whose axes run northing
# first: pygeoapi 0.21 transforms a bbox in the CRS's own axis order and then reads it as x, y, so it
# would find nothing there (TiPg transforms with x, y order in both).
BENCH_CRS = "EPSG:32650"


# -- the data -------------------------------------------------------------------------------------------
def bench_database(points: int) -> str:
    """A twin database of its own on twin's server, migrated, with ``points`` sensors; its URL."""
    env = {**os.environ, "TWIN_CRS": BENCH_CRS}
    found = subprocess.run([sys.executable, "-m", "twin", "db", "url"], capture_output=True, text=True, env=env,
                           check=False)
    if found.returncode != 0:
        raise SystemExit(f"bench_service: {found.stderr.strip()}")
    url = found.stdout.strip()
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    url = f"{server}/{BENCH_DB}"
    subprocess.run([sys.executable, "-m", "twin", "db", "migrate"], check=True, capture_output=True,
                   env={**env, "TWIN_DATABASE_URL": url})
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute(f"SELECT count(*) FROM layers.{LAYER}").fetchone()[0] != points:
            srid = srid_of(url)
            west, south, east, north = Transformer.from_crs(4326, srid, always_xy=True).transform_bounds(*CITY)
            print(f"filling layers.{LAYER} with {points:,} points...", file=sys.stderr)
            conn.execute(f"TRUNCATE layers.{LAYER}")
            conn.execute("SELECT setseed(0.42)")
            conn.execute(
                f"INSERT INTO layers.{LAYER} (source, source_id, name, valid_from, geom, sensor_type, battery_pct) "
                "SELECT 'bench', i::text, 'sensor ' || i, make_date(2008 + i %% 13, 1 + i %% 12, 1), "
                "ST_SetSRID(ST_MakePoint(%s + random() * %s, %s + random() * %s), %s), "
                "(ARRAY['noise', 'weather', 'parking', 'air_quality'])[1 + i %% 4], round((random() * 100)::numeric, 1) "
                "FROM generate_series(1, %s) i",
                (west, east - west, south, north - south, srid, points))
            conn.execute(f"ANALYZE layers.{LAYER}")
    return url


def srid_of(url: str) -> int:
    from twin.store.meta import twin_srid

    with psycopg.connect(url) as conn:
        return twin_srid(conn)


def bboxes(url: str, n: int = 200, seed: int = 0) -> list[tuple[float, float, float, float]]:
    """``n`` squares of BOX_M metres inside the city (in the twin's CRS), as WGS84 bounds."""
    srid = srid_of(url)
    west, south, east, north = Transformer.from_crs(4326, srid, always_xy=True).transform_bounds(*CITY)
    back = Transformer.from_crs(srid, 4326, always_xy=True)
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x, y = rng.uniform(west, east - BOX_M), rng.uniform(south, north - BOX_M)
        out.append(tuple(round(v, 6) for v in back.transform_bounds(x, y, x + BOX_M, y + BOX_M)))
    return out


# -- the servers ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"bench_service: {name} did not start: {process.communicate()[1][-2000:]}")
            time.sleep(0.5)


def start_twin(url: str) -> tuple[str, str, subprocess.Popen]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "twin.service.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "TWIN_DATABASE_URL": url}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/healthz", process, "twin's API")
    return f"/collections/{LAYER}/items", base, process


def start_pygeoapi(reader_url: str, folder: Path) -> tuple[str, str, subprocess.Popen]:
    """pygeoapi's PostgreSQL provider on the same table, as the same read-only role, output in CRS84."""
    import yaml  # pygeoapi's dependency (the bench extra)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = urlsplit(reader_url)
    srid = srid_of(reader_url)
    config = {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": base, "mimetype": "application/json",
                   "encoding": "utf-8", "languages": ["en-US"], "limits": {"default_items": 10, "max_items": 1000},
                   "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"}},
        "logging": {"level": "ERROR"},
        "metadata": {"identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                                        "url": base, "terms_of_service": base},
                     "license": {"name": "CC-BY 4.0", "url": base}, "provider": {"name": "twin", "url": base},
                     "contact": {"name": "twin"}},
        "resources": {"points": {
            "type": "collection", "title": "points", "description": "the benchmark's points", "keywords": ["points"],
            "extents": {"spatial": {"bbox": list(CITY), "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{
                "type": "feature", "name": "PostgreSQL",
                "data": {"host": db.hostname, "port": db.port or 5432, "dbname": db.path.lstrip("/"),
                         "user": db.username, "password": db.password or "", "search_path": ["layers"]},
                "id_field": "id", "table": LAYER, "geom_field": "geom",
                "storage_crs": f"http://www.opengis.net/def/crs/EPSG/0/{srid}",
            }],
        }},
    }
    config_path, openapi_path = folder / "pygeoapi.yml", folder / "openapi.yml"
    config_path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config_path), "PYGEOAPI_OPENAPI": str(openapi_path)}
    subprocess.run([str(BIN / "pygeoapi"), "openapi", "generate", str(config_path), "--output-file",
                    str(openapi_path)], check=True, env=env, capture_output=True)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "1", "--threads", "8", "--bind", f"127.0.0.1:{port}",
         "--log-level", "error", "pygeoapi.flask_app:APP"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_until_up(f"{base}/collections/points?f=json", process, "pygeoapi")
    return "/collections/points/items", base, process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


# -- the load -------------------------------------------------------------------------------------------
@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> int:
    """One HTTP/1.1 GET on a kept-alive connection; its status (the body read and dropped)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/geo+json\r\n\r\n".encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head[1:] if ":" in line}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readline()).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    return status


async def _load(base: str, paths: list[str], clients: int, seconds: float) -> Result:
    host_port = urlsplit(base).netloc
    host, port = host_port.split(":")
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9))
    end = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < end:
                path = paths[next(counter) % len(paths)]
                began = time.perf_counter()
                try:
                    status = await _get(reader, writer, host_port, path)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                latencies.append(time.perf_counter() - began)
                errors += status != 200
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Result(len(latencies), errors, time.perf_counter() - began, latencies)


def load(base: str, paths: list[str], clients: int, seconds: float) -> Result:
    return asyncio.run(_load(base, paths, clients, seconds))


def matched(base: str, path: str) -> int:
    with urllib.request.urlopen(f"{base}{path}", timeout=60) as response:
        return json.load(response)["numberMatched"]


# -- what counting costs --------------------------------------------------------------------------------
def count_costs(url: str, boxes: list[tuple[float, float, float, float]]) -> dict[str, float]:
    """Median milliseconds, in PostgreSQL alone, of the page query and of the count TiPg runs beside it."""
    srid = srid_of(url)
    forward = Transformer.from_crs(4326, srid, always_xy=True)
    envelopes = [forward.transform_bounds(*box) for box in boxes[:30]]
    where = f"ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, {srid}))"
    queries = {
        f"page: {PAGE} features of a {BOX_M:.0f} m bbox as WGS84 GeoJSON":
            ((f"SELECT id, ST_AsGeoJSON(ST_Transform(geom, 4326)) FROM layers.{LAYER} WHERE {where} "
              f"ORDER BY id LIMIT {PAGE}"), envelopes),
        f"numberMatched of a {BOX_M:.0f} m bbox": (f"SELECT count(*) FROM layers.{LAYER} WHERE {where}", envelopes),
        "numberMatched of the whole table": (f"SELECT count(*) FROM layers.{LAYER}", [()] * 10),
    }
    costs = {}
    with psycopg.connect(url) as conn:
        for name, (query, params) in queries.items():
            times = []
            for args in params:
                began = time.perf_counter()
                conn.execute(query, args).fetchall()
                times.append(time.perf_counter() - began)
            costs[name] = statistics.median(times) * 1000
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per server and level")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--keep", action="store_true", help=f"keep the database {BENCH_DB} for the next run")
    args = parser.parse_args()
    if not (BIN / "pygeoapi").exists() or not (BIN / "gunicorn").exists():
        print("bench_service: pygeoapi and gunicorn are not installed; pip install -e '.[bench]' "
              "(make test does)", file=sys.stderr)
        return 1
    levels = [int(n) for n in args.clients.split(",")]
    url = bench_database(args.points)
    os.environ.update(TWIN_DATABASE_URL=url, TWIN_CRS=BENCH_CRS)  # before twin reads its settings (reader_url)
    from twin.service.reader import reader_url

    boxes = bboxes(url)
    load_before = os.getloadavg()[0]
    servers = {}
    with tempfile.TemporaryDirectory() as folder:
        try:
            servers["twin (TiPg)"] = start_twin(url)
            servers["pygeoapi"] = start_pygeoapi(reader_url(), Path(folder))
            paths = {name: [f"{items}?bbox={','.join(map(str, box))}&limit={PAGE}" for box in boxes]
                     for name, (items, _, _) in servers.items()}
            whole = {name: [f"{items}?limit={PAGE}"] for name, (items, _, _) in servers.items()}
            for name, (_, base, _) in servers.items():  # same answers, and warmed up
                load(base, paths[name], 4, 2.0)
            # pygeoapi transforms a bbox's two corners, TiPg its outline: near the edges they differ a little
            counts = [(matched(servers["twin (TiPg)"][1], paths["twin (TiPg)"][i]),
                       matched(servers["pygeoapi"][1], paths["pygeoapi"][i])) for i in range(10)]
            spread = max(abs(a - b) / max(a, b, 1) for a, b in counts)
            runs: dict[tuple[str, str], Result] = {}
            for label, chosen, levels_here in ((f"bbox, {PAGE}/page", paths, levels),
                                               (f"no bbox, {PAGE}/page", whole, [8])):
                for clients in levels_here:
                    for name, (_, base, _) in servers.items():
                        runs[(f"{label}, {clients} clients", name)] = load(base, chosen[name], clients, args.seconds)
        finally:
            for _, _, process in servers.values():
                stop(process)
    costs = count_costs(url, boxes)
    if not args.keep:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')

    print(f"\nitems on {args.points:,} points ({BOX_M:.0f} m bboxes from a fixed list of {len(boxes)}), "
          f"{args.seconds:.0f} s per cell, loopback, {os.cpu_count()} CPU cores (load average before: "
          f"{load_before:.1f}); numberMatched of the two servers within {spread:.1%} (bbox corners vs outline)\n")
    print("| load | twin req/s | p50 ms | p99 ms | errors | pygeoapi req/s | p50 ms | p99 ms | errors | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for load_name in dict.fromkeys(key[0] for key in runs):
        twin, other = runs[(load_name, "twin (TiPg)")], runs[(load_name, "pygeoapi")]
        cells = [f"{r.rate:.1f} | {r.percentile(50):.0f} | {r.percentile(99):.0f} | {r.errors}" for r in (twin, other)]
        print(f"| {load_name} | {cells[0]} | {cells[1]} | {twin.rate / other.rate:.2f}x |")
    print("\nPostgreSQL alone, median ms (what each request of twin's API runs):\n")
    print("| query | ms |\n|---|---:|")
    for name, ms in costs.items():
        print(f"| {name} | {ms:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
