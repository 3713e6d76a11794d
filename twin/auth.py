"""Who may see the twin: pipe networks are sensitive city data.

A request straight from the twin's own machine (a loopback peer, no proxy's forwarding headers) needs no
credentials (``TWIN_AUTH_LOOPBACK``, default true). Any other needs a user's: HTTP Basic, checked against
``twin.users`` (``twin users add``: the password kept as a scrypt hash), or the name a reverse proxy on
this machine vouches for in ``TWIN_AUTH_PROXY_HEADER`` (its own login, e.g. a city's single sign-on), if
that user exists. A request through a proxy counts as coming from where the proxy says
(``X-Forwarded-For``, ``Forwarded``), so a proxy on this machine opens nothing by itself.

Roles: ``reader`` sees the viewer and reads the API; ``editor`` may also use what the API changes (its
methods other than GET, HEAD and OPTIONS). The viewer (``viewer.launcher``) and the API
(``twin.service.guard``) both ask :func:`judge`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

from twin.errors import ParameterError
from twin.settings import get_settings
from twin.store import CORE_SCHEMA, database
from twin.store.url import database_url

ROLES = ("reader", "editor")
READING = frozenset({"GET", "HEAD", "OPTIONS"})
REALM = 'Basic realm="twin", charset="UTF-8"'
# scrypt's cost (RFC 7914): about 50 ms a check here; checked credentials are remembered a while.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
REMEMBER_S = 300
USERS = sql.Identifier(CORE_SCHEMA, "users")
FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip")


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on: ``user`` (None for this machine's own), or the ``status`` (401: ask
    for credentials, 403: not this role's) and a one-line ``reason``."""

    allowed: bool
    user: str | None = None
    status: int = 200
    reason: str = ""


def hashed(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def matches(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


def add_user(name: str, password: str, role: str = "reader") -> None:
    """Add the user ``name`` (or give an existing one this password and role)."""
    name = name.strip()
    if not name or ":" in name:
        raise ParameterError(f"name: '{name}' is not a user name; give one without ':' (HTTP Basic splits on it)")
    if role not in ROLES:
        raise ParameterError(f"--role: '{role}' is not a role; give one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ParameterError("password: shorter than 8 characters; give a longer one")
    with database.raw() as connection:
        connection.execute(sql.SQL("INSERT INTO {} (name, password, role) VALUES (%s, %s, %s) ON CONFLICT (name) "
                                   "DO UPDATE SET password = excluded.password, role = excluded.role").format(USERS),
                           (name, hashed(password), role))


def remove_user(name: str) -> None:
    with database.raw() as connection:
        if connection.execute(sql.SQL("DELETE FROM {} WHERE name = %s").format(USERS), (name,)).rowcount == 0:
            raise ParameterError(f"name: no user '{name}' (`twin users list` lists them)")


def users() -> list[tuple[str, str]]:
    """Each user's name and role."""
    with database.raw() as connection:
        return connection.execute(sql.SQL("SELECT name, role FROM {} ORDER BY name").format(USERS)).fetchall()


def door(host: str, known: int) -> str | None:
    """What `twin serve` says of who may come in when it listens on ``host`` with ``known`` users."""
    if host in ("localhost", "") or is_loopback(host):
        return None
    if known == 0:
        return ("beyond this machine, the viewer and the API ask for a user's credentials, and this twin has "
                "no users yet: add one with `twin users add NAME`")
    return f"beyond this machine, the viewer and the API ask for a user's credentials ({known} users)"


class Judge:
    """Judges requests against the users of the database at ``url`` (read again every few seconds, so a
    user added or removed counts at once on every process)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self._users: dict[str, tuple[str, str]] = {}  # name -> (stored password, role)
        self._read_at = -1e9
        self._remembered: dict[bytes, tuple[str, float]] = {}  # hash of a checked header -> (user, when)
        self._lock = threading.Lock()

    def judge(self, peer: str | None, method: str, headers: Mapping[str, str]) -> Verdict:
        """May a request from ``peer`` (the connection's address) with ``headers`` (lower-case names) and
        ``method`` go on?"""
        settings = get_settings()
        local = is_loopback(peer) and not any(name in headers for name in FORWARDING)
        if local and settings.auth_loopback:
            return Verdict(True)
        user = None
        if settings.auth_proxy_header and is_loopback(peer):
            vouched = headers.get(settings.auth_proxy_header.lower(), "").strip()
            user = vouched if vouched in self._known() else None
        if user is None:
            user = self._basic(headers.get("authorization", ""))
        if user is None:
            known = self._known()
            reason = ("this twin has no users yet: add one on its machine with `twin users add NAME`" if not known
                      else "give a user name and password of this twin (`twin users add` makes them)")
            return Verdict(False, status=401, reason=reason)
        if method.upper() not in READING and self._known()[user][1] != "editor":
            return Verdict(False, user, 403, f"user '{user}' may read, not change: an editor's role is needed")
        return Verdict(True, user)

    def _basic(self, header: str) -> str | None:
        kind, _, encoded = header.partition(" ")
        if kind.lower() != "basic" or not encoded:
            return None
        key = hashlib.sha256(header.encode()).digest()
        now = time.monotonic()
        remembered = self._remembered.get(key)
        known = self._known()
        if remembered and now - remembered[1] < REMEMBER_S and remembered[0] in known:
            return remembered[0]
        try:
            name, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if name not in known or not matches(password, known[name][0]):
            return None
        self._remembered[key] = (name, now)
        return name

    def _known(self) -> dict[str, tuple[str, str]]:
        with self._lock:
            if time.monotonic() - self._read_at > 5:
                try:
                    with psycopg.connect(self.url or database_url(), connect_timeout=5) as connection:
                        rows = connection.execute(sql.SQL("SELECT name, password, role FROM {}").format(USERS))
                        self._users = {name: (password, role) for name, password, role in rows}
                except psycopg.Error:
                    pass  # keep the last users known: a database hiccup must not open the twin, nor close it
                self._read_at = time.monotonic()
                self._remembered = {key: value for key, value in self._remembered.items() if value[0] in self._users}
            return self._users


def is_loopback(peer: str | None) -> bool:
    """Whether ``peer`` (an address) is this machine's own."""
    try:
        return peer is not None and ipaddress.ip_address(peer.split("%")[0]).is_loopback
    except ValueError:
        return False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
