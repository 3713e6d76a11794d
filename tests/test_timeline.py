"""The year filter against PostGIS: for every year of the demo city, each layer's shown mesh holds
exactly the features that twin.time's rule and a plain SQL count say stood then; the replay raises a
building through the year before its completion."""

from __future__ import annotations

import numpy as np
import pytest
from support import ROOT

from twin.catalog import load_catalog
from twin.store import database
from twin.time import figures, year_range
from viewer.scene.build import build
from viewer.scene.timeline import Timeline

pytestmark = pytest.mark.fast


def test_each_year_shows_what_stood_then(demo_database: str) -> None:
    catalog = load_catalog(ROOT / "layers")
    with database.raw(demo_database) as connection:
        meshes, _, _ = build(connection, catalog)
        first, last = year_range(connection, catalog)
        by_year = figures(connection, catalog, first, last)
        plain = dict(connection.execute(
            "SELECT y, count(b.*) FROM generate_series(2008, 2020) y LEFT JOIN layers.buildings b "
            "ON extract(year FROM b.valid_from) <= y AND (b.valid_to IS NULL OR extract(year FROM b.valid_to) > y) "
            "GROUP BY y").fetchall())
    assert (first, last) == (2008, 2020)
    timeline = Timeline(meshes)
    for year in range(first, last + 1):
        timeline.show(year)
        for layer_id in ("buildings", "roads", "water_supply", "cameras", "base_stations_5g"):
            rows = np.unique(timeline.mesh(layer_id).cell_data["row"])
            assert len(rows) == by_year[year][layer_id].count, (layer_id, year)
        assert by_year[year]["buildings"].count == plain[year]
    assert by_year[2008]["buildings"].count < by_year[2014]["buildings"].count < by_year[2020]["buildings"].count
    assert by_year[2020]["base_stations_5g"].count > 0 == by_year[2018]["base_stations_5g"].count


def test_buildings_rise_through_the_year_before_completion(demo_database: str) -> None:
    catalog = load_catalog(ROOT / "layers")
    with database.raw(demo_database) as connection:
        meshes, _, _ = build(connection, catalog)
    buildings = meshes["buildings"].mesh
    built_2015 = buildings.cell_data["valid_from"] == 2015
    full_height = np.ptp(buildings.extract_cells(built_2015).points[:, 2])

    def height_of_2015(timeline: Timeline) -> float:
        shown = timeline.mesh("buildings")
        return float(np.ptp(shown.extract_cells(shown.cell_data["valid_from"] == 2015).points[:, 2]))

    rising, early = Timeline(meshes), Timeline(meshes)  # compare mode: two years at once
    rising.show(2014.5)  # halfway through 2015's construction
    early.show(2008)
    assert height_of_2015(rising) == pytest.approx(full_height / 2, rel=0.05)
    # The other timeline and the layer's own mesh are left as they were.
    assert np.ptp(buildings.extract_cells(built_2015).points[:, 2]) == pytest.approx(full_height)
    early.show(2020)
    assert height_of_2015(early) == pytest.approx(full_height)
    rising.show(2015)
    assert height_of_2015(rising) == pytest.approx(full_height)


def test_a_year_before_every_feature_shows_nothing_and_keeps_playing() -> None:
    """The replay's empty start (the year before the first): no cell stands, and a colouring's RGB cell
    array has no rows; pyvista refuses such an array, which ended the replay's task (it stalled in the
    browser, looping back to the first year)."""
    import pyvista as pv

    from viewer.scene.timeline import subset

    mesh = pv.PolyData(np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]]), faces=[3, 0, 1, 2, 3, 1, 3, 2])
    mesh.cell_data["valid_from"] = np.array([2010, 2012], np.int32)
    mesh.cell_data["valid_to"] = np.zeros(2, np.int32)
    mesh.cell_data["colour_by_use"] = np.array([[230, 159, 0], [86, 180, 233]], np.uint8)
    empty = subset(mesh, np.zeros(2, bool))
    assert empty.n_cells == 0
    again = subset(mesh, np.array([False, True]))
    assert again.n_cells == 1 and again.cell_data["colour_by_use"].tolist() == [[86, 180, 233]]
