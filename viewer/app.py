"""The trame app: the twin in 3D in the browser, rendered on the server (VtkRemoteView).

One process serves one viewer state; ``twin serve`` starts it. Run alone:
``python -m viewer.app --server --host 127.0.0.1 --port 8080``.
"""

from __future__ import annotations

import pyvista as pv
import vtk
from trame.app import get_server
from trame.ui.vuetify3 import SinglePageWithDrawerLayout
from trame.widgets import html
from trame.widgets import vtk as vtk_widgets
from trame.widgets import vuetify3 as v3

from twin.catalog import GROUPS, load_catalog
from twin.store.engine import connect
from twin.store.meta import pg_connect
from twin.store.stats import layer_counts
from viewer.picking import attributes, highlight, pick
from viewer.scene import build

TITLE = "Sino-Singapore Tianjin Eco-city (synthetic) · twin"


def make_plotter() -> tuple[pv.Plotter, vtk.vtkRenderWindowInteractor]:
    plotter = pv.Plotter(off_screen=True, window_size=(1280, 800))
    plotter.ren_win.SetMultiSamples(0)  # measured: anti-aliasing stalls server-side rendering while dragging
    interactor = vtk.vtkRenderWindowInteractor()
    interactor.SetRenderWindow(plotter.ren_win)
    interactor.GetInteractorStyle().SetCurrentStyleToTrackballCamera()
    interactor.EnableRenderOff()  # trame renders on demand; the interactor's own renders pile up otherwise
    plotter.set_background("#dfe8ef", top="#9fb8cc")
    return plotter, interactor


def create_app(server=None):
    server = server or get_server(client_type="vue3")
    state, ctrl = server.state, server.controller
    catalog = load_catalog()
    with pg_connect() as connection:
        meshes, ground, _ = build(connection, catalog)
    plotter, interactor = make_plotter()
    actors = {}
    if ground is not None:
        actors["terrain"] = plotter.add_mesh(ground, color="#cfc6a8", smooth_shading=False)
    for layer_id, layer_mesh in meshes.items():
        style = layer_mesh.layer.style
        actors[layer_id] = plotter.add_mesh(layer_mesh.mesh, color=style.color, opacity=style.opacity,
                                            line_width=2 if layer_mesh.layer.draw.mode == "drape" else 1)
    plotter.view_isometric()
    plotter.reset_camera()

    with connect() as connection:
        counts = {key: value or 0 for key, value in layer_counts(connection, catalog).items()}
    for layer in catalog:
        state[f"show_{layer.id}"] = True

    def toggle(layer_id: str):
        def changed(**kwargs):
            actor = actors.get(layer_id)
            if actor is not None:
                actor.SetVisibility(bool(state[f"show_{layer_id}"]))
                ctrl.view_update()
        return changed

    for layer in catalog:
        state.change(f"show_{layer.id}")(toggle(layer.id))

    # Underground mode: ground and buildings nearly transparent and left out of picking, depth stretched.
    state.underground, state.exaggeration = False, 1.0
    surface = ("terrain", "buildings", "roads")

    @state.change("underground", "exaggeration")
    def underground_changed(underground: bool, exaggeration: float, **kwargs) -> None:
        for layer_id, actor in actors.items():
            if layer_id in surface:
                opacity = 0.12 if underground else (meshes[layer_id].layer.style.opacity if layer_id in meshes else 1.0)
                actor.GetProperty().SetOpacity(opacity)
                actor.SetPickable(not underground)
            actor.SetScale(1.0, 1.0, float(exaggeration) if underground else 1.0)
        ctrl.view_update()

    state.picked_title, state.picked_rows = "", []
    highlighted: list = []
    pressed: dict[str, float] = {}

    def on_press(event: dict) -> None:
        pressed.update(x=event["position"]["x"], y=event["position"]["y"])

    def on_release(event: dict) -> None:
        x, y = event["position"]["x"], event["position"]["y"]
        if abs(x - pressed.get("x", -99)) > 3 or abs(y - pressed.get("y", -99)) > 3:
            return  # a drag turned the view; only a click picks
        for actor in highlighted:
            plotter.remove_actor(actor)
        highlighted.clear()
        found = pick(plotter, actors, meshes, x, y)
        if found is None:
            state.picked_title, state.picked_rows = "", []
        else:
            with pg_connect() as connection:
                values = attributes(connection, found.layer_id, found.feature_id)
            state.picked_title = f"{meshes[found.layer_id].layer.title}: {values.get('name') or values.get('source_id')}"
            state.picked_rows = [{"name": name, "value": str(value)} for name, value in values.items()]
            highlighted.append(plotter.add_mesh(highlight(meshes[found.layer_id], found.row), color="#ffd400",
                                                style="wireframe", line_width=3))
        ctrl.view_update()

    with SinglePageWithDrawerLayout(server) as layout:
        layout.title.set_text(TITLE)
        with layout.toolbar:
            v3.VSpacer()
            v3.VSwitch(v_model=("underground", False), label="Underground", hide_details=True, density="compact",
                       color="primary", classes="twin-underground mx-4", style="max-width: 180px;")
            v3.VSlider(v_model=("exaggeration", 1.0), min=1, max=20, step=1, hide_details=True, density="compact",
                       label="Depth x", disabled=("!underground",), classes="twin-exaggeration mx-4",
                       style="max-width: 240px;", thumb_label=True)
        with layout.drawer:
            with v3.VList(density="compact", classes="twin-layers"):
                for group, title in GROUPS.items():
                    v3.VListSubheader(title)
                    for layer in (layer for layer in catalog if layer.group == group):
                        empty = counts.get(layer.id, 0) == 0
                        v3.VCheckbox(
                            v_model=(f"show_{layer.id}", True), label=f"{layer.title} ({counts.get(layer.id, 0):,})",
                            color=layer.style.color, density="compact", hide_details=True, disabled=empty,
                            classes=f"twin-layer twin-layer-{layer.id}" + (" text-disabled" if empty else ""),
                        )
        with layout.content:
            with html.Div(style="width: 100%; height: 100%; position: relative;", classes="twin-view"):
                view = vtk_widgets.VtkRemoteView(
                    plotter.ren_win, interactive_ratio=1, still_ratio=1,
                    interactor_events=("events", ["LeftButtonPress", "LeftButtonRelease"]),
                    LeftButtonPress=(on_press, "[utils.vtk.event($event)]"),
                    LeftButtonRelease=(on_release, "[utils.vtk.event($event)]"),
                )
                with v3.VCard(v_if="picked_title", classes="twin-picked", max_width=360,
                              style="position: absolute; top: 12px; right: 12px; max-height: 80%; overflow: auto;"):
                    v3.VCardTitle("{{ picked_title }}", classes="text-subtitle-1")
                    with v3.VTable(density="compact"):
                        with html.Tbody():
                            with html.Tr(v_for="row in picked_rows", key="row.name"):
                                html.Td("{{ row.name }}")
                                html.Td("{{ row.value }}")
                ctrl.view_update = view.update
                ctrl.view_reset_camera = view.reset_camera
    server.vtk_interactor = interactor  # the render window does not own its interactor: keep it alive here
    return server


def main() -> None:
    server = create_app()
    server.start()


if __name__ == "__main__":
    main()
