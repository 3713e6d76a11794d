"""Shared fixtures: a real PostGIS cluster of the tests' own, under .twin/test, started with the real CLI.

Two tiers (README, "Tests"): ``make test`` runs every test; ``make test-fast`` only those marked
``@pytest.mark.fast`` (a module marks all of its tests with ``pytestmark = pytest.mark.fast``): unit tests
and in-process ones, reading the session's fixture twins (the demo Eco-city, :func:`demo_database`, and
the blank twin of :func:`blank_twin`, each made once), the service through an in-process client
(:func:`service`), never a browser nor a ``twin`` command per test. A fast test that asks for a fixture
that runs the CLI per test fails at once, naming it (:data:`NOT_FAST`).
"""

from __future__ import annotations

import os
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
from browser import ARTIFACTS, free_port
from support import REAL_DATA, ROOT, TEST_HOME, Twin, reader_of, run_twin, twin_env

from twin.settings import get_settings

# Fixtures that run the real CLI (or a browser, or read the real-data samples) for each test: not fast.
NOT_FAST = {"make_twin", "scratch_database", "real_data", "real_copy", "start_serve", "served"}


def pytest_configure(config: pytest.Config) -> None:
    # What runs in-process reads the same settings as the tests' twin commands (support.twin_env): the
    # tests' own cluster, never a developer's TWIN_DATABASE_URL or .twin.
    for key in [key for key in os.environ if key.startswith("TWIN_")]:
        del os.environ[key]
    os.environ.update(TWIN_HOME=str(TEST_HOME), TWIN_PG_PORT="55440", TWIN_CRS="EPSG:4548")
    get_settings.cache_clear()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("fast") is None:
        return
    slow = sorted(NOT_FAST & set(getattr(item, "fixturenames", ())))
    if slow or item.get_closest_marker("browser"):
        pytest.fail(f"{item.nodeid} is marked fast but uses {', '.join(slow) or 'a browser'}, which runs the "
                    "CLI (or a browser) per test: drop the mark, or use blank_twin, demo_database or service",
                    pytrace=False)


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


@pytest.fixture(scope="session")
def migrated_template(database_url: str) -> Iterator:
    """``migrated_template(crs)``: the name of a database the real ``twin db migrate`` made an empty twin
    in that CRS, once a session for each CRS, kept as a template nobody connects to; dropped at the end."""
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    made: dict[str, str] = {}

    def template(crs: str) -> str:
        if crs not in made:
            name = f"template_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            Twin(database_url.rsplit("/", 1)[0] + f"/{name}", crs).run("db", "migrate")
            with psycopg.connect(admin, autocommit=True) as conn:
                # no one (autovacuum included) may connect: CREATE DATABASE ... TEMPLATE refuses a template in use
                conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true')
            made[crs] = name
        return made[crs]

    yield template
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in made.values():
            conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def make_twin(database_url: str, migrated_template) -> Iterator:
    """A factory of empty, migrated twin databases: ``make_twin("EPSG:31984")``, each a copy of the
    twin ``twin db migrate`` made in that CRS (:func:`migrated_template`); dropped afterwards."""
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    made: list[str] = []

    def make(crs: str = "EPSG:4548") -> Twin:
        name = f"twin_{uuid.uuid4().hex[:8]}"
        template = migrated_template(crs)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        made.append(name)
        return Twin(database_url.rsplit("/", 1)[0] + f"/{name}", crs)

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
def blank_twin_url(database_url: str) -> Iterator[str]:
    """A twin of the session's own, migrated in-process once, in the Eco-city's CRS (EPSG:4548) and
    holding nothing: tests write to it through :func:`blank_twin`, whose writes no other test sees."""
    from pyproj import CRS

    from twin.store import database
    from twin.store.migrate import fix_crs, migrate

    with city_database(database_url) as url:
        migrate(url=url)
        with database.connect(url) as connection:
            fix_crs(connection, CRS.from_user_input("EPSG:4548"))
        yield url
        database.engine(url).dispose()  # its pooled connections, before the database is dropped


@pytest.fixture
def blank_twin(blank_twin_url: str) -> Iterator:
    """A SQLAlchemy connection to the blank twin (:func:`blank_twin_url`) in a transaction rolled back
    after the test (TiPg's way: fixtures loaded once, each test inside a transaction of its own).
    :func:`support.add_features` writes handmade features; ``psycopg_of(connection)`` is its psycopg side,
    for the analyses and the viewer's scene."""
    from twin.store import database

    with database.engine(blank_twin_url).connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture(scope="session")
def service(demo_database: str) -> Iterator:
    """The service's app (``create_app``) over the demo Eco-city, read as the read-only role, answering
    in-process: a FastAPI ``TestClient`` (``service.get("/collections", params={...})``)."""
    from fastapi.testclient import TestClient

    from twin.service.app import create_app

    with TestClient(create_app(reader_of(demo_database)), client=("127.0.0.1", 50000)) as client:  # as this machine
        yield client


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


def serve_twin(url: str, started: list[subprocess.Popen], ready: bool = True, host: str = "127.0.0.1",
               **env: str) -> tuple[str, str, subprocess.Popen]:
    """``twin serve`` over the twin at ``url`` (listening on ``host``): (viewer URL, API URL, process) once
    both answer (the API starts once the first viewer is built), or at once with ``ready=False``; the
    process is added to ``started`` for the caller to stop."""
    viewer_port, api_port = free_port(), free_port()
    # Its output to a file, not a pipe nobody reads while it serves: a full pipe would stall it.
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"serve-{viewer_port}.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "twin", "serve", "--host", host, "--viewer-port",
                                    str(viewer_port), "--api-port", str(api_port)],
                                   env=twin_env(TWIN_DATABASE_URL=url, **env), cwd=ROOT, stdout=output, stderr=output)
    started.append(process)
    deadline = time.monotonic() + 180
    while ready:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{api_port}/healthz", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"twin serve did not start (its output: {log}): {log.read_text()[-2000:]}")
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
    yield lambda ready=True, host="127.0.0.1", **env: serve_twin(demo_database, started, ready, host, **env)
    stop_serving(started)


@pytest.fixture(scope="session")
def serving(start_serve) -> tuple[str, str, subprocess.Popen]:
    """``twin serve`` over the demo Eco-city, shared by the session: (viewer URL, API URL, process)."""
    return start_serve()


@pytest.fixture(scope="session")
def served(serving):
    """``twin serve`` over the demo Eco-city: (viewer URL, process). Each page opened on the URL gets a
    viewer process of its own."""
    viewer, _, process = serving
    return viewer, process
