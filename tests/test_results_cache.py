"""The analyses' results cache (twin.analyses.cache): one computation reused until an import changes what
it read, in the twin's database, so that the viewer, the service and the next page share it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import add_features
from test_analyses import X0, Y0, at, box, line, point

from twin.analyses.cache import forget
from twin.analyses.hydrants import hydrant_coverage
from twin.catalog import load_catalog
from twin.history import undo
from twin.store import READER_ROLE
from twin.store.database import psycopg_of

pytestmark = pytest.mark.fast


def street(connection) -> dict[str, str]:
    """A road with one hydrant and two buildings, one beyond its reach."""
    add_features(connection, "roads", [(line(at(0, 0), at(100, 0)), {"id": "R", "width_m": 10.0})])
    add_features(connection, "smart_hydrants", [(point(at(0, 8)), {"id": "H"})])
    return add_features(connection, "buildings", [(box(10, 20, 20, 30), {"id": "near"}),
                                                  (box(400, 20, 410, 30), {"id": "far"})])


def kept(connection) -> int:
    return connection.execute(text("SELECT count(*) FROM twin.results")).scalar_one()


def uncovered(result) -> set[str]:
    return {f.properties["id"] for f in result.of("finding", "uncovered_building")}


def test_an_answer_is_computed_once_then_read_back_equal(blank_twin) -> None:
    buildings = street(blank_twin)
    connection = psycopg_of(blank_twin)
    first = hydrant_coverage(connection, 2020)
    again = hydrant_coverage(connection, 2020)
    assert not first.cached and again.cached
    assert again == first and uncovered(again) == {buildings["far"]}
    # the geometries come back as they were computed: in the twin's CRS, heights and all
    assert [f.geometry.wkb for f in again.findings] == [f.geometry.wkb for f in first.findings]
    assert again.findings[0].geometry.bounds[0] == pytest.approx(X0 + 400)
    # other parameters are another answer; the default year is this year's, said explicitly
    assert not hydrant_coverage(connection, 2019).cached
    assert hydrant_coverage(connection, box=(X0, Y0, X0 + 50, Y0 + 50)).findings == []
    assert kept(blank_twin) == 3


def test_an_import_of_a_layer_read_forgets_the_answers_and_an_other_layer_does_not(blank_twin) -> None:
    street(blank_twin)
    connection = psycopg_of(blank_twin)
    hydrant_coverage(connection, 2020)
    add_features(blank_twin, "valves", [(point(at(0, 0, -1.0)), {"id": "V", "utility": "water_supply"})])
    assert hydrant_coverage(connection, 2020).cached  # hydrant coverage reads no valves
    added = add_features(blank_twin, "smart_hydrants", [(point(at(400, 10)), {"id": "H2"})], source="more")
    assert kept(blank_twin) == 0  # the import's trigger forgot it, in the import's transaction
    fresh = hydrant_coverage(connection, 2020)
    assert not fresh.cached and uncovered(fresh) == set()
    # undoing that import (with those of the same transaction: the test's all) forgets the answer made on it
    import_id = blank_twin.execute(text("SELECT import_id FROM layers.smart_hydrants WHERE id = :id"),
                                   {"id": added["H2"]}).scalar_one()
    assert hydrant_coverage(connection, 2020).cached and kept(blank_twin) == 1
    undo(connection, load_catalog(), import_id)
    assert kept(blank_twin) == 0
    after = hydrant_coverage(connection, 2020)
    assert not after.cached and after.findings == []


def test_rows_written_without_an_import_need_forget(blank_twin) -> None:
    street(blank_twin)
    connection = psycopg_of(blank_twin)
    hydrant_coverage(connection, 2020)
    blank_twin.execute(text("DELETE FROM layers.smart_hydrants"))
    assert hydrant_coverage(connection, 2020).cached  # as the module says: no import, no new revision
    assert forget(connection, ["smart_hydrants"]) == 1 and forget(connection, ["gas"]) == 0
    assert len(uncovered(hydrant_coverage(connection, 2020))) == 2


def test_a_role_that_may_not_write_the_cache_gets_answers_computed(blank_twin) -> None:
    buildings = street(blank_twin)
    connection = psycopg_of(blank_twin)
    exists = blank_twin.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": READER_ROLE})
    if not exists.scalar_one():
        pytest.skip(f"the cluster has no {READER_ROLE} role (migrated by a user who may not create roles)")
    blank_twin.execute(text(f'REVOKE INSERT, UPDATE ON twin.results FROM "{READER_ROLE}"'))
    blank_twin.execute(text(f'SET LOCAL ROLE "{READER_ROLE}"'))
    try:
        first, again = hydrant_coverage(connection, 2020), hydrant_coverage(connection, 2020)
    finally:
        blank_twin.execute(text("RESET ROLE"))
    assert not first.cached and not again.cached and uncovered(again) == {buildings["far"]}
    assert kept(blank_twin) == 0
