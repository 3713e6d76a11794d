"""``twin db backup FILE`` and ``twin db restore FILE``: the store identical after a round trip (every
table compared here by a checksum of its own, the rasters by their bytes), a failed restore leaves the
store as it was, and a backup made at an older schema revision restores into this twin and migrates."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from support import TEST_HOME, run_twin, sql

from twin.store.migrate import head_revision

ECO_X, ECO_Y = 506_000.0, 4_330_000.0  # the Eco-city in EPSG:4548
SCHEMAS = ("twin", "layers", "history")


def hospitals(path: Path, names: list[str]) -> Path:
    features = [{"type": "Feature", "properties": {"id": f"H{i}", "name": name},
                 "geometry": {"type": "Point", "coordinates": [ECO_X + 300 * i, ECO_Y]}} for i, name in enumerate(names)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features,
                                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}}}))
    return path


def land_cover(path: Path) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=50, height=40, count=1, dtype="uint8", crs="EPSG:4548",
                       transform=from_origin(505_000, 4_335_000, 100, 100)) as dataset:
        dataset.write(np.arange(2000, dtype="uint8").reshape(1, 40, 50) % 6)
    return path


def store(url: str) -> dict[str, str]:
    """Each table of twin's schemas: its rows' text, sorted and hashed (a raster's path left out: a
    restore into another database puts the files in that database's folder)."""
    tables = sql(url, "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s)", list(SCHEMAS))
    found = {}
    for schema, table in tables:
        rows = sql(url, f'SELECT t::text FROM "{schema}"."{table}" t') if table != "rasters" else sql(
            url, 'SELECT (layer, source, year, crs, width, height, bounds, imported_at)::text FROM twin.rasters')
        found[f"{schema}.{table}"] = hashlib.sha256("\n".join(sorted(row[0] for row in rows)).encode()).hexdigest()
    return found


def raster_files(url: str) -> dict[str, str]:
    return {layer: hashlib.sha256(Path(path).read_bytes()).hexdigest()
            for layer, path in sql(url, "SELECT layer || '/' || coalesce(year::text, ''), path FROM twin.rasters")}


def made(make_twin, tmp_path: Path):
    twin = make_twin()
    twin.run("import", str(hospitals(tmp_path / "hospitals.geojson", ["Eco-city Hospital", "TEDA Hospital"])),
             "--layer", "hospitals")
    twin.run("import", str(hospitals(tmp_path / "hospitals.geojson", ["Eco-city Hospital", "Binhai Hospital"])),
             "--layer", "hospitals")  # a second import: the first's rows go to history
    twin.run("import", str(land_cover(tmp_path / "lc_2015.tif")), "--layer", "land_cover", "--year", "2015")
    return twin


def test_a_round_trip_gives_the_store_back(make_twin, tmp_path: Path) -> None:
    twin = made(make_twin, tmp_path)
    before, files = store(twin.url), raster_files(twin.url)
    assert {"layers.hospitals", "history.hospitals", "twin.imports", "twin.rasters", "twin.meta"} <= set(before)
    backup = tmp_path / "twin.tar"
    told = twin.run("db", "backup", str(backup))
    assert f"{backup}: " in told.stderr and "1 rasters, schema revision" in told.stderr
    # The twin moves on, then is given back.
    twin.run("import", str(hospitals(tmp_path / "more.geojson", ["Tianjin Hospital"])), "--layer", "hospitals",
             "--source", "more")
    refused = twin.run("db", "restore", str(backup), check=False)
    assert refused.returncode == 1 and "give --replace to replace them" in refused.stderr.strip().splitlines()[-1]
    assert store(twin.url) != before
    twin.run("db", "restore", "--replace", str(backup))
    assert store(twin.url) == before and raster_files(twin.url) == files
    # Into another, empty database (its own raster folder): the same store.
    other = make_twin()
    twin_elsewhere = other.run("db", "restore", str(backup))
    assert "every table matches its checksum" in twin_elsewhere.stderr
    assert store(other.url) == before and raster_files(other.url) == files
    assert {Path(path).parent.parent for (path,) in sql(other.url, "SELECT path FROM twin.rasters")} \
        != {Path(path).parent.parent for (path,) in sql(twin.url, "SELECT path FROM twin.rasters")}


def test_a_failed_restore_leaves_the_store_as_it_was(make_twin, tmp_path: Path) -> None:
    twin = made(make_twin, tmp_path)
    backup = tmp_path / "twin.tar"
    twin.run("db", "backup", str(backup))
    twin.run("import", str(hospitals(tmp_path / "now.geojson", ["Now Hospital"])), "--layer", "hospitals",
             "--source", "now")
    now = store(twin.url)
    # The dump loads, but one table is not what the backup recorded: the whole restore is undone.
    unpacked = tmp_path / "unpacked"
    with tarfile.open(backup) as archive:
        archive.extractall(unpacked, filter="data")
    manifest = json.loads((unpacked / "manifest.json").read_text())
    rows, _ = manifest["tables"]["layers.hospitals"].split()
    manifest["tables"]["layers.hospitals"] = f"{rows} 12345"
    (unpacked / "manifest.json").write_text(json.dumps(manifest))
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(tampered, "w") as archive:
        for member in ("manifest.json", "database.dump", "rasters"):
            archive.add(unpacked / member, member)
    failed = twin.run("db", "restore", "--replace", str(tampered), check=False)
    message = failed.stderr.strip().splitlines()[-1]
    assert failed.returncode == 1 and "table layers.hospitals differs from the backup" in message, message
    assert message.endswith("the store is as it was")
    assert store(twin.url) == now
    assert not list((TEST_HOME / "rasters").rglob("*.restoring"))
    # A damaged or foreign file is refused before anything is touched.
    (tmp_path / "half.tar").write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    (tmp_path / "notes.tar").write_text("not a backup")
    for bad, words in (("half.tar", "is damaged or not a twin backup"), ("notes.tar", "is damaged or not a twin backup"),
                       ("nowhere.tar", "no such file")):
        refused = twin.run("db", "restore", "--replace", str(tmp_path / bad), check=False)
        assert refused.returncode == 1 and words in refused.stderr.strip().splitlines()[-1], refused.stderr
    assert store(twin.url) == now


def test_a_backup_from_an_older_revision_restores_and_migrates(make_twin, scratch_database: str,
                                                               tmp_path: Path) -> None:
    twin = made(make_twin, tmp_path)
    twin.run("db", "migrate", "0005")  # as a twin before the analyses' cache (revision 0006) left it
    backup = tmp_path / "old.tar"
    assert "schema revision 0005" in twin.run("db", "backup", str(backup)).stderr
    before = store(twin.url)
    run_twin("db", "restore", str(backup), TWIN_DATABASE_URL=scratch_database, TWIN_CRS="EPSG:4548")
    assert sql(scratch_database, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    after = store(scratch_database)
    assert {"twin.results", "twin.findings"} <= set(after) - set(before)
    assert {name: after[name] for name in before} == before
