"""``twin serve``: the API (and, once built, the viewer) in one process that stops cleanly on Ctrl-C or
SIGTERM."""

from __future__ import annotations

import signal
import sys

import click


def serve(host: str, api_port: int) -> None:
    import uvicorn

    from twin.service.app import create_app
    from twin.store.url import database_url

    app = create_app(database_url())
    click.echo(f"API:    http://{host}:{api_port}/  (OpenAPI: http://{host}:{api_port}/api.html)", err=True)
    click.echo("Press Ctrl-C to stop.", err=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler it found:
    # make that handler end the process with status 0 instead of dying by the signal.
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, _stopped)
    uvicorn.run(app, host=host, port=api_port, log_level="warning")


def _stopped(signum: int, frame: object) -> None:
    click.echo("twin: stopped", err=True)
    sys.exit(0)
