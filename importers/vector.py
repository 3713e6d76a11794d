"""GeoPackage, file geodatabase (.gdb), GeoJSON, Shapefile and FlatGeobuf, read through pyogrio (GDAL).

Shapefile text: a ``.cpg`` beside the file names its encoding (GDAL honours it); without one, the DBF's
language driver byte or, failing that, the text itself decides between UTF-8 and GB18030 (Chinese
surveys), and ``--encoding`` overrides all of it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyogrio
from pyproj import CRS
from pyogrio.errors import DataLayerError, DataSourceError

from importers.base import Importer, ImportOptions, Records
from importers.ogr import read_layer
from twin.errors import SourceError

# DBF language driver ids that mean a Chinese code page (936 GBK / GB2312).
_CHINESE_LDIDS = {0x4D, 0x7A}


class _OgrImporter(Importer):
    driver: str = ""

    def read(self, path: Path, options: ImportOptions) -> Records:
        layer_name = self._choose_layer(path, options)
        encoding = self._encoding(path, options)
        try:
            read = read_layer(path, layer_name, self.format, encoding, fids=True)
        except UnicodeDecodeError as exc:
            raise SourceError(f"{path}: text is not {encoding or 'UTF-8'} ({exc.reason}); "
                              "give its encoding with --encoding, e.g. --encoding GB18030") from None
        notes = [f"text read as {encoding}"] if encoding and options.encoding is None else []
        source_ids = read.fids.astype(str) if read.fids is not None else None
        return Records(geometry=read.geometry, attributes=read.attributes, crs=read.crs, source_ids=source_ids,
                       notes=notes, problems=read.problems)

    def extent(self, path: Path, options: ImportOptions) -> tuple[tuple[float, float, float, float], CRS | None] | None:
        # GeoPackage keeps it in gpkg_contents, FlatGeobuf in its header; GDAL reads GeoJSON through once.
        layer_name, encoding = self._choose_layer(path, options), self._encoding(path, options)  # their errors first
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                info = pyogrio.read_info(path, layer=layer_name, encoding=encoding, force_total_bounds=True)
        except (DataSourceError, DataLayerError):
            return None  # reading the rows says what is wrong with the file
        bounds = info.get("total_bounds")
        if bounds is None or info.get("features", 0) == 0:
            return None
        return tuple(float(value) for value in bounds), CRS.from_user_input(info["crs"]) if info.get("crs") else None

    def _choose_layer(self, path: Path, options: ImportOptions) -> str | None:
        try:
            layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
        except (DataSourceError, DataLayerError) as exc:
            raise SourceError(f"{path}: cannot be read as {self.format} ({_first_line(exc)}); "
                              "the file may be truncated or of another format") from None
        if options.source_layer:
            if options.source_layer not in layers:
                raise SourceError(f"{path}: has no layer '{options.source_layer}'; it has: {', '.join(layers)}")
            return options.source_layer
        if len(layers) <= 1:
            return layers[0] if layers else None
        if options.layer.id in layers:
            return options.layer.id
        raise SourceError(f"{path}: holds several layers ({', '.join(layers)}); choose one with --source-layer")

    def _encoding(self, path: Path, options: ImportOptions) -> str | None:
        return options.encoding


class GeoPackage(_OgrImporter):
    """Any file the table (importers.formats) says may be one: a .gpkg, or one that starts as SQLite does."""

    format = "GeoPackage"


class FileGeodatabase(_OgrImporter):
    """An Esri file geodatabase: a ``.gdb`` folder of several layers, read by GDAL's OpenFileGDB driver."""

    format = "File geodatabase"

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".gdb" and path.is_dir()


class GeoJSON(_OgrImporter):
    format = "GeoJSON"

    def _encoding(self, path: Path, options: ImportOptions) -> str | None:
        if options.encoding:
            raise SourceError(f"{path}: GeoJSON is UTF-8 by definition; drop --encoding, or convert the file "
                              "(iconv -f GB18030 -t UTF-8)")
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{path}: not UTF-8 text (byte {exc.start}); GeoJSON must be UTF-8: convert it, "
                              "e.g. iconv -f GB18030 -t UTF-8") from None
        return None


class Shapefile(_OgrImporter):
    format = "Shapefile"

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        if path.suffix.lower() == ".zip":
            return b".shp" in head  # a zipped shapefile names its members near the start
        return path.suffix.lower() in (".shp", ".dbf")

    def _encoding(self, path: Path, options: ImportOptions) -> str | None:
        dbf = path.with_suffix(".dbf")
        if not dbf.is_file():
            for candidate in path.parent.glob(path.stem + ".*"):
                if candidate.suffix.lower() == ".dbf":
                    dbf = candidate
        if path.suffix.lower() == ".zip" or not dbf.is_file():
            return options.encoding
        text = dbf.read_bytes()
        if options.encoding:
            _check_decodes(dbf, text, options.encoding)
            return options.encoding
        if any(p.suffix.lower() == ".cpg" for p in path.parent.glob(path.stem + ".*")):
            return None  # GDAL reads the .cpg
        if len(text) > 29 and text[29] in _CHINESE_LDIDS:
            return "GB18030"
        body = text[32:]
        try:
            body.decode("utf-8")
            return None if body.isascii() else "UTF-8"
        except UnicodeDecodeError:
            pass
        try:
            body.decode("gb18030")
            return "GB18030"
        except UnicodeDecodeError:
            raise SourceError(f"{dbf}: text is neither UTF-8 nor GB18030 and no .cpg names its encoding; "
                              "give it with --encoding") from None


class FlatGeobuf(_OgrImporter):
    format = "FlatGeobuf"


def _check_decodes(path: Path, data: bytes, encoding: str) -> None:
    try:
        data[32:].decode(encoding)
    except LookupError:
        raise SourceError(f"--encoding {encoding}: unknown encoding; try UTF-8, GBK or GB18030") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: text is not {encoding} (byte {exc.start + 32}); give the right --encoding") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
