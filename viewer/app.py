"""The trame app: the twin in 3D in the browser, rendered on the server (VtkRemoteView).

One process serves one viewer state; ``twin serve`` starts it. Run alone:
``python -m viewer.app --server --host 127.0.0.1 --port 8080``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyvista as pv
from trame.app import asynchronous, get_server
from trame.widgets import html
from trame.widgets import vtk as vtk_widgets

from twin import i18n
from twin.catalog import Catalog, load_catalog
from twin.store import database
from twin.store.city import City
from twin.store.city import read as read_city
from twin.store.stats import layer_counts
from twin.time import figures, year_range
from viewer.language import setup_language
from viewer.look import Dots, YearTitle
from viewer.panels import compare_ui, ui
from viewer.panels.colour_by import chosen, colour_controls, legend_rows
from viewer.panels.analyses_panel import AnalysesPanel
from viewer.panels.overlay import Overlay
from viewer.panels.years import year_controls
from viewer.moving import MovingDetail
from viewer.pipe_lines import add_pipe_lines
from viewer.render import (
    BURIED, OneImageOnRelease, add_layers, answer_session_manager, image_size, make_plotter, place_camera,
    send_images_promptly, show_land_cover, web_application,
)
from viewer.scene.build import build
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.terrain_mesh import Ground
from viewer.scene.depth import exaggerate
from viewer.scene.tiles import drawing_of
from viewer.scene.timeline import Timeline, subset
from viewer.tools import section as viewer_section
from viewer.tools import viewpoints
from viewer.tools.clicks import Clicks
from viewer.tools.compare import SecondView
from viewer.tools.depth_scale import DepthScale, segments
from viewer.underground import Backdrop, open_tunnels, see_through

PIPE_FRAME_M = 80.0
# A point symbol is a few metres wide: framed with its street around it (and its beacon above the roofs),
# where closer the view would be roofs and ground that do not say where it is.
POINT_FRAME_M = 160.0
# A feature found is framed with its neighbours around it (a building filled the view, the street and
# the block that say where it stands out of sight): the view spans this many times its size.
FEATURE_AROUND = 2.5
# While the camera moves the view is drawn at half its width and height, a quarter of the pixels, which
# software rendering fills in about half the time (113 ms against 221 ms here), and sent as a rougher JPEG;
# the full picture follows the mouse's release.
MOVING = {"interactive_ratio": 0.5, "interactive_quality": 50, "still_ratio": 1}
# Draw modes of what covers the ground or stands on it, made translucent and unpickable in underground mode.
SURFACE = ("extrude", "solid", "drape")


@dataclass
class Scene:
    """What every session of a twin shows, read from PostGIS: the catalog, the city, each layer's mesh,
    the ground and the scene's origin, with what each session would otherwise work out for itself from
    them: the years and their figures, the layers' counts, the named viewpoints, the buried layers'
    depths, and the main view's year filter at the last year. Read once by viewer.zygote, whose forked
    sessions share it (copy on write)."""

    catalog: Catalog
    city: City
    meshes: dict[str, LayerMesh]
    ground: Ground | None
    origin: np.ndarray
    span: tuple[int, int] | None  # the first and last year, None for a twin without years
    figures: dict  # year -> layer -> figures (twin.time.figures)
    counts: dict[str, int]  # features per layer
    views: dict[str, viewpoints.Viewpoint]  # the named viewpoints ("Go to"), by key
    depths: dict  # the buried layers' centre lines' pieces (viewer.tools.depth_scale.segments)
    # The main view's year filter, at the last year: each session forked has its own (at first shared) copy.
    timeline: Timeline

    @classmethod
    def read(cls) -> Scene:
        catalog = load_catalog()
        # The years' figures and the layers' counts on a connection of their own while the meshes are
        # built: PostgreSQL works on them beside Python. (Joined here: the zygote forks with no thread.)
        with ThreadPoolExecutor(1) as pool:
            tallied = pool.submit(_tallies, catalog)
            with database.raw() as connection:
                city = read_city(connection)
                meshes, ground, origin = build(connection, catalog)
                depths = segments(connection, catalog, meshes, origin)
                # The data, not the level ground around it, fills the first view and the overview.
                seen = (pv.MultiBlock([made.mesh for made in meshes.values()]).bounds if meshes else
                        ground.bounds if ground is not None else (-1.0, 1.0) * 3)
                views = {view.key: view
                         for view in viewpoints.named(connection, [catalog[i] for i in meshes], origin, seen,
                                                      ground.terrain if ground is not None else None)}
            span, by_year, counts = tallied.result()
        if not meshes:
            span, by_year = None, {}
        if ground is not None and ground.land_cover is not None:  # shared by the sessions forked from here
            ground.land_cover.make_every_year()
        timeline = Timeline(meshes)
        if span is not None:
            timeline.show(float(span[1]))  # the year a session opens on
        timeline.bring_all()
        for layer_mesh in meshes.values():  # worked out here once (cached properties)
            layer_mesh.row_of  # noqa: B018 - what a pick's card and an analysis's highlight look rows up in
            if layer_mesh.layer.geometry == "point":
                layer_mesh.spacing  # noqa: B018 - the dots' (viewer.look.Dots)
        return cls(catalog, city, meshes, ground, origin, span, by_year, counts, views, depths, timeline)


def _tallies(catalog: Catalog) -> tuple[tuple[int, int] | None, dict, dict[str, int]]:
    """Each layer's count of features, and where any has some, the first and last year and the figures of
    every year between (an empty twin may have no layer tables to ask)."""
    with database.connect() as connection:
        counts = {key: value or 0 for key, value in layer_counts(connection, catalog).items()}
    if not any(counts.get(layer.id) for layer in catalog.vector_layers):
        return None, {}, counts
    with database.raw() as connection:
        span = year_range(connection, catalog)
        return span, figures(connection, catalog, *span) if span is not None else {}, counts


def create_app(server=None, scene: Scene | None = None):
    server = server or get_server(client_type="vue3")
    state, ctrl = server.state, server.controller
    scene = scene or Scene.read()
    catalog, city, meshes, ground, origin = scene.catalog, scene.city, scene.meshes, scene.ground, scene.origin
    terrain = ground.terrain if ground is not None else None
    surface = {"terrain", *(layer.id for layer in catalog.vector_layers if layer.draw.mode in SURFACE)}
    _defaults(state)
    setup_language(state, ctrl, catalog, city)
    plotter, interactor = make_plotter()
    timeline = scene.timeline  # each actor draws its layer as it stood in the chosen year
    actors = add_layers(plotter, meshes, ground, timeline)
    add_pipe_lines(plotter, meshes, actors)
    moving = MovingDetail(interactor, meshes, actors, drawing_of(plotter.renderer))
    ctrl.on_server_ready.add(lambda **kwargs: moving.watch(web_application(server)))
    counts, views = scene.counts, scene.views
    state.empty = not meshes and ground is None
    place_camera(plotter, views["overview"].focal_point, views["overview"].position)

    actor_sets = [actors]
    Dots(plotter.renderer, meshes, timeline)
    big_year = YearTitle(plotter)  # while the replay plays

    def on_year(year: int) -> None:
        show_land_cover(actors, ground, year)
        # the moments before the first year show the empty start of it, as the caption says
        big_year.show(min(max(year, state.year_first), state.year_last) if state.playing else None)

    span = scene.span
    if span is not None:
        year_controls(state, ctrl, catalog, timeline, scene.figures, *span, on_year=on_year)
    second = SecondView(state, ctrl, catalog, meshes, ground, plotter, span[0], timeline) if span else None
    if second is not None:
        actor_sets.append(second.actors)
        Dots(second.plotter.renderer, meshes, second.timeline)
        add_pipe_lines(second.plotter, meshes, second.actors)
        moving_b = MovingDetail(second.interactor, meshes, second.actors)
        ctrl.on_server_ready.add(lambda **kwargs: moving_b.watch(web_application(server)))
    _layer_controls(state, ctrl, catalog, meshes, actor_sets, counts, surface)
    clicks = Clicks(state, ctrl, plotter, catalog, meshes, actors, origin, terrain, city.crs_label)
    clicks.listen(interactor, moving.settle, partial(image_size, server, plotter.ren_win))
    overlay = Overlay(plotter, meshes, clicks.row_of, origin, terrain)
    # underground, a ruler at the view's centre and the pipes' depths by it
    DepthScale(scene.depths, plotter, actors, origin, terrain, below=lambda: bool(state.underground),
               exaggeration=lambda: float(state.exaggeration), year=lambda: timeline.year)
    # A twin of pipes alone (an EPANET or SWMM model) shows them from the start, the ground open.
    pipes_only = bool(meshes) and all(catalog[layer_id].draw.mode in BURIED for layer_id in meshes)
    open_tunnels(catalog, actor_sets)
    backdrop = Backdrop([plotter] + ([second.plotter] if second is not None else []))
    face = viewer_section.SectionFace(plotter, catalog, actors, origin, terrain, plotter.bounds, city.crs_label,
                                      lambda: float(state.exaggeration) if state.underground else 1.0)
    _underground_and_section(state, ctrl, catalog, meshes, actor_sets, plotter, overlay, surface, pipes_only, backdrop,
                             face)
    AnalysesPanel(state, ctrl, catalog, plotter, overlay, clicks)

    def go_to(viewpoint: str | None, **kwargs) -> None:
        view = views.get(viewpoint or "")
        if view is None:
            return
        clicks.close_pick()  # what was picked or measured is somewhere else now
        clicks.close_measure()
        if view.underground:
            state.underground = True
        place_camera(plotter, view.focal_point, view.position)
        ctrl.view_update()

    @state.change("lang")
    def name_viewpoints(lang: str, **kwargs) -> None:
        state.viewpoints = [{"key": view.key, "title": view.titles[lang]} for view in views.values()]

    name_viewpoints(state.lang)
    state.change("viewpoint")(go_to)

    found: dict[str, viewpoints.Found] = {}
    layers_found: dict[str, str] = {}  # key -> layer id, for the layers a search names
    state.search_text, state.search_results, state.search_open, state.search_index = "", [], False, 0

    @state.change("search_text")
    def search(search_text: str | None, **kwargs) -> None:
        found.clear()
        layers_found.clear()
        results = []
        if search_text and len(search_text.strip()) >= 2 and meshes:
            for layer in viewpoints.layers_named(catalog, search_text, state.lang):
                if layer.id in meshes:
                    layers_found[f"layer/{layer.id}"] = layer.id
                    results.append({"key": f"layer/{layer.id}", "label": layer.title_in(state.lang),
                                    "icon": "mdi-layers-outline", "layer": i18n.text(
                                        "viewer.search_layer", state.lang, count=f"{counts.get(layer.id, 0):,}")})
            with database.raw() as connection:
                hits = viewpoints.search(connection, catalog, search_text)
            found.update({f"{hit.layer_id}/{hit.feature_id}": hit for hit in hits})
            results += [{"key": key, "label": hit.label, "layer": catalog[hit.layer_id].title_in(state.lang),
                         "icon": "mdi-map-marker-outline"}
                        for key, hit in found.items()]
        state.search_results, state.search_index, state.search_open = results, 0, bool(results)

    def reveal(layer_id: str) -> None:
        """The layer drawn, and the ground opened if it lies under it."""
        state[f"show_{layer_id}"] = True
        if catalog[layer_id].draw.mode in BURIED:
            state.underground = True

    def fly_to(key: str) -> None:
        state.search_open = False
        if key in layers_found:
            layer_id = layers_found[key]
            reveal(layer_id)
            bounds = meshes[layer_id].mesh.bounds
            low, high = np.array(bounds[0::2]) + origin, np.array(bounds[1::2]) + origin
            place_camera(plotter, *viewpoints.framing(tuple(np.r_[low, high]), origin))
            state.search_text = ""
            clicks.mark_layer(layer_id)
            ctrl.view_update()
            return
        hit = found.get(key)
        if hit is None:
            return
        reveal(hit.layer_id)
        low, high = np.array(hit.bounds[:3]), np.array(hit.bounds[3:])
        row = clicks.row_of.get(hit.layer_id, {}).get(hit.feature_id)
        if row is not None:
            # The drawn feature (extruded, on the ground) rather than its stored geometry's box.
            layer_mesh = meshes[hit.layer_id]
            cells = subset(layer_mesh.mesh, layer_mesh.mesh.cell_data["row"] == row, own_points=True)
            low, high = np.array(cells.bounds[0::2]) + origin, np.array(cells.bounds[1::2]) + origin
        # A pipe hundreds of metres long would be thinner than a pixel if framed whole: show its middle.
        geometry = catalog[hit.layer_id].geometry
        focal, position = viewpoints.framing(tuple(np.r_[low, high]), origin, tilt_from=(-0.25, -0.45, 1.0),
                                             least=POINT_FRAME_M if geometry == "point" else 60.0,
                                             most=PIPE_FRAME_M if geometry == "line" else float("inf"),
                                             around=FEATURE_AROUND)
        place_camera(plotter, focal, position)
        state.search_text = ""  # closes the results; the panel names what was found
        clicks.show(hit.layer_id, hit.feature_id)

    ui.layout(server, catalog, counts, lambda: _views(state, ctrl, plotter, second, clicks, moving), fly_to,
              city.crs_label)
    server.vtk_interactor = interactor  # the render window does not own its interactor: keep it alive here
    send_images_promptly(server)
    OneImageOnRelease(server, interactor)
    answer_session_manager(server)
    return server


def _views(state, ctrl, plotter: pv.Plotter, second: SecondView | None, clicks: Clicks, moving: MovingDetail
           ) -> None:
    """The main view (year A) and, while comparing, the year-B view beside it or under the swipe line.
    Both share one camera: when one stops moving, the other is drawn again."""
    def others(which: str):
        def update(*args) -> None:
            if state.compare != "off":
                ctrl.view_b_update() if which == "a" else ctrl.view_a_update()
        return update

    events = ["LeftButtonRelease", "EndAnimation", "MouseWheel"]
    with html.Div(classes="twin-view-a", style=(compare_ui.VIEW_A,)):
        # A click is heard by the interactor (Clicks.listen), in the view's own handling of the mouse.
        view = vtk_widgets.VtkRemoteView(plotter.ren_win, **MOVING, interactor_events=("events_a", events[1:]),
                                         EndAnimation=others("a"), MouseWheel=others("a"))
    ctrl.view_a_update = view.update
    ctrl.view_reset_camera = view.reset_camera
    if second is None:
        ctrl.view_update = view.update
        return
    # Made only while comparing: a hidden view would still render the whole scene on every push.
    with html.Div(v_if="compare !== 'off'", classes="twin-view-b", style=(compare_ui.VIEW_B,)):
        view_b = vtk_widgets.VtkRemoteView(second.plotter.ren_win, **MOVING,
                                           interactor_events=("events_b", events),
                                           EndAnimation=others("b"), MouseWheel=others("b"),
                                           LeftButtonRelease=others("b"))
    compare_ui.overlay()
    ctrl.view_b_update = view_b.update

    @state.change("compare")
    def resized(**kwargs) -> None:
        async def measure_again() -> None:
            await asyncio.sleep(0.3)  # once the page has laid the views out in their new boxes
            second.fit(state.compare)  # with the panes' new shape: no image of the old one at the new angle
            view.resize()
            view_b.resize()
            both()
        asynchronous.create_task(measure_again())

    def both() -> None:
        view.update()
        if state.compare != "off":
            view_b.update()

    ctrl.view_update = both


def _layer_controls(state, ctrl, catalog, meshes, actor_sets, counts, surface: set[str]) -> None:
    """Toggles, colours and opacities of the layers, and the legend of what is shown."""
    for layer in catalog:
        state[f"show_{layer.id}"] = True
        state[f"color_{layer.id}"] = layer.style.color
        state[f"opacity_{layer.id}"] = layer.style.opacity

    def legend(**kwargs) -> None:
        """What the view draws now: pipes and tunnels only with the ground open (they are not drawn under
        it), and the land cover's classes where the ground wears it."""
        ground_open = state.underground or not state["show_terrain"]
        language = state.lang
        rows, coloured = [], []  # a chosen colouring's classes head the legend
        for layer in catalog:
            if not state[f"show_{layer.id}"]:
                continue
            colouring = chosen(state, meshes[layer.id]) if layer.id in meshes else None
            if colouring is not None:
                coloured += legend_rows(layer.id, layer.title_in(language), colouring, language)
            elif layer.id in meshes and (ground_open or layer.draw.mode not in BURIED):
                rows.append({"id": layer.id, "title": layer.title_in(language), "color": state[f"color_{layer.id}"],
                             "round": layer.draw.mode == "glyph"})
            elif layer.is_raster and layer.draw.texture == "classes" and counts.get(layer.id):
                # under the layer's title: its "Roads" are a class of the ground, not the Roads layer
                rows.append({"id": layer.id, "title": layer.title_in(language), "heading": True})
                rows += [{"id": f"{layer.id}-{entry.value}", "title": layer.class_label(entry, language),
                          "color": entry.color, "round": False} for entry in layer.style.classes]
                rows.append({"id": f"{layer.id}-end", "title": i18n.text("viewer.legend_layers", language),
                             "heading": True})
        state.legend = coloured + rows

    def restyle(layer_id: str):
        def changed(**kwargs) -> None:
            show_visible(state, catalog, actor_sets)
            for actor in (actors[layer_id] for actors in actor_sets if layer_id in actors):
                if actor.GetTexture() is None:  # a colour would tint the land cover draped on the terrain
                    actor.GetProperty().SetColor(pv.Color(state[f"color_{layer_id}"]).float_rgb)
                if not state.underground or layer_id not in surface:
                    actor.GetProperty().SetOpacity(float(state[f"opacity_{layer_id}"]))
            ctrl.view_update()
            legend()
        return changed

    for layer in catalog:
        state.change(f"show_{layer.id}", f"color_{layer.id}", f"opacity_{layer.id}")(restyle(layer.id))
    state.change("underground", "lang")(legend)
    colour_controls(state, ctrl, meshes, actor_sets, legend)
    legend()


