"""Every real sample file imports without a traceback: with no --layer where its format routes features
itself, and into a layer that fits it. Each either imports or is refused in one line (the swmmio model's
CRS is not known, PROVENANCE.md says, and its feet do not land where EPSG:2272 is used). A twin is in metres:
the files in US feet go into twins in metric CRSs of their places."""

from __future__ import annotations

import pytest
from support import refused

# file -> (the twin's CRS, the flags that fit it); a None layer: without --layer.
REAL_FILES = [
    ("osm/monaco.osm.pbf", "EPSG:32632", [None, "buildings"], []),
    ("buildings/delft.city.json", "EPSG:28992", [None, "buildings"], []),
    ("buildings/zurich_lod2.city.json", "EPSG:2056", [None, "buildings"], []),
    ("buildings/3dbag_multi_lod.city.json", "EPSG:28992", [None, "buildings"], ["--crs", "EPSG:28992"]),
    ("citygml/delft_lod1_citygml2.gml", "EPSG:28992", [None, "buildings"], []),
    ("citygml/zurich_lod2_citygml1.gml", "EPSG:21781", [None, "buildings"], []),
    ("cells/opencellid_calgary.csv", "EPSG:32611", [None, "base_stations_5g"], []),
    ("dem/fortworth_dem.tif", "EPSG:32614", [None, "terrain"], []),
    ("sewer/montpelier_lines.geojson", "EPSG:32618", [None, "sewage"], []),
    ("sewer/montpelier_points.geojson", "EPSG:32618", [None, "manholes"], []),
    ("swmm/bellinge_small.inp", "EPSG:32632", [None, "rainwater", "manholes"], ["--crs", "EPSG:32632"]),
    ("swmm/swmmio_model_state_plane.inp", "EPSG:32618", [None, "sewage"], ["--crs", "EPSG:2272"]),
    ("tianjin/binhai_district.geojson", "EPSG:4548", [None, "management_grids"], ["--crs", "GCJ-02"]),
    ("water/fortaleza_hydrants.geojson", "EPSG:31984", [None, "smart_hydrants"], []),
    ("water/fortaleza_water_mains.geojson", "EPSG:31984", [None, "water_supply"], []),
    ("water/ky4.inp", "EPSG:3088", [None, "water_supply", "valves"], ["--crs", "EPSG:3089"]),
]
CASES = [(file, crs, layer, flags) for file, crs, layers, flags in REAL_FILES for layer in layers]


@pytest.mark.parametrize(("file", "crs", "layer", "flags"), CASES,
                         ids=[f"{file}-{layer or 'no layer'}" for file, _, layer, _ in CASES])
def test_real_file_imports_without_a_traceback(make_twin, real_copy, file: str, crs: str, layer: str | None,
                                               flags: list[str]) -> None:
    path = real_copy(file)
    twin = make_twin(crs)
    result = twin.run("import", str(path), *(["--layer", layer] if layer else []), *flags, check=False)
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr, result.stderr
    if result.returncode:  # a file that does not fit (no valves in it, a CRS no one knows): one line
        refused(result, path)
    else:
        assert " imported" in result.stderr or "raster registered" in result.stderr
