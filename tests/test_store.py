"""The store against a real PostGIS: the own cluster, external URLs, migrations both ways, layer tables."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, TEST_HOME, run_twin, sql, twin_env

from twin.catalog import load_catalog
from twin.store.migrate import head_revision

VECTOR_LAYERS = len(load_catalog(ROOT / "layers").vector_layers)


def test_db_up_twice_is_harmless(database_url: str) -> None:
    before = sql(database_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'layers'")
    second = run_twin("db", "up")
    assert "already running" in second.stderr
    assert run_twin("db", "url").stdout.strip() == database_url
    assert sql(database_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'layers'") == before


def test_up_made_postgis_schema_and_crs(database_url: str) -> None:
    assert sql(database_url, "SELECT extname FROM pg_extension WHERE extname = 'postgis'") == [("postgis",)]
    assert sql(database_url, "SELECT value FROM twin.meta WHERE key = 'crs'") == [("EPSG:4548",)]
    status = json.loads(run_twin("db", "status", "--json").stdout)
    assert status["running"] and status["reachable"] and status["revision"] == status["head"]
    assert status["layer_tables"] == VECTOR_LAYERS


@pytest.mark.fast
def test_layer_table_has_the_feature_model(database_url: str) -> None:
    columns = dict(
        sql(
            database_url,
            "SELECT column_name, udt_name FROM information_schema.columns "
            "WHERE table_schema = 'layers' AND table_name = 'water_supply'",
        )
    )
    for name, kind in [("id", "uuid"), ("source", "text"), ("source_id", "text"), ("name", "text"),
                       ("valid_from", "date"), ("valid_to", "date"), ("geom", "geometry"),
                       ("diameter_mm", "float8"), ("install_year", "int8"), ("material", "text")]:
        assert columns.get(name) == kind, name
    geometry = sql(database_url, "SELECT type, coord_dimension, srid FROM geometry_columns "
                                 "WHERE f_table_schema = 'layers' AND f_table_name = 'water_supply'")
    assert geometry == [("MULTILINESTRING", 3, 4548)]
    indexes = {row[0] for row in sql(database_url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'water_supply'")}
    assert any("USING gist (geom)" in index for index in indexes)
    assert any("(valid_from, valid_to)" in index for index in indexes)


def test_layers_json_lists_the_catalog_with_counts(database_url: str) -> None:
    rows = json.loads(run_twin("layers", "--json").stdout)
    assert len(rows) >= 24
    for row in rows:
        assert {"id", "title", "group", "count"} <= row.keys()
        assert row["count"] == 0
    assert {row["group"] for row in rows} == {"base", "buildings", "underground", "smart", "emergency"}
    sql(database_url, "SELECT 1")  # the listing reached the database the fixture started


def test_layers_counts_rows(database_url: str, scratch_database: str) -> None:
    run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database)
    sql(scratch_database, "INSERT INTO layers.hospitals (source, source_id, name, geom) VALUES "
                          "('t', '1', 'A', ST_SetSRID(ST_MakePoint(500000, 4330000), 4548)), "
                          "('t', '2', 'B', ST_SetSRID(ST_MakePoint(500100, 4330000), 4548))")
    rows = json.loads(run_twin("layers", "--json", TWIN_DATABASE_URL=scratch_database).stdout)
    assert {row["id"]: row["count"] for row in rows}["hospitals"] == 2


def test_migrations_apply_on_empty_database_and_reverse(scratch_database: str) -> None:
    def schemas() -> set[str]:
        return {row[0] for row in sql(scratch_database, "SELECT nspname FROM pg_namespace")}

    run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database)
    assert {"twin", "layers"} <= schemas()
    tables = sql(scratch_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'layers'")[0][0]
    assert tables == VECTOR_LAYERS

    run_twin("db", "migrate", "0001", TWIN_DATABASE_URL=scratch_database)
    assert sql(scratch_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'layers'") == [(0,)]
    assert sql(scratch_database, "SELECT version_num FROM alembic_version") == [("0001",)]

    run_twin("db", "migrate", "base", TWIN_DATABASE_URL=scratch_database)
    assert not {"twin", "layers"} & schemas()

    run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database)
    assert sql(scratch_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'layers'") == [(VECTOR_LAYERS,)]


def test_versions_migration_keeps_a_twins_features_and_their_ids(scratch_database: str) -> None:
    """A twin made before revision 0005 keeps its rows and their ids through it (each a version 1), and
    going back keeps each feature's last version."""
    def hospitals() -> list[tuple]:
        return sql(scratch_database, "SELECT id::text, source_id, name FROM layers.hospitals ORDER BY source_id")

    run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database)
    sql(scratch_database, "INSERT INTO layers.hospitals (source, source_id, version, name, valid_to, geom) VALUES "
                          "('t', '1', 1, 'A', '2020-01-01', ST_SetSRID(ST_MakePoint(500000, 4330000), 4548)), "
                          "('t', '1', 2, 'A2', NULL, ST_SetSRID(ST_MakePoint(500000, 4330000), 4548)), "
                          "('t', '2', 1, 'B', NULL, ST_SetSRID(ST_MakePoint(500100, 4330000), 4548))")
    first_versions = [row for row in hospitals() if row[2] != "A"]
    run_twin("db", "migrate", "0004", TWIN_DATABASE_URL=scratch_database)
    assert [row[1:] for row in hospitals()] == [("1", "A2"), ("2", "B")]
    assert "history" not in {row[0] for row in sql(scratch_database, "SELECT nspname FROM pg_namespace")}
    at_0004 = hospitals()
    assert at_0004[1] == first_versions[1]  # B: a version 1, whose id never had the version in it
    run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database)
    assert hospitals() == at_0004
    assert sql(scratch_database, "SELECT DISTINCT version FROM layers.hospitals") == [(1,)]
    assert sql(scratch_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'history'") == [(VECTOR_LAYERS,)]


def test_new_layer_file_gets_its_table_on_migrate(scratch_database: str, tmp_path: Path) -> None:
    run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database)
    shutil.copytree(ROOT / "layers", tmp_path, dirs_exist_ok=True)
    (tmp_path / "drone_routes.toml").write_text(
        'id = "drone_routes"\ntitle = "Drone patrol routes"\ngroup = "smart"\ngeometry = "line"\nz = true\n'
        '[draw]\nmode = "tube"\ndiameter = "width_mm"\n[style]\ncolor = "#00aaff"\n'
        '[attributes]\nwidth_mm = { type = "real" }\n',
        encoding="utf-8",
    )
    result = run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database, TWIN_LAYERS_DIR=str(tmp_path))
    assert "created 1 layer tables" in result.stderr
    assert sql(scratch_database, "SELECT type, coord_dimension FROM geometry_columns "
                                 "WHERE f_table_schema = 'layers' AND f_table_name = 'drone_routes'") == [("MULTILINESTRING", 3)]
    rows = json.loads(run_twin("layers", "--json", TWIN_DATABASE_URL=scratch_database,
                               TWIN_LAYERS_DIR=str(tmp_path)).stdout)
    assert {"id": "drone_routes", "count": 0}.items() <= next(r for r in rows if r["id"] == "drone_routes").items()


