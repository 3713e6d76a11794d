"""Where a twin keeps its registered rasters: under ``TWIN_HOME/rasters/``, a folder per database, so
that twins sharing a TWIN_HOME keep theirs apart."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from twin.settings import get_settings


def raster_folder(url: str) -> Path:
    """The folder of the rasters of the database at ``url`` (a libpq or SQLAlchemy URL)."""
    parts = urlsplit(url)
    name = f"{parts.hostname or 'local'}-{parts.port or 5432}-{parts.path.lstrip('/')}"
    return get_settings().home / "rasters" / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
