"""Helpers the tests share: run the real ``twin`` command, query the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
# Parallel test runs each need their own cluster: TWIN_TEST_HOME gives one its own folder.
TEST_HOME = Path(os.environ.get("TWIN_TEST_HOME", ROOT / ".twin" / "test")).resolve()
# The real-data samples sit beside the project (../shared/data/real); TWIN_REAL_DATA points elsewhere.
REAL_DATA = Path(os.environ.get("TWIN_REAL_DATA", ROOT.parent / "shared" / "data" / "real")).resolve()
# TWIN_UPDATE_BASELINES=1 re-records tests/baselines (tests/test_visual.py). Read here, on import: the
# session's start clears every TWIN_ variable (conftest.pytest_configure).
UPDATE_BASELINES = os.environ.get("TWIN_UPDATE_BASELINES") == "1"


def twin_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a twin subprocess: the tests' own cluster unless overridden."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWIN_")}
    # The tests' own database is an Eco-city twin in its CRS; tests of twins without one unset it (None).
    env.update(TWIN_HOME=str(TEST_HOME), TWIN_PG_PORT="55440", TWIN_CRS="EPSG:4548")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_twin(*args: str, check: bool = True, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run the real ``twin`` command line and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "twin", *args], capture_output=True, text=True, env=twin_env(**env), cwd=ROOT
    )
    if check and result.returncode != 0:
        raise AssertionError(f"twin {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def run_twin_in_process(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """What :func:`run_twin` gives, from the same entry point (``twin.cli.main``) called in this process,
    with ``env`` over the tests' settings for the call: for commands so quick that starting Python would
    be most of their time."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from twin import cli
    from twin.settings import get_settings

    saved, argv = dict(os.environ), sys.argv
    out, err, code = io.StringIO(), io.StringIO(), 0
    try:
        os.environ.clear()
        os.environ.update(twin_env(**env))
        get_settings.cache_clear()
        sys.argv = ["twin", *args]
        with redirect_stdout(out), redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sys.argv = argv
        get_settings.cache_clear()
    return subprocess.CompletedProcess(["twin", *args], code, out.getvalue(), err.getvalue())


def run_twin_on_terminal(*args: str, **env: str | None) -> tuple[int, str]:
    """Run the real ``twin`` command with a pseudo-terminal for its output, as a person at a terminal
    sees it (progress bars show only there); returns its exit status and everything it wrote."""
    import fcntl
    import pty
    import struct
    import termios

    controller, terminal = pty.openpty()
    # A terminal 120 columns wide: tqdm fits its bar to the width and, at a pty's default of 0, shows nothing.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "twin", *args], stdin=subprocess.DEVNULL, stdout=terminal,
                               stderr=terminal, env=twin_env(**env), cwd=ROOT)
    os.close(terminal)
    written = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command has ended and closed the terminal
            break
        if not chunk:
            break
        written += chunk
    os.close(controller)
    return process.wait(), written.decode("utf-8", "replace")


