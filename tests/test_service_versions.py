"""A feature's versions through the service, over a twin of two building surveys (2015 and 2020, as in
test_snapshots) built once for the module with the real CLI (called in-process): real PostGIS, the service's app answering
in-process (FastAPI's TestClient; fast), or on uvicorn as `twin serve` starts it for a twin a test makes. The versions equal SQL, in WGS84; ``datetime`` picks the version standing then; ``recorded`` gives
what the twin said before the second survey came in; TiPg's own items by ``datetime`` give the version
standing then; the changes analysis counts the altered; bad requests are 400s and 404s naming why."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from support import Twin, reader_of, run_twin_in_process
from test_service import get, start_api, stop
from test_snapshots import SURVEY_2015, SURVEY_2020, write

from twin.catalog import load_catalog
from twin.errors import StoreError
from twin.service import READER_ROLE
from twin.service.reader import check_reader
from twin.time import EXISTED

CATALOG = load_catalog()
VERSIONS = "collections/buildings/items/{}/versions"
NO_SUCH = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Surveyed:
    twin: Twin
    client: object  # the service's app, in-process (FastAPI's TestClient)
    api: str  # its base URL, as the links it answers name it
    before: datetime  # a moment between the two imports
    ids: dict[str, str]  # "B2 v1" -> that version's row id

    def versions(self, feature: str, **query: str) -> tuple[int, dict]:
        """GET a feature's versions (``feature``: a name in ``ids``, or an id as it is)."""
        query = {key.rstrip("_"): value for key, value in query.items()}
        url = f"{self.api}/{VERSIONS.format(self.ids.get(feature, feature))}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return self.get(url)

    def get(self, url: str) -> tuple[int, dict | bytes]:
        """The in-process service's status and JSON (or bytes, where not JSON) for ``url``."""
        response = self.client.get(url)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.content


@pytest.fixture(scope="module")
def surveyed(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Surveyed]:
    """A twin holding the 2015 survey, then the 2020 one (B2 heightened, B3 demolished, B4 moved, B5
    built), and the API over it."""
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    name = f"versions_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    twin = Twin(database_url.rsplit("/", 1)[0] + f"/{name}", "EPSG:4548")
    folder = tmp_path_factory.mktemp("surveys")

    def run(*args: str) -> None:  # the real CLI, called in this process: the fast tier runs no twin command
        result = run_twin_in_process(*args, TWIN_DATABASE_URL=twin.url, TWIN_CRS=twin.crs)
        assert result.returncode == 0, result.stderr

    run("db", "migrate")
    run("import", str(write(folder / "survey_2015.geojson", SURVEY_2015)), "--layer", "buildings",
        "--source", "survey", "--as-of", "2015-06-30")
    before = twin.sql("SELECT now()")[0][0]
    run("import", str(write(folder / "survey_2020.geojson", SURVEY_2020)), "--layer", "buildings",
        "--source", "survey", "--as-of", "2020-06-30")
    ids = dict(twin.sql("SELECT source_id || ' v' || version, id::text FROM layers.buildings"))
    from fastapi.testclient import TestClient

    from twin.service.app import create_app
    from twin.store import database

    try:
        with TestClient(create_app(reader_of(twin.url)), client=("127.0.0.1", 50000)) as client:
            yield Surveyed(twin, client, str(client.base_url).rstrip("/"), before, ids)
    finally:
        for url in (twin.url, reader_of(twin.url)):  # the pooled connections, before the database goes
            database.engine(url).dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def expected_versions(twin: Twin, source_id: str) -> list[dict]:
    """A feature's versions straight from SQL: row id, the columns the route gives, WGS84 coordinates."""
    rows = twin.sql(
        "SELECT b.id::text, b.source, b.source_id, b.version, b.import_id, b.name, b.valid_from::text, "
        "b.valid_to::text, b.height_m, b.build_year, i.imported_at, "
        "ST_AsGeoJSON(ST_Transform(b.geom, 4326))::json -> 'coordinates' "
        "FROM layers.buildings b JOIN twin.imports i ON i.id = b.import_id WHERE b.source_id = %s "
        "ORDER BY b.version", source_id)
    keys = ("id", "source", "source_id", "version", "import_id", "name", "valid_from", "valid_to", "height_m",
            "build_year", "recorded", "coordinates")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def as_compared(feature: dict) -> dict:
    properties = feature["properties"]
    return {"id": feature["id"], **{key: properties[key] for key in (
                "source", "source_id", "version", "import_id", "name", "valid_from", "valid_to", "height_m",
                "build_year")},
            "recorded": datetime.fromisoformat(properties["recorded"]),
            "coordinates": feature["geometry"]["coordinates"]}


