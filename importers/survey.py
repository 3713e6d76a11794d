"""Chinese pipeline survey tables (CJJ 61, CJJ/T 8): a point table (点号, X, Y, 地面高程, 埋深, 特征/附属物)
and a line table (起点点号, 终点点号, 起点埋深, 终点埋深, 管径, 材质, ...) per utility, in an Excel workbook,
an Access database or a pair of CSV files (:mod:`importers.survey_tables`).

Lines join their points by 点号 into 3D pipes: each end at its point's X/Y, with the point's 地面高程 as the
ground there, from which the pipeline's heights step takes the line's depths (DEM or 0 m where a point
has no ground), so the pipes lie as surveyed even without a DEM. A point's fitting code (survey.toml)
makes it a valve, manhole or hydrant. The tables carry no CRS: --crs, else the twin's own. Which of X and
Y is north is told from the values (Chinese surveyors write X for north); the summary says how they were
read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from importers.base import Importer, ImportOptions, Records
from importers.geometry import extent_of, source_crs
from importers.mapping import choose_columns
from importers.survey_tables import (
    Table, access_tables, csv_tables, find_column, kind_of, survey_table, workbook_tables,
)
from twin.catalog import Catalog, Layer
from twin.errors import SourceError

WORKBOOK = (".xlsx", ".xlsm")
ACCESS = (".mdb", ".accdb")
TEXT = (".csv", ".txt")


@dataclass
class Pair:
    """One utility's tables; either may be missing from a file."""

    utility: str | None  # its pipe layer, as the tables' or file's name says
    points: Table | None = None
    lines: Table | None = None


