"""What a twin records about its city in ``twin.meta``: its name (and its names in other languages, keys
``name.<language>``), its CRS (with the SRID of its geometry
columns) and, as data arrives, its extent. Read on a psycopg connection (:func:`twin.store.database.raw`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from twin.store import core_table

META = core_table("meta")

# How the viewer's title and the CLI name a twin whose city was never named (`twin init NAME` names it).
UNNAMED = "Unnamed city"


NAME_IN = "name."  # the meta keys of the city's names in other languages: name.zh-CN


@dataclass(frozen=True)
class City:
    name: str | None
    crs: str | None  # None until `twin init --crs`, TWIN_CRS or the first import fixes it
    srid: int | None  # of the geometry columns: the EPSG code of the CRS's horizontal part, or one twin made
    extent: tuple[float, float, float, float] | None  # xmin, ymin, xmax, ymax in the twin's CRS
    names: dict[str, str] = field(default_factory=dict)  # language -> the city's name in it (`twin init --name-in`)

    @property
    def title(self) -> str:
        return self.name or UNNAMED

    def title_in(self, language: str) -> str:
        """The city's name in ``language`` where it was given one, else its name."""
        return self.names.get(language) or self.title

    @property
    def crs_label(self) -> str:
        """The CRS in a few words: its EPSG code(s), or the name inside its WKT."""
        if self.crs is None:
            return "no CRS yet"
        if self.crs.startswith("EPSG:"):
            return self.crs
        from pyproj import CRS  # only for a CRS without a code

        crs = CRS.from_user_input(self.crs)
        if crs.name != "unknown":
            return crs.name
        method = crs.coordinate_operation.method_name if crs.coordinate_operation else "custom"
        return f"a local CRS ({method})"


def read(connection: psycopg.Connection) -> City:
    """The twin's facts; all None in a database without twin's schema."""
    try:
        with connection.transaction():
            rows = dict(connection.execute(sql.SQL("SELECT key, value FROM {}").format(META)).fetchall())
    except psycopg.errors.UndefinedTable:
        rows = {}
    extent = tuple(float(v) for v in rows["extent"].split()) if rows.get("extent") else None
    srid = rows.get("srid")
    names = {key.removeprefix(NAME_IN): value for key, value in rows.items() if key.startswith(NAME_IN)}
    return City(rows.get("name"), rows.get("crs"), int(srid) if srid else _epsg(rows.get("crs")), extent,  # type: ignore[arg-type]
                names)


def _epsg(crs: str | None) -> int | None:
    """The SRID of a twin made before the SRID was recorded beside its CRS (always ``EPSG:n`` then)."""
    if crs and crs.upper().startswith("EPSG:") and crs[5:].isdigit():
        return int(crs[5:])
    return None


def record(connection: psycopg.Connection, key: str, value: str) -> None:
    connection.execute(sql.SQL("INSERT INTO {} (key, value) VALUES (%s, %s) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value").format(META), (key, value))


def name_if_unnamed(connection: psycopg.Connection, source: str) -> None:
    """A twin nobody named takes the name of its first source, "monaco" as "Monaco" (`twin init NAME`
    names it)."""
    name = source.replace("_", " ").strip()
    name = name[:1].upper() + name[1:] if name.islower() else name
    connection.execute(sql.SQL("INSERT INTO {} (key, value) VALUES ('name', %s) ON CONFLICT DO NOTHING").format(META),
                       (name or source,))


def grow_extent(connection: psycopg.Connection, bounds: tuple[float, float, float, float]) -> None:
    """Widen the recorded extent to take in ``bounds`` (xmin, ymin, xmax, ymax) of newly imported data."""
    if any(value != value for value in bounds):  # NaN: nothing with a position arrived
        return
    old = read(connection).extent
    if old is not None:
        bounds = (min(old[0], bounds[0]), min(old[1], bounds[1]), max(old[2], bounds[2]), max(old[3], bounds[3]))
    record(connection, "extent", " ".join(f"{value:.3f}" for value in bounds))