# -- every version ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("by", ["B2 v1", "B2 v2"])
@pytest.mark.fast
def test_the_versions_equal_sql_in_wgs84(surveyed: Surveyed, by: str) -> None:
    status, body = surveyed.versions(by)  # either version's id finds the feature
    assert status == 200, body
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == body["numberReturned"] == 2
    expected = expected_versions(surveyed.twin, "B2")
    # the same coordinates to the last digit: both are PostGIS's ST_Transform to 4326, as TiPg's items
    assert [as_compared(feature) for feature in body["features"]] == expected
    assert [f["properties"]["height_m"] for f in body["features"]] == [20.0, 30.0]
    assert all(f["properties"]["recorded"].endswith("+00:00") for f in body["features"])  # said in UTC


@pytest.mark.fast
def test_a_version_is_the_item_tipg_gives_with_its_history(surveyed: Surveyed) -> None:
    """Same geometry (WGS84, same precision) and same properties as the item, plus when it was recorded."""
    _, body = surveyed.versions("B4 v1")
    for feature in body["features"]:
        item_link = next(link["href"] for link in feature["links"] if link["rel"] == "item")
        status, item = surveyed.get(item_link)
        assert status == 200 and item["id"] == feature["id"]
        assert item["geometry"] == feature["geometry"]
        assert {**item["properties"], "recorded": feature["properties"]["recorded"]} == feature["properties"]
    # B4 moved 5 m east in 2020: the versions' geometries say so, in degrees
    west = [min(point[0] for point in f["geometry"]["coordinates"][0][0]) for f in body["features"]]
    assert 4e-5 < west[1] - west[0] < 8e-5


# -- datetime: the version standing then ------------------------------------------------------------------
@pytest.mark.parametrize(("datetime_", "version"), [
    ("2015", "B2 v1"), ("2019", "B2 v1"), ("2020-06-29", "B2 v1"), ("2020-06-30", "B2 v2"),
    ("2020", "B2 v2"), ("2020-06-30T00:00:00Z", "B2 v2"), ("2030", "B2 v2"),
])
@pytest.mark.fast
def test_datetime_answers_the_version_standing_then(surveyed: Surveyed, datetime_: str, version: str) -> None:
    status, feature = surveyed.versions("B2 v1", datetime_=datetime_)
    assert status == 200, feature
    assert feature["type"] == "Feature" and feature["id"] == surveyed.ids[version]
    assert feature["properties"]["version"] == int(version[-1])


@pytest.mark.parametrize(("feature", "datetime_", "stood"), [
    ("B5 v1", "2015", "2020-06-30/.."), ("B3 v1", "2021", "2015-06-30/2020-06-30"),
    ("B2 v2", "2014-12-31", "2015-06-30/2020-06-30, 2020-06-30/.."),
])
@pytest.mark.fast
def test_datetime_when_no_version_stood_is_a_404_saying_when_they_did(
        surveyed: Surveyed, feature: str, datetime_: str, stood: str) -> None:
    status, body = surveyed.versions(feature, datetime_=datetime_)
    assert status == 404, body
    assert body["detail"].startswith(f"no version of feature '{surveyed.ids[feature]}' in collection "
                                     "'buildings' stood on ")
    assert body["detail"].endswith(f"; its versions stood {stood}")


# -- recorded: what the twin said then -------------------------------------------------------------------
def told(feature: dict, *names: str) -> tuple:
    return tuple(feature["properties"][name] for name in names)


