"""``twin init``: a twin for a city, named and, where its CRS is given, with its layer tables made."""

from __future__ import annotations

from collections.abc import Mapping

from twin import crs as crs_rules
from twin import i18n
from twin.errors import SchemaError
from twin.store import city, database
from twin.store.migrate import fix_crs
from twin.store.stats import held


def init_city(name: str, crs: str | None = None, names: Mapping[str, str] | None = None) -> str:
    """Name the twin (refused where it already holds another city's data), in other languages too
    (``names``: language -> name), and fix its CRS; returns what to tell the user."""
    name = name.strip()
    if not name:
        raise SchemaError("twin init: give the city's name, e.g. twin init Monaco")
    for language, named in (names or {}).items():
        if language not in i18n.LANGUAGES or language == i18n.DEFAULT or not named.strip():
            raise SchemaError(f"twin init --name-in {language}={named}: give LANGUAGE=NAME with LANGUAGE one of "
                              f"{', '.join(i18n.LANGUAGES[1:])}, e.g. --name-in zh-CN=中新天津生态城")
    with database.connect() as connection:
        driver = database.psycopg_of(connection)
        have = city.read(driver)
        features = held(connection)
        if have.name not in (None, name) and features:
            raise SchemaError(f"this twin already holds {have.name} ({features:,} features); give each city its "
                              "own TWIN_HOME (or TWIN_DATABASE_URL) and run twin init there")
        city.record(driver, "name", name)
        for language, named in (names or {}).items():
            city.record(driver, f"{city.NAME_IN}{language}", named.strip())
        if crs:
            fix_crs(connection, crs_rules.parse(crs, "--crs"))
        now = city.read(driver)
    return f"twin of {name} in {now.crs_label}" if now.crs else f"twin of {name}, no CRS yet: the first import chooses it"
