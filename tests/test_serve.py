"""``twin serve``: the API answers over the real database and the process stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from support import ROOT, twin_env

from twin.catalog import load_catalog


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_json(url: str, deadline: float) -> dict:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_serve_publishes_every_vector_layer_and_stops_on_sigterm(database_url: str) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", "--api-port", str(port)],
        env=twin_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        assert _get_json(f"http://127.0.0.1:{port}/healthz", deadline) == {"status": "ok"}
        collections = _get_json(f"http://127.0.0.1:{port}/collections", deadline)["collections"]
        published = {collection["id"].removeprefix("layers.") for collection in collections}
        assert published == {layer.id for layer in load_catalog(ROOT / "layers").vector_layers}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert f"http://127.0.0.1:{port}/" in stderr