def show_visible(state, catalog, actor_sets) -> None:
    """Each actor shown as its layer's toggle says; but pipes and tunnels, which lie under the opaque
    ground, only in underground mode or with the terrain hidden: drawing them unseen cost a third of
    every frame (and let a click on the ground pick a pipe under it)."""
    ground_open = state.underground or not state["show_terrain"]
    for actors in actor_sets:
        for layer_id, actor in actors.items():
            buried = layer_id in catalog and catalog[layer_id].draw.mode in BURIED
            actor.SetVisibility(bool(state[f"show_{layer_id}"]) and (ground_open or not buried))


def _defaults(state) -> None:
    """What the page reads before the parts of a twin that has them set it: a twin without dates has no
    year slider, caption or comparison, and the page must not fail over their absence."""
    state.year_first = state.year_last = None
    state.caption, state.caption_year, state.changes, state.changes_title = [], None, [], ""
    state.compare, state.year_b, state.swipe_at = "off", None, 50
    state.underground, state.exaggeration = False, 1.0


def open_ground(state, catalog, meshes, actor_sets, surface: set[str], below: bool, exaggeration: float) -> None:
    """Underground mode on (``below``) or off: what covers the ground (``surface``) translucent and left
    out of picking, pipes and tunnels shown, and the depth of what lies under the ground drawn
    ``exaggeration`` times as deep."""
    show_visible(state, catalog, actor_sets)
    for index, actors in enumerate(actor_sets):
        for layer_id, actor in actors.items():
            if layer_id in surface:
                own = float(state[f"opacity_{layer_id}"]) if layer_id in meshes else 1.0
                actor.GetProperty().SetOpacity(see_through(catalog, layer_id, own) if below else own)
                actor.SetPickable(not below and index == 0)  # only the main view picks
    # The meshes themselves, not the actors: a scale would stretch what stands on the ground too (issue 16).
    # Both views draw copies that share their points.
    for layer_mesh in meshes.values():
        for mesh in [layer_mesh.mesh, *(level for tile in layer_mesh.tiles or [] for level in tile.levels)]:
            exaggerate(mesh, float(exaggeration) if below else 1.0)


