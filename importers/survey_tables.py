"""The tables of a Chinese pipeline survey as delivered: sheets of an Excel workbook, tables of an Access
database (read with mdbtools' ``mdb-tables`` and ``mdb-export``), or CSV files in pairs. Every cell comes
as text, blank cells missing, so 点号 J1 in one table is J1 in the other whatever the program wrote.
What the tables mean is :mod:`importers.survey`'s business."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from importers.csvfile import parse_table, read_table
from twin.errors import SourceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SURVEY_FILE = Path(__file__).with_name("survey.toml")
HEADER_SEARCH_ROWS = 10  # a sheet may open with a title row or two (给水管线点成果表) above its header


@lru_cache(maxsize=1)
def survey_table() -> dict:
    return tomllib.loads(SURVEY_FILE.read_text(encoding="utf-8"))


@dataclass
class Table:
    name: str  # the sheet, Access table or file stem: what its utility is told from
    where: str  # how messages name it: "给水.xlsx, sheet 管点"
    frame: pd.DataFrame  # cells as text, blank ones missing
    row_numbers: np.ndarray  # as a person finds each row

    def column(self, role: str) -> str | None:
        """The table's column for a structural role of survey.toml's [columns], or None."""
        return find_column([str(column) for column in self.frame.columns], role)


def find_column(columns: list[str], role: str) -> str | None:
    by_lower = {column.strip().lower(): column for column in columns}
    return next((by_lower[name.lower()] for name in survey_table()["columns"][role] if name.lower() in by_lower), None)


def kind_of(columns: list[str]) -> str | None:
    """'lines', 'points' or None: what a table with these columns is."""
    if find_column(columns, "start") and find_column(columns, "end"):
        return "lines"
    if find_column(columns, "point_id") and (
            (find_column(columns, "x") and find_column(columns, "y"))
            or (find_column(columns, "north") and find_column(columns, "east"))):
        return "points"
    return None


def workbook_tables(path: Path) -> list[Table]:
    import openpyxl  # only Excel imports need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(f"{path}: cannot be read as an Excel workbook ({type(exc).__name__}); the file may be "
                          "truncated, or an old .xls: save it as .xlsx") from None
    tables = []
    try:
        for sheet in book.worksheets:
            rows = [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
            table = _sheet_table(rows, sheet.title, f"{path.name}, sheet {sheet.title}")
            if table is not None:
                tables.append(table)
    finally:
        book.close()
    return tables


def _sheet_table(rows: list[list[str | None]], name: str, where: str) -> Table | None:
    """The survey table of a sheet: its header is the first row naming a structural column."""
    for at, header in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = [value or f"column {index + 1}" for index, value in enumerate(header)]
        if kind_of(names):
            body = [(number, row) for number, row in enumerate(rows[at + 1:], start=at + 2) if any(row)]
            width = len(names)
            frame = pd.DataFrame([(row + [None] * width)[:width] for _, row in body], columns=names, dtype=object)
            return Table(name, where, frame, np.array([number for number, _ in body], dtype=int))
    return None


def _cell(value: object) -> str | None:
    """An Excel cell as the text a surveyor typed: 12.0 stored for 12 is '12', dates as ISO dates."""
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def access_tables(path: Path) -> list[Table]:
    if shutil.which("mdb-export") is None:
        raise SourceError(f"{path}: reading an Access database needs mdbtools; install it (apt-get install mdbtools)")
    # Access 97 (Jet 3) files do not say their code page; Chinese surveys wrote them in GBK. Jet 4 text is
    # Unicode, which mdbtools writes as UTF-8 either way.
    env = {**os.environ, "MDB_JET3_CHARSET": os.environ.get("MDB_JET3_CHARSET", "GB18030")}
    names = [name for name in _mdb(path, ["mdb-tables", "-1", str(path)], env).splitlines() if name.strip()]
    tables = []
    for name in names:
        frame = parse_table(path, _mdb(path, ["mdb-export", "-D", "%Y-%m-%d", str(path), name], env), ",")
        if kind_of([str(column) for column in frame.columns]):
            tables.append(Table(name, f"{path.name}, table {name}", frame, np.arange(1, len(frame) + 1)))
    return tables


def _mdb(path: Path, command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, capture_output=True, env=env, check=False)
    if result.returncode != 0:
        said = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"{path}: cannot be read as an Access database ({said[0] if said else command[0]} failed); "
                          "the file may be truncated or of another format") from None
    try:
        return result.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{path}: {command[0]} gave text that is not UTF-8; set MDB_JET3_CHARSET to the "
                          "database's code page (e.g. GB18030)") from None


def csv_tables(path: Path, points: Path | None, encoding: str | None,
               partner_required: bool = True) -> tuple[list[Table], list[str]]:
    """The CSV given and, for a line table, its point table (``points``, else the file named like it);
    notes on the encodings read. Without ``partner_required`` a line table may come alone."""
    tables, notes = [], []
    first = _csv_table(path, encoding, notes)
    tables.append(first)
    if kind_of(list(first.frame.columns)) == "lines":
        partner = points or partner_of(path)
        if partner is None and not partner_required:
            return tables, notes
        if partner is None:
            raise SourceError(f"{path}: a survey line table needs its point table: put it beside, named like it "
                              f"({_example(path)}), or give it with --points FILE")
        if not partner.is_file():
            raise SourceError(f"--points {partner}: no such file")
        tables.append(_csv_table(partner, encoding, notes))
    return tables, notes


def _csv_table(path: Path, encoding: str | None, notes: list[str]) -> Table:
    frame, used = read_table(path, encoding)
    if not used.startswith("utf-8") and encoding is None:
        notes.append(f"{path.name}: text read as {used}")
    return Table(path.stem, path.name, frame.astype(object).where(frame.notna(), None), np.arange(2, len(frame) + 2))


def partner_of(path: Path) -> Path | None:
    """The point table's file beside a line table's: 管线 -> 管点, line -> point, GX -> GD in its name."""
    for candidate in _partner_names(path.stem):
        for found in path.parent.glob(f"*{path.suffix}"):
            if found.stem == candidate and found != path:
                return found
    return None


def _partner_names(stem: str) -> list[str]:
    names = []
    for line_word, point_word in survey_table()["names"]["pairs"]:
        for match in reversed(list(re.finditer(re.escape(line_word), stem, flags=re.IGNORECASE))):
            found = match.group(0)
            word = point_word.upper() if found.isupper() else point_word.title() if found.istitle() else point_word
            names.append(stem[:match.start()] + word + stem[match.end():])
            break
    return names


def _example(path: Path) -> str:
    names = _partner_names(path.stem)
    return f"{names[0]}{path.suffix}" if names else "e.g. 给水管点.csv beside 给水管线.csv"
