"""OpenCelliD cell exports (CSV, with or without the header row, plain or gzip-compressed as OpenCelliD
ships them: ``cell_towers.csv.gz``, ``302.csv.gz``): NR cells are 5G base stations.

Per-country exports come without a header, the full export with one; the columns are the same:
radio, mcc, net, area, cell, unit, lon, lat, range, samples, changeable, created, updated, averageSignal.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from importers.base import FixedLayers, Importer, ImportOptions, Records
from importers.csvfile import decode
from twin.errors import SourceError

COLUMNS = ["radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples", "changeable",
           "created", "updated", "averageSignal"]
RADIOS = ("GSM", "UMTS", "CDMA", "LTE", "NR")
# Which radio each layer takes: the 5G layer only NR cells.
LAYER_RADIOS = {"base_stations_5g": ("NR",)}
HEAD_BYTES = 65536  # as much of the text as detection looks at (importers' head)


def _is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def _text_head(path: Path, head: bytes) -> bytes:
    """The first bytes of the text: ``head`` itself, or for a .gz what its first bytes decompress to
    (b"" where they are not gzip)."""
    if not _is_gzip(path):
        return head
    try:  # a gzip stream decompresses from its start: the file's first bytes give the text's first
        return zlib.decompressobj(wbits=zlib.MAX_WBITS | 16).decompress(head, HEAD_BYTES)
    except zlib.error:
        return b""


def _contents(path: Path) -> bytes:
    """The file's bytes, decompressed where it is a .gz."""
    if not _is_gzip(path):
        return path.read_bytes()
    try:
        return gzip.decompress(path.read_bytes())
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # EOFError: the stream stops before its end, as a download broken off leaves it
        why = "cut short" if isinstance(exc, EOFError) else str(exc)
        raise SourceError(f"{path}: not a readable gzip file ({why}); "
                          "give the export as OpenCelliD ships it, or unpacked") from None


def _looks_like_cells(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    fields = first.split(",")
    if [field.strip().lower() for field in fields[:6]] == [name.lower() for name in COLUMNS[:6]]:
        return True
    return len(fields) == len(COLUMNS) and fields[0] in RADIOS


class OpenCelliD(FixedLayers, Importer):
    format = "OpenCelliD CSV"
    layers_fed = tuple(LAYER_RADIOS)

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        return _looks_like_cells(_text_head(path, head))

    def read(self, path: Path, options: ImportOptions) -> Records:
        text, _ = decode(path, _contents(path), options.encoding)
        has_header = text.lstrip("\ufeff").lower().startswith("radio,")
        try:
            frame = pd.read_csv(io.StringIO(text), header=0 if has_header else None, names=COLUMNS, dtype=str,
                                keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise SourceError(f"{path}: not a readable OpenCelliD CSV ({str(exc).strip().splitlines()[0]})") from None
        row_numbers = np.arange(1, len(frame) + 1) + (1 if has_header else 0)
        wanted = LAYER_RADIOS.get(options.layer.id)
        notes: list[str] = []
        if wanted:
            keep = frame["radio"].isin(wanted).to_numpy()
            skipped = frame.loc[~keep, "radio"].value_counts()
            if len(skipped):
                counts = ", ".join(f"{radio} {count:,}" for radio, count in sorted(skipped.items()))
                notes.append(f"{int(skipped.sum()):,} cells of other radios skipped ({counts}): "
                             "they are not 5G; import them into another layer to keep them")
            frame, row_numbers = frame[keep].reset_index(drop=True), row_numbers[keep]
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
        geometry = np.asarray(shapely.points(lon, lat), dtype=object)
        geometry[np.isnan(lon) | np.isnan(lat)] = None
        created = pd.to_numeric(frame["created"], errors="coerce")
        attributes = pd.DataFrame({
            "radio": frame["radio"],
            "mcc": frame["mcc"],
            "mnc": frame["net"],
            "area_code": frame["area"],
            "cell_id": frame["cell"],
            "range_m": frame["range"],
            "valid_from": pd.to_datetime(created, unit="s", errors="coerce").dt.strftime("%Y-%m-%d"),
        })
        ids = (frame["mcc"].fillna("") + "-" + frame["net"].fillna("") + "-" + frame["area"].fillna("") + "-"
               + frame["cell"].fillna("")).to_numpy(object)
        return Records(geometry=geometry, attributes=attributes, crs=CRS.from_epsg(4326), row_numbers=row_numbers,
                       source_ids=ids, notes=notes)
