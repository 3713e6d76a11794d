"""A feature's values as a person reads them in the picked card: under the catalog's titles, with their
units, numbers rounded to what they can mean, coded values in words; the columns every feature has (its
source, its dates, its version, its id) under titles of their own, the id last; in the page's language."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from twin import i18n
from twin.catalog import Layer

# The columns every feature has, in the order the card lists them (the id, for the API, last); their
# titles are the viewer's messages ``own_<column>``.
OWN = ("name", "source", "source_id", "valid_from", "valid_to", "version")
LAST = ("id",)
HIDDEN = {"geom", "lod2", "tags", "import_id"}  # drawn, or bookkeeping, or too long for a card
UNITS = {"m2": "m²", "m3": "m³", "km2": "km²"}  # the catalog writes units in ASCII
DIGITS = 2  # decimals shown at most: centimetres, for the metres most values are


def rows(layer: Layer, values: dict[str, object], language: str = i18n.DEFAULT) -> list[tuple[str, str]]:
    """(title, text) for the picked card, of every value the feature has."""
    def own(names: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(i18n.text(f"viewer.own_{name}", language), text(values[name], language=language))
                for name in names if values.get(name) is not None]

    shown = own(OWN)
    for name, value in values.items():
        if name in OWN or name in LAST or name in HIDDEN or value is None:
            continue
        attribute = layer.attributes.get(name)
        title = layer.attribute_title(name, language) if attribute else None
        unit = UNITS.get(attribute.unit, attribute.unit) if attribute and attribute.unit else None
        if attribute and attribute.values and isinstance(value, str):
            value = layer.value_words(name, value, language)
        shown.append((title or name.replace("_", " ").capitalize(), text(value, unit, language=language)))
    return shown + own(LAST)


def text(value: object, unit: str | None = None, language: str = i18n.DEFAULT) -> str:
    """One value: ``28.5 m``, ``1,200 m²``, ``yes``, ``2015-06-30``."""
    if isinstance(value, bool):
        written = i18n.text("viewer.yes" if value else "viewer.no", language)
    elif isinstance(value, (float, Decimal)):
        written = f"{float(value):,.{DIGITS}f}".rstrip("0").rstrip(".")
    elif isinstance(value, int):
        written = f"{value:,}" if abs(value) >= 10_000 else str(value)  # a year reads 2012, not 2,012
    elif isinstance(value, (date, datetime)):
        written = value.isoformat()
    elif isinstance(value, (dict, list)):
        written = json.dumps(value, ensure_ascii=False)
    else:
        written = str(value)
    return f"{written} {unit}" if unit else written
