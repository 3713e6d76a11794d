"""The PostgreSQL cluster twin owns under ``TWIN_HOME/pg``, on a private port, so nothing needs a
system service. As root the server runs as the ``postgres`` user (initdb and pg_ctl refuse root); as an
ordinary user it runs as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from twin.errors import ClusterError

DATABASE = "twin"
SUPERUSER = "postgres"
# Settings for the project's own server; written once into postgresql.conf at initdb.
SERVER_CONF = """
# twin: a private server on loopback only; no unix socket, so a long TWIN_HOME path cannot break it
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 100
# Bulk imports write a lot of WAL at once; fewer forced checkpoints make them faster, and with minimal
# WAL a COPY into a table emptied in the same transaction writes none (no replicas of this server).
max_wal_size = '2GB'
wal_level = minimal
max_wal_senders = 0
"""


@dataclass(frozen=True)
class ClusterStatus:
    initialised: bool
    running: bool
    port: int | None
    data_dir: Path


class Cluster:
    """One PostgreSQL data folder and the server that runs on it."""

    def __init__(self, home: Path, first_port: int = 55432, bin_dir: Path | None = None) -> None:
        self.root = home.resolve() / "pg"
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.first_port = first_port
        self._bin_dir = bin_dir

    # -- what there is -------------------------------------------------------------------------------
    def status(self) -> ClusterStatus:
        initialised = (self.data_dir / "PG_VERSION").is_file()
        running = initialised and self._pg_ctl("status", check=False).returncode == 0
        return ClusterStatus(initialised, running, self._running_port() if running else None, self.data_dir)

    def url(self, database: str = DATABASE) -> str:
        """libpq URL of a database on the running server."""
        state = self.status()
        if not state.running:
            raise ClusterError(f"the local database in {self.data_dir} is not running; run `twin db up`")
        assert state.port is not None
        return _url(state.port, database)

    # -- changing it ---------------------------------------------------------------------------------
    def up(self) -> int:
        """Start the server (initialising it the first time); a no-op when it runs. Returns the port."""
        state = self.status()
        if state.running:
            assert state.port is not None
            return state.port
        if not state.initialised:
            self._initdb()
        port = _free_port(self.first_port)
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file), "-o", f"-p {port}")
        self._create_database(port)
        return port

    def down(self) -> bool:
        """Stop the server; returns False when it was not running."""
        if not self.status().running:
            return False
        self._pg_ctl("stop", "-w", "-m", "fast")
        return True

    # -- helpers -------------------------------------------------------------------------------------
    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is not None:
            candidates = [self._bin_dir]
        else:
            versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _major(p.parent.name))
            candidates = versions[::-1]
            on_path = shutil.which("pg_ctl")
            if on_path:
                candidates.append(Path(on_path).resolve().parent)
        for candidate in candidates:
            if (candidate / "pg_ctl").is_file() and (candidate / "initdb").is_file():
                return candidate
        raise ClusterError(
            "PostgreSQL server programs (initdb, pg_ctl) not found; run `make demo` to install them, "
            "or set TWIN_PG_BIN to their folder"
        )

    def _as_server_user(self) -> list[str]:
        """Command prefix running a program as the user the server runs as."""
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise ClusterError(
                "running as root needs a 'postgres' system user to run the server; "
                "install Debian's postgresql package or run twin as an ordinary user"
            ) from None
        return ["runuser", "-u", SUPERUSER, "--"]

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = self._as_server_user() + args
        result = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit status {result.returncode}"
            raise ClusterError(f"{Path(args[0]).name} failed: {last} (server log: {self.log_file})")
        return result

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], check=check)

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SUPERUSER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            if self._run(["test", "-w", str(self.root)], check=False).returncode != 0:
                raise ClusterError(
                    f"the postgres user cannot write {self.root} (a parent folder is private); "
                    "set TWIN_HOME to a folder it can reach, e.g. /var/lib/twin"
                )
        self._run(
            [
                str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            ]
        )
        conf = self.data_dir / "postgresql.conf"
        _append_as_owner(conf, SERVER_CONF)

    def _running_port(self) -> int | None:
        # postmaster.pid: line 4 holds the port the server listens on.
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            return None

    def _create_database(self, port: int) -> None:
        from psycopg import sql

        from twin.store import database  # here: twin.store.database imports this module (by way of url)

        with database.maintenance(_url(port, DATABASE)) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def _url(port: int, database: str) -> str:
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"


def _append_as_owner(path: Path, text: str) -> None:
    """Append to a file of the server's, keeping its owner (root may write it; the server must read it)."""
    stat = path.stat()
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
    os.chown(path, stat.st_uid, stat.st_gid)


def _free_port(first: int, tries: int = 100) -> int:
    for port in range(first, min(first + tries, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ClusterError(f"no free port in {first}-{first + tries - 1}; set TWIN_PG_PORT to another range")


def _major(name: str) -> int:
    return int(name) if name.isdigit() else 0
