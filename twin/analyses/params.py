"""The analyses' parameters, checked once for every caller (the service's routes, the viewer's panels):
a bad value is a :class:`ParameterError` whose message starts with the parameter's name, which the
service answers as a 400; the messages are the ``parameters`` section of ``twin/messages/``.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date

from twin.errors import ParameterError

FIRST_YEAR, LAST_YEAR = 1, 9999  # the years a date can hold (twin.time judges a year on its 31 December)
MAX_YEARS = 200  # a span of years asked for at once; more is a 400 (each year is a pass over the data)
MAX_METRES = 1e8  # |x|, |y| in a projected CRS: the Earth is 4e7 m round
MAX_SOURCE_ID = 200  # characters of a source id asked for (a source's own ids are short codes)


def year(value: int | None, name: str = "year") -> int:
    """A year the twin's time rule can judge; None is this year (the analyses' :func:`cache.run` gives the
    last year of the twin's data in its place before checking)."""
    if value is None:
        return date.today().year
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise ParameterError.of(name, "not_a_year", value=value, first=FIRST_YEAR, last=LAST_YEAR)
    return value


def years(text: str | int | None, name: str = "year") -> tuple[int, int]:
    """A year (``2020``, or the number) or an interval of years (``2018/2020``), as (first, last); None is
    this year."""
    if isinstance(text, int):
        return year(text, name), year(text, name)
    if text is None or not text.strip():
        this = year(None)
        return this, this
    parts = text.split("/")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        numbers = []
    if not 1 <= len(numbers) <= 2:
        raise ParameterError.of(name, "not_years", value=text)
    first, last = year(numbers[0], name), year(numbers[-1], name)
    if first > last:
        raise ParameterError.of(name, "years_backwards", value=text)
    if last - first >= MAX_YEARS:
        raise ParameterError.of(name, "too_many_years", value=text, most=MAX_YEARS)
    return first, last


def count(value: int, name: str, most: int) -> int:
    """A whole number from 1 to ``most``."""
    if not 1 <= value <= most:
        raise ParameterError.of(name, "not_a_count", value=value, most=most)
    return value


def bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minLon,minLat,maxLon,maxLat`` in WGS84 degrees (CRS84), or None for no box; six numbers (with
    heights, as OGC API bboxes may have) are taken with their heights ignored."""
    if text is None or not text.strip():
        return None
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ParameterError.of("bbox", "bbox_not_numbers", value=text) from None
    if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
        raise ParameterError.of("bbox", "bbox_count", value=text)
    west, south, east, north = values if len(values) == 4 else (values[0], values[1], values[3], values[4])
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise ParameterError.of("bbox", "bbox_outside", value=text)
    if west > east or south > north:  # equal: a box around one point or along one line
        raise ParameterError.of("bbox", "bbox_backwards", value=text)
    return west, south, east, north


def box(values: tuple[float, float, float, float] | list[float] | None) -> list[float] | None:
    """A box of the twin's own CRS, ``(minX, minY, maxX, maxY)`` in metres, or None for no box."""
    if values is None:
        return None
    values = [float(value) for value in values]
    if len(values) != 4 or not all(math.isfinite(v) and abs(v) <= MAX_METRES for v in values):
        raise ParameterError.of("box", "box_numbers", value=values)
    if values[0] > values[2] or values[1] > values[3]:
        raise ParameterError.of("box", "box_backwards", value=values)
    return values


def area(bbox_text: str | None, twin_box: tuple[float, float, float, float] | None) -> dict[str, list[float] | None]:
    """The area an analysis is asked about: a WGS84 ``bbox`` (the service's) or a ``box`` of the twin's
    CRS (the viewer's), not both; neither is everywhere."""
    if bbox_text is not None and twin_box is not None:
        raise ParameterError.of("bbox", "bbox_and_box")
    found = bbox(bbox_text)
    return {"bbox": None if found is None else list(found), "box": box(twin_box)}


@dataclass(frozen=True)
class Place:
    """A point someone asks about: WGS84 longitude/latitude, or x/y in the twin's own CRS."""

    x: float
    y: float
    wgs84: bool


def place(lon: float | None, lat: float | None, x: float | None, y: float | None) -> Place:
    """Exactly one of the pairs lon/lat (WGS84 degrees) and x/y (the twin's CRS), each finite and whole."""
    pairs = {"lon/lat": (lon, lat), "x/y": (x, y)}
    given = [label for label, pair in pairs.items() if any(value is not None for value in pair)]
    if len(given) != 1:
        raise ParameterError.of("lon", "one_pair_only" if given else "one_pair")
    label = given[0]
    first, second = pairs[label]
    names = label.split("/")
    for name, value in zip(names, (first, second)):
        if value is None:
            raise ParameterError.of(name, "pair_missing", pair=label)
        if not math.isfinite(value):
            raise ParameterError.of(name, "not_finite", value=value)
    if label == "lon/lat" and not (-180 <= first <= 180 and -90 <= second <= 90):
        raise ParameterError.of("lon", "not_lon_lat", x=first, y=second)
    if label == "x/y" and not (abs(first) <= MAX_METRES and abs(second) <= MAX_METRES):
        raise ParameterError.of("x", "beyond_crs", x=first, y=second, most=MAX_METRES)
    return Place(first, second, wgs84=label == "lon/lat")


def is_feature_id(value: str) -> bool:
    """Whether ``value`` is a feature id (a UUID, as every layer row's ``id``)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def feature_ref(value: str, name: str) -> str:
    """A feature named by its id (a UUID, normalised) or its source id (as the viewer shows it, the
    ``source_id`` column), the analysis looking up which."""
    text = value.strip()
    if is_feature_id(text):
        return str(uuid.UUID(text))
    if not text or len(text) > MAX_SOURCE_ID:
        raise ParameterError.of(name, "not_a_feature_ref", value=value, most=MAX_SOURCE_ID)
    return text
