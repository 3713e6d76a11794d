"""The analyses panel in a real browser, checked against the very functions of twin.analyses called on
the demo Eco-city's database: the panel's figures and lists equal theirs, the highlight changes the 3D
image and Clear takes it away, a year change clears it, bad input gets a message. And, without a
browser, that the overlay's cells are the features the analysis named (disappeared ones too, which the
year filter hides), its lines lie where PostGIS puts them, and the section plane cuts it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
import pyvista as pv
import shapely
from browser import ARTIFACTS, changed, image, settled, viewer_page
from pyproj import CRS
from test_viewer_time import set_year
from test_viewer_tools import click_centre, find, panel, switch

from twin import i18n
from twin.analyses.burst import burst_isolation
from twin.analyses.cache import forget
from twin.analyses.changes import change_between
from twin.analyses.clearance import pipe_clearance
from twin.analyses.coverage5g import coverage_5g
from twin.analyses.hydrants import hydrant_coverage
from twin.analyses.nearest import nearest_resources
from twin.catalog import load_catalog
from twin.store import database
from twin.store.meta import twin_crs
from twin.terrain import Terrain
from twin.time import changed_ids
from viewer.panels.analyses_panel import with_changed_ids
from viewer.panels.analysis_results import RESOURCE_COLORS, SHOW
from viewer.panels.overlay import Overlay, ramp
from viewer.scene.build import build
from viewer.scene.timeline import Timeline
from viewer.tools import section

YEAR = 2020  # the slider's year when a viewer opens: the demo's last
FIRST = 2008  # the demo's first year, year B when a viewer opens
# Hydrants near the first building switched off for a test: the demo city has one along every road.
NEAR_FIRST_BUILDING = ("FROM (SELECT geom FROM layers.buildings ORDER BY source_id LIMIT 1) b "
                       "WHERE ST_DWithin(h.geom, b.geom, 400)")
CARDS = ".twin-cards-left, .twin-cards-right, .twin-legend, .twin-years { visibility: hidden !important; }"


def burst_pipe(url: str) -> tuple[str, str]:
    """A water supply pipe whose burst closes valves and cuts buildings off: (id, source id)."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id::text, source_id FROM layers.water_supply ORDER BY source_id "
                            "LIMIT 1 OFFSET 40").fetchone()


@pytest.fixture
def fewer_hydrants(demo_database: str) -> Iterator[None]:
    """Written by hand, not imported: the answers cached before are forgotten by hand too."""
    with psycopg.connect(demo_database) as conn:
        conn.execute(f"UPDATE layers.smart_hydrants h SET status = 'out_of_service' {NEAR_FIRST_BUILDING}")
        forget(conn, ["smart_hydrants"])
    yield
    with psycopg.connect(demo_database) as conn:
        conn.execute(f"UPDATE layers.smart_hydrants h SET status = NULL {NEAR_FIRST_BUILDING}")
        forget(conn, ["smart_hydrants"])


def bare(page) -> np.ndarray:
    """The 3D view's image without the cards over it (whose text a change of the view leaves alone)."""
    hidden = page.add_style_tag(content=CARDS)
    try:
        return image(page)
    finally:
        hidden.evaluate("tag => tag.remove()")


def choose(page, title: str) -> None:
    """Open the panel (once) and pick an analysis."""
    if not page.locator(".twin-analysis-choice").is_visible():
        page.click(".twin-analyses-panel .v-expansion-panel-title")
        page.wait_for_selector(".twin-analysis-choice", state="visible")
    page.click(".twin-analysis-choice")
    page.click(f".v-overlay .v-list-item:has-text('{title}')")
    page.wait_for_function("title => document.querySelector('.twin-analysis-choice').innerText.includes(title)",
                           arg=title, timeout=20_000)


def shown(page, title: str) -> dict[str, str]:
    """The figures of the analysis titled ``title`` once they are in."""
    page.wait_for_function(f"document.querySelector('.twin-analysis') && "
                           f"document.querySelector('.twin-analysis').innerText.startsWith({title!r})", timeout=60_000)
    return panel(page, ".twin-analysis")


def run(page, title: str) -> dict[str, str]:
    page.click(".twin-analysis-run")
    return shown(page, title)


