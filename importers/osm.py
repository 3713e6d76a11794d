"""OpenStreetMap extracts (.osm.pbf and .osm XML), read through GDAL's OSM driver.

Which features feed which layer, and how their attributes come from tags, is a table beside this
module (``osm.toml``, data). Without ``--layer`` one command fills every layer of that table in the
catalog, reading each GDAL OSM layer (points, lines, multipolygons) once and splitting its rows among
the layers. Areas become points at a point inside them for point layers. Every feature keeps its OSM id
(node/…, way/…, relation/…) and, where the layer has a ``tags`` attribute, all its tags. A feature a
polygon layer wants but mapped as a node or an unclosed way has no footprint; the summary counts them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from importers.base import Importer, ImportOptions, Records
from importers.ogr import OgrLayer, read_layer
from twin.catalog import Catalog, Layer
from twin.errors import SourceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TABLE_FILE = Path(__file__).with_name("osm.toml")
PARTS = ("points", "lines", "multipolygons")
Tags = dict[str, str]
Rule = dict[str, object]
_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_NUMBER = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(m|meters|metres)?\s*$")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_NOT_TAGS = ("osm_id", "osm_way_id", "other_tags", "z_order")


@dataclass(frozen=True)
class Route:
    """What one layer takes from OSM: from which parts, which features, and its attributes' rules."""

    parts: tuple[str, ...]
    match: tuple[dict[str, object], ...]
    attributes: dict[str, list[Rule]]

    def wants(self, tags: Tags) -> bool:
        return any(all(_meets(tags, key, wanted) for key, wanted in condition.items()) for condition in self.match)


@lru_cache(maxsize=1)
def table() -> dict[str, dict]:
    """osm.toml as read: its [parts], shared [attributes] and [layers.<id>] in import order."""
    return tomllib.loads(TABLE_FILE.read_text(encoding="utf-8"))


def route(layer: Layer) -> Route | None:
    """The layer's rules, None when OSM does not feed it."""
    entry = table()["layers"].get(layer.id)
    if entry is None:
        return None
    rules = {**table()["attributes"], **entry.get("attributes", {})}
    # A rule written as one table (with a values table) is a list of one.
    rules = {name: rule if isinstance(rule, list) else [rule] for name, rule in rules.items()}
    kept = {name: rule for name, rule in rules.items() if name in layer.attributes}
    # Attributes that look another one up come after it.
    order = sorted(kept, key=lambda name: any("attribute" in rule for rule in kept[name]))
    parts = tuple(entry.get("parts", table()["parts"][layer.geometry]))
    return Route(parts, tuple(entry["match"]), {name: kept[name] for name in order})


class OpenStreetMap(Importer):
    format = "OpenStreetMap"

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        name = path.name.lower()
        return name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.xml")) or (b"<osm" in head[:2048])

    def feeds(self, path: Path, catalog: Catalog) -> list[str]:
        return [layer_id for layer_id in table()["layers"] if layer_id in catalog]

    def read(self, path: Path, options: ImportOptions) -> Records:
        return self.read_many(path, options, [options.layer])[options.layer.id]

    def read_many(self, path: Path, options: ImportOptions, layers: list[Layer]) -> dict[str, Records]:
        routes = {}
        for layer in layers:
            routes[layer.id] = route(layer)
            if routes[layer.id] is None:
                raise SourceError(f"{path}: OpenStreetMap feeds the layers {', '.join(table()['layers'])}, "
                                  f"not '{layer.id}'")
        # Polygon layers look at every part: what they want mapped as a node or open way is counted.
        needed = {part for layer in layers for part in (PARTS if layer.geometry == "polygon" else routes[layer.id].parts)}
        read = {part: _Part.read(path, part) for part in PARTS if part in needed}
        return {layer.id: _records(layer, routes[layer.id], read) for layer in layers}


@dataclass
class _Part:
    """One GDAL OSM layer as read, with each row's tags."""

    name: str
    layer: OgrLayer
    tags: list[Tags]

    @classmethod
    def read(cls, path: Path, part: str) -> _Part:
        layer = read_layer(path, part, "OpenStreetMap")
        columns = [column for column in layer.attributes.columns if column not in _NOT_TAGS]
        plain = layer.attributes[columns].to_dict("records")
        other = layer.attributes["other_tags"].tolist() if "other_tags" in layer.attributes else [None] * len(plain)
        tags = [_tags(row, extra) for row, extra in zip(plain, other)]
        return cls(part, layer, tags)

    def osm_ids(self, rows: list[int]) -> list[str]:
        frame = self.layer.attributes
        if self.name != "multipolygons":
            return [f"node/{frame['osm_id'].iat[row]}" if self.name == "points" else f"way/{frame['osm_id'].iat[row]}"
                    for row in rows]
        ways = frame["osm_way_id"]
        return [f"way/{ways.iat[row]}" if pd.notna(ways.iat[row]) else f"relation/{frame['osm_id'].iat[row]}"
                for row in rows]