@pytest.mark.fast
def test_recorded_before_the_second_survey_gives_what_the_twin_said(surveyed: Surveyed) -> None:
    first_import = surveyed.twin.sql("SELECT min(id) FROM twin.imports")[0][0]
    in_utc = surveyed.before.astimezone(UTC).isoformat().replace("+00:00", "Z")
    for written in (surveyed.before.isoformat(), in_utc):
        status, body = surveyed.versions("B2 v2", recorded=written)  # the id of a version not yet made then
        assert status == 200, body
        [said] = body["features"]
        assert said["id"] == surveyed.ids["B2 v1"]
        assert told(said, "version", "valid_to", "height_m", "import_id") == (1, None, 20.0, first_import)
    # what it said then of the years after 2020: B2 still 20 m, B3 still standing
    status, feature = surveyed.versions("B2 v1", recorded=surveyed.before.isoformat(), datetime_="2021")
    assert status == 200 and feature["properties"]["height_m"] == 20.0
    status, feature = surveyed.versions("B3 v1", recorded=surveyed.before.isoformat(), datetime_="2021")
    assert status == 200 and feature["properties"]["valid_to"] is None
    # and now it says two versions, as it does without `recorded`
    now = datetime.now(UTC).isoformat()
    said_now = surveyed.versions("B2 v1", recorded=now)[1]["features"]
    assert said_now == surveyed.versions("B2 v1")[1]["features"] and len(said_now) == 2


@pytest.mark.fast
def test_recorded_accepts_an_offset_and_a_date(surveyed: Surveyed) -> None:
    local = surveyed.before.astimezone(timezone(timedelta(hours=8)))
    # a '+' left unescaped in the query string arrives as a space: read as the offset it was
    raw = f"{surveyed.api}/{VERSIONS.format(surveyed.ids['B2 v1'])}?recorded={local.isoformat()}"
    status, body = surveyed.get(raw)
    assert status == 200 and [f["properties"]["version"] for f in body["features"]] == [1], body
    # a date is the end of that day (UTC): the second import's day holds both surveys, the day before
    # the first neither
    first, second = (day for (day,) in surveyed.twin.sql(
        "SELECT (imported_at AT TIME ZONE 'UTC')::date FROM twin.imports ORDER BY id"))
    status, body = surveyed.versions("B2 v1", recorded=second.isoformat())
    assert [told(feature, "version") for feature in body["features"]] == [(1,), (2,)]
    status, body = surveyed.versions("B2 v1", recorded=(first - timedelta(days=1)).isoformat())
    assert status == 404 and body["detail"] == (
        f"the twin did not hold feature '{surveyed.ids['B2 v1']}' in collection 'buildings' yet at "
        f"{first - timedelta(days=1)}T23:59:59.999999+00:00")


@pytest.mark.fast
def test_a_feature_the_twin_did_not_hold_yet_is_a_404(surveyed: Surveyed) -> None:
    status, body = surveyed.versions("B5 v1", recorded=surveyed.before.isoformat())
    assert status == 404 and "did not hold feature" in body["detail"] and "yet at" in body["detail"]


def test_a_feature_a_plain_import_deleted_is_seen_through_recorded(make_twin, tmp_path: Path) -> None:
    """A plain re-import replaces its source: B3, not in it, is deleted; what the twin said before still
    shows it, without a link to an item it no longer holds."""
    twin = make_twin()
    twin.run("import", str(write(tmp_path / "survey.geojson", SURVEY_2015)), "--layer", "buildings",
             "--source", "survey")
    before = twin.sql("SELECT now()")[0][0].isoformat()
    [(b3,)] = twin.sql("SELECT id::text FROM layers.buildings WHERE source_id = 'B3'")
    twin.run("import", str(write(tmp_path / "survey.geojson", SURVEY_2020)), "--layer", "buildings",
             "--source", "survey")
    [(second,)] = twin.sql("SELECT max(id) FROM twin.imports")
    base, process = start_api(TWIN_DATABASE_URL=twin.url, TWIN_CRS=twin.crs)
    try:
        url = f"{base}/{VERSIONS.format(b3)}"
        status, body = get(url)
        assert status == 404 and body["detail"] == (
            f"no feature '{b3}' in collection 'buildings' now: import {second} deleted it (`recorded` before "
            "that import shows it as the twin held it)")
        status, body = get(f"{url}?{urllib.parse.urlencode({'recorded': before})}")
        assert status == 200, body
        [said] = body["features"]
        assert (said["id"], *told(said, "name", "height_m")) == (b3, "Old depot", 9.0)
        assert [link["rel"] for link in said["links"]] == ["collection"]
    finally:
        stop(process)


