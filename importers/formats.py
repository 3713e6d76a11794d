"""The formats twin reads, in one table (after pygeoapi's plugin table): each format's name, its importer
as ``"module:Class"``, and the files it may read, by suffix or by first bytes. Detection goes through the
table and imports a format's module only once a file may be of that format, so reading a GeoJSON never
loads lxml (CityGML) nor openpyxl (survey workbooks).

Adding a format: its module under ``importers/`` and its row here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from twin.errors import SourceError

if TYPE_CHECKING:
    from importers.base import Importer

HEAD_BYTES = 65536  # how much of a file detection reads: its importers look at no more


def _starts(*magic: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(magic)


def _contains(marker: bytes, within: int) -> Callable[[bytes], bool]:
    return lambda head: marker in head[:within]


@dataclass(frozen=True)
class Format:
    """One format: where its importer is, and which files it may read, told without importing it."""

    name: str  # as users see it: its importer's ``format``
    target: str  # "module:Class"
    suffixes: tuple[str, ...]  # of the files it may read: lower case, with the dot
    # A file of any suffix may be this format when its first bytes say so (GeoTIFF's byte order mark).
    signature: Callable[[bytes], bool] | None = None

    def may_read(self, path: Path, head: bytes) -> bool:
        """Whether ``path`` (``head``: its first bytes) may be this format; its importer then decides."""
        return path.suffix.lower() in self.suffixes or (self.signature is not None and self.signature(head))

    def importer(self) -> type[Importer]:
        return _load(self.target)


# Tried in this order, the first whose importer accepts the file wins: formats that recognise a file by
# its content before the generic ones that take any file of the suffix (CityJSON in a .json before
# GeoJSON, OpenCelliD cells and a survey's tables in a .csv before plain CSV points).
FORMATS: tuple[Format, ...] = (
    # a CSV with 起点点号 and 终点点号 is a survey's line table, not cells nor generic points
    Format("survey tables", "importers.survey:SurveyTables", (".xlsx", ".xlsm", ".mdb", ".accdb", ".csv", ".txt")),
    Format("CityGML", "importers.citygml:CityGML", (".gml", ".citygml", ".xml")),
    Format("CityJSON", "importers.cityjson:CityJSON", (".json",)),
    Format("EPANET", "importers.epanet:EPANET", (".inp",)),
    Format("OpenCelliD CSV", "importers.opencellid:OpenCelliD", (".csv", ".txt", ".gz")),
    Format("SWMM", "importers.swmm:SWMM", (".inp",)),
    Format("CSV", "importers.csvfile:CsvTable", (".csv", ".tsv", ".txt")),
    Format("GeoTIFF", "importers.geotiff:GeoTIFF", (".tif", ".tiff", ".gtiff"),
           _starts(b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")),
    Format("OpenStreetMap", "importers.osm:OpenStreetMap", (".pbf", ".osm", ".xml"), _contains(b"<osm", 2048)),
    Format("GeoPackage", "importers.vector:GeoPackage", (".gpkg",), _starts(b"SQLite format 3\x00")),
    Format("File geodatabase", "importers.vector:FileGeodatabase", (".gdb",)),
    Format("GeoJSON", "importers.vector:GeoJSON", (".geojson", ".json", ".geojsonl", ".geojsons")),
    Format("Shapefile", "importers.vector:Shapefile", (".shp", ".dbf", ".zip")),
    Format("FlatGeobuf", "importers.vector:FlatGeobuf", (".fgb",)),
)


@cache
def _load(target: str) -> type[Importer]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def detect(path: Path) -> Importer:
    """The importer for ``path``, chosen by its suffix and first bytes."""
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise SourceError(f"{path}: is a folder; give a file")
    try:
        head = b"" if path.is_dir() else _head(path)
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from None
    if not path.is_dir() and not head:
        raise SourceError(f"{path}: the file is empty")
    for entry in FORMATS:
        if entry.may_read(path, head) and (importer := entry.importer()).accepts(path, head):
            return importer()
    raise SourceError(f"{path}: unknown format '{path.suffix or path.name}'; twin reads {known_suffixes()}")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def known_suffixes() -> str:
    """The suffixes twin reads, for a user who gave another."""
    return ", ".join(sorted({suffix for entry in FORMATS for suffix in entry.suffixes}))
