"""A viewer process per browser: trame keeps one state per process (camera, layers, picks), so two people
on one process would see each other's clicks.

The launcher answers on the viewer port. The viewers are forked from one process that read the scene
from PostGIS once (:mod:`viewer.zygote`), sharing it; the launcher keeps one spare viewer started and
waiting, so a new visitor waits for neither: ``GET /`` hands the spare to the browser, by a redirect to
``s/<token>/`` (a token made for that session, unguessable), and starts building the next. Everything
under that path, pages and websocket, the launcher passes on to the session's viewer, which listens on
loopback only: the viewer is one port, so one reverse proxy with TLS in front of it serves every session
(README "Deploying"). A viewer exits by itself (wslink's ``--timeout``) ``IDLE_S``
seconds after its last browser tab leaves; until it is handed out, the launcher's own websocket keeps
it alive, so a spare also ends on its own if the launcher vanishes. At most ``sessions`` viewers are in
use at once; past that, and while the first spare is building, ``GET /`` answers a page that says so
and tries again by itself. ``GET /status.json`` lists the viewer processes.

It runs on a thread of ``twin serve`` (the API keeps the main thread); ``stop()`` ends every viewer.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from twin.auth import REALM, Judge
from twin.errors import TwinError
from viewer.proxy import HOP_BY_HOP, forwarded, pipe
from viewer.zygote import ENDED, Forked, Zygote, alive

# Long enough for a reload or a short network hiccup, short enough to give memory back soon.
IDLE_S = 30
# After a viewer failed to start (database down, broken layer), wait this long before building another.
RETRY_S = 10
SESSIONS = "/s/"  # a session's path under the launcher: /s/<token>/, its pages and its websocket

log = logging.getLogger("twin.viewer.launcher")


@dataclass
class Viewer:
    """One viewer process: building, then a spare held by the launcher, then in use by one browser."""

    process: Forked
    port: int
    log: Path
    started: float = field(default_factory=time.monotonic)
    ready_s: float | None = None  # seconds from start until it answered
    hold: aiohttp.ClientWebSocketResponse | None = None  # the launcher's connection to a spare
    claimed: bool = False
    token: str | None = None  # its session's path, s/<token>/, once handed to a browser

    @property
    def state(self) -> str:
        return "in use" if self.claimed else "spare" if self.ready_s is not None else "building"


class Launcher:
    """The viewer port's web app and the viewer processes behind it."""

    def __init__(self, host: str, port: int, sessions: int, logs: Path) -> None:
        self.host, self.port, self.sessions, self.logs = host, port, sessions, logs
        # Where the viewers listen, and the launcher reaches them: loopback only, the launcher passing on
        # what the browsers send them.
        self.local = "::1" if ":" in host else "127.0.0.1"
        self.viewers: list[Viewer] = []
        self.failure: str | None = None  # why the last viewer died while building, until one starts
        self.failed_at = 0.0
        self.builds: deque[float] = deque(maxlen=5)  # recent build times, for the waiting page
        self.first_ready = threading.Event()
        self.judge = Judge()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="twin-viewer-launcher", daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._supervisor: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._zygote: Zygote | None = None  # the process the viewers are forked from (viewer.zygote)

    # -- from twin serve's thread ------------------------------------------------------------------------
    def start(self) -> None:
        """Listen on the viewer port and start building the first spare."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(timeout=30)
        # Named after the port, now this run's own: twin serves sharing a TWIN_HOME keep their logs apart.
        self.logs.mkdir(parents=True, exist_ok=True)
        for stale in self.logs.glob(f"viewer-{self.port}-*.log"):  # an earlier run's failed viewers
            stale.unlink()
        own = self.logs / f"viewer-{self.port}.log"
        own.write_text("")
        # Appending: uvicorn's logging set-up closes every handler, and only an appending one reopens.
        handler = logging.FileHandler(own, mode="a")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        asyncio.run_coroutine_threadsafe(self._begin(), self._loop).result(timeout=30)

    def wait_first(self, seconds: float = 180.0) -> None:
        """Until the first viewer is ready: the scene is built from PostGIS before a viewer listens.
        Raises TwinError with the viewer's last words if it cannot start."""
        deadline = time.monotonic() + seconds
        while not self.first_ready.wait(0.5):
            if self.failure:
                raise TwinError(self.failure)
            if time.monotonic() > deadline:
                raise TwinError(f"the viewer was not ready within {seconds:.0f} s (logs: {self.logs}/viewer-{self.port}*.log)")

    def stop(self) -> None:
        """Stop answering, then end every viewer process and wait for it."""
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=15)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=5)
        for viewer in self.viewers:
            if viewer.process.poll() is None:
                viewer.process.terminate()
        for viewer in self.viewers:
            try:
                viewer.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                viewer.process.kill()
                viewer.process.wait()
            self._ended(viewer, stopped=True)
        self.viewers.clear()
        if self._zygote is not None and self._zygote.process is not None:
            _end(self._zygote.process.pid)

    # -- on the launcher's own loop -----------------------------------------------------------------------
    async def _open(self) -> None:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._index, allow_head=False)  # a HEAD probe must not take a viewer
        app.router.add_get("/status.json", self._status)
        app.router.add_route("*", SESSIONS + "{token}/{tail:.*}", self._pass_on)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise TwinError(f"the viewer port {self.host}:{self.port} is not free ({exc.strerror}); "
                            "choose another with --viewer-port") from None

    @web.middleware
    async def _guard(self, request: web.Request, handler) -> web.StreamResponse:
        """Who may see the twin (:mod:`twin.auth`): every request, pages and websockets, judged first."""
        headers = {name.lower(): value for name, value in request.headers.items()}
        verdict = await asyncio.to_thread(self.judge.judge, request.remote, request.method, headers)
        if not verdict.allowed:
            challenge = {"WWW-Authenticate": REALM} if verdict.status == 401 else {}
            return web.Response(status=verdict.status, text=f"{verdict.reason}\n", headers=challenge)
        return await handler(request)

    async def _begin(self) -> None:
        # No overall time limit: a spare's connection lasts as long as the spare waits.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=2))
        self._wake = asyncio.Event()
        self._supervisor = asyncio.create_task(self._supervise())

    async def _close(self) -> None:
        if self._supervisor:
            self._supervisor.cancel()
        for viewer in self.viewers:
            if viewer.hold is not None:
                await viewer.hold.close()
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    async def _supervise(self) -> None:
        """Notice viewers that became ready or ended; keep one spare while sessions are left."""
        while True:
            for viewer in list(self.viewers):
                if viewer.process.poll() is not None:
                    self.viewers.remove(viewer)
                    self._ended(viewer)
                elif viewer.ready_s is None:
                    await self._try_hold(viewer)
            in_use = sum(viewer.claimed for viewer in self.viewers)
            waiting = any(not viewer.claimed for viewer in self.viewers)
            if not waiting and in_use < self.sessions and time.monotonic() - self.failed_at > RETRY_S:
                await self._spawn()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), 0.5)
            except asyncio.TimeoutError:
                pass

    async def _spawn(self) -> None:
        """A new viewer, forked by the zygote (started, and the scene read, first where there is none)."""
        zygote = self._zygote
        if zygote is None or zygote.process is None or zygote.process.returncode is not None:
            zygote = self._zygote = Zygote(self.local, IDLE_S, self.logs / f"viewer-{self.port}-zygote.log")
            started = time.monotonic()
            log.info("reading the scene from PostGIS for the viewers")
            await zygote.start()
            if not zygote.ready:
                self._failed(f"the viewer stopped while starting: {zygote.failure} (log: {zygote.log})")
                return
            log.info("the scene is read in %.1f s; viewers are forked from it", time.monotonic() - started)
        port = _free_port(self.local)
        path = self.logs / f"viewer-{self.port}-{port}.log"
        path.write_text("")
        try:
            process = await zygote.fork(port, path)
        except TwinError as exc:
            self._failed(str(exc))
            return
        self.viewers.append(Viewer(process, port, path))
        log.info("viewer %s on port %s: forked, starting", process.pid, port)

    def _failed(self, why: str) -> None:
        self.failure, self.failed_at = why, time.monotonic()
        log.info("%s", why)

    async def _try_hold(self, viewer: Viewer) -> None:
        """Connect to a viewer that is still building; once it answers, it is a spare kept alive by this
        connection (wslink counts it as a client, so its idle timeout does not run)."""
        try:
            viewer.hold = await self._session.ws_connect(f"ws://{_netloc(self.local, viewer.port)}/ws",
                                                         timeout=aiohttp.ClientWSTimeout(ws_close=2))
        except (aiohttp.ClientError, OSError):
            return
        viewer.ready_s = time.monotonic() - viewer.started
        self.builds.append(viewer.ready_s)
        self.failure = None
        self.first_ready.set()
        log.info("viewer %s on port %s: ready in %.1f s", viewer.process.pid, viewer.port, viewer.ready_s)
        asyncio.create_task(self._drain(viewer))

    async def _drain(self, viewer: Viewer) -> None:
        """Read what a spare sends the launcher (nothing useful); a spare whose connection drops
        unasked would end by its timeout with nobody to use it, so it is ended now and replaced."""
        async for _message in viewer.hold:
            pass
        if not viewer.claimed and viewer.process.poll() is None:
            log.info("viewer %s: lost the launcher's connection; ending it", viewer.process.pid)
            viewer.process.terminate()

    def _ended(self, viewer: Viewer, stopped: bool = False) -> None:
        code = viewer.process.returncode
        if viewer.ready_s is None and not stopped:
            text = viewer.log.read_text(errors="replace") if viewer.log.is_file() else ""
            lines = [line for line in text.strip().splitlines() if not line.startswith(ENDED)] or ["no output"]
            self._failed(f"the viewer stopped while starting: {lines[-1]} (log: {viewer.log})")
            return
        log.info("viewer %s on port %s: ended (status %s) after %.0f s", viewer.process.pid, viewer.port, code,
                 time.monotonic() - viewer.started)
        if code in (0, -signal.SIGTERM):
            viewer.log.unlink(missing_ok=True)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        spare = next((viewer for viewer in self.viewers if viewer.ready_s is not None and not viewer.claimed
                      and viewer.process.poll() is None), None)
        if spare is not None:
            spare.claimed = True  # before any await: two requests at once never get the same viewer
            spare.token = secrets.token_hex(16)  # lower case: trame's client lowers the websocket's URL
            log.info("viewer %s on port %s: handed to %s", spare.process.pid, spare.port, request.remote)
            await spare.hold.close()  # its idle timeout now runs until the browser connects
            self._wake.set()  # build the next spare now
            # Relative: right behind a proxy that serves the viewer under a path of its own, too.
            query = f"?{request.query_string}" if request.query_string else ""
            raise web.HTTPSeeOther(f"{SESSIONS.lstrip('/')}{spare.token}/{query}", headers={"Cache-Control": "no-store"})
        in_use = sum(viewer.claimed for viewer in self.viewers)
        if in_use >= self.sessions:
            return _page(
                "All viewer sessions are in use", 10,
                f"All {self.sessions} 3D sessions of this twin are in use. A session ends {IDLE_S} s after "
                "its browser tab closes; this page tries again every 10 s. (The operator can allow more "
                "with TWIN_VIEWER_SESSIONS; each session is a process of about 0.6-0.9 GB.)")
        if self.failure:
            return _page("The 3D viewer could not start", 5,
                         f"{self.failure}. Trying again in a few seconds; this page follows by itself.")
        building = [time.monotonic() - viewer.started for viewer in self.viewers if viewer.ready_s is None]
        took = f" (the last one took {self.builds[-1]:.0f} s)" if self.builds else ""
        since = f"; this one started {max(building):.0f} s ago" if building else ""
        return _page("Building the 3D city...", 2,
                     f"Building the 3D city from PostGIS for you{took}{since}. "
                     "The viewer opens by itself when it is ready.")

    async def _status(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        return web.json_response({
            "sessions": self.sessions, "failure": self.failure,
            "viewers": [{"pid": viewer.process.pid, "port": viewer.port, "state": viewer.state,
                         "ready_s": viewer.ready_s, "age_s": round(now - viewer.started, 1),
                         "path": f"{SESSIONS}{viewer.token}/" if viewer.token else None}
                        for viewer in self.viewers if viewer.process.poll() is None]})

    async def _pass_on(self, request: web.Request) -> web.StreamResponse:
        """A session's request, passed on to its viewer: a websocket piped both ways, anything else sent
        and its answer streamed back."""
        token = request.match_info["token"].lower()
        viewer = next((viewer for viewer in self.viewers if viewer.token == token and viewer.process.poll() is None),
                      None)
        if viewer is None:
            return _page("This 3D session has ended", 3, "This session's viewer has ended (its tab was closed, or "
                         "twin serve restarted). A new session opens by itself.", again="../../")
        target = f"http://{_netloc(self.local, viewer.port)}/{request.match_info['tail']}"
        headers = forwarded(request, f"{SESSIONS}{token}")
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await pipe(request, self._session, target.replace("http://", "ws://", 1), headers)
        async with self._session.request(request.method, target, params=request.query, headers=headers,
                                         data=await request.read() if request.can_read_body else None,
                                         allow_redirects=False, auto_decompress=False) as answer:
            response = web.StreamResponse(status=answer.status, headers={
                name: value for name, value in answer.headers.items() if name.lower() not in HOP_BY_HOP})
            await response.prepare(request)
            async for chunk in answer.content.iter_chunked(1 << 16):
                await response.write(chunk)
            await response.write_eof()
            return response


def _page(title: str, refresh: int, text: str, again: str = "") -> web.Response:
    follow = f";url={html.escape(again)}" if again else ""
    body = (f'<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="{refresh}{follow}">'
            f"<title>{html.escape(title)} · twin</title></head>"
            '<body style="font-family:sans-serif;background:#dfe8ef;color:#223;display:flex;'
            'align-items:center;justify-content:center;height:90vh">'
            f'<div style="max-width:36em"><h2>{html.escape(title)}</h2><p>{html.escape(text)}</p></div>'
            "</body></html>")
    # 503: not the viewer yet; a browser shows the page all the same and follows its refresh.
    return web.Response(text=body, content_type="text/html", status=503,
                        headers={"Retry-After": str(refresh), "Cache-Control": "no-store"})


def _end(pid: int) -> None:
    """SIGTERM, and SIGKILL where it is not over within 10 s."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not alive(pid):
            return


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
