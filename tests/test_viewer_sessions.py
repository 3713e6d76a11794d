"""Several people at once: each browser gets a viewer process of its own from ``twin serve``'s launcher,
so one person's toggles never reach another's view; a viewer whose browser left ends, the number in use
is capped with a page that says so, and SIGTERM leaves no viewer process behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from browser import ARTIFACTS, browser, changed, free_port, image, open_viewer, settled
from support import sql

from viewer.launcher import IDLE_S
from viewer.zygote import ENDED, Zygote, alive


def test_two_browsers_keep_their_own_view(served, demo_database: str) -> None:
    url, _ = served
    [(building,)] = sql(demo_database, "SELECT source_id FROM layers.buildings ORDER BY source_id LIMIT 1")
    with browser() as chromium:
        first, second = open_viewer(chromium, url), open_viewer(chromium, url)  # a browser context each
        # Each on a path of the viewer's one port: the launcher passes it on to the session's process.
        paths = {session(page) for page in (first, second)}
        assert {urlparse(page.url).port for page in (first, second)} == {urlparse(url).port}
        pids = {viewer["path"]: viewer["pid"] for viewer in status(url)["viewers"] if viewer["state"] == "in use"}
        assert len(paths) == 2 and paths <= pids.keys(), "the two pages share a viewer process"
        assert len({pids[path] for path in paths}) == 2 and all(alive(pids[path]) for path in paths)
        # A session's path that names no session (ended, or never made) says so, and sends to a new one.
        code, text = fetch(url + "s/" + "0" * 32 + "/")
        assert code == 503 and "This 3D session has ended" in text and 'url=../../"' in text

        before_first, before_second = (settled(page, image(page), tolerance=0.01) for page in (first, second))
        first.click(".twin-layer-buildings input")
        after_first = changed(first, before_first, 1.0)
        # A round trip through the second page's server (a search, which leaves the view alone): had the
        # first page's toggle reached that server, its change would have reached this page before the answer.
        second.fill(".twin-search input", building)
        second.wait_for_selector(".twin-search-hit", timeout=20_000)
        second.fill(".twin-search input", "")
        second.wait_for_selector(".twin-search-hit", state="detached", timeout=20_000)
        after_second = image(second)
        first.screenshot(path=str(ARTIFACTS / "viewer-sessions-first.png"))
        second.screenshot(path=str(ARTIFACTS / "viewer-sessions-second.png"))
        assert np.abs(after_first - before_first).mean() > 1.0, "hiding the buildings did not change that page"
        assert np.abs(after_second - before_second).mean() < 0.2, "the other page's view changed"
        assert not first.is_checked(".twin-layer-buildings input")
        assert second.is_checked(".twin-layer-buildings input"), "the other page's toggle changed"


def test_sessions_are_capped_end_with_their_browser_and_sigterm_leaves_none(start_serve) -> None:
    url, _, serve = start_serve(TWIN_VIEWER_SESSIONS="2")
    with browser() as chromium:
        first = open_viewer(chromium, url)
        second = open_viewer(chromium, url)  # waits on the launcher's page while its viewer builds
        assert session(first) != session(second)
        # Both sessions in use: the next visitor is told so, and no spare is built past the cap.
        page = fetch(url)
        assert page[0] == 503 and "All 2 3D sessions" in page[1] and "TWIN_VIEWER_SESSIONS" in page[1]
        assert [viewer["state"] for viewer in status(url)["viewers"]] == ["in use", "in use"]

        # A viewer whose browser left ends by itself, and its place goes to a new spare.
        gone = next(viewer["pid"] for viewer in status(url)["viewers"] if viewer["path"] == session(first))
        first.context.close()
        deadline = time.monotonic() + IDLE_S + 20
        while alive(gone) and time.monotonic() < deadline:
            time.sleep(1)
        assert not alive(gone), f"the viewer of a closed page still runs after {IDLE_S + 20} s"
        # The launcher notices, and builds a spare in its place (a second or two): the page says so meanwhile.
        deadline = time.monotonic() + 20
        while (states := sorted(viewer["state"] for viewer in status(url)["viewers"])) not in (
                ["building", "in use"], ["in use", "spare"]):
            assert time.monotonic() < deadline, f"no spare was built in place of the ended viewer: {status(url)}"
            time.sleep(0.1)
        if states == ["building", "in use"]:  # a visitor now is told it is building (or, built meanwhile, gets it)
            code, text = fetch(url)
            assert code == 303 or (code == 503 and "Building the 3D city" in text and "All 2 3D sessions" not in text)

        # SIGTERM while one viewer serves a page and another is being built or waits: none survives.
        viewers = viewer_children(serve.pid)
        assert len(forked_viewers(serve.pid)) == 2 and len(viewers) == 3, viewers  # and the zygote
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=40)
    assert serve.returncode == 0
    assert not [pid for pid in viewers if alive(pid)], "viewer processes outlived twin serve"


def test_ctrl_c_while_the_first_viewer_builds_leaves_none(start_serve) -> None:
    """While the scene is read for the first viewer, or the first one forked starts: Ctrl-C leaves none."""
    _, _, serve = start_serve(ready=False)
    deadline = time.monotonic() + 60
    while not viewer_children(serve.pid) and serve.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    viewers = viewer_children(serve.pid)
    assert viewers, "twin serve started no viewer (nor the zygote that reads the scene for them)"
    serve.send_signal(signal.SIGINT)
    serve.communicate(timeout=40)
    assert serve.returncode == 0
    assert not [pid for pid in viewers if alive(pid)], "a viewer being built outlived twin serve"


def session(page) -> str:
    """The path of a page's session (``/s/<token>/``)."""
    path = urlparse(page.url).path
    return path[: path.index("/", len("/s/")) + 1]


