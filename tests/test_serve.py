"""``twin serve``: the API answers over the real database and the process stops cleanly on SIGTERM. Its
ports are free ones, never the defaults a running ``make demo`` holds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

from browser import free_port
from support import ROOT, twin_env

from twin.catalog import load_catalog


def _get_json(url: str, deadline: float, process: subprocess.Popen) -> dict:
    """The JSON at ``url`` once the server answers (polling while ``process`` runs, until ``deadline``)."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_serve_publishes_every_vector_layer_and_stops_on_sigterm(database_url: str) -> None:
    viewer_port, port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", "--viewer-port", str(viewer_port), "--api-port", str(port)],
        env=twin_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        assert _get_json(f"http://127.0.0.1:{port}/healthz", deadline, process) == {"status": "ok"}
        collections = _get_json(f"http://127.0.0.1:{port}/collections", deadline, process)["collections"]
        published = {collection["id"].removeprefix("layers.") for collection in collections}
        assert published == {layer.id for layer in load_catalog(ROOT / "layers").vector_layers}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert f"http://127.0.0.1:{port}/" in stderr