def test_other_crs_on_existing_twin_is_refused(scratch_database: str) -> None:
    run_twin("db", "migrate", TWIN_DATABASE_URL=scratch_database)
    result = run_twin("db", "migrate", check=False, TWIN_DATABASE_URL=scratch_database, TWIN_CRS="EPSG:32650")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "twin: this database holds a twin in EPSG:4548 but TWIN_CRS is EPSG:32650; "
        "set TWIN_CRS to match or point TWIN_DATABASE_URL at a new database"
    )


def test_external_url_up_only_checks_and_migrates(scratch_database: str) -> None:
    result = run_twin("db", "up", TWIN_DATABASE_URL=scratch_database)
    assert "started" not in result.stderr
    assert sql(scratch_database, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    down = run_twin("db", "down", TWIN_DATABASE_URL=scratch_database)
    assert "does not own" in down.stderr
    assert sql(scratch_database, "SELECT 1") == [(1,)]


def test_unreachable_database_url_is_one_line_error() -> None:
    url = "postgresql://postgres@127.0.0.1:1/twin"
    for command in (("layers",), ("db", "up"), ("db", "migrate")):
        result = run_twin(*command, check=False, TWIN_DATABASE_URL=url)
        assert result.returncode == 1, command
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("twin: cannot connect to the database at postgresql://postgres@127.0.0.1:1/twin")
        assert "TWIN_DATABASE_URL" in lines[0]


def test_non_postgres_url_is_refused() -> None:
    result = run_twin("layers", check=False, TWIN_DATABASE_URL="sqlite:///twin.db")
    assert result.returncode == 1
    assert "TWIN_DATABASE_URL: 'sqlite' is not PostgreSQL" in result.stderr


def test_own_cluster_lifecycle_and_next_free_port(database_url: str) -> None:
    """A second cluster home: takes the next port, stops, says so, and comes back with its data."""
    home = TEST_HOME.parent / "test-lifecycle"
    shutil.rmtree(home, ignore_errors=True)
    taken = int(database_url.rsplit(":", 1)[1].split("/")[0])
    try:
        run_twin("db", "up", TWIN_HOME=str(home), TWIN_PG_PORT=str(taken))
        url = run_twin("db", "url", TWIN_HOME=str(home)).stdout.strip()
        assert f":{taken}/" not in url, "a busy port must be skipped"
        sql(url, "INSERT INTO layers.police_stations (source, source_id, geom) "
                 "VALUES ('t', '1', ST_SetSRID(ST_MakePoint(0, 0), 4548))")

        assert "database stopped" in run_twin("db", "down", TWIN_HOME=str(home)).stderr
        assert "not running" in run_twin("db", "down", TWIN_HOME=str(home)).stderr
        status = json.loads(run_twin("db", "status", "--json", TWIN_HOME=str(home)).stdout)
        assert status["initialised"] and not status["running"]
        stopped = run_twin("layers", check=False, TWIN_HOME=str(home))
        assert stopped.returncode == 1 and "run `twin db up`" in stopped.stderr

        run_twin("db", "up", TWIN_HOME=str(home), TWIN_PG_PORT=str(taken))
        url = run_twin("db", "url", TWIN_HOME=str(home)).stdout.strip()
        assert sql(url, "SELECT count(*) FROM layers.police_stations") == [(1,)]
    finally:
        run_twin("db", "down", check=False, TWIN_HOME=str(home))
        shutil.rmtree(home, ignore_errors=True)


# Runs `twin db migrate` in this process, down to base and up again (every migration both ways), and
# says what it imported and which of TiPg's settings it left in the environment.
_MIGRATE_AND_REPORT = """
import json, os, sys
from twin.cli import cli
for revision in ("head", "base", "head"):
    cli.main(["db", "migrate", revision], standalone_mode=False)
print(json.dumps({"service": sorted(name for name in sys.modules if name.startswith("twin.service")),
                  "tipg": sorted(key for key in os.environ if key.startswith("TIPG_"))}))
"""


def test_migrating_leaves_the_web_service_alone(scratch_database: str) -> None:
    # twin.service's __init__ sets TiPg's environment: a migration that imported it would configure the
    # web service as a side effect of `twin db migrate`.
    # Without any TIPG_ variable this pytest process may hold (other test modules import twin.service).
    env = {key: value for key, value in twin_env(TWIN_DATABASE_URL=scratch_database).items()
           if not key.startswith("TIPG_")}
    result = subprocess.run([sys.executable, "-c", _MIGRATE_AND_REPORT], capture_output=True, text=True,
                            cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"service": [], "tipg": []}