def status(url: str) -> dict:
    with urllib.request.urlopen(url + "status.json", timeout=5) as response:
        return json.load(response)


def fetch(url: str) -> tuple[int, str]:
    """Status and text of the launcher's answer, without following a redirect (that would take a viewer)."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(Stay).open(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()]


def viewer_children(pid: int) -> list[int]:
    """The viewer processes under ``twin serve`` (its pid), read from /proc (not from the launcher): the
    zygote (viewer.zygote) that holds the scene, and the viewers forked from it."""
    found = []
    for child in children(pid):
        try:
            if b"viewer." in Path(f"/proc/{child}/cmdline").read_bytes():
                found += [child, *children(child)]
        except FileNotFoundError:  # ended meanwhile
            pass
    return found


def forked_viewers(pid: int) -> list[int]:
    """The viewers forked by ``twin serve``'s zygote: one a session, and the spare."""
    return [viewer for viewer in viewer_children(pid) if viewer not in children(pid)]


def test_a_viewers_end_is_told_with_its_status(blank_twin_url: str, tmp_path: Path, monkeypatch) -> None:
    """The zygote, each viewer's parent, writes how the viewer ended into its log; the launcher reads it
    there (and keeps the log of one that did not end as asked)."""
    monkeypatch.setenv("TWIN_DATABASE_URL", blank_twin_url)

    async def fork_and_end() -> list[tuple[int, str]]:
        zygote = Zygote("127.0.0.1", 30, tmp_path / "zygote.log")
        await zygote.start()
        assert zygote.ready, zygote.failure
        try:
            viewers = [await zygote.fork(free_port(), tmp_path / f"viewer-{n}.log") for n in range(2)]
            os.kill(viewers[0].pid, signal.SIGTERM)
            os.kill(viewers[1].pid, signal.SIGKILL)  # as the kernel ends one out of memory
            return [(viewer.wait(timeout=30), viewer.log.read_text().strip().splitlines()[-1]) for viewer in viewers]
        finally:
            await zygote.stop()

    assert asyncio.run(fork_and_end()) == [(-signal.SIGTERM, f"{ENDED} -{signal.SIGTERM}"),
                                           (-signal.SIGKILL, f"{ENDED} -{signal.SIGKILL}")]
