"""Who may see the twin (twin.auth): this machine's own requests go without credentials; any other, or
one through a proxy, needs a user's (HTTP Basic against the users' scrypt hashes, or the name a proxy on
this machine vouches for); a reader may not change; and ``twin serve`` beyond loopback refuses a
request without credentials in the viewer and in the API, and lets a user's browser in."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import urlparse

import pytest
from browser import browser, open_viewer
from support import ROOT, twin_env

from twin import auth
from twin.settings import get_settings


def basic(name: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def add(url: str, name: str, password: str, role: str = "reader") -> None:
    subprocess.run([sys.executable, "-m", "twin", "users", "add", name, "--role", role, "--password-stdin"],
                   input=password + "\n", text=True, check=True, capture_output=True, cwd=ROOT,
                   env=twin_env(TWIN_DATABASE_URL=url))


@pytest.mark.fast
def test_passwords_are_kept_as_scrypt_hashes() -> None:
    stored = auth.hashed("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and "correct horse" not in stored
    assert auth.matches("correct horse", stored) and not auth.matches("correct horsE", stored)
    assert auth.hashed("correct horse") != stored  # salted
    assert not auth.matches("x", "md5$abc")


@pytest.mark.fast
def test_twin_serve_says_who_may_come_in_beyond_loopback() -> None:
    assert auth.door("127.0.0.1", 0) is None and auth.door("::1", 0) is None and auth.door("localhost", 3) is None
    assert "no users yet: add one with `twin users add NAME`" in auth.door("0.0.0.0", 0)
    assert auth.door("192.0.2.2", 2).endswith("(2 users)")


def test_who_is_let_in(make_twin, monkeypatch) -> None:
    twin = make_twin()
    judge = auth.Judge(twin.url)
    nobody = judge.judge("192.0.2.9", "GET", {})
    assert (nobody.allowed, nobody.status) == (False, 401) and "no users yet" in nobody.reason
    add(twin.url, "alice", "alice-secret")
    add(twin.url, "bob", "bob-secret", "editor")
    judge = auth.Judge(twin.url)  # reads the users afresh
    assert judge.judge("127.0.0.1", "GET", {}).allowed and judge.judge("::1", "POST", {}).allowed
    # Through a proxy on this machine, a request is from where the proxy says: credentials needed.
    assert judge.judge("127.0.0.1", "GET", {"x-forwarded-for": "203.0.113.7"}).status == 401
    assert judge.judge("192.0.2.9", "GET", {}).status == 401
    assert judge.judge("192.0.2.9", "GET", basic("alice", "wrong")).status == 401
    assert judge.judge("192.0.2.9", "GET", basic("alice", "alice-secret")) == auth.Verdict(True, "alice")
    refused = judge.judge("192.0.2.9", "POST", basic("alice", "alice-secret"))
    assert (refused.status, refused.user) == (403, "alice") and "editor" in refused.reason
    assert judge.judge("192.0.2.9", "POST", basic("bob", "bob-secret")).allowed
    # The name a proxy vouches for, from this machine only, and only of a user the twin has.
    monkeypatch.setenv("TWIN_AUTH_PROXY_HEADER", "X-Remote-User")
    get_settings.cache_clear()
    try:
        vouched = {"x-remote-user": "alice", "x-forwarded-for": "203.0.113.7"}
        assert judge.judge("127.0.0.1", "GET", vouched) == auth.Verdict(True, "alice")
        assert judge.judge("192.0.2.9", "GET", vouched).status == 401  # said by a stranger
        assert judge.judge("127.0.0.1", "GET", {**vouched, "x-remote-user": "mallory"}).status == 401
    finally:
        monkeypatch.delenv("TWIN_AUTH_PROXY_HEADER")
        get_settings.cache_clear()
    # Asking loopback too, for a machine shared with others.
    monkeypatch.setenv("TWIN_AUTH_LOOPBACK", "false")
    get_settings.cache_clear()
    try:
        assert judge.judge("127.0.0.1", "GET", {}).status == 401
    finally:
        monkeypatch.delenv("TWIN_AUTH_LOOPBACK")
        get_settings.cache_clear()


def outward_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route's own address
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def answer(url: str, headers: dict[str, str] | None = None):
    """Status and headers (names in any case) of the answer, a redirect not followed."""
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(Stay).open(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers


def test_beyond_loopback_the_viewer_and_the_api_ask_who_it_is(start_serve, demo_database: str) -> None:
    address = outward_address()
    viewer, api, _ = start_serve(host="0.0.0.0")
    add(demo_database, "planner", "planner-secret")
    try:
        if address is not None:  # a request from the network
            outside = {"viewer": viewer.replace("127.0.0.1", address), "api": api.replace("127.0.0.1", address)}
            forwarded: dict[str, str] = {}
        else:  # this machine has no network: a request a proxy here forwards from elsewhere
            outside, forwarded = {"viewer": viewer, "api": api}, {"X-Forwarded-For": "203.0.113.7"}
        for name, url in (("viewer", outside["viewer"]), ("viewer", outside["viewer"] + "status.json"),
                          ("api", outside["api"] + "collections"), ("api", outside["api"] + "api")):
            status, headers = answer(url, forwarded)
            assert status == 401 and headers.get("WWW-Authenticate", "").startswith("Basic"), (name, url, status)
        credentials = {**forwarded, "Authorization": basic("planner", "planner-secret")["authorization"]}
        assert answer(outside["api"] + "collections", credentials)[0] == 200
        assert answer(outside["viewer"] + "status.json", credentials)[0] == 200
        assert answer(api + "collections")[0] == 200  # this machine's own
        if address is not None:  # a planner's browser: the page, its assets and its websocket let in
            with browser() as chromium:
                page = open_viewer(chromium, outside["viewer"],
                                   http_credentials={"username": "planner", "password": "planner-secret"})
                assert urlparse(page.url).hostname == address and page.locator(".twin-layers").count() == 1
    finally:
        subprocess.run([sys.executable, "-m", "twin", "users", "remove", "planner"], cwd=ROOT, check=True,
                       capture_output=True, env=twin_env(TWIN_DATABASE_URL=demo_database))
