"""The twin's history in the viewer: a picked feature lists its versions."""

from __future__ import annotations

from datetime import date

from test_snapshots import X, Y, square

from twin.catalog import load_catalog
from viewer.versions import lines

CATALOG = load_catalog()
BUILDINGS = CATALOG["buildings"]
JUNE_2015, JUNE_2020 = date(2015, 6, 30), date(2020, 6, 30)


def version(number: int, start: date | None, end: date | None, geometry: dict, **values) -> dict:
    """A row as twin.history.versions gives it."""
    return {"id": f"id-{number}", "source": "survey", "source_id": "B", "version": number, "import_id": 1,
            "name": None, "valid_from": start, "valid_to": end, "height_m": 20.0, "floors": None,
            "geometry": geometry, "recorded": None, **values}


def texts(rows: list[dict], first_survey: date | None = JUNE_2015) -> list[str]:
    return [line.text for line in lines(rows, BUILDINGS, first_survey)]


def test_each_version_says_what_it_changed() -> None:
    heightened = [version(1, JUNE_2015, JUNE_2020, square(X, Y)),
                  version(2, JUNE_2020, None, square(X, Y), height_m=30.0)]
    assert texts(heightened) == ["2015-06-30 – 2020-06-30 · height 20 m", "since 2020-06-30 · height 30 m"]
    [first, second] = lines(heightened, BUILDINGS, JUNE_2015)
    assert (first.version, first.start, first.end) == (True, "2015-06-30", "2020-06-30")
    assert (second.start, second.end) == ("2020-06-30", None)
    moved = [version(1, JUNE_2015, JUNE_2020, square(X, Y)), version(2, JUNE_2020, None, square(X + 3, Y + 4))]
    assert texts(moved) == ["2015-06-30 – 2020-06-30", "since 2020-06-30 · moved 5 m"]
    grown = [version(1, JUNE_2015, JUNE_2020, square(X, Y)),
             version(2, JUNE_2020, None, square(X, Y, 30.0), floors=8, name="Depot")]
    assert texts(grown) == ["2015-06-30 – 2020-06-30 · name unknown · floors unknown",
                            "since 2020-06-30 · name Depot · floors 8 · reshaped"]


def test_built_demolished_and_back() -> None:
    """Built where the feature came after its source's first survey (or the file dates it), demolished
    where its last version closed, and gone between two versions the surveys between missed."""
    day = date(2022, 1, 1)
    rows = [version(1, JUNE_2020, day, square(X, Y)), version(2, day, date(2024, 1, 1), square(X, Y), height_m=25.0)]
    assert texts(rows) == ["built 2020-06-30", "2020-06-30 – 2022-01-01 · height 20 m",
                           "2022-01-01 – 2024-01-01 · height 25 m", "demolished 2024-01-01"]
    assert [line.version for line in lines(rows, BUILDINGS, JUNE_2015)] == [False, True, True, False]
    back = [version(1, JUNE_2015, JUNE_2020, square(X, Y)), version(2, day, None, square(X, Y))]
    assert texts(back) == ["2015-06-30 – 2020-06-30", "demolished 2020-06-30", "since 2022-01-01 · back"]
    # A pipe without a date of its own (open since ever) is laid anew, then removed.
    line = {"type": "LineString", "coordinates": [[X, Y], [X + 50, Y]]}
    pipes = [version(1, None, JUNE_2020, line, diameter_mm=200.0), version(2, JUNE_2020, day, line, diameter_mm=300.0)]
    assert [line.text for line in lines(pipes, CATALOG["water_supply"], JUNE_2015)] == [
        "until 2020-06-30 · diameter 200 mm", "2020-06-30 – 2022-01-01 · diameter 300 mm", "removed 2022-01-01"]
