"""Viewer processes forked from one that holds the city: the zygote imports the viewer and reads the scene
from PostGIS once (:class:`viewer.app.Scene`), then forks a viewer per session, which shares the scene's
arrays with it and every other session (copy on write: they only read them) and starts without reading
the database's geometry again.

The launcher (:mod:`viewer.launcher`) asks on the zygote's standard input, one line a viewer:
``PORT LOG`` (the viewer's port and the file its output goes to); the zygote answers on its standard
output with the viewer's pid, or ``error <reason>``. Before each fork it looks whether an import changed
the twin since it read the scene (``twin.imports``), and reads it again if so: a new session always shows
the twin as it is. It reaps its viewers, and ends when its standard input closes (the launcher gone).

The zygote makes no render window and starts no thread before forking: each viewer makes its own, and
its own connections to the database (the pool inherited from the zygote is dropped unused).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from psycopg import sql

from twin.errors import TwinError
from twin.store import core_table, database

IDLE_S_DEFAULT = 30
# The line the zygote ends a viewer's log with, before the viewer is reaped: its exit status, which the
# launcher (not the viewer's parent) reads there.
ENDED = "twin viewer ended, status"
_logs: dict[int, str] = {}  # in the zygote: each running viewer's log, by pid
UNKNOWN = 255  # a viewer's status where nobody wrote it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=int, default=IDLE_S_DEFAULT)
    options = parser.parse_args()
    import vtk

    from viewer.app import Scene  # the viewer's imports, once, before any fork

    # No thread pool in the zygote (a fork keeps none of its threads): VTK's parallel loops run in line
    # here, and in each viewer as the environment says.
    vtk.vtkSMPTools.SetBackend("Sequential")
    signal.signal(signal.SIGCHLD, _reap)
    scene, revision = Scene.read(), _revision()
    _forget_connections()
    gc.freeze()  # the scene's objects out of the collector's sight: its passes would copy their pages in each fork
    print("ready", flush=True)
    for line in sys.stdin:
        port, _, log = line.strip().partition(" ")
        try:
            now = _revision()
            if now != revision:
                gc.unfreeze()  # the old scene collected once it is let go
                scene, revision = Scene.read(), now
                gc.freeze()
            _forget_connections()
            pid = os.fork()
        except Exception as exc:  # the database down: this viewer is not made; the launcher tries again
            print(f"error {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}", flush=True)
            continue
        if pid == 0:
            _viewer(scene, options.host, int(port), log, options.timeout)
        _logs[pid] = log
        print(pid, flush=True)


def _viewer(scene, host: str, port: int, log: str, timeout: int) -> None:
    """In the forked child: the viewer's app on ``port``, its output to ``log``; never returns."""
    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setpgid(0, 0)  # its own group: a Ctrl-C in the terminal reaches twin serve, which ends it
        with open(log, "ab", buffering=0) as output:
            os.dup2(output.fileno(), 1)
            os.dup2(output.fileno(), 2)
        sys.stdin.close()
        os.close(0)
        import vtk

        from viewer.app import create_app

        vtk.vtkSMPTools.SetBackend(os.environ.get("VTK_SMP_BACKEND_IN_USE", "Sequential"))

        sys.argv = ["viewer", "--server", "--host", host, "--port", str(port), "--timeout", str(timeout)]
        create_app(scene=scene).start()
    except BaseException:  # noqa: BLE001 - whatever ends it, the launcher reads why in its log
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _revision() -> tuple[int, int]:
    """How far the twin's imports have come: changed by an import, a snapshot or an undo."""
    with database.raw() as connection:
        return connection.execute(sql.SQL("SELECT count(*), coalesce(max(id), 0) FROM {}").format(
            core_table("imports"))).fetchone()


def _forget_connections() -> None:
    """The zygote's pooled connections closed before a fork: a viewer must not share their sockets."""
    database.engine().dispose()
    database.engine.cache_clear()


def _reap(signum: int, frame: object) -> None:
    """Each ended viewer's status written to its log, then the viewer reaped: once its pid is gone, the
    status is there to read (:meth:`Forked.poll`)."""
    while True:
        try:
            ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if ended is None:
            return
        code = ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status
        log = _logs.pop(ended.si_pid, None)
        if log is not None:
            try:
                with open(log, "a") as output:
                    output.write(f"\n{ENDED} {code}\n")
            except OSError:
                pass  # its folder gone (twin serve stopping): nobody is left to read it
        os.waitpid(ended.si_pid, 0)


if __name__ == "__main__":
    main()


# -- the launcher's end ------------------------------------------------------------------------------------
class Forked:
    """A viewer the zygote forked, handled as the launcher handles a process (its status is its log's last
    line, which the zygote, its parent, writes)."""

    def __init__(self, pid: int, log: Path) -> None:
        self.pid, self.log, self.returncode = pid, log, None

    def poll(self) -> int | None:
        if self.returncode is not None or alive(self.pid):
            return self.returncode
        said = self._status()
        if said is not None:
            self.returncode = said
        elif not Path(f"/proc/{self.pid}").exists():
            self.returncode = UNKNOWN  # reaped by another than the zygote (the zygote ended first)
        return self.returncode  # else ended, and its status about to be written

    def _status(self) -> int | None:
        try:
            last = self.log.read_text(errors="replace").rstrip().rsplit("\n", 1)[-1]
        except OSError:
            return None
        return int(last.removeprefix(ENDED)) if last.startswith(ENDED) else None

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"viewer {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def _signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass


class Zygote:
    """The zygote process, started and asked for viewers on the launcher's event loop."""

    def __init__(self, host: str, timeout: int, log: Path) -> None:
        self.host, self.timeout, self.log = host, timeout, log
        self.process: asyncio.subprocess.Process | None = None
        self.ready = False

    async def start(self) -> None:
        with self.log.open("w") as output:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "viewer.zygote", "--host", self.host, "--timeout", str(self.timeout),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=output)
        self.ready = await self.process.stdout.readline() == b"ready\n"

    @property
    def failure(self) -> str:
        """Why the zygote ended: the last line of its output."""
        lines = self.log.read_text(errors="replace").strip().splitlines() if self.log.is_file() else []
        return lines[-1] if lines else "no output"

    async def fork(self, port: int, log: Path) -> Forked:
        """A viewer on ``port``, its output to ``log``; TwinError where the zygote cannot make one."""
        if self.process is None or not self.ready or self.process.returncode is not None:
            raise TwinError(f"the viewer could not start: {self.failure} (log: {self.log})")
        self.process.stdin.write(f"{port} {log}\n".encode())
        await self.process.stdin.drain()
        answer = (await self.process.stdout.readline()).decode().strip()
        if not answer.isdigit():
            reason = answer.removeprefix("error ").strip() or self.failure
            raise TwinError(f"the viewer could not start: {reason} (log: {self.log})")
        return Forked(int(answer), log)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.stdin.close()
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()


def alive(pid: int) -> bool:
    """Running: not ended, nor ended and waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
