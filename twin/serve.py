"""``twin serve``: the 3D viewer (a process per browser, behind a launcher on the viewer port) and the
OGC API (uvicorn, here), stopped together and cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import sys

import click

from twin.settings import get_settings


def serve(host: str, viewer_port: int, api_port: int) -> None:
    import uvicorn

    from twin.auth import door, users
    from twin.service.app import create_app
    from viewer.launcher import Launcher

    app = create_app()  # reads as the read-only role (twin.service.reader)
    settings = get_settings()
    # From the start, not only once uvicorn runs: the first scene build takes a while, and a SIGTERM
    # then must still end the viewer process being built. uvicorn shuts down gracefully on SIGINT/SIGTERM,
    # then re-raises the signal to the handler it found: this one ends twin serve with status 0.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _stopped)
    launcher = Launcher(host, viewer_port, settings.viewer_sessions, settings.home)
    try:
        launcher.start()
        click.echo("building the 3D scene from PostGIS...", err=True)
        launcher.wait_first()
        click.echo(f"Viewer: http://{host}:{viewer_port}/  (a 3D session per browser, "
                   f"up to {settings.viewer_sessions} at once)", err=True)
        click.echo(f"API:    http://{host}:{api_port}/  (OpenAPI: http://{host}:{api_port}/api.html)", err=True)
        said = door(host, len(users()))
        if said:
            click.echo(f"Note: {said}.", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        # Forwarding headers are the guard's to judge (twin.service.guard): from a proxy on this machine only.
        uvicorn.run(app, host=host, port=api_port, log_level="warning", proxy_headers=False)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the viewers' shutdown short
        launcher.stop()


def _stopped(signum: int, frame: object) -> None:
    click.echo("twin: stopped", err=True)
    sys.exit(0)
