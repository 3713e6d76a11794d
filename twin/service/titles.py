"""The catalog's titles and descriptions in the collections, in the language the request asks for.

TiPg 1.6 titles each collection of ``/collections`` with its id (its ``/collections/{id}`` and items use
the title): clients that list layers (QGIS, OWSLib, GDAL) would show ``buildings`` where the catalog says
"Buildings". This ASGI middleware sets the titles and descriptions of ``/collections`` and
``/collections/{id}`` in the language of the request (:func:`twin.service.problems.language`; English
without one) and passes everything else by.
"""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.catalog import Catalog
from twin.service.problems import language, language_headers

_COLLECTIONS = re.compile(r"^/collections(?:/[^/]+)?/?$")  # the list, or one collection


class CatalogTitles:
    def __init__(self, app: ASGIApp, catalog: Catalog) -> None:
        self.app = app
        self.catalog = catalog

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _COLLECTIONS.match(scope["path"]):
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
                told_in = language(Request(scope))
                body[:] = self._titled(bytes(body), told_in)
                added = {b"content-length": b"%d" % len(body),
                         **{name.encode(): value.encode() for name, value in language_headers(told_in).items()}}
                kept = [(name, value) for name, value in start["headers"] if name.lower() not in added]
                start["headers"] = [*kept, *added.items()]
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, rewrite)

    def _titled(self, body: bytes, told_in: str) -> bytes:
        data = json.loads(body)
        for entry in data.get("collections", [data]):  # the list, or one collection
            if entry.get("id") in self.catalog:
                layer = self.catalog[entry["id"]]
                entry["title"] = layer.title_in(told_in)
                entry["description"] = layer.description_in(told_in) or entry["title"]
        return json.dumps(data, ensure_ascii=False).encode()
