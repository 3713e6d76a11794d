"""The launcher's passing on of a session's traffic to its viewer (:mod:`viewer.launcher`): the request's
headers as the viewer should see them, and a websocket piped both ways."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

# Headers about one connection, not the request: not passed on (RFC 9110 7.6.1), nor the body's length
# (the launcher sends the body as it read it).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "content-length"})


def forwarded(request: web.Request, path: str) -> dict[str, str]:
    """The request's headers for the viewer, less the hop-by-hop ones, with where the browser reached it:
    the host, scheme and path prefix a proxy in front said, else this request's own."""
    headers = {name: value for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP | {"host"}}
    headers["X-Forwarded-Host"] = request.headers.get("X-Forwarded-Host", request.host)
    headers["X-Forwarded-Proto"] = request.headers.get("X-Forwarded-Proto", request.scheme)
    headers["X-Forwarded-Prefix"] = request.headers.get("X-Forwarded-Prefix", "").rstrip("/") + path
    return headers


async def pipe(request: web.Request, session: aiohttp.ClientSession, target: str,
               headers: dict[str, str]) -> web.WebSocketResponse:
    """The browser's websocket and one to the viewer, each message passed on as it comes, until either
    side closes (a scene for the browser to draw can be tens of MB: no size limit)."""
    browser_side = web.WebSocketResponse(max_msg_size=0, autoping=True)
    await browser_side.prepare(request)
    headers = {name: value for name, value in headers.items() if not name.lower().startswith("sec-websocket")}
    try:
        viewer_side = await session.ws_connect(target, headers=headers, max_msg_size=0, autoping=True)
    except (aiohttp.ClientError, OSError):
        await browser_side.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER)
        return browser_side

    async def across(source, sink) -> None:
        async for message in source:
            if message.type == aiohttp.WSMsgType.TEXT:
                await sink.send_str(message.data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                await sink.send_bytes(message.data)
            else:
                break

    passing = [asyncio.create_task(across(browser_side, viewer_side)), asyncio.create_task(across(viewer_side, browser_side))]
    try:
        await asyncio.wait(passing, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in passing:
            task.cancel()
        await viewer_side.close()
        await browser_side.close()
    return browser_side
