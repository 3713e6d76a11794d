"""The contract every format module follows, after pygeoapi's providers: one small base class, one
module per format. A format only reads; the shared pipeline maps, validates, reprojects and loads.

A format module defines a subclass of :class:`Importer` with ``format`` (its name) and ``read`` (vector
formats) or ``register`` (rasters); its row in :mod:`importers.formats` says which files it may read and
where it stands among the formats, so that detection imports it only for such files.
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
from pyproj import CRS

from twin.catalog import Layer
from twin.errors import SourceError

if TYPE_CHECKING:
    from twin.catalog import Catalog


@dataclass(frozen=True)
class ImportOptions:
    """What the user asked for, as ``twin import`` flags."""

    layer: Layer
    source: str  # dataset name; a re-import of the same source replaces it
    crs: str | None = None  # the source's CRS, overriding the file's; also GCJ-02 and BD-09
    heights: str | None = None  # the vertical CRS of the source's Z (importers.vertical)
    mapping: dict[str, str] = field(default_factory=dict)  # source column -> layer attribute
    strict: bool = False
    year: int | None = None  # the year a time-varying raster shows
    source_layer: str | None = None  # which layer of a multi-layer file
    encoding: str | None = None
    points: Path | None = None  # a survey's point table, where it is not found beside the line table
    make_valid: bool = False  # repair invalid geometries (shapely.make_valid) rather than reject them
    as_of: date | None = None  # a snapshot: the day the file shows the source on (importers.snapshot)
    tolerance_m: float = 0.5  # a snapshot without ids: how far a footprint may move and stay the same feature


@dataclass
class Records:
    """What a vector format hands to the pipeline: the rows of one layer in the source's own terms."""

    geometry: np.ndarray  # shapely geometries in ``crs``; None or empty where a row has none
    attributes: pd.DataFrame  # columns as the source names them, index 0..n-1
    crs: CRS | None  # None: the file declares none (the user must give --crs)
    row_numbers: np.ndarray | None = None  # as a person finds each row in the file; default 1..n
    source_ids: np.ndarray | None = None  # the rows' ids in the source, where the format has them
    names: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)  # said to the user in the summary
    problems: dict[int, str] = field(default_factory=dict)  # row index -> why the format could not read it
    ground_in_z: bool = False  # the geometries' Z is the ground (a survey's 地面高程), not their own height

    def __post_init__(self) -> None:
        if len(self.geometry) != len(self.attributes):
            raise ValueError("geometry and attributes differ in length")
        if self.row_numbers is None:
            self.row_numbers = np.arange(1, len(self.geometry) + 1)

    def __len__(self) -> int:
        return len(self.geometry)


class Importer(ABC):
    """One source format."""

    format: ClassVar[str]  # shown to users: "GeoPackage", "CityJSON"
    raster: ClassVar[bool] = False

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        """Whether this format reads ``path``, which its row in :mod:`importers.formats` says it may (by
        suffix or first bytes); ``head`` is its first 64 KiB. Default: yes; a format that must look at the
        content to tell (CityJSON or GeoJSON in a .json) says here."""
        return True

    def read(self, path: Path, options: ImportOptions) -> Records:
        """The rows for ``options.layer``, raising :class:`SourceError` for a file it cannot read."""
        raise SourceError(f"{path}: {self.format} holds rasters; import it into a raster layer")

    def extent(self, path: Path, options: ImportOptions) -> tuple[tuple[float, float, float, float], CRS | None] | None:
        """The file's extent and CRS as its metadata says, read before its rows so that a file in a wrong
        CRS stops at once; None where the format has no such metadata (its rows are checked once read)."""
        return None

    def register(self, path: Path, options: ImportOptions, connection: object) -> int:
        """Rasters only: record the file in the store (``connection``: a SQLAlchemy Connection inside the
        import's transaction); returns the number of rasters registered."""
        raise SourceError(f"{path}: {self.format} holds features, not a raster; import it into a vector layer")

    def feeds(self, path: Path, catalog: Catalog) -> list[str]:
        """The catalog layers this file feeds when ``twin import`` is given no ``--layer``, in import order;
        [] when the format cannot tell (then ``--layer`` is required)."""
        return []

    def read_many(self, path: Path, options: ImportOptions, layers: list[Layer]) -> dict[str, Records]:
        """The rows of each of ``layers`` (default: :meth:`read` once per layer); a format that can split
        one pass over its file among several layers overrides this."""
        from dataclasses import replace

        return {layer.id: self.read(path, replace(options, layer=layer)) for layer in layers}


class FixedLayers:
    """Mixed into a format that feeds the same layers whatever the file: ``layers_fed`` names them."""

    layers_fed: ClassVar[tuple[str, ...]] = ()

    def feeds(self, path: Path, catalog: Catalog) -> list[str]:
        return [layer_id for layer_id in self.layers_fed if layer_id in catalog]


def parse_crs(value: str, where: str) -> CRS:
    """A CRS from what a user or a file wrote; ``where`` names the flag or file for the error."""
    try:
        return CRS.from_user_input(value)
    except Exception:  # pyproj raises CRSError and, for odd input, others
        raise SourceError(f"{where}: unknown CRS '{value}'; give an EPSG code such as EPSG:4326") from None
