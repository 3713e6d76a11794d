"""The table of formats (importers.formats): every row names a real importer, detection keeps its order
(specific formats before generic ones), and reading one format loads no other format's module."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, twin_env

import importers
from importers.base import Importer
from importers.formats import FORMATS, detect

ECO_X, ECO_Y = 506_000.0, 4_330_000.0  # the Eco-city in EPSG:4548


def test_every_row_loads_and_names_a_real_importer() -> None:
    targets = [entry.target for entry in FORMATS]
    assert len(set(targets)) == len(targets)
    for entry in FORMATS:
        importer = entry.importer()
        assert inspect.isclass(importer) and issubclass(importer, Importer) and importer is not Importer, entry
        assert importer.format == entry.name, entry
        assert entry.suffixes and all(s.startswith(".") and s == s.lower() for s in entry.suffixes), entry


def test_every_importer_has_its_row() -> None:
    # A format module whose class is missing from the table would never be chosen.
    for module in pkgutil.iter_modules(importers.__path__):
        importlib.import_module(f"importers.{module.name}")
    defined = {cls for cls in _subclasses(Importer) if "format" in cls.__dict__}
    assert defined == {entry.importer() for entry in FORMATS}


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct} | _subclasses(direct)}


CITYJSON = '{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}'
GEOJSON = '{"type": "FeatureCollection", "features": []}'
CELLS = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
CITYGML = '<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0"></core:CityModel>'


@pytest.mark.parametrize(("name", "content", "chosen"), [
    ("model.json", CITYJSON, "CityJSON"),  # CityJSON in a .json wins over GeoJSON, which takes every .json
    ("plain.json", GEOJSON, "GeoJSON"),
    ("lines.csv", "起点点号,终点点号,管径\nA,B,100\n", "SurveyTables"),  # a survey's table before cells, CSV
    ("cells.csv", CELLS, "OpenCelliD"),
    ("points.csv", "lon,lat,name\n1,2,a\n", "CsvTable"),
    ("city.xml", CITYGML, "CityGML"),
    ("extract.osm.xml", "<?xml version='1.0'?><osm version='0.6'></osm>", "OpenStreetMap"),
    ("dem.dat", b"II*\x00" + bytes(60), "GeoTIFF"),  # by its first bytes, whatever the suffix
    ("layers.dat", b"SQLite format 3\x00" + bytes(60), "GeoPackage"),
])
def test_detection_prefers_specific_formats(tmp_path: Path, name: str, content: str | bytes, chosen: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert type(detect(path)).__name__ == chosen


# Imports a GeoJSON with the real CLI in a fresh interpreter, then says which format modules (and their
# heavy dependencies) it loaded.
_IMPORT_AND_REPORT = """
import json, sys
from twin.cli import cli
cli.main(["import", sys.argv[1], "--layer", "hospitals"], standalone_mode=False)
print(json.dumps(sorted(name for name in sys.modules if name in set(sys.argv[2:]))))
"""


def test_importing_a_geojson_loads_no_other_format(make_twin, tmp_path: Path) -> None:
    path = tmp_path / "hospitals.geojson"
    point = {"type": "Point", "coordinates": [ECO_X, ECO_Y]}
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}},
                                "features": [{"type": "Feature", "geometry": point, "properties": {"name": "A"}}]}))
    twin = make_twin()
    watched = sorted({entry.target.partition(":")[0] for entry in FORMATS} | {"lxml", "openpyxl"})
    result = subprocess.run([sys.executable, "-c", _IMPORT_AND_REPORT, str(path), *watched], capture_output=True,
                            text=True, cwd=ROOT, env=twin_env(TWIN_DATABASE_URL=twin.url, TWIN_CRS=twin.crs))
    assert result.returncode == 0, result.stderr
    assert "1 imported, 0 rejected" in result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["importers.vector"]