@dataclass
class _Points:
    """A point table read: where each point lies, its ground and its depth."""

    table: Table
    keys: np.ndarray  # 点号 as text, None where blank
    east: np.ndarray
    north: np.ndarray
    ground: np.ndarray  # NaN where the table has none
    depth: np.ndarray
    note: str

    def rows_of(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for row, key in enumerate(self.keys):
            if key is not None:
                rows.setdefault(key, []).append(row)
        return rows


class SurveyTables(Importer):
    format = "survey tables"

    @classmethod
    def accepts(cls, path: Path, head: bytes) -> bool:
        suffix = path.suffix.lower()
        if suffix in WORKBOOK + ACCESS:
            return True
        if suffix not in TEXT:
            return False
        first = head.split(b"\n", 1)[0]
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                header = first.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return False
        columns = [name.strip().strip('"') for name in re.split(r"[,;\t|]", header)]
        kind = kind_of(columns)
        # A point table alone is a survey's only when it has fitting codes; else it is plain CSV points.
        return kind == "lines" or (kind == "points" and bool(find_column(columns, "feature")
                                                               or find_column(columns, "fitting")))

    def feeds(self, path: Path, catalog: Catalog) -> list[str]:
        # The point table may come with --points, which only the import knows: the line table alone says
        # which pipe layer the file feeds.
        pairs = _pairs(path, self._tables(path, None, None, partner_required=False)[0])
        if any(pair.lines is not None and pair.utility is None for pair in pairs):
            return []
        pipes = [pair.utility for pair in pairs if pair.lines is not None]
        fittings = [layer for pair in pairs if pair.points is not None for layer in _fitting_counts(pair.points)]
        return [layer for layer in dict.fromkeys(pipes + fittings) if layer in catalog]

    def read(self, path: Path, options: ImportOptions) -> Records:
        return self.read_many(path, options, [options.layer])[options.layer.id]

    def read_many(self, path: Path, options: ImportOptions, layers: list[Layer]) -> dict[str, Records]:
        tables, notes = self._tables(path, options.points, options.encoding)
        pairs = _pairs(path, tables)
        crs, crs_note = _crs(path, options)
        points = {id(pair): _read_points(pair.points, crs) for pair in pairs if pair.points is not None}
        out = {}
        for layer in layers:
            if layer.geometry == "line" and layer.z:
                pair = _pair_for(path, pairs, layer)
                records = _pipes(path, pair, points[id(pair)], options, layer)
            elif layer.id in {spec["layer"] for spec in survey_table()["fittings"].values()}:
                records = _fittings([(pair, points[id(pair)]) for pair in pairs if pair.points is not None], layer)
            else:
                raise SourceError(f"{path}: survey tables feed pipe layers and the layers valves, manholes and "
                                  f"smart_hydrants, not '{layer.id}'; choose one of those with --layer")
            records.crs = None if options.crs else crs
            records.notes[:0] = [*notes, crs_note]
            out[layer.id] = records
        return out

    def _tables(self, path: Path, points: Path | None, encoding: str | None,
                partner_required: bool = True) -> tuple[list[Table], list[str]]:
        suffix = path.suffix.lower()
        if suffix in WORKBOOK:
            return workbook_tables(path), []
        if suffix in ACCESS:
            return access_tables(path), []
        return csv_tables(path, points, encoding, partner_required)


def _pairs(path: Path, tables: list[Table]) -> list[Pair]:
    """The tables as one pair per utility; tables whose names say none take the file's name's utility."""
    fallback = _utility(path.stem)
    pairs: dict[str | None, Pair] = {}
    for table in tables:
        utility = _utility(table.name) or fallback
        pair = pairs.setdefault(utility, Pair(utility))
        kind = kind_of([str(column) for column in table.frame.columns])
        other = getattr(pair, kind)
        if other is not None:
            raise SourceError(f"{path}: two {kind[:-1]} tables for {utility or 'an unnamed utility'} ({other.where}; "
                              f"{table.where}); name each sheet or table after its utility (给水管点, 燃气管点)")
        setattr(pair, kind, table)
    if not pairs:
        raise SourceError(f"{path}: no survey tables: a point table has 点号, X and Y columns, a line table "
                          "起点点号 and 终点点号")
    return list(pairs.values())


def _utility(name: str) -> str | None:
    """The pipe layer a file, sheet or table name means: a word (给水) in it, or a pinyin code as a word of
    its own or before a table word (JS, JS_LINE, JSGX)."""
    table = survey_table()
    tokens = [token.upper() for token in _ascii_words(name)]
    table_words = {word.upper() for pair in table["names"]["pairs"] for word in pair if word.isascii()}
    for layer, spec in table["utilities"].items():
        if any(word in name for word in spec["words"]):
            return layer
        for code in spec["codes"]:
            if any(token == code or (token.startswith(code) and token[len(code):] in table_words) for token in tokens):
                return layer
    return None


def _ascii_words(name: str) -> list[str]:
    return [token for token in "".join(c if c.isascii() and c.isalpha() else " " for c in name).split()]


def _crs(path: Path, options: ImportOptions) -> tuple[CRS, str]:
    if options.crs:
        crs, _ = source_crs(None, options.crs, path)
        return crs, f"coordinates read in {options.crs} (--crs)"
    from twin.store import database
    from twin.store.meta import twin_crs

    with database.raw() as connection:
        crs = CRS.from_user_input(twin_crs(connection))
    return crs, f"the tables declare no CRS: coordinates read in the twin's CRS {crs.to_string()} (else give --crs)"


def _numbers(table: Table, role: str) -> np.ndarray:
    column = table.column(role)
    if column is None:
        return np.full(len(table.frame), np.nan)
    return pd.to_numeric(table.frame[column], errors="coerce").to_numpy(float)


def _keys(values: pd.Series) -> np.ndarray:
    text = values.map(lambda value: None if value is None or pd.isna(value) else str(value).strip() or None)
    return text.to_numpy(object)


def _read_points(table: Table, crs: CRS) -> _Points:
    keys = _keys(table.frame[table.column("point_id")])
    ground, depth = _numbers(table, "ground"), _numbers(table, "depth")
    if table.column("north") and table.column("east"):
        east, north = _numbers(table, "east"), _numbers(table, "north")
        return _Points(table, keys, east, north, ground, depth, f"{table.where}: coordinates from "
                       f"{table.column('east')} (east) and {table.column('north')} (north)")
    x, y = _numbers(table, "x"), _numbers(table, "y")
    extent = extent_of(crs)
    as_written = _inside(x, y, extent)
    swapped = _inside(y, x, extent)
    where = f"{crs.to_string()}'s area"
    if as_written > swapped:
        return _Points(table, keys, x, y, ground, depth,
                       f"{table.where}: X read as easting, Y as northing (only so do the points lie in {where})")
    if swapped > as_written:
        why = f"only so do the points lie in {where}"
    elif as_written:
        why = f"either way fits {where}: read as Chinese survey practice writes them"
    else:
        why = (f"neither way lies in {where}: check --crs; an 8-digit easting carries a Gauss-Kruger zone prefix "
               "(e.g. EPSG:4527 for 3-degree zone 39)")
    return _Points(table, keys, y, x, ground, depth, f"{table.where}: X read as northing, Y as easting ({why})")


def _inside(east: np.ndarray, north: np.ndarray, extent: tuple[float, float, float, float] | None) -> int:
    if extent is None:
        return 0
    xmin, ymin, xmax, ymax = extent
    with np.errstate(invalid="ignore"):
        return int(((east >= xmin) & (east <= xmax) & (north >= ymin) & (north <= ymax)).sum())


def _pair_for(path: Path, pairs: list[Pair], layer: Layer) -> Pair:
    with_lines = [pair for pair in pairs if pair.lines is not None]
    chosen = [pair for pair in with_lines if pair.utility == layer.id] or (with_lines if len(with_lines) == 1 else [])
    if not chosen:
        held = ", ".join(pair.utility or "unnamed" for pair in with_lines) or "none"
        raise SourceError(f"{path}: no line table of {layer.id} (line tables of: {held}); name the sheet or file "
                          f"after its utility (给水管线) or choose --layer")
    pair = chosen[0]
    if pair.points is None:
        raise SourceError(f"{path}: the line table {pair.lines.where} has no point table of the same utility; "
                          "add it (给水管点 beside 给水管线)")
    return pair


def _pipes(path: Path, pair: Pair, points: _Points, options: ImportOptions, layer: Layer) -> Records:
    lines = pair.lines
    start_column, end_column = lines.column("start"), lines.column("end")
    rows_of = points.rows_of()
    n = len(lines.frame)
    starts, ends = _keys(lines.frame[start_column]), _keys(lines.frame[end_column])
    at = np.full((n, 2), -1)
    problems: dict[int, str] = {}
    for row in range(n):
        for side, (column, key) in enumerate(((start_column, starts[row]), (end_column, ends[row]))):
            problem, at[row, side] = _point_of(column, key, rows_of, points)
            if problem and row not in problems:
                problems[row] = problem
    joined = (at >= 0).all(axis=1)
    geometry = np.full(n, None, dtype=object)
    s, e = at[joined, 0], at[joined, 1]
    coords = np.stack([np.column_stack([points.east[s], points.north[s], points.ground[s]]),
                       np.column_stack([points.east[e], points.north[e], points.ground[e]])], axis=1)
    geometry[joined] = shapely.linestrings(coords)
    attributes = lines.frame.copy()
    notes = [points.note, *_depths_from_points(path, attributes, at, points, options, layer)]
    unsurveyed = int(np.isnan(coords[:, :, 2]).sum())
    if unsurveyed:
        notes.append(f"{unsurveyed} pipe ends join points without 地面高程: their ground from the DEM (else 0 m)")
    fitted = {name: count for name, count in _fitting_counts(pair.points).items() if name != layer.id}
    if fitted:
        listed = ", ".join(f"{count} {name}" for name, count in fitted.items())
        notes.append(f"the point table also holds {listed}: import them with --layer " + ", --layer ".join(fitted))
    ids = pd.Series([f"{a}-{b}" if a and b else None for a, b in zip(starts, ends)], dtype=object)
    repeat = ids.groupby(ids).cumcount()
    ids = ids.where(repeat == 0, ids + "#" + (repeat + 1).astype(str))  # parallel pipes between two points
    return Records(geometry=geometry, attributes=attributes, crs=None, row_numbers=lines.row_numbers,
                   source_ids=ids.to_numpy(object), problems=problems, ground_in_z=True, notes=notes)


def _point_of(column: str, key: str | None, rows_of: dict[str, list[int]], points: _Points) -> tuple[str | None, int]:
    """The point table's row for one end of a line, or why there is none."""
    if key is None:
        return f"{column} is empty", -1
    rows = rows_of.get(key)
    if rows is None:
        return f"{column} '{key}' is not in the point table ({points.table.where})", -1
    if len(rows) > 1:
        numbers = ", ".join(str(points.table.row_numbers[row]) for row in rows)
        return (f"{column} '{key}' is in the point table {len(rows)} times (rows {numbers}): "
                "which is meant is unknown"), -1
    row = rows[0]
    if np.isnan(points.east[row]) or np.isnan(points.north[row]):
        return f"{column} '{key}' has no X/Y in the point table (row {points.table.row_numbers[row]})", -1
    return None, row


def _depths_from_points(path: Path, attributes: pd.DataFrame, at: np.ndarray, points: _Points,
                        options: ImportOptions, layer: Layer) -> list[str]:
    """Where the line table gives no depth at an end, the point table's 埋深 there (CJJ 61 records the
    pipe's depth at each of its points)."""
    chosen = choose_columns([str(column) for column in attributes.columns], layer, options.mapping, path)
    filled = 0
    for side, target in enumerate(("start_depth_m", "end_depth_m")):
        if target not in layer.attributes:
            continue
        at_point = np.where(at[:, side] >= 0, points.depth[np.maximum(at[:, side], 0)], np.nan)
        column = chosen.get(target, target)
        given = attributes[column] if column in attributes else pd.Series(None, index=attributes.index, dtype=object)
        blank = given.isna().to_numpy() & ~np.isnan(at_point)
        if blank.any():
            attributes[column] = given.astype(object).where(~blank, pd.Series(at_point, index=attributes.index))
            filled += int(blank.sum())
    return [f"{filled} pipe ends without a depth in the line table took the point table's 埋深"] if filled else []


def _code_texts(table: Table) -> list[str | None]:
    """Each point's code as written: its 附属物, else its 特征."""
    columns = [column for column in (table.column("fitting"), table.column("feature")) if column]
    return [next((str(value) for value in row if value is not None and not pd.isna(value)), None)
            for row in table.frame[columns].itertuples(index=False)]


def _fitting_codes(table: Table) -> list[dict | None]:
    """Each point's fitting spec from survey.toml (None: not a fitting): the longest code in its text."""
    fittings = survey_table()["fittings"]
    codes = sorted(fittings, key=len, reverse=True)
    return [next((fittings[code] for code in codes if text and code in text), None) for text in _code_texts(table)]


def _fitting_counts(table: Table) -> dict[str, int]:
    counts: dict[str, int] = {}
    for spec in _fitting_codes(table):
        if spec is not None:
            counts[spec["layer"]] = counts.get(spec["layer"], 0) + 1
    return counts


def _fittings(pairs: list[tuple[Pair, _Points]], layer: Layer) -> Records:
    frames, geometries, numbers, ids, notes = [], [], [], [], []
    problems: dict[int, str] = {}
    others: dict[str, int] = {}
    for pair, points in pairs:
        table = points.table
        specs = _fitting_codes(table)
        rows = [row for row, spec in enumerate(specs) if spec is not None and spec["layer"] == layer.id]
        for spec, code in zip(specs, _code_texts(table)):
            if spec is None and code:
                others[code] = others.get(code, 0) + 1
        rows_of = points.rows_of()
        offset = sum(len(frame) for frame in frames)
        for index, row in enumerate(rows):
            key = points.keys[row]
            repeats = rows_of.get(key, []) if key else []
            if len(repeats) > 1:
                numbers_text = ", ".join(str(table.row_numbers[r]) for r in repeats)
                problems[offset + index] = (f"点号 '{key}' is in {table.where} {len(repeats)} times "
                                            f"(rows {numbers_text}); keep one")
            elif np.isnan(points.east[row]) or np.isnan(points.north[row]):
                problems[offset + index] = f"no X/Y in {table.where}"
        frame = table.frame.iloc[rows].reset_index(drop=True)
        for name in {key for row in rows for key in specs[row] if key != "layer"}:
            frame[name] = [specs[row].get(name) for row in rows]
        frame["utility"] = pair.utility
        frames.append(frame)
        geometries.append(shapely.points(np.column_stack([points.east[rows], points.north[rows], points.ground[rows]]))
                          if rows else np.array([], dtype=object))
        numbers.append(table.row_numbers[rows])
        ids.append(points.keys[rows])
        notes.append(points.note)
    if others:
        listed = ", ".join(f"{code} {count}" for code, count in sorted(others.items(), key=lambda item: -item[1]))
        notes.append(f"points that are no fitting (they shape the pipes): {listed}")
    attributes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return Records(geometry=np.concatenate(geometries) if geometries else np.array([], dtype=object),
                   attributes=attributes, crs=None, row_numbers=np.concatenate(numbers) if numbers else None,
                   source_ids=np.concatenate(ids) if ids else None, problems=problems, ground_in_z=True, notes=notes)