# -- TiPg's items by datetime ----------------------------------------------------------------------------
@pytest.mark.parametrize(("datetime_", "days", "standing"), [
    ("2017", ("2017-12-31", "2017-12-31"), ["B1 v1", "B2 v1", "B3 v1", "B4 v1"]),
    ("2021", ("2021-12-31", "2021-12-31"), ["B1 v1", "B2 v2", "B4 v2", "B5 v1"]),
    ("2020-06-29", ("2020-06-29", "2020-06-29"), ["B1 v1", "B2 v1", "B3 v1", "B4 v1"]),
    ("2020-06-30", ("2020-06-30", "2020-06-30"), ["B1 v1", "B2 v2", "B4 v2", "B5 v1"]),
    # an interval: every version standing on some day of it (a year's end as an interval's end: its 31 Dec)
    ("2010/2016", ("2010-12-31", "2016-12-31"), ["B1 v1", "B2 v1", "B3 v1", "B4 v1"]),
    ("2019/2021", ("2019-12-31", "2021-12-31"),
     ["B1 v1", "B2 v1", "B2 v2", "B3 v1", "B4 v1", "B4 v2", "B5 v1"]),
])
@pytest.mark.fast
def test_items_by_datetime_give_the_version_standing_then(surveyed: Surveyed, datetime_: str,
                                                          days: tuple[str, str], standing: list[str]) -> None:
    status, body = surveyed.get(f"{surveyed.api}/collections/buildings/items?datetime={datetime_}&limit=100")
    assert status == 200, body
    named = {identifier: name for name, identifier in surveyed.ids.items()}
    assert sorted(named[feature["id"]] for feature in body["features"]) == standing
    in_sql = surveyed.twin.sql("SELECT count(*) FROM layers.buildings WHERE "
                               + EXISTED.format(start="%s::date", end="%s::date"), days[1], days[0])[0][0]
    assert body["numberMatched"] == in_sql == len(standing)


# -- the changes analysis ----------------------------------------------------------------------------------
@pytest.mark.fast
def test_changes_count_the_altered(surveyed: Surveyed) -> None:
    status, body = surveyed.get(f"{surveyed.api}/analyses/changes?from=2019&to=2020")
    assert status == 200, body
    [layer] = body["layers"]
    counts = ("appeared", "disappeared", "altered")
    assert (layer["layer"], *(layer[count] for count in counts)) == ("buildings", 1, 1, 2)
    assert tuple(body["summary"][count] for count in counts) == (1, 1, 2)
    status, body = surveyed.get(f"{surveyed.api}/analyses/changes?from=2016&to=2019")
    assert body["layers"] == [] and body["summary"]["altered"] == 0


# -- what the OpenAPI document says ---------------------------------------------------------------------
@pytest.mark.fast
def test_the_openapi_document_describes_the_versions(surveyed: Surveyed) -> None:
    status, document = surveyed.get(f"{surveyed.api}/api")
    assert status == 200
    operation = document["paths"]["/collections/{collectionId}/items/{featureId}/versions"]["get"]
    assert operation["summary"] == "The versions of a feature" and "oldest first" in operation["description"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"collectionId", "featureId", "datetime", "recorded"}
    assert "version standing then" in parameters["datetime"]["description"]  # its own, not the items' words
    assert "RFC 3339" in parameters["recorded"]["description"]
    example = operation["responses"]["200"]["content"]["application/geo+json"]["example"]
    shown = set(example["features"][0]["properties"])
    assert {"version", "valid_from", "valid_to", "recorded", "import_id"} <= shown
    assert {"400", "404"} <= set(operation["responses"])
    changes = document["paths"]["/analyses/changes"]["get"]["responses"]["200"]["content"]["application/json"]
    assert changes["example"]["summary"]["altered"] == 2 and "altered" in changes["example"]["layers"][0]
    assert "/versions" in document["info"]["description"]