def _underground_and_section(state, ctrl, catalog, meshes, actor_sets, plotter: pv.Plotter, overlay: Overlay,
                             surface: set[str], underground: bool, backdrop: Backdrop,
                             face: viewer_section.SectionFace) -> None:
    """Underground mode (ground and buildings nearly transparent and left out of picking, the depth of
    what lies under the ground stretched, viewer.scene.depth, over a light backdrop: viewer.underground)
    and a vertical section plane that cuts the whole scene away on one side, its cut face drawn on it."""
    state.underground, state.exaggeration = False, 1.0
    state.section, state.section_at = "off", 50
    bounds = plotter.bounds
    show_visible(state, catalog, actor_sets)

    @state.change("underground", "exaggeration")
    def underground_changed(underground: bool, exaggeration: float, **kwargs) -> None:
        open_ground(state, catalog, meshes, actor_sets, surface, underground, exaggeration)
        backdrop.show(underground)
        ctrl.view_update()

    if underground:
        state.underground = True
        open_ground(state, catalog, meshes, actor_sets, surface, True, 1.0)
        backdrop.show(True)

    @state.change("section", "section_at")
    def section_changed(section: str, section_at: float, **kwargs) -> None:
        cut = viewer_section.plane(section, section_at, bounds)
        viewer_section.clip((actor for actors in actor_sets for actor in actors.values()), cut)
        overlay.clip(cut)  # the analyses' highlight is cut as the scene it lies on
        face.show(cut)  # the cut face and where it cuts
        ctrl.view_update()


def main() -> None:
    server = create_app()
    server.start()


if __name__ == "__main__":
    main()