def message(page) -> str:
    page.wait_for_selector(".twin-analysis-message", timeout=20_000)
    return page.inner_text(".twin-analysis-message")


def items(page) -> list[tuple[str, str]]:
    entries = page.locator(".twin-analysis-item")
    return [(entry.locator(".v-list-item-title").inner_text(), entry.locator(".v-list-item-subtitle").inner_text())
            for entry in entries.all()]


def recoloured(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels of clearly another colour: a highlight may cover a small part of the city's overview."""
    return int((np.abs(a - b).sum(axis=2) > 60).sum())


def highlighted_then_cleared(page, name: str, before: np.ndarray) -> None:
    """The highlight changed the 3D image; Clear brings the image back."""
    lit = settled(page, changed(page, before, 0.01, picture=bare), picture=bare)
    page.screenshot(path=str(ARTIFACTS / f"viewer-analysis-{name}.png"))
    assert recoloured(lit, before) > 100, f"{name}: the highlight did not change the image"
    page.click(".twin-analysis-clear")
    page.wait_for_selector(".twin-analysis", state="detached", timeout=20_000)
    # the first image without the highlight may be one drawn while the server still takes it away
    cleared = settled(page, changed(page, lit, 0.01, picture=bare), picture=bare)
    page.screenshot(path=str(ARTIFACTS / f"viewer-analysis-{name}-cleared.png"))
    assert recoloured(cleared, before) < 0.1 * recoloured(lit, before), f"{name}: Clear left the highlight"


def test_hydrant_coverage_from_the_panel(served, demo_database: str, fewer_hydrants: None) -> None:
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        expected = hydrant_coverage(conn, YEAR).summary
    assert expected["uncovered_buildings"] and expected["hydrant_gaps"]
    with viewer_page(url) as page:
        before = bare(page)
        choose(page, "Hydrant coverage")
        figures = run(page, f"Hydrant coverage {YEAR}")
        assert figures["Buildings beyond 150 m"] == f"{expected['uncovered_buildings']:,}"
        assert figures["Road stretches with gaps"] == f"{expected['hydrant_gaps']:,}"
        assert len(items(page)) == expected["uncovered_buildings"] + expected["hydrant_gaps"]
        highlighted_then_cleared(page, "hydrants", before)


def test_5g_coverage_from_the_panel(served, demo_database: str) -> None:
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        total = coverage_5g(conn, str(YEAR)).summary["years"][str(YEAR)]
    with viewer_page(url) as page:
        before = bare(page)
        choose(page, "5G coverage")
        figures = run(page, f"5G coverage {YEAR}")
        assert figures["Buildings covered"] == (f"{total['buildings_covered']:,} of {total['buildings']:,} "
                                                f"({total['building_share']:.1%})")
        assert page.locator(".twin-analysis-legend").count() == 1
        highlighted_then_cleared(page, "coverage-5g", before)


def test_nearest_resources_at_a_picked_point(served, demo_database: str) -> None:
    url, _ = served
    catalog = load_catalog()
    with viewer_page(url) as page:
        choose(page, "Nearest emergency resources")
        page.click(".twin-analysis-run")
        assert message(page).startswith("point: none yet")
        page.click(".twin-analysis-point")
        click_centre(page)  # in Point mode a click runs the analysis there
        figures = shown(page, "Nearest emergency resources")
        listed = items(page)
        page.screenshot(path=str(ARTIFACTS / "viewer-analysis-nearest.png"))
        page.click(".twin-mode-inspect")
    x, y = (float(value.replace(",", "")) for value in figures["Point"].split(", "))
    with psycopg.connect(demo_database) as conn:
        answer = nearest_resources(conn, x=x, y=y, n=3, year=YEAR)
    resources = [f.properties for f in answer.of("role", "resource")]
    assert [label for label, _ in listed] == [f"{p['rank']}. {p['name']}" for p in resources]
    for (_, detail), p in zip(listed, resources):
        straight = float(detail.split(": ", 1)[1].split(" m straight")[0].replace(",", ""))
        assert detail.startswith(catalog[p["layer"]].title)
        assert straight == pytest.approx(p["straight_m"], abs=1.0)
    for kind, (_, colour) in RESOURCE_COLORS.items():
        assert figures[f"{catalog[kind].title} ({i18n.text(f'analysis.{colour}')})"] == str(answer.summary[kind])


def test_burst_isolation_of_the_picked_pipe(served, demo_database: str) -> None:
    url, _ = served
    pipe, source_id = burst_pipe(demo_database)
    with psycopg.connect(demo_database) as conn:
        answer = burst_isolation(conn, pipe, YEAR)
        building = conn.execute("SELECT source_id FROM layers.buildings ORDER BY source_id LIMIT 1").fetchone()[0]
    # named by what the survey calls them, not by their UUIDs
    valves = [f.properties["name"] or f.properties["source_id"] for f in answer.of("role", "close", "closed")]
    with viewer_page(url) as page:
        choose(page, "Burst isolation")
        page.click(".twin-analysis-run")
        assert message(page).startswith("pipe: nothing is picked")
        find(page, building)
        page.click(".twin-analysis-run")
        page.wait_for_function("document.querySelector('.twin-analysis-message').innerText"
                               ".startsWith('pipe: a feature of Buildings is picked')", timeout=20_000)
        switch(page, ".twin-underground", True)
        find(page, source_id)
        before = bare(page)
        figures = run(page, f"Burst isolation {YEAR}")
        assert [label for label, _ in items(page)] == [f"Valve {valve}" for valve in valves]
        highlighted_then_cleared(page, "burst", before)
        switch(page, ".twin-underground", False)
    summary = answer.summary
    assert figures["Valves to close"] == str(summary["valves_to_close"]) and summary["valves_to_close"] > 0
    assert figures["Pipes isolated"] == str(summary["isolated_pipes"])
    assert figures["Buildings cut off"] == str(summary["buildings_cut_off"])


def test_pipe_clearance_says_it_is_computing_and_flies_to_an_entry(served, demo_database: str) -> None:
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        answer = pipe_clearance(conn, YEAR)
    with viewer_page(url) as page, psycopg.connect(demo_database) as held:
        choose(page, "Pipe clearance")
        # The demo city's clearance takes well under a second: with its cached answer forgotten and the
        # water pipes locked, it is still computing when the year moves on.
        forget(held, ["water_supply"])
        held.commit()
        held.execute("LOCK TABLE layers.water_supply IN ACCESS EXCLUSIVE MODE")
        page.click(".twin-analysis-run")
        page.wait_for_selector(".twin-analysis-busy", timeout=10_000)
        set_year(page, ".twin-year", "ArrowLeft")  # moved on while it computes: its answer is not drawn
        held.commit()  # the lock let go: the answer comes back
        assert message(page) == f"not shown: the year changed to {YEAR - 1} while it was computing; run again"
        set_year(page, ".twin-year", "End")
        page.click(".twin-analysis-run")
        figures = shown(page, f"Pipe clearance {YEAR}")
        page.wait_for_selector(".twin-analysis-busy", state="detached", timeout=20_000)
        assert figures["Pairs too close"] == f"{answer.summary['pairs']:,}"
        first = answer.findings[0].properties
        assert items(page)[0][1].startswith(f"{first['shortfall_m']:.2f} m short")
        before = image(page)
        page.click(".twin-analysis-item >> nth=0")
        flown = changed(page, before, 2.0)
        page.screenshot(path=str(ARTIFACTS / "viewer-analysis-clearance.png"))
        assert np.abs(flown - before).mean() > 2.0, "the list entry did not fly the view to it"


def test_changes_between_two_years_from_the_panel(served, demo_database: str) -> None:
    url, _ = served
    with psycopg.connect(demo_database) as conn:
        expected = change_between(conn, load_catalog(), FIRST, YEAR)
    with viewer_page(url) as page:
        before = bare(page)
        choose(page, "Changes between two years")
        assert page.inner_text(".twin-analysis-years-value") == f"{FIRST} → {YEAR}"  # earlier first
        figures = run(page, f"Changes {FIRST} → {YEAR}")
        assert figures["Appeared (blue)"] == f"{expected.summary['appeared']:,}"
        assert figures["Disappeared (orange-red)"] == f"{expected.summary['disappeared']:,}"
        assert items(page) == [(layer["title"], f"{layer['appeared']:,} appeared, {layer['disappeared']:,} "
                                "disappeared") for layer in (f.properties for f in expected.findings)]
        lit = changed(page, before, 0.01, picture=bare)
        page.screenshot(path=str(ARTIFACTS / "viewer-analysis-changes.png"))
        assert recoloured(lit, before) > 100, "the changes highlight did not change the image"
        page.click(".twin-section")  # the section plane cuts the highlight with the scene
        page.click(".v-overlay .v-list-item:has-text('South-north')")
        cut = changed(page, lit, 2.0, picture=bare)
        page.screenshot(path=str(ARTIFACTS / "viewer-analysis-changes-section.png"))
        assert np.abs(cut - lit).mean() > 2.0, "the section plane did not cut the highlighted scene"
        page.click(".twin-section")
        page.click(".v-overlay .v-list-item:has-text('Off')")
        lit = changed(page, cut, 2.0, picture=bare)
        page.click(".twin-analysis-item:has-text('Utility tunnels')")  # flies to that layer's changes
        flown = changed(page, lit, 2.0, picture=bare)
        page.screenshot(path=str(ARTIFACTS / "viewer-analysis-changes-tunnels.png"))
        assert np.abs(flown - lit).mean() > 2.0, "the layer's entry did not fly the view to its changes"
        page.click(".twin-analysis-compare")  # the same two years side by side
        page.wait_for_selector(".twin-changes", timeout=20_000)


def test_a_year_change_clears_the_highlight(served) -> None:
    url, _ = served
    with viewer_page(url) as page:
        choose(page, "5G coverage")
        run(page, f"5G coverage {YEAR}")
        lit = bare(page)
        set_year(page, ".twin-year", "ArrowLeft")
        assert message(page) == f"5G coverage {YEAR} cleared: the year changed to {YEAR - 1}; run again"
        page.wait_for_selector(".twin-analysis", state="detached", timeout=20_000)
        changed(page, lit, 0.01, picture=bare)
        page.screenshot(path=str(ARTIFACTS / "viewer-analysis-cleared-by-year.png"))
        assert page.locator(".twin-analysis-item").count() == 0
        run(page, f"5G coverage {YEAR - 1}")  # run again: for the year shown
        page.click(".twin-play")  # the replay moves the year on: cleared at once, and it plays on
        page.wait_for_function("document.querySelector('.twin-analysis-message') && document.querySelector("
                               "'.twin-analysis-message').innerText.includes('cleared: the year changed to')",
                               timeout=20_000)
        page.wait_for_function(f"parseInt(document.querySelector('.twin-caption-year').innerText) < {YEAR - 1}",
                               timeout=30_000)  # played through the last year and looped to the first
        page.click(".twin-play")
        set_year(page, ".twin-year", "End")


def test_overlay_cells_are_the_features_the_analysis_named(demo_database: str) -> None:
    catalog = load_catalog()
    pipe, _ = burst_pipe(demo_database)
    with database.raw(demo_database) as connection:
        meshes, _, origin = build(connection, catalog)
        terrain = Terrain.from_store(connection, CRS.from_user_input(twin_crs(connection)))
        burst = burst_isolation(connection, pipe, YEAR)
        coverage = coverage_5g(connection, str(YEAR))
        route = nearest_resources(connection, x=float(origin[0] + 3000), y=float(origin[1] + 3000), n=1, year=YEAR)
    # the routes' vertices, in the twin's CRS as the analysis answers and the scene draws
    expected = shapely.get_coordinates([f.geometry for f in route.of("role", "route")])
    overlay = Overlay(pv.Plotter(off_screen=True), meshes, {layer_id: {feature: row for row, feature in
                                                                       enumerate(mesh.ids)}
                                                            for layer_id, mesh in meshes.items()}, origin, terrain)
    SHOW["burst"](burst, overlay, catalog)
    for kind, layer_id in (("burst", "water_supply"), ("isolated", "water_supply"), ("cut_off", "buildings")):
        named = {f.properties["id"] for f in burst.of("role", kind)}
        drawn = overlay.drawn.get(kind)
        cells = set() if drawn is None else {meshes[layer_id].ids[row] for row in drawn.cell_data["row"]}
        assert cells == named, kind
    SHOW["coverage"](coverage, overlay, catalog)
    grids = overlay.drawn["coverage"]
    share = {f.properties["id"]: f.properties["building_share"] for f in coverage.findings}
    first = meshes["management_grids"].ids[int(grids.cell_data["row"][0])]
    assert overlay.layers["coverage"] == ["management_grids"]
    assert {meshes["management_grids"].ids[row] for row in grids.cell_data["row"]} == set(share)
    if share[first] is not None:  # its colour is the ramp's at its share
        assert (grids.cell_data["rgb"][0] == ramp(np.array([share[first]]))[0]).all()
    SHOW["nearest"](route, overlay, catalog)
    drawn = overlay.drawn["routes"].points[:, :2] + origin[:2]
    for x, y in expected:  # every vertex of the route lies on the drawn line (which adds steps between them)
        assert np.hypot(drawn[:, 0] - x, drawn[:, 1] - y).min() < 0.01
    for kind, (colour, _) in RESOURCE_COLORS.items():  # one resource of each kind, in its own colour
        assert overlay.drawn[kind].n_points > 0, kind
        assert overlay.actors[kind].GetProperty().GetColor() == pytest.approx(pv.Color(colour).float_rgb), kind


def test_changes_draw_what_the_year_filter_hides_and_the_section_cuts_them(demo_database: str) -> None:
    catalog = load_catalog()
    with psycopg.connect(demo_database) as connection, connection.transaction(force_rollback=True):
        # Buildings of the first years pulled down in 2015, seen by this transaction alone.
        gone = {row[0] for row in connection.execute(
            "UPDATE layers.buildings SET valid_to = '2015-06-30' WHERE id IN (SELECT id FROM layers.buildings "
            "WHERE valid_from <= '2010-12-31' ORDER BY source_id LIMIT 25) RETURNING id::text")}
        forget(connection, ["buildings"])
        meshes, _, origin = build(connection, catalog)
        terrain = Terrain.from_store(connection, CRS.from_user_input(twin_crs(connection)))
        answer = with_changed_ids(change_between(connection, catalog, 2010, YEAR), changed_ids(connection, catalog, 2010, YEAR))
    layers = [f.properties for f in answer.findings]
    assert len(gone) == 25
    plotter = pv.Plotter(off_screen=True)
    overlay = Overlay(plotter, meshes, {layer_id: {feature: row for row, feature in enumerate(mesh.ids)}
                                        for layer_id, mesh in meshes.items()}, origin, terrain)
    shown = SHOW["changes"](answer, overlay, catalog)
    assert [item.label for item in shown.items] == [layer["title"] for layer in layers]
    for kind in ("appeared", "disappeared"):
        drawn = overlay.drawn[kind]
        for index, layer_id in enumerate(overlay.layers[kind]):
            rows = drawn.cell_data["row"][drawn.cell_data["layer"] == index]
            counted = next(layer[kind] for layer in layers if layer["layer"] == layer_id)
            assert len(set(rows.tolist())) == counted, (kind, layer_id)
    buildings = meshes["buildings"]
    disappeared = {buildings.ids[row] for row in overlay.drawn["disappeared"].cell_data["row"]}
    assert disappeared == gone
    timeline = Timeline(meshes)
    timeline.show(YEAR)  # the later year's scene does not draw them; the highlight does
    assert not disappeared & {buildings.ids[row] for row in timeline.mesh("buildings").cell_data["row"]}
    # The section plane, as viewer.app gives it to the layers' actors, cuts the highlight too.
    layer_actor = plotter.add_mesh(timeline.mesh("buildings"))
    cut = section.plane("x", 50, plotter.bounds)
    section.clip([layer_actor], cut)
    overlay.clip(cut)
    overlay.points("later", [shapely.Point(origin[0], origin[1])], "#ffffff")  # drawn after the cut
    for actor in [layer_actor, *overlay.actors.values()]:
        planes = actor.GetMapper().GetClippingPlanes()
        assert planes.GetNumberOfItems() == 1 and planes.GetItemAsObject(0) is cut
    overlay.clip(section.plane("off", 50, plotter.bounds))
    assert all(actor.GetMapper().GetClippingPlanes().GetNumberOfItems() == 0 for actor in overlay.actors.values())