# -- bad requests ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "query", "status", "detail"), [
    ("collections/nope/items/{B2 v1}/versions", "", 404, "no collection 'nope'; collections: "),
    ("collections/buildings/items/not-a-uuid/versions", "", 400,
     "featureId: 'not-a-uuid' is not a feature id (feature ids are UUIDs)"),
    (f"collections/buildings/items/{NO_SUCH}/versions", "", 404,
     f"no feature '{NO_SUCH}' in collection 'buildings'"),
    (f"collections/roads/items/{{B2 v1}}/versions", "", 404, "in collection 'roads'"),
    ("collections/buildings/items/{B2 v1}/versions", "datetime=20x5", 400, "datetime: '20x5' is not a year"),
    ("collections/buildings/items/{B2 v1}/versions", "datetime=2015-13-01", 400,
     "datetime: '2015-13-01' is not"),
    ("collections/buildings/items/{B2 v1}/versions", "datetime=2010/2015", 400,
     "datetime: '2010/2015' is an interval"),
    ("collections/buildings/items/{B2 v1}/versions", "recorded=soon", 400,
     "recorded: 'soon' is not an RFC 3339 date-time"),
    ("collections/buildings/items/{B2 v1}/versions", "recorded=2015", 400, "recorded: '2015' is not"),
    ("collections/buildings/items/{B2 v1}/versions", "recorded=2020-07-01T12:00:00", 400,
     "recorded: '2020-07-01T12:00:00' has no time zone offset"),
    ("collections/buildings/items/{B2 v1}/versions", "recorded=2020-07-01T25:00:00Z", 400, "recorded: "),
])
@pytest.mark.fast
def test_bad_requests_are_answered_in_one_line(surveyed: Surveyed, path: str, query: str, status: int,
                                               detail: str) -> None:
    url = f"{surveyed.api}/{path.replace('{B2 v1}', surveyed.ids['B2 v1'])}" + (f"?{query}" if query else "")
    got, body = surveyed.get(url)
    assert got == status, body
    assert detail in body["detail"] and "\n" not in body["detail"], body


# -- the role it reads with ------------------------------------------------------------------------------
@pytest.mark.fast
def test_the_reader_role_reads_the_history_and_is_checked_for_it(surveyed: Surveyed) -> None:
    reader = surveyed.twin.url.replace("postgres@", f"{READER_ROLE}@", 1)
    with psycopg.connect(reader) as connection:
        assert connection.execute("SELECT count(*) FROM history.buildings").fetchone()[0] == 3
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM history.buildings")
    check_reader(reader, CATALOG)
    for revoke, grant, named in (
            (f"REVOKE SELECT ON history.buildings FROM {READER_ROLE}",
             f"GRANT SELECT ON history.buildings TO {READER_ROLE}", "history.buildings"),
            (f"REVOKE USAGE ON SCHEMA history FROM {READER_ROLE}",
             f"GRANT USAGE ON SCHEMA history TO {READER_ROLE}", "history.buildings")):
        surveyed.twin.sql(revoke)
        try:
            with pytest.raises(StoreError, match=f"cannot read the tables .*{named}"):
                check_reader(reader, CATALOG)
        finally:
            surveyed.twin.sql(grant)
    check_reader(reader, CATALOG)


@pytest.mark.fast
def test_the_twin_holds_what_the_tests_assume(surveyed: Surveyed) -> None:
    """The fixture's two surveys, as test_snapshots checks them in detail."""
    assert sorted(surveyed.ids) == ["B1 v1", "B2 v1", "B2 v2", "B3 v1", "B4 v1", "B4 v2", "B5 v1"]
    assert surveyed.twin.sql("SELECT count(*) FROM twin.imports")[0][0] == 2
    assert isinstance(surveyed.before, datetime) and date(2015, 6, 30) < surveyed.before.date()
