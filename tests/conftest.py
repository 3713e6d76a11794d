"""Shared fixtures: a real PostGIS cluster of the tests' own, under .twin/test, started with the real CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from browser import free_port
from support import REAL_DATA, ROOT, Twin, run_twin, twin_env


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The tests' own cluster, up and migrated; stopped at the end of the session."""
    run_twin("db", "up")
    url = run_twin("db", "url").stdout.strip()
    yield url
    run_twin("db", "down", check=False)


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """An empty database on the tests' cluster (no PostGIS yet), dropped afterwards."""
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip(f"real-data samples not found at {REAL_DATA}: they sit beside the project in "
                    "../shared/data/real, or set TWIN_REAL_DATA")
    return REAL_DATA


@pytest.fixture
def make_twin(database_url: str) -> Iterator:
    """A factory of empty, migrated twin databases: ``make_twin("EPSG:31984")``; dropped afterwards."""
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    made: list[str] = []

    def make(crs: str = "EPSG:4548") -> Twin:
        name = f"twin_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        twin = Twin(database_url.rsplit("/", 1)[0] + f"/{name}", crs)
        twin.run("db", "migrate")
        return twin

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def real_copy(real_data: Path, tmp_path: Path):
    """Copy real-data files into the test's folder (reject reports are written beside the input)."""
    import shutil

    def copy(relative: str) -> Path:
        source = real_data / relative
        target = tmp_path / source.name
        shutil.copy(source, target)
        target.chmod(0o644)
        return target

    return copy


@pytest.fixture(scope="session")
def demo_database(database_url: str) -> str:
    """The demo Eco-city (built once by ``twin demo``) in a database of its own: its URL."""
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    url = database_url.rsplit("/", 1)[0] + "/viewer_twin"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'viewer_twin'").fetchone()
        if not exists:
            conn.execute("CREATE DATABASE viewer_twin")
    run_twin("demo", "--no-serve", TWIN_DATABASE_URL=url)
    return url


@contextmanager
def city_database(database_url: str) -> Iterator[str]:
    """A new, empty database on the tests' cluster, for a twin built and served once for a module's
    browser tests: its URL; dropped afterwards."""
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    name = f"city_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def serve_twin(url: str, started: list[subprocess.Popen], ready: bool = True, **env: str) -> tuple[str, str, subprocess.Popen]:
    """``twin serve`` over the twin at ``url``: (viewer URL, API URL, process) once both answer (the API
    starts once the first viewer is built), or at once with ``ready=False``; the process is added to
    ``started`` for the caller to stop."""
    viewer_port, api_port = free_port(), free_port()
    process = subprocess.Popen([sys.executable, "-m", "twin", "serve", "--viewer-port", str(viewer_port),
                                "--api-port", str(api_port)], env=twin_env(TWIN_DATABASE_URL=url, **env),
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started.append(process)
    deadline = time.monotonic() + 180
    while ready:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{api_port}/healthz", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"twin serve did not start: {process.stderr.read() if process.poll() is not None else ''}")
            time.sleep(1)
    return f"http://127.0.0.1:{viewer_port}/", f"http://127.0.0.1:{api_port}/", process


def stop_serving(started: list[subprocess.Popen]) -> None:
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)


@pytest.fixture(scope="session")
def start_serve(demo_database: str) -> Iterator:
    """A factory of ``twin serve`` processes over the demo Eco-city: ``start_serve(**env)`` (see
    :func:`serve_twin`). Any still running at the end of the session get SIGTERM."""
    started: list[subprocess.Popen] = []
    yield lambda ready=True, **env: serve_twin(demo_database, started, ready, **env)
    stop_serving(started)


@pytest.fixture(scope="session")
def served(start_serve):
    """``twin serve`` over the demo Eco-city: (viewer URL, process). Each page opened on the URL gets a
    viewer process of its own."""
    viewer, _, process = start_serve()
    return viewer, process