def _records(layer: Layer, rules: Route, read: dict[str, _Part]) -> Records:
    ids: list[str] = []
    geometries: list[np.ndarray] = []
    tag_rows: list[Tags] = []
    problems: dict[int, str] = {}
    without = 0
    for name, part in read.items():
        rows = [row for row, tags in enumerate(part.tags) if rules.wants(tags)]
        geometry = part.layer.geometry[rows]
        if layer.geometry == "polygon" and name == "lines" and name in rules.parts:
            closed = shapely.is_closed(geometry) & (shapely.get_num_coordinates(geometry) >= 4)
            without += int((~closed).sum())
            rows, geometry = [row for row, keep in zip(rows, closed) if keep], _areas(geometry[closed])
        elif name not in rules.parts:
            without += len(rows) if layer.geometry == "polygon" else 0
            continue
        for new, row in enumerate(rows, start=len(ids)):
            if row in part.layer.problems:
                problems[new] = part.layer.problems[row]
        ids += part.osm_ids(rows)
        geometries.append(np.asarray(geometry, dtype=object))
        tag_rows += [part.tags[row] for row in rows]
    geometry = np.concatenate(geometries) if geometries else np.array([], dtype=object)
    if layer.geometry == "point" and len(geometry):
        areas = shapely.get_type_id(geometry) > shapely.GeometryType.POINT
        geometry[areas] = shapely.point_on_surface(geometry[areas])
    attributes = _attributes(layer, rules, tag_rows)
    notes = [f"{len(ids):,} OSM features match layer '{layer.id}'"]
    if without:
        notes.append(f"{without:,} features of layer '{layer.id}' mapped as a point or an unclosed line have no "
                     "footprint: not imported")
    return Records(geometry=geometry, attributes=attributes, crs=CRS.from_epsg(4326),
                   source_ids=np.asarray(ids, dtype=object),
                   names=np.asarray([tags.get("name") for tags in tag_rows], dtype=object), notes=notes,
                   problems=problems)


def _areas(lines: np.ndarray) -> np.ndarray:
    """The areas closed lines enclose."""
    if not len(lines):
        return lines
    coordinates, index = shapely.get_coordinates(lines, return_index=True)
    return shapely.polygons(shapely.linearrings(coordinates, indices=index))


def _attributes(layer: Layer, rules: Route, tag_rows: list[Tags]) -> pd.DataFrame:
    """The layer's attributes of each feature by the table's rules, and its tags where the layer keeps them."""
    rows = []
    for tags in tag_rows:
        values: dict[str, object] = {}
        for name, chain in rules.attributes.items():
            numeric = layer.attributes[name].type in ("real", "integer")
            values[name] = next((value for rule in chain if (value := _apply(rule, tags, numeric, layer, values))
                                 is not None), None)
        if "tags" in layer.attributes:
            values["tags"] = tags
        rows.append(values)
    return pd.DataFrame(rows, columns=[*rules.attributes, *(["tags"] if "tags" in layer.attributes else [])])


def _apply(rule: Rule, tags: Tags, numeric: bool, layer: Layer, done: dict[str, object]) -> object:
    """One way of getting an attribute (see osm.toml); None when it gives nothing for these tags."""
    if "join" in rule:
        return " ".join(tags[key] for key in rule["join"] if tags.get(key)) or None
    lookup = rule.get("values")
    if "attribute" in rule:
        return lookup.get(done.get(rule["attribute"]))
    keys = [rule["tag"]] if isinstance(rule["tag"], str) else rule["tag"]
    raw = next((tags[key] for key in keys if tags.get(key)), None)
    if raw is None:
        return None
    if rule.get("year"):
        year = _YEAR.search(raw)
        return int(year.group(1)) if year else None
    if lookup is not None:
        return lookup.get(raw, rule.get("default"))
    if not numeric:
        return raw
    # Tags are free text: a height of "tall" is no height rather than a rejected building.
    number = _number(raw)
    factor = rule.get("times", 1.0)
    if isinstance(factor, str):
        factor = getattr(layer.draw, factor)
    return None if number is None else number * factor


def _meets(tags: Tags, key: str, wanted: object) -> bool:
    if key.endswith("*"):
        values = [value for name, value in tags.items() if name.startswith(key[:-1])]
    else:
        values = [tags[key]] if key in tags else []
    if wanted == "*":
        return any(value != "no" for value in values)
    return any(value in wanted if isinstance(wanted, list) else value == wanted for value in values)


def _tags(row: dict[str, object], other: object) -> Tags:
    tags = {key: str(value) for key, value in row.items() if isinstance(value, str) or (value is not None and value == value)}
    if isinstance(other, str):
        tags.update({key.replace('\\"', '"'): value.replace('\\"', '"') for key, value in _PAIR.findall(other)})
    return tags


def _number(text: str) -> float | None:
    match = _NUMBER.match(text)
    return float(match.group(1).replace(",", ".")) if match else None
