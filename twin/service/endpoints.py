"""TiPg's Endpoints factory, with links made by filling in the route's path.

Every feature of an items page carries two links, made by the factory's ``url_for`` through Starlette's
``url_path_for`` and ``URL`` objects: profiled on 100-feature pages, that was about 40 % of the service's
time per request. The same link is the route's path template with the parameters filled in, on the
request's base URL, which is what :class:`QuickLinks` does (with Starlette's own ``replace_params``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, replace_params
from tipg.factory import Endpoints, OGCFeaturesFactory, OGCTilesFactory


class QuickLinks:
    """A mixin for TiPg's factories: ``url_for`` from the route's path template."""

    router: Any
    router_prefix: str

    @cached_property
    def _routes(self) -> dict[str, BaseRoute]:
        return {route.name: route for route in self.router.routes if hasattr(route, "path_format")}

    def url_for(self, request: Request, name: str, **path_params: Any) -> str:
        if self.router_prefix or name not in self._routes:  # TiPg's way where the prefix has parameters
            return super().url_for(request, name, **path_params)  # type: ignore[misc]
        route = self._routes[name]
        path, _ = replace_params(route.path_format, route.param_convertors, path_params)
        return str(request.base_url).rstrip("/") + path


@dataclass
class _Features(QuickLinks, OGCFeaturesFactory):
    pass


@dataclass
class _Tiles(QuickLinks, OGCTilesFactory):
    pass


@dataclass
class TwinEndpoints(QuickLinks, Endpoints):
    """TiPg's OGC Features and Tiles endpoints (``Endpoints``), from factories with :class:`QuickLinks`."""

    def register_routes(self) -> None:
        # Endpoints.register_routes, with the two factories above
        self.ogc_features = _Features(
            collections_dependency=self.collections_dependency,
            collection_dependency=self.collection_dependency,
            router_prefix=self.router_prefix, templates=self.templates, with_common=False)
        self.router.include_router(self.ogc_features.router)
        self.ogc_tiles = _Tiles(
            collection_dependency=self.collection_dependency, router_prefix=self.router_prefix,
            templates=self.templates, supported_tms=self.supported_tms, with_viewer=self.with_tiles_viewer,
            with_common=False)
        self.router.include_router(self.ogc_tiles.router)
