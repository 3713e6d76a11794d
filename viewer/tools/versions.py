"""A picked feature's history as the side panel lists it: one line per version (its valid period and, in
words, what it changed: which attributes, "moved" for its geometry), with "built" and "demolished" lines
where the twin knows the feature came or went. The lines carry their dates so that the page marks the
version the slider's year shows without asking the server (twin.time's rule, on ISO dates as strings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import psycopg
import shapely
import shapely.affinity
import shapely.geometry

from twin.catalog import Layer
from twin.history import imports, version_on, versions
from twin.time import year_end

# Not attributes a person compares: the row's bookkeeping (the period has its own words).
BOOKKEEPING = {"id", "source", "source_id", "version", "import_id", "valid_from", "valid_to", "recorded", "geom",
               "geometry"}
MOVED_M = 0.01  # geometries closer than this are the same place (the snapshot import compares to the mm)
UNITS = {"m2": "m²", "m3": "m³"}


@dataclass(frozen=True)
class Line:
    """One line of the list: a version (marked where the slider's year shows it) or an event."""

    key: str
    text: str
    version: bool  # a version line (else an event: built, demolished)
    start: str | None = None  # the version's valid_from and valid_to, ISO dates (None: open)
    end: str | None = None


@dataclass(frozen=True)
class History:
    """A picked feature's versions: the lines the panel lists (none for a single version: its valid_from
    and valid_to rows say all there is), and each version's id and valid period, for the view to outline
    the version the slider's year draws."""

    lines: list[Line]
    spans: list[dict]  # {id, valid_from, valid_to} per version, oldest first

    def standing(self, year: int) -> str | None:
        """The id of the version standing at the end of ``year`` (twin.time's rule), if any."""
        found = version_on(self.spans, year_end(year))
        return found["id"] if found is not None else None

    def listed(self) -> list[dict]:
        """The lines as the page's state holds them."""
        return [asdict(line) for line in self.lines]


def feature_history(connection: psycopg.Connection, layer: Layer, feature_id: str) -> History:
    """The history of the feature that ``feature_id`` (any of its versions) is."""
    rows = versions(connection, layer, feature_id)
    spans = [{"id": str(row["id"]), "valid_from": row["valid_from"], "valid_to": row["valid_to"]} for row in rows]
    if len(rows) < 2:
        return History([], spans)
    source = rows[0]["source"]
    surveys = [entry.as_of for entry in imports(connection, layer.id) if entry.source == source and entry.as_of]
    return History(lines(rows, layer, min(surveys) if surveys else None), spans)


def lines(rows: list[dict], layer: Layer, first_survey: date | None = None) -> list[Line]:
    """The history of a feature's versions (:func:`twin.history.versions`, oldest first). ``first_survey``:
    the date of its source's first snapshot, on which every feature of the source opened because the twin
    first saw it then, not because it was built then."""
    came, went = _words(layer)
    out: list[Line] = []
    first = rows[0]["valid_from"]
    if first is not None and first != first_survey:
        out.append(Line("built", f"{came} {first.isoformat()}", False))
    for index, row in enumerate(rows):
        if index:
            changed = _differences(rows[index - 1], row, layer)
            previous_end = rows[index - 1]["valid_to"]
            if previous_end is not None and row["valid_from"] is not None and previous_end < row["valid_from"]:
                # Gone for a while (the surveys between missed it), then back.
                out.append(Line(f"gone-{index}", f"{went} {previous_end.isoformat()}", False))
                changed.insert(0, "back")
        else:  # the first version: the values its successor changed, as they were
            changed = _differences(rows[1], row, layer, moves=False)
        period = _period(row["valid_from"], row["valid_to"])
        out.append(Line(f"v{row['version']}", " · ".join([period, *changed]) if changed else period, True,
                        _iso(row["valid_from"]), _iso(row["valid_to"])))
    if rows[-1]["valid_to"] is not None:
        out.append(Line("gone", f"{went} {rows[-1]['valid_to'].isoformat()}", False))
    return out


def _words(layer: Layer) -> tuple[str, str]:
    """How the layer's features come and go: buildings are built and demolished, the rest added and removed."""
    return ("built", "demolished") if layer.draw.mode in ("extrude", "solid") else ("added", "removed")


def _period(start: date | None, end: date | None) -> str:
    if start is not None and end is not None:
        return f"{start.isoformat()} – {end.isoformat()}"
    if start is not None:
        return f"since {start.isoformat()}"
    if end is not None:
        return f"until {end.isoformat()}"
    return "always"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _differences(other: dict, row: dict, layer: Layer, moves: bool = True) -> list[str]:
    """What of ``row`` differs from ``other``, in words with ``row``'s values: "height 30 m", and with
    ``moves`` how its geometry changed ("moved 5 m", "reshaped")."""
    out = [_named(name, row.get(name), layer) for name in row
           if name not in BOOKKEEPING and row.get(name) != other.get(name)]
    if moves:
        shape = _geometry_change(other.get("geometry"), row.get("geometry"))
        if shape:
            out.append(shape)
    return out


def _named(name: str, value: object, layer: Layer) -> str:
    attribute = layer.attributes.get(name)
    title = (attribute.title if attribute is not None and attribute.title else name.replace("_", " ")).lower()
    if value is None:
        return f"{title} unknown"
    if attribute is not None and attribute.type == "json":
        return f"{title} changed"  # a whole dict of source tags says nothing on one line
    unit = UNITS.get(attribute.unit, attribute.unit) if attribute is not None and attribute.unit else ""
    return f"{title} {_value(value)}" + (f" {unit}" if unit else "")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _geometry_change(before: dict | None, after: dict | None) -> str:
    """"moved 5 m" where the same shape lies elsewhere, "reshaped" where the shape changed, else ""."""
    if before is None or after is None:
        return "" if before == after else "reshaped"
    a, b = shapely.geometry.shape(before), shapely.geometry.shape(after)
    if shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), MOVED_M):
        return ""
    dx, dy = b.centroid.x - a.centroid.x, b.centroid.y - a.centroid.y
    shifted = shapely.affinity.translate(a, dx, dy)
    if shapely.equals_exact(shapely.normalize(shifted), shapely.normalize(b), MOVED_M):
        return f"moved {_value(float((dx * dx + dy * dy) ** 0.5))} m"
    return "reshaped"
