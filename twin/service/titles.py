"""The catalog's titles in the collection list.

TiPg 1.6 titles each collection of ``/collections`` with its id (its ``/collections/{id}`` and items use
the title): clients that list layers (QGIS, OWSLib, GDAL) would show ``buildings`` where the catalog says
"Buildings". This ASGI middleware sets the titles in that one JSON answer and passes everything else by.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CatalogTitles:
    def __init__(self, app: ASGIApp, path: str = "/collections") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        start: Message = {}
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            json_answer = any(name.lower() == b"content-type" and value.startswith(b"application/json")
                              for name, value in start["headers"])
            if start["status"] == 200 and json_answer:
                body[:] = self._titled(scope, bytes(body))
                kept = [(name, value) for name, value in start["headers"]
                        if name.lower() != b"content-length"]
                start["headers"] = [*kept, (b"content-length", b"%d" % len(body))]
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, rewrite)

    @staticmethod
    def _titled(scope: Scope, body: bytes) -> bytes:
        collections = scope["app"].state.collection_catalog["collections"]
        data = json.loads(body)
        for entry in data.get("collections", []):
            if entry.get("id") in collections:
                entry["title"] = collections[entry["id"]].title
        return json.dumps(data, ensure_ascii=False).encode()
