"""``twin init``: a twin for a city, named and, where its CRS is given, with its layer tables made."""

from __future__ import annotations

from twin import crs as crs_rules
from twin.errors import SchemaError
from twin.store import city, database
from twin.store.migrate import fix_crs
from twin.store.stats import held


def init_city(name: str, crs: str | None = None) -> str:
    """Name the twin (refused where it already holds another city's data) and fix its CRS; returns what
    to tell the user."""
    name = name.strip()
    if not name:
        raise SchemaError("twin init: give the city's name, e.g. twin init Monaco")
    with database.connect() as connection:
        driver = database.psycopg_of(connection)
        have = city.read(driver)
        features = held(connection)
        if have.name not in (None, name) and features:
            raise SchemaError(f"this twin already holds {have.name} ({features:,} features); give each city its "
                              "own TWIN_HOME (or TWIN_DATABASE_URL) and run twin init there")
        city.record(driver, "name", name)
        if crs:
            fix_crs(connection, crs_rules.parse(crs, "--crs"))
        now = city.read(driver)
    return f"twin of {name} in {now.crs_label}" if now.crs else f"twin of {name}, no CRS yet: the first import chooses it"
