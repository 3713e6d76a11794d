"""A picked feature's history as the side panel lists it: one line per version (its valid period and, in
words, what it changed: which attributes, "moved" for its geometry), with "built" and "demolished" lines
where the twin knows the feature came or went, in the page's language (the messages' history section).
The lines carry their dates so that the page marks the version the slider's year shows without asking
the server (twin.time's rule, on ISO dates as strings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import psycopg
import shapely
import shapely.affinity
import shapely.geometry

from twin import i18n
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
    """A picked feature's versions (:func:`twin.history.versions`), for the lines the panel lists (none for
    a single version: its valid_from and valid_to rows say all there is), and each version's id and valid
    period, for the view to outline the version the slider's year draws."""

    rows: list[dict]
    layer: Layer
    first_survey: date | None  # see :func:`lines`
    spans: list[dict]  # {id, valid_from, valid_to} per version, oldest first

    def standing(self, year: int) -> str | None:
        """The id of the version standing at the end of ``year`` (twin.time's rule), if any."""
        found = version_on(self.spans, year_end(year))
        return found["id"] if found is not None else None

    def listed(self, language: str = i18n.DEFAULT) -> list[dict]:
        """The lines in ``language`` as the page's state holds them."""
        if len(self.rows) < 2:
            return []
        return [asdict(line) for line in lines(self.rows, self.layer, self.first_survey, language)]


def feature_history(connection: psycopg.Connection, layer: Layer, feature_id: str) -> History:
    """The history of the feature that ``feature_id`` (any of its versions) is."""
    rows = versions(connection, layer, feature_id)
    spans = [{"id": str(row["id"]), "valid_from": row["valid_from"], "valid_to": row["valid_to"]} for row in rows]
    if len(rows) < 2:
        return History(rows, layer, None, spans)
    source = rows[0]["source"]
    surveys = [entry.as_of for entry in imports(connection, layer.id) if entry.source == source and entry.as_of]
    return History(rows, layer, min(surveys) if surveys else None, spans)


def lines(rows: list[dict], layer: Layer, first_survey: date | None = None,
          language: str = i18n.DEFAULT) -> list[Line]:
    """The history of a feature's versions (:func:`twin.history.versions`, oldest first) in ``language``.
    ``first_survey``: the date of its source's first snapshot, on which every feature of the source opened
    because the twin first saw it then, not because it was built then."""
    words = i18n.section("history", language)
    came, went = _words(layer)
    out: list[Line] = []
    first = rows[0]["valid_from"]
    if first is not None and first != first_survey:
        out.append(Line("built", words[came].format(day=first.isoformat()), False))
    for index, row in enumerate(rows):
        if index:
            changed = _differences(rows[index - 1], row, layer, words, language)
            previous_end = rows[index - 1]["valid_to"]
            if previous_end is not None and row["valid_from"] is not None and previous_end < row["valid_from"]:
                # Gone for a while (the surveys between missed it), then back.
                out.append(Line(f"gone-{index}", words[went].format(day=previous_end.isoformat()), False))
                changed.insert(0, words["back"])
        else:  # the first version: the values its successor changed, as they were
            changed = _differences(rows[1], row, layer, words, language, moves=False)
        period = _period(row["valid_from"], row["valid_to"], words)
        out.append(Line(f"v{row['version']}", " · ".join([period, *changed]) if changed else period, True,
                        _iso(row["valid_from"]), _iso(row["valid_to"])))
    if rows[-1]["valid_to"] is not None:
        out.append(Line("gone", words[went].format(day=rows[-1]["valid_to"].isoformat()), False))
    return out


def _words(layer: Layer) -> tuple[str, str]:
    """How the layer's features come and go (keys of the messages' history section): buildings are built
    and demolished, the rest added and removed."""
    return ("built", "demolished") if layer.draw.mode in ("extrude", "solid") else ("added", "removed")


def _period(start: date | None, end: date | None, words: dict[str, str]) -> str:
    if start is not None and end is not None:
        return words["period"].format(start=start.isoformat(), end=end.isoformat())
    if start is not None:
        return words["since"].format(start=start.isoformat())
    if end is not None:
        return words["until"].format(end=end.isoformat())
    return words["always"]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _differences(other: dict, row: dict, layer: Layer, words: dict[str, str], language: str,
                 moves: bool = True) -> list[str]:
    """What of ``row`` differs from ``other``, in words with ``row``'s values: "height 30 m", and with
    ``moves`` how its geometry changed ("moved 5 m", "reshaped")."""
    out = [_named(name, row.get(name), layer, words, language) for name in row
           if name not in BOOKKEEPING and row.get(name) != other.get(name)]
    if moves:
        shape = _geometry_change(other.get("geometry"), row.get("geometry"), words)
        if shape:
            out.append(shape)
    return out


def _named(name: str, value: object, layer: Layer, words: dict[str, str], language: str) -> str:
    attribute = layer.attributes.get(name)
    title = ((layer.attribute_title(name, language) if attribute is not None else None)
             or name.replace("_", " ")).lower()
    if value is None:
        return words["unknown"].format(what=title)
    if attribute is not None and attribute.type == "json":
        return words["changed"].format(what=title)  # a whole dict of source tags says nothing on one line
    if attribute is not None and attribute.values and isinstance(value, str):
        value = layer.value_words(name, value, language)
    unit = UNITS.get(attribute.unit, attribute.unit) if attribute is not None and attribute.unit else ""
    return words["value"].format(what=title, value=_value(value, language)) + (f" {unit}" if unit else "")


def _value(value: object, language: str = i18n.DEFAULT) -> str:
    if isinstance(value, bool):
        return i18n.text("viewer.yes" if value else "viewer.no", language)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _geometry_change(before: dict | None, after: dict | None, words: dict[str, str]) -> str:
    """"moved 5 m" where the same shape lies elsewhere, "reshaped" where the shape changed, else ""."""
    if before is None or after is None:
        return "" if before == after else words["reshaped"]
    a, b = shapely.geometry.shape(before), shapely.geometry.shape(after)
    if shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), MOVED_M):
        return ""
    dx, dy = b.centroid.x - a.centroid.x, b.centroid.y - a.centroid.y
    shifted = shapely.affinity.translate(a, dx, dy)
    if shapely.equals_exact(shapely.normalize(shifted), shapely.normalize(b), MOVED_M):
        return words["moved"].format(metres=_value(float((dx * dx + dy * dy) ** 0.5)))
    return words["reshaped"]
