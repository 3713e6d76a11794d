"""A feature's values as a person reads them in the picked card: under the catalog's titles, with their
units, numbers rounded to what they can mean, coded values in words; the columns every feature has (its
source, its dates, its version, its id) under titles of their own, the id last."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from twin.catalog import Layer

# The columns every feature has, in the order the card lists them (the id, for the API, last).
OWN = {"name": "Name", "source": "Source", "source_id": "Source id", "valid_from": "Since", "valid_to": "Until",
       "version": "Version"}
LAST = {"id": "Feature id"}
HIDDEN = {"geom", "lod2", "tags", "import_id"}  # drawn, or bookkeeping, or too long for a card
UNITS = {"m2": "m²", "m3": "m³", "km2": "km²"}  # the catalog writes units in ASCII
DIGITS = 2  # decimals shown at most: centimetres, for the metres most values are


def rows(layer: Layer, values: dict[str, object]) -> list[tuple[str, str]]:
    """(title, text) for the picked card, of every value the feature has."""
    shown = [(OWN[name], text(values[name])) for name in OWN if values.get(name) is not None]
    for name, value in values.items():
        if name in OWN or name in LAST or name in HIDDEN or value is None:
            continue
        attribute = layer.attributes.get(name)
        title = attribute.title if attribute and attribute.title else name.replace("_", " ").capitalize()
        unit = UNITS.get(attribute.unit, attribute.unit) if attribute and attribute.unit else None
        coded = bool(attribute and attribute.values)
        shown.append((title, text(value, unit, coded)))
    shown += [(LAST[name], text(values[name])) for name in LAST if values.get(name) is not None]
    return shown


def text(value: object, unit: str | None = None, coded: bool = False) -> str:
    """One value: ``28.5 m``, ``1,200 m²``, ``in service``, ``yes``, ``2015-06-30``."""
    if isinstance(value, bool):
        written = "yes" if value else "no"
    elif isinstance(value, (float, Decimal)):
        written = f"{float(value):,.{DIGITS}f}".rstrip("0").rstrip(".")
    elif isinstance(value, int):
        written = f"{value:,}" if abs(value) >= 10_000 else str(value)  # a year reads 2012, not 2,012
    elif isinstance(value, (date, datetime)):
        written = value.isoformat()
    elif isinstance(value, (dict, list)):
        written = json.dumps(value, ensure_ascii=False)
    else:
        written = str(value).replace("_", " ") if coded else str(value)
    return f"{written} {unit}" if unit else written
