"""Server-side rendering: the off-screen render windows the browser sees through VtkRemoteView, and the
actors that draw a scene's layers in one of them."""

from __future__ import annotations

import asyncio

from functools import partial

import pyvista as pv
import vtk

from viewer.look import dress, finish
from viewer.scene.colouring import paint
from viewer.scene.layer_mesh import LayerMesh
from viewer.scene.tiles import TiledDrawing
from viewer.scene.timeline import Timeline

GROUND_COLOR = "#cfc6a8"
BURIED = ("tube", "box")  # draw modes of what lies under the ground: pipes, ducts, tunnels
POINT_PX = 4  # how wide a point layer's features are drawn at least, however far away (7 cluttered the Eco-city)
# trame-vtk hands the JPEG encoding of a new image to a worker thread and, finding it not yet done,
# looks again only after 0.5 s: every click (a layer toggle, a year) waited half a second for its image
# (measured: 629 ms from click to image for a 69 ms render). Looking again this often sends it when ready.
IMAGE_RECHECK_S = 0.02
IMAGE_WAIT_S = 5.0  # then it stops looking, as trame-vtk does after its tenth look


def make_plotter() -> tuple[pv.Plotter, vtk.vtkRenderWindowInteractor]:
    plotter = pv.Plotter(off_screen=True, window_size=(1280, 800))
    plotter.ren_win.SetMultiSamples(0)  # measured: anti-aliasing stalls server-side rendering while dragging
    interactor = vtk.vtkRenderWindowInteractor()
    interactor.SetRenderWindow(plotter.ren_win)
    interactor.GetInteractorStyle().SetCurrentStyleToTrackballCamera()
    interactor.EnableRenderOff()  # trame renders on demand; the interactor's own renders pile up otherwise
    dress(plotter)
    # Plain alpha blending for what is translucent (grids, underground mode): order-independent
    # translucency's extra full-window passes cost a fifth of a software-rendered frame (measured).
    plotter.renderer.SetUseOIT(False)
    return plotter, interactor


def answer_session_manager(server) -> None:
    """The page first asks a ParaView-style launcher at ``/paraview/`` where its websocket is, and only on
    an error falls back to the page's own ``/ws``: that error showed in every browser console. Answer it."""
    from aiohttp import web

    async def session(request: web.Request) -> web.Response:
        # Behind the launcher (and any proxy in front of it), where the browser reaches this viewer.
        secure = request.headers.get("X-Forwarded-Proto", request.scheme) == "https"
        host = request.headers.get("X-Forwarded-Host", request.host)
        prefix = request.headers.get("X-Forwarded-Prefix", "").rstrip("/")
        return web.json_response({"sessionURL": f"{'wss' if secure else 'ws'}://{host}{prefix}/ws"})

    def bind(wslink_server) -> None:
        wslink_server.app.router.add_post("/paraview/", session)

    server.controller.on_server_bind.add(bind)


def send_images_promptly(server) -> None:
    """Once trame's protocols exist, make the image delivery look for a finished image without delay."""
    from trame_vtk.modules.vtk.protocols import vtkWebPublishImageDelivery

    def configure(**kwargs) -> None:
        for protocol in server.protocol.getLinkProtocols():
            if isinstance(protocol, vtkWebPublishImageDelivery):
                protocol.delta_stale_time_before_render = IMAGE_RECHECK_S
                protocol.stale_count_limit = round(IMAGE_WAIT_S / IMAGE_RECHECK_S)
                protocol.render_stale_image = partial(_look_again, protocol)

    server.controller.on_server_ready.add(configure)


class OneImageOnRelease:
    """trame-vtk draws the view twice as the mouse is let go: its mouse handler's image, still at the size
    and quality of a moving camera, then the one the page asks for as its interaction ends, full size;
    the first is on screen for a few milliseconds at most. Skipping it brings a click's answer (and the
    sharp image after a drag) one frame sooner. Only the release's own update is skipped: the flag is
    cleared as soon as the handler of the release has run."""

    def __init__(self, server, interactor: vtk.vtkRenderWindowInteractor) -> None:
        self.released = False
        self._tag: int | None = None  # of the observer of trame-vtk's application
        # Passive: the camera style holds the interactor's focus from the press (viewer.tools.clicks).
        interactor.GetCommand(interactor.AddObserver("LeftButtonReleaseEvent", self._release)).SetPassiveObserver(1)
        server.controller.on_server_ready.add(partial(self._watch, server))

    def _watch(self, server, **kwargs) -> None:
        app = web_application(server)
        if app is not None:  # before trame-vtk's own observer, which draws and sends the image
            self._tag = app.AddObserver("UpdateEvent", self._update, 1.0)

    def _release(self, *args) -> None:
        self.released = True
        asyncio.get_event_loop().call_soon(self._clear)  # after the call that let go of the mouse

    def _clear(self) -> None:
        self.released = False

    def _update(self, app: vtk.vtkObject, event: str) -> None:
        if self.released and self._tag is not None:
            self.released = False
            app.GetCommand(self._tag).SetAbortFlag(1)  # the observers after this one do not run


