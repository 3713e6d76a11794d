"""The API's door (:mod:`twin.auth`): every request, HTTP or websocket, judged before any route; a proxy's
``X-Forwarded-Proto`` is taken (for the links' scheme) from a proxy on this machine alone."""

from __future__ import annotations

import json

from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from twin.auth import REALM, Judge, is_loopback

SCHEMES = {"http": {"http": "http", "https": "https"}, "websocket": {"http": "ws", "https": "wss"}}


class Guard:
    """ASGI middleware: a request the judge refuses is answered 401 (or 403) with its reason."""

    def __init__(self, app: ASGIApp, judge: Judge) -> None:
        self.app, self.judge = app, judge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in SCHEMES:
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        peer = scope["client"][0] if scope.get("client") else None
        # scrypt and the users' table are blocking: off the event loop
        verdict = await to_thread.run_sync(self.judge.judge, peer, scope.get("method", "GET"), headers)
        if not verdict.allowed:
            await _refuse(scope, send, verdict.status, verdict.reason)
            return
        proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if is_loopback(peer) and proto in SCHEMES[scope["type"]]:
            scope = {**scope, "scheme": SCHEMES[scope["type"]][proto]}
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, status: int, reason: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
        return
    body = json.dumps({"detail": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", REALM.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
