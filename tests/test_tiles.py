"""Large layers drawn in tiles (viewer.scene.tiles): every feature in exactly one tile, the finest levels
drawn near the camera (the same picture as the layer drawn whole), coarser ones far off within the
screen-space error bound, none outside the view, the year filter and picking on tiles."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import pyvista as pv
from support import ROOT, add_features

from twin.catalog import load_catalog
from twin.store.database import psycopg_of
from viewer.render import add_layers, make_plotter, place_camera
from viewer.scene import tiles
from viewer.scene.build import build
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.timeline import Timeline
from viewer.tools.picking import pick

pytestmark = pytest.mark.fast

X0, Y0 = 506_000.0, 4_330_000.0
SIDE = 20  # buildings a row: 400, 40 m apart, a fifth of them built in 2015, the rest in 2010
CATALOG = load_catalog(ROOT / "layers")


@pytest.fixture
def city(blank_twin, monkeypatch):
    """400 buildings and 400 hydrants over 800 m, split into tiles of about 200 cells."""
    monkeypatch.setattr(tiles, "TILED_FROM", 100)
    monkeypatch.setattr(tiles, "TILE_CELLS", 200)
    add_features(blank_twin, "buildings", [
        ({"type": "Polygon", "coordinates": [[[x, y], [x + 20, y], [x + 20, y + 20], [x, y + 20], [x, y]]]},
         {"id": f"B{i}-{j}", "height_m": 10.0 + (i + j) % 7 * 5,
          "valid_from": "2015-01-01" if (i + j) % 5 == 0 else "2010-01-01"})
        for i in range(SIDE) for j in range(SIDE) for x, y in [(X0 + 40 * i, Y0 + 40 * j)]])
    add_features(blank_twin, "smart_hydrants", [
        ({"type": "Point", "coordinates": [X0 + 40 * i + 30, Y0 + 40 * j + 30]}, {"id": f"H{i}-{j}"})
        for i in range(SIDE) for j in range(SIDE)])
    meshes, _, origin = build(psycopg_of(blank_twin), CATALOG)
    return meshes, origin


def _view(meshes):
    plotter, _ = make_plotter()
    timeline = Timeline(meshes)
    actors = add_layers(plotter, meshes, None, timeline)
    timeline.show(2020)
    return plotter, timeline, actors


def _untiled(made: LayerMesh) -> LayerMesh:
    return replace(made, tiles=None)


def _image(plotter) -> np.ndarray:
    plotter.ren_win.Render()
    return plotter.screenshot(return_img=True).astype(int)


def _drawn(plotter) -> list[tuple[str, int | str]]:
    """(layer, level) of each tile drawn at the last render; (layer, "node") of a node over tiles."""
    drawing = tiles.drawing_of(plotter.renderer)
    return [(drawing.layer_of[actor.GetAddressAsString("vtkActor")], "node" if tile.covers else index)
            for _, _, drawn in drawing.layers for tile, actors in drawn
            for index, (actor, _) in enumerate(actors) if actor.GetVisibility()]


def test_every_feature_is_in_one_tile(city) -> None:
    meshes, _ = city
    for layer_id in ("buildings", "smart_hydrants"):
        whole, every = meshes[layer_id].mesh, meshes[layer_id].tiles
        assert every is not None
        layer_tiles = tiles.leaves(every)
        assert len(layer_tiles) >= 4, layer_id
        rows = [set(np.unique(tile.levels[0].cell_data["row"]).tolist()) for tile in layer_tiles]
        assert sum(len(r) for r in rows) == len(set().union(*rows)) == len(meshes[layer_id].ids)  # once each
        assert sum(tile.levels[0].n_cells for tile in layer_tiles) == whole.n_cells
        for tile in layer_tiles:  # the coarser level: a dot per feature of the tile
            dots = tile.levels[1]
            assert dots.n_cells == dots.GetNumberOfVerts() == len(np.unique(tile.levels[0].cell_data["row"]))
            assert tile.errors[0] == 0 and tile.errors[1] > 0
            if layer_id == "buildings":  # farthest off, a dot for a block's buildings of the same years
                blocks = tile.levels[2]
                assert blocks.n_cells <= dots.n_cells and tile.errors[2] >= tile.errors[1]
                assert set(blocks.cell_data["row"].tolist()) <= set(dots.cell_data["row"].tolist())
        if layer_id == "buildings":  # 40 m apart, 96 m blocks, two years: fewer block dots than buildings
            assert sum(tile.levels[2].n_cells for tile in layer_tiles) < len(meshes[layer_id].ids) / 2
        # the nodes over them: their tiles' dots joined, at the largest of their errors; one over all of them
        nodes = every[len(layer_tiles):]
        assert nodes and all(node.covers for node in nodes) and set(nodes[0].covers) == set(range(len(layer_tiles)))
        for node in nodes:
            joined = np.concatenate([layer_tiles[index].levels[-1].cell_data["row"] for index in node.covers])
            assert sorted(node.levels[0].cell_data["row"].tolist()) == sorted(joined.tolist())
            assert node.levels[0].n_cells == node.levels[0].GetNumberOfVerts()
            assert node.errors == [max(layer_tiles[index].errors[-1] for index in node.covers)]


def test_near_the_tiles_draw_what_the_whole_layer_draws_and_far_off_within_the_bound(city) -> None:
    meshes, origin = city
    middle = np.array([X0 + 400, Y0 + 400, 0.0]) - origin
    near = (tuple(middle), tuple(middle + [0.0, -300.0, 300.0]))
    plotter, _, actors = _view(meshes)
    actors["smart_hydrants"].VisibilityOff()  # symbols 1.5 m wide: dots already at the far end of this view
    place_camera(plotter, *near)
    tiled = _image(plotter)
    assert {level for _, level in _drawn(plotter)} == {0}
    plotter_whole, _, whole_actors = _view({layer_id: _untiled(made) for layer_id, made in meshes.items()})
    whole_actors["smart_hydrants"].VisibilityOff()
    place_camera(plotter_whole, *near)
    whole = _image(plotter_whole)
    assert (np.abs(tiled - whole).sum(axis=2) > 30).mean() < 0.001, "the finest tiles draw another picture"

    actors["smart_hydrants"].VisibilityOn()
    place_camera(plotter, tuple(middle), tuple(middle + [0.0, -40_000.0, 40_000.0]))  # 57 km away
    _image(plotter)
    # far off, the dots, drawn by the one node over all of a layer's tiles
    assert sorted(_drawn(plotter)) == [("buildings", "node"), ("smart_hydrants", "node")]
    assert tiles.drawing_of(plotter.renderer).worst_px <= tiles.SSE_PX


def test_a_node_is_drawn_in_place_of_its_tiles(city) -> None:
    """Looking along the ground from one corner: near tiles drawn whole, far ones by nodes over them, and
    no feature drawn twice (by a node and by its tile, or by two nodes)."""
    meshes, origin = city
    plotter, _, _ = _view(meshes)
    corner = np.array([X0, Y0, 0.0]) - origin
    place_camera(plotter, tuple(corner + [400.0, 400.0, 0.0]), tuple(corner + [-800.0, -800.0, 500.0]))
    plotter.ren_win.SetSize(200, 120)  # small: metres per pixel as from farther away
    _image(plotter)
    drawing = tiles.drawing_of(plotter.renderer)
    kinds, rows = set(), {}
    for layer_id, _, drawn in drawing.layers:
        for tile, pairs in drawn:
            for index, (actor, copy) in enumerate(pairs):
                if actor.GetVisibility():
                    kinds.add("node" if tile.covers else index)
                    rows.setdefault(layer_id, []).append(np.unique(copy.mesh.cell_data["row"]))  # each once
    for layer_id, each in rows.items():
        assert len(np.concatenate(each)) == len(np.unique(np.concatenate(each))), f"{layer_id}: drawn twice"
    assert {"node", 0} <= kinds, kinds
    assert drawing.worst_px <= tiles.SSE_PX


def test_tiles_out_of_view_are_not_drawn(city) -> None:
    meshes, origin = city
    plotter, _, _ = _view(meshes)
    corner = np.array([X0 + 20, Y0 + 20, 0.0]) - origin  # looking at the south-west corner from the south-west
    place_camera(plotter, tuple(corner), tuple(corner + [-60.0, -60.0, 40.0]))
    _image(plotter)
    drawn = [layer for layer, _ in _drawn(plotter) if layer == "buildings"]
    assert 0 < len(drawn) < len(tiles.leaves(meshes["buildings"].tiles)) / 2


def test_a_year_and_a_pick_on_tiles(city) -> None:
    meshes, origin = city
    plotter, timeline, actors = _view(meshes)
    middle = np.array([X0 + 410, Y0 + 450, 0.0]) - origin  # the roof of B10-11, 10 m high, built in 2010
    place_camera(plotter, tuple(middle), tuple(middle + [0.0, -1.0, 400.0]))
    plotter.ren_win.SetSize(400, 400)
    timeline.show(2012)
    _image(plotter)
    drawing = tiles.drawing_of(plotter.renderer)
    shown = [copy.mesh for _, _, drawn in drawing.layers for _, pairs in drawn for actor, copy in pairs
             if actor.GetVisibility() and drawing.layer_of[actor.GetAddressAsString("vtkActor")] == "buildings"]
    years = np.concatenate([mesh.cell_data["valid_from"] for mesh in shown])
    assert len(years) and set(years.tolist()) == {2010}, "2015's buildings drawn in 2012"
    picked = pick(plotter, actors, meshes, 200, 200)
    assert picked is not None and picked.layer_id == "buildings"
    assert meshes["buildings"].ids[picked.row] == picked.feature_id and abs(picked.position[2] - 10.0) < 0.01


def test_the_tiles_are_shared_by_both_views_of_compare_mode(city) -> None:
    """Each view draws its own year from the same tiles."""
    meshes, _ = city
    first, second = Timeline(meshes), Timeline(meshes)
    first.show(2012)
    second.show(2020)
    for timeline, years in ((first, {2010}), (second, {2010, 2015})):
        merged = timeline.mesh("buildings")  # every tile's finest level, brought to the timeline's year
        assert isinstance(merged, pv.PolyData) and set(merged.cell_data["valid_from"].tolist()) == years


def test_a_section_cuts_the_year_shown_of_a_tiled_layer(city) -> None:
    """The lead of a tiled layer draws nothing: the section cuts its tiles' finest levels, in the year
    shown, tiles out of view too."""
    from viewer.tools import section
    from viewer.tools.section import SectionFace

    meshes, origin = city
    plotter, timeline, actors = _view(meshes)
    bounds = plotter.bounds
    face = SectionFace(plotter, CATALOG, actors, origin, None, bounds, "EPSG:4548", lambda: 1.0)
    cut = section.plane("x", 52, bounds)  # through the tenth column of buildings
    section.clip(actors.values(), cut)
    face.show(cut)
    corner = np.array([X0, Y0, 0.0]) - origin  # most of the cut lies out of this view
    place_camera(plotter, tuple(corner), tuple(corner + [-50.0, -50.0, 30.0]))
    for year, years in ((2012, {2010}), (2020, {2010, 2015})):
        timeline.show(year)
        _image(plotter)
        cutter = face.caps["buildings"].GetMapper().GetInputAlgorithm()
        cutter.Update()
        cut_faces = pv.wrap(cutter.GetOutput())
        assert cut_faces.n_cells and set(cut_faces.cell_data["valid_from"].tolist()) == years, year
