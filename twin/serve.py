"""``twin serve``: the 3D viewer (a trame process of its own) and the OGC API (uvicorn, here), stopped
together and cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import click

from twin.errors import TwinError
from twin.settings import get_settings


def serve(host: str, viewer_port: int, api_port: int) -> None:
    import uvicorn

    from twin.service.app import create_app
    from twin.store.url import database_url

    app = create_app(database_url())
    log = get_settings().home / "viewer.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        viewer = subprocess.Popen([sys.executable, "-m", "viewer.app", "--server", "--host", host,
                                   "--port", str(viewer_port)], stdout=output, stderr=subprocess.STDOUT)
    try:
        click.echo("building the 3D scene from PostGIS...", err=True)
        _wait_for(f"http://{host}:{viewer_port}/", viewer, log)
        click.echo(f"Viewer: http://{host}:{viewer_port}/", err=True)
        click.echo(f"API:    http://{host}:{api_port}/  (OpenAPI: http://{host}:{api_port}/api.html)", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler it
        # found: make that handler end the process with status 0 instead of dying by the signal.
        signal.signal(signal.SIGTERM, _stopped)
        signal.signal(signal.SIGINT, _stopped)
        uvicorn.run(app, host=host, port=api_port, log_level="warning")
    finally:
        viewer.terminate()
        try:
            viewer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            viewer.kill()


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 120.0) -> None:
    """Until the viewer answers: it builds the scene from PostGIS before it listens."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines() or ["no output"]
            raise TwinError(f"the viewer stopped while starting: {lines[-1]} (log: {log})")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TwinError(f"the viewer did not answer at {url} within {seconds:.0f} s (log: {log})")


def _stopped(signum: int, frame: object) -> None:
    click.echo("twin: stopped", err=True)
    sys.exit(0)
