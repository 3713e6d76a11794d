"""TiPg's own settings, as twin decides them.

TiPg reads its settings from ``TIPG_`` environment variables once, when its modules are first imported
(the page-size cap even becomes part of the route's signature). So the package's ``__init__`` imports
this module before any module of the package can import TiPg.
"""

from __future__ import annotations

import os
import sys

PAGE_MAX = 1000  # items per page at most: a client asking more gets a 400 (the OpenAPI document says so)
# Items per page when the client does not say: a client paging with the server's default (OWSLib, a
# script, a browser) takes 100 requests for 10,000 features rather than 1,000. GDAL before 3.7 asks for
# 10 whatever the server says (its PAGE_SIZE option), later versions for 1,000.
PAGE_DEFAULT = 100

os.environ.update(
    TIPG_MAX_FEATURES_PER_QUERY=str(PAGE_MAX),
    TIPG_DEFAULT_FEATURES_LIMIT=str(PAGE_DEFAULT),
    # a vector tile's layer is named after the collection, not "default"
    TIPG_SET_MVT_LAYERNAME="true",
)

_tipg = sys.modules.get("tipg.collections")
if _tipg is not None and _tipg.features_settings.max_features_per_query != PAGE_MAX:
    raise RuntimeError("tipg was imported before twin.service.tipg_env; import twin.service modules first")
