"""The viewer and the API behind one nginx with TLS on one host name, configured exactly as the README's
"Deploying" says (its nginx block, with this test's ports and a self-signed certificate): a browser
opens the viewer under /viewer/, its session's websocket runs over wss: through nginx and the launcher,
a toggle changes the image; the API at the root answers with https:// links. Through the proxy, both ask
who it is (twin.auth): the test's user logs in."""

from __future__ import annotations

import base64
import json
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from browser import ARTIFACTS, browser, changed, free_port, image, open_viewer, settled
from support import ROOT, twin_env

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
USER, PASSWORD = "deployer", "deployer-secret"


def readme_configuration() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "the README should have one nginx configuration"
    return blocks[0]


@pytest.fixture(scope="module")
def proxied(serving, demo_database: str, tmp_path_factory) -> str:
    """nginx on a free loopback port in front of the session's ``twin serve``: its https URL."""
    assert Path(NGINX).is_file(), f"nginx not found at {NGINX}: `make test` installs Debian's nginx-light"
    viewer, api, _ = serving
    env = twin_env(TWIN_DATABASE_URL=demo_database)
    subprocess.run([sys.executable, "-m", "twin", "users", "add", USER, "--password-stdin"], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True, cwd=ROOT, env=env)
    folder = tmp_path_factory.mktemp("nginx")
    key, certificate = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    port = free_port()
    server = (readme_configuration()
              .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
              .replace("/etc/ssl/twin/fullchain.pem", str(certificate))
              .replace("/etc/ssl/twin/privkey.pem", str(key))
              .replace("http://127.0.0.1:8080/", f"http://127.0.0.1:{urlparse(viewer).port}/")
              .replace("http://127.0.0.1:8081", f"http://127.0.0.1:{urlparse(api).port}"))
    temp = "".join(f"{kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (folder / "nginx.conf").write_text(f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
                                       f"http {{\naccess_log off;\n{temp}{server}\n}}\n")
    nginx = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while True:
        try:
            fetch(url + "healthz")
            break
        except OSError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
                pytest.fail(f"nginx did not answer: {nginx.stdout.read().decode() if nginx.poll() is not None else ''}"
                            f"{log}")
            time.sleep(0.2)
    yield url
    nginx.terminate()
    nginx.wait(timeout=10)
    subprocess.run([sys.executable, "-m", "twin", "users", "remove", USER], check=True, capture_output=True, cwd=ROOT,
                   env=env)


def fetch(url: str, login: bool = True) -> tuple[int, bytes]:
    """Status and body of a GET through nginx (the test's certificate not checked), as the test's user."""
    unchecked = ssl.create_default_context()
    unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"} if login else {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=unchecked) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_the_api_answers_through_nginx_with_https_links(proxied: str) -> None:
    assert fetch(proxied + "collections", login=False)[0] == 401  # the proxy is no way around the door
    assert fetch(proxied + "viewer/", login=False)[0] == 401
    status, body = fetch(proxied + "collections")
    links = [link["href"] for link in json.loads(body)["links"]]
    assert status == 200 and links and all(link.startswith(proxied) for link in links), links


def test_the_viewer_works_through_nginx_over_wss(proxied: str) -> None:
    with browser() as chromium:
        page = open_viewer(chromium, proxied + "viewer/", ignore_https_errors=True,
                           http_credentials={"username": USER, "password": PASSWORD})
        sockets = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        assert re.fullmatch(re.escape(proxied) + r"viewer/s/[0-9a-f]{32}/(index\.html)?", page.url), page.url
        before = settled(page, image(page), tolerance=0.01)
        page.click(".twin-layer-buildings input")
        after = changed(page, before, 1.0)
        page.screenshot(path=str(ARTIFACTS / "viewer-through-nginx.png"))
        assert np.abs(after - before).mean() > 1.0
        page.reload()
        page.wait_for_selector(".twin-layers", timeout=60_000)
        assert sockets and all(url.startswith(f"wss://{urlparse(proxied).netloc}/viewer/s/") for url in sockets), sockets
        assert not [error for error in page.errors if "WebSocket" in error], page.errors