def refused(result: subprocess.CompletedProcess[str], path: object) -> str:
    """Check a command was refused the way twin refuses bad input: exit 1 and one line naming ``path``."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"twin: {path}"), lines[0]
    return lines[0]


# The colours of a test photo's quadrants: north-west, north-east, south-west, south-east.
QUADRANTS = ((220, 30, 30), (30, 60, 220), (40, 170, 60), (240, 220, 40))


def photo(path: Path, corner: tuple[float, float], cell: float, shape: tuple[int, int], bands: int = 3,
          dtype: str = "uint8", crs: str = "EPSG:4548") -> Path:
    """An orthophoto GeoTIFF of ``shape`` (rows, columns) pixels of ``cell`` metres whose south-west corner
    is ``corner``, each quadrant in its QUADRANTS colour; a fourth band is alpha, the south-east quadrant
    transparent; fewer than three bands are its first ones."""
    import rasterio
    from rasterio.transform import from_origin

    rows, cols = shape
    quadrant = 2 * (np.arange(rows)[:, None] >= rows // 2) + (np.arange(cols)[None, :] >= cols // 2)
    rgba = np.concatenate([np.moveaxis(np.array(QUADRANTS)[quadrant], -1, 0), [np.where(quadrant == 3, 0, 255)]])
    with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=bands, dtype=dtype, crs=crs,
                       transform=from_origin(corner[0], corner[1] + rows * cell, cell, cell)) as dataset:
        dataset.write(rgba[:bands].astype(dtype))
    return path


def reader_of(url: str) -> str:
    """The same database's URL as the service's read-only role (migration 0004 makes it)."""
    from twin.service import READER_ROLE

    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{READER_ROLE}@{parts.netloc.rpartition('@')[2]}"))


def add_features(connection, layer: str, features: list[tuple[dict, dict]], source: str = "handmade"
                 ) -> dict[str, str]:
    """Write handmade features into a layer's table as an import would (a row in twin.imports, rows
    carrying its id), on a SQLAlchemy ``connection`` (the :func:`blank_twin` fixture's): ``(geometry,
    properties)`` pairs, the geometry GeoJSON in the twin's CRS (made multi and 3D as the layer's column
    is), the properties ``id`` (the source id), ``name``, ``valid_from``/``valid_to`` (ISO dates) and the
    layer's attributes. Returns source id -> feature id."""
    from datetime import date

    from sqlalchemy import MetaData, func, insert, select, text

    from twin.catalog import load_catalog
    from twin.store.database import psycopg_of
    from twin.store.meta import twin_srid
    from twin.store.tables import layer_table

    catalog = load_catalog(ROOT / "layers")
    srid = twin_srid(psycopg_of(connection))
    table = layer_table(catalog[layer], MetaData(), srid)
    import_id = connection.execute(text(
        "INSERT INTO twin.imports (layer, source, format, path, imported, rejected, seconds) "
        "VALUES (:layer, :source, 'handmade', '(a test)', :count, 0, 0) RETURNING id"),
        {"layer": layer, "source": source, "count": len(features)}).scalar_one()
    rows = []
    for geometry, properties in features:
        values = dict(properties)
        row = {"source": source, "source_id": str(values.pop("id")), "import_id": import_id}
        for name in ("valid_from", "valid_to"):
            if name in values:
                row[name] = date.fromisoformat(values.pop(name))
        shape = func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(geometry)), srid)
        if catalog[layer].geometry != "point":
            shape = func.ST_Multi(shape)
        row["geom"] = func.ST_Force3D(shape) if catalog[layer].z else func.ST_Force2D(shape)
        rows.append({**row, **values})
    for row in rows:  # one statement a row: rows may name different columns
        connection.execute(insert(table).values(**row))
    ids = select(table.c.source_id, table.c.id).where(table.c.import_id == import_id)
    return {source_id: str(id_) for source_id, id_ in connection.execute(ids)}


def sql(url: str, query: str, *params: object) -> list[tuple]:
    """Run one statement; its rows, or [] for a statement that returns none."""
    with psycopg.connect(url) as conn:
        cursor = conn.execute(query, params or None)
        return cursor.fetchall() if cursor.description else []


class Twin:
    """A twin database of the tests' own, in a CRS of the test's choosing, driven by the real CLI."""

    def __init__(self, url: str, crs: str) -> None:
        self.url = url
        self.crs = crs

    def run(self, *args: str, check: bool = True, **env: str | None) -> subprocess.CompletedProcess[str]:
        return run_twin(*args, check=check, TWIN_DATABASE_URL=self.url, TWIN_CRS=self.crs, **env)

    def sql(self, query: str, *params: object) -> list[tuple]:
        return sql(self.url, query, *params)

    def count(self, layer: str) -> int:
        return self.sql(f'SELECT count(*) FROM layers."{layer}"')[0][0]

    def snapshot(self, layer: str) -> tuple:
        """Row count and a checksum of every row of a layer and of the import log: equal before and after
        means nothing changed."""
        rows = self.sql(
            f'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t.id), \'\')) FROM layers."{layer}" t'
        )[0]
        log = self.sql("SELECT count(*), md5(coalesce(string_agg(i::text, '|' ORDER BY i.id), '')) FROM twin.imports i")[0]
        rejects = self.sql("SELECT count(*) FROM twin.rejects")[0]
        return rows + log + rejects


def write_solid_cityjson(path: Path, epsg: int, vertices: list, faces: list) -> Path:
    """A CityJSON 2.0 file of one Building, ``faces`` (indices into ``vertices``, in metres) its LOD2 solid."""
    document = {"type": "CityJSON", "version": "2.0", "transform": {"scale": [0.001] * 3, "translate": [0, 0, 0]},
                "metadata": {"referenceSystem": f"https://www.opengis.net/def/crs/EPSG/0/{epsg}"},
                "vertices": [[round(c * 1000) for c in vertex] for vertex in vertices],
                "CityObjects": {"house": {"type": "Building", "geometry": [
                    {"type": "Solid", "lod": "2.2", "boundaries": [faces]}]}}}
    path.write_text(json.dumps(document))
    return path
