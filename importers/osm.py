"""OpenStreetMap extracts (.osm.pbf and .osm XML), read through GDAL's OSM driver.

What a layer takes from OSM: buildings (any building=*; height from ``height``, else ``building:levels``
times the layer's storey height), police (amenity=police), fire brigades (amenity=fire_station),
hospitals (amenity=hospital), hydrants (emergency=fire_hydrant) and communication masts and towers
(man_made=mast|tower used for telecoms). Areas become points at a point inside them for point layers.
Every feature keeps its OSM id (node/…, way/…, relation/…) and all its tags. Buildings mapped as a
single node or an unclosed way have no footprint; the summary counts them.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from importers.base import Importer, ImportOptions, Records
from twin.errors import SourceError

Tags = dict[str, str]
_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_NUMBER = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(m|meters|metres)?\s*$")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_TELECOM = ("communication", "telecommunication", "mobile_phone", "cellular")

FILTERS: dict[str, Callable[[Tags], bool]] = {
    "buildings": lambda t: t.get("building", "no") != "no",
    "police_stations": lambda t: t.get("amenity") == "police",
    "fire_brigades": lambda t: t.get("amenity") == "fire_station",
    "hospitals": lambda t: t.get("amenity") == "hospital",
    "smart_hydrants": lambda t: t.get("emergency") == "fire_hydrant",
    "base_stations_5g": lambda t: t.get("man_made") in ("mast", "tower") and (
        t.get("tower:type") in _TELECOM or t.get("communication:mobile_phone") == "yes"
        or any(key.startswith("communication:") and value == "yes" for key, value in t.items())),
}
# building=* values, as the buildings layer's uses.
USES = {
    "residential": "residential", "apartments": "residential", "dormitory": "residential", "terrace": "residential",
    "house": "villa", "detached": "villa", "semidetached_house": "villa", "bungalow": "villa",
    "office": "office", "commercial": "commercial", "retail": "commercial", "supermarket": "commercial",
    "school": "school", "university": "school", "kindergarten": "school", "college": "school",
    "hospital": "hospital", "public": "public", "civic": "public", "government": "public",
    "industrial": "industrial", "warehouse": "industrial",
}


class OpenStreetMap(Importer):
    format = "OpenStreetMap"
    suffixes = (".pbf", ".osm")

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        name = path.name.lower()
        return name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.xml")) or (b"<osm" in head[:2048])

    def read(self, path: Path, options: ImportOptions) -> Records:
        wanted = FILTERS.get(options.layer.id)
        if wanted is None:
            raise SourceError(f"{path}: OpenStreetMap feeds the layers {', '.join(FILTERS)}, not '{options.layer.id}'")
        parts = ["multipolygons"] if options.layer.geometry == "polygon" else ["points", "multipolygons"]
        ids, geometries, tag_rows = [], [], []
        for part in parts:
            frame = _read(path, part)
            for row in frame.itertuples(index=False):
                tags = _tags(row, frame.columns)
                if not wanted(tags):
                    continue
                ids.append(_osm_id(row, part))
                geometries.append(row.geometry)
                tag_rows.append(tags)
        geometry = np.asarray(geometries, dtype=object)
        if options.layer.geometry == "point" and len(geometry):
            areas = shapely.get_type_id(geometry) != shapely.GeometryType.POINT
            geometry[areas] = shapely.point_on_surface(geometry[areas])
        storey = options.layer.draw.storey_height
        attributes = pd.DataFrame([_attributes(tags, storey) for tags in tag_rows])
        notes = [f"{len(ids):,} OSM features match layer '{options.layer.id}'"]
        if options.layer.geometry == "polygon":
            without = sum(int(_read(path, part)["other_tags"].fillna("").str.contains('"building"=>').sum())
                          for part in ("points", "lines"))
            if without:
                notes.append(f"{without:,} buildings mapped as a point or an unclosed line have no footprint: "
                             "not imported")
        return Records(geometry=geometry, attributes=attributes, crs=CRS.from_epsg(4326),
                       source_ids=np.asarray(ids, dtype=object),
                       names=np.asarray([tags.get("name") for tags in tag_rows], dtype=object), notes=notes)


def _read(path: Path, part: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(path, layer=part, use_arrow=True)
    except (DataSourceError, DataLayerError) as exc:
        raise SourceError(f"{path}: cannot be read as OpenStreetMap ({str(exc).strip().splitlines()[0]}); "
                          "the file may be truncated or of another format") from None


def _tags(row: tuple, columns: pd.Index) -> Tags:
    tags: Tags = {}
    for column, value in zip(columns, row):
        if column in ("osm_id", "osm_way_id", "other_tags", "geometry") or value is None or value != value:
            continue
        tags[column] = str(value)
    other = getattr(row, "other_tags", None)
    if isinstance(other, str):
        tags.update({key.replace('\\"', '"'): value.replace('\\"', '"') for key, value in _PAIR.findall(other)})
    return tags


def _osm_id(row: tuple, part: str) -> str:
    if part == "points":
        return f"node/{row.osm_id}"
    way = getattr(row, "osm_way_id", None)
    if isinstance(way, str) or (way is not None and way == way):
        return f"way/{way}"
    return f"relation/{row.osm_id}"


def _number(text: str | None) -> float | None:
    match = _NUMBER.match(text or "")
    return float(match.group(1).replace(",", ".")) if match else None


def _attributes(tags: Tags, storey_height: float) -> dict[str, object]:
    levels = _number(tags.get("building:levels"))
    height = _number(tags.get("height"))
    if height is None and levels is not None:
        height = levels * storey_height
    year = _YEAR.search(tags.get("start_date", "") or tags.get("building:start_date", ""))
    street = " ".join(part for part in (tags.get("addr:street"), tags.get("addr:housenumber")) if part)
    building = tags.get("building")
    return {
        "height_m": height,
        "floors": levels,
        "build_year": int(year.group(1)) if year else None,
        "use": (USES.get(building, "other") if building else None),
        "address": street or None,
        "phone": tags.get("phone") or tags.get("contact:phone"),
        "beds": tags.get("beds"),
        "operator": tags.get("operator"),
        "tags": tags,
    }
