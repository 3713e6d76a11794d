"""Importers: one module per source format, all under one contract (:mod:`importers.base`).

Every module in this package is imported once, so a format module registers itself by defining its
:class:`~importers.base.Importer` subclass; adding ``importers/<format>.py`` adds a format.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path

from twin.errors import SourceError

@lru_cache(maxsize=1)
def formats() -> list[type]:
    """Every format's importer class, most specific first."""
    from importers.base import Importer

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return sorted(Importer.registry, key=lambda cls: -cls.priority)


def detect(path: Path):  # -> Importer
    """The importer for ``path``, chosen by its suffix and first bytes."""
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise SourceError(f"{path}: is a folder; give a file")
    try:
        head = b"" if path.is_dir() else path.open("rb").read(65536)
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from None
    if not path.is_dir() and not head:
        raise SourceError(f"{path}: the file is empty")
    for importer in formats():
        if importer.accepts(path, head):
            return importer()
    known = ", ".join(sorted({suffix for cls in formats() for suffix in cls.suffixes}))
    raise SourceError(f"{path}: unknown format '{path.suffix or path.name}'; twin reads {known}")