def image_size(server, ren_win: vtk.vtkRenderWindow) -> tuple[int, int]:
    """The size of the view's full images as the page shows them (trame-vtk's, which draws the window
    smaller while the camera moves), else the window's own."""
    from trame_vtk.modules.vtk.protocols import vtkWebPublishImageDelivery

    for protocol in server.protocol.getLinkProtocols() if server.protocol is not None else []:
        if isinstance(protocol, vtkWebPublishImageDelivery):
            for view_id, tracked in protocol.tracking_views.items():
                if "originalSize" in tracked and protocol.get_view(view_id) is ren_win:
                    return tuple(tracked["originalSize"])
    return tuple(ren_win.GetSize())


def web_application(server) -> vtk.vtkObject | None:
    """trame-vtk's vtkWebApplication (which says when the browser starts and ends moving a view), once the
    server's protocols exist; None before."""
    from trame_vtk.modules.vtk.protocols.web_protocol import vtkWebProtocol

    protocols = server.protocol.getLinkProtocols() if server.protocol is not None else []
    return next((protocol.app for protocol in protocols if isinstance(protocol, vtkWebProtocol)), None)


def _look_again(protocol, view_id: str, looks: int = 0) -> None:
    """trame-vtk's own second look waits twice as long as its timer, and so never comes when the image is
    still being encoded at the first: with a short timer the image would never be sent. Look again at
    every tick until it is done (``push_render`` sets the next tick while the image is stale)."""
    if protocol.stale_handler_count.get(view_id, 0) <= 0:
        return
    protocol.stale_handler_count[view_id] -= 1
    if protocol.last_stale_time.get(view_id) and looks < protocol.stale_count_limit:
        protocol.push_render(view_id, False, looks + 1)


def add_layers(plotter: pv.Plotter, meshes: dict[str, LayerMesh], ground: pv.DataSet | None,
               timeline: Timeline) -> dict[str, vtk.vtkActor]:
    """An actor per layer (and the terrain), each drawing what ``timeline`` shows of its layer."""
    actors = {}
    if ground is not None:
        land_cover = ground.texture()  # the latest year's; a colour would tint it, so only without one
        actors["terrain"] = plotter.add_mesh(ground, color=None if land_cover else GROUND_COLOR, texture=land_cover,
                                             smooth_shading=False)
        finish(actors["terrain"], None)
    for layer_id, layer_mesh in meshes.items():
        style = layer_mesh.layer.style
        actors[layer_id] = plotter.add_mesh(layer_mesh.mesh, color=style.color, opacity=style.opacity,
                                            line_width=2,
                                            point_size=POINT_PX, render_points_as_spheres=True)
        shown = timeline.mesh(layer_id) if layer_mesh.tiles is None else None
        if shown is not None:  # the year filter's copy, holding the chosen year's cells
            # through a plain vtkPolyDataMapper: picking's hardware selector reports its cells' own ids,
            # where through the vtkDataSetMapper that pyvista gives, those of the triangles made of them
            # (a building's second wall read as its roof's neighbour's, tested)
            mapper = vtk.vtkPolyDataMapper()
            mapper.SetInputData(shown)
            actors[layer_id].SetMapper(mapper)
        paint(actors[layer_id], None)  # plain until a colouring is chosen
        finish(actors[layer_id], layer_mesh.layer)
    tiled = {layer_id: layer_mesh.tiles for layer_id, layer_mesh in meshes.items() if layer_mesh.tiles is not None}
    if tiled:  # their actors lead the tiles' own, and are not drawn themselves
        TiledDrawing(plotter.renderer, actors, tiled, timeline)
    return actors


def show_land_cover(actors: dict[str, vtk.vtkActor], ground: pv.DataSet | None, year: int) -> None:
    """The terrain draped with the land cover of ``year`` (textures are made once per year, then kept)."""
    if ground is None or "terrain" not in actors or ground.texture() is None:
        return
    actors["terrain"].SetTexture(ground.texture(year))


def place_camera(plotter: pv.Plotter, focal: tuple, position: tuple) -> None:
    # Not pyvista's ``plotter.camera``: asked first, it frames every actor (bounds of the whole city first).
    plotter.renderer.camera_set = True
    camera = plotter.renderer.GetActiveCamera()
    camera.SetFocalPoint(*focal)
    camera.SetPosition(*position)
    camera.SetViewUp(0.0, 0.0, 1.0)
    plotter.renderer.ResetCameraClippingRange()
