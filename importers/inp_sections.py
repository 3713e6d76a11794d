"""The ``[SECTION]`` text layout EPANET and SWMM share: sections of whitespace-separated rows, ``;``
comments. Kept apart from both formats, which differ in what the sections mean."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.errors import SourceError

US_UNITS = 0.3048  # metres per foot: both formats give lengths and elevations in feet in US flow units


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line number in the file
    fields: list[str]


def read_sections(path: Path) -> dict[str, list[Row]]:
    """Upper-cased section name -> its rows (comments and blank lines dropped)."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    sections: dict[str, list[Row]] = {}
    current: list[Row] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            name = line.strip("[] \t").upper()
            current = sections.setdefault(name, [])
            continue
        if current is None:
            raise SourceError(f"{path}: line {number}: data before the first [SECTION]; not an .inp file")
        current.append(Row(number, line.split()))
    return sections


def section_names(head: bytes) -> set[str]:
    """Section names found in the first bytes of a file (for telling formats apart)."""
    text = head.decode("latin-1")
    return {line.strip().strip("[]").upper() for line in text.splitlines() if line.strip().startswith("[")}


def need(path: Path, section: str, row: Row, count: int, what: str) -> None:
    """Refuse a row with fewer fields than its section needs: the file is cut or malformed."""
    if len(row.fields) < count:
        raise SourceError(f"{path}: line {row.line}: [{section}] row has {len(row.fields)} fields, needs {count} "
                          f"({what}); the file may be truncated")


def number(path: Path, section: str, row: Row, index: int) -> float:
    try:
        return float(row.fields[index])
    except (ValueError, IndexError):
        raise SourceError(f"{path}: line {row.line}: [{section}] field {index + 1} "
                          f"'{row.fields[index] if index < len(row.fields) else ''}' is not a number") from None


def coordinates(path: Path, sections: dict[str, list[Row]]) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for row in sections.get("COORDINATES", []):
        need(path, "COORDINATES", row, 3, "node, x, y")
        out[row.fields[0]] = (number(path, "COORDINATES", row, 1), number(path, "COORDINATES", row, 2))
    return out


def vertices(path: Path, sections: dict[str, list[Row]]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for row in sections.get("VERTICES", []):
        need(path, "VERTICES", row, 3, "link, x, y")
        out.setdefault(row.fields[0], []).append(
            (number(path, "VERTICES", row, 1), number(path, "VERTICES", row, 2)))
    return out


def fractions(points: np.ndarray) -> np.ndarray:
    """How far along a polyline each of its points lies, 0 to 1."""
    steps = np.hypot(*np.diff(points, axis=0).T)
    travelled = np.concatenate([[0.0], np.cumsum(steps)])
    return travelled / travelled[-1] if travelled[-1] > 0 else np.linspace(0.0, 1.0, len(points))
