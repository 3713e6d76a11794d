"""Source columns to the layer's attributes: --map first, then exact names, then the alias table
(``aliases.toml``, data); then each value converted to the attribute's type, with a reason for every
value that cannot be."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from twin.catalog import Attribute, Layer
from twin.errors import SourceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ALIASES_FILE = Path(__file__).with_name("aliases.toml")
FEATURE_FIELDS = ("name", "source_id", "valid_from", "valid_to")

# "DN300", "Φ300", "300mm", "1,200", "2015年": the number inside what surveys write.
_NUMBER = re.compile(r"^\s*(?:DN|De|dn|de|Φ|φ|ø|Ø)?\s*([-+]?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?)\s*(?:mm|m|米|年|MPa|kg|%)?\s*$")
_SECTION = re.compile(r"^\s*(\d+\.?\d*)\s*[xX×*]\s*(\d+\.?\d*)\s*(?:mm)?\s*$")
_TRUE = {"true", "t", "yes", "y", "1", "是", "有", "on"}
_FALSE = {"false", "f", "no", "n", "0", "否", "无", "off"}


@lru_cache(maxsize=1)
def aliases() -> dict[str, list[str]]:
    return tomllib.loads(ALIASES_FILE.read_text(encoding="utf-8"))


@dataclass
class Mapped:
    """The layer's columns, converted; ``reasons`` holds the first problem of each row (None: fine)."""

    columns: dict[str, pd.Series] = field(default_factory=dict)  # attribute -> values, typed
    name: pd.Series | None = None
    source_id: pd.Series | None = None
    valid_from: pd.Series | None = None
    valid_to: pd.Series | None = None
    notes: list[str] = field(default_factory=list)
    reasons: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))


def parse_mapping(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--map SRC=DEST`` flags into a dict."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise SourceError(f"--map {pair}: write it as SOURCE_COLUMN=ATTRIBUTE")
        mapping[source.strip()] = target.strip()
    return mapping


def choose_columns(columns: list[str], layer: Layer, explicit: dict[str, str], path: Path) -> dict[str, str]:
    """Target (attribute or feature field) -> source column."""
    targets = set(layer.attributes) | set(FEATURE_FIELDS)
    chosen: dict[str, str] = {}
    for source, target in explicit.items():
        if target not in targets:
            known = ", ".join(sorted(targets))
            raise SourceError(f"--map {source}={target}: layer '{layer.id}' has no attribute '{target}'; it has: {known}")
        if source not in columns:
            raise SourceError(f"--map {source}={target}: {path} has no column '{source}'; it has: {', '.join(columns)}")
        chosen[target] = source
    by_lower = {column.lower(): column for column in columns}
    taken = set(chosen.values())
    for target in sorted(targets - chosen.keys()):
        # Shapefile field names stop at 10 characters: diameter_mm arrives as diameter_m.
        candidates = [target, *aliases().get(target, []), *([target[:10]] if len(target) > 10 else [])]
        for candidate in candidates:
            column = by_lower.get(candidate.lower())
            if column is not None and column not in taken:
                chosen[target] = column
                taken.add(column)
                break
    return chosen


def map_records(frame: pd.DataFrame, layer: Layer, explicit: dict[str, str], path: Path) -> Mapped:
    chosen = choose_columns([str(c) for c in frame.columns], layer, explicit, path)
    reasons = np.full(len(frame), None, dtype=object)
    mapped = Mapped(reasons=reasons)
    id_column = chosen.get("source_id")
    if id_column and "source_id" not in explicit.values() and not _unique(frame[id_column]):
        # An id-looking column that is not unique (e.g. an OBJECTID of zeros) is no id: use the file's own.
        del chosen["source_id"]
        mapped.notes.append(f"column {id_column} is not unique, so features keep the file's own ids")
    for target, column in chosen.items():
        raw = frame[column]
        if target in ("name", "source_id"):
            setattr(mapped, target, _text(raw))
        elif target in ("valid_from", "valid_to"):
            setattr(mapped, target, _dates(raw, target, reasons))
        else:
            attribute = layer.attributes[target]
            if target == "diameter_mm":
                raw = _split_sections(raw, chosen, layer, mapped)
            mapped.columns[target] = convert(raw, target, attribute, reasons)
    for target, attribute in layer.attributes.items():
        if attribute.required:
            values = mapped.columns.get(target)
            missing = np.ones(len(frame), bool) if values is None else values.isna().to_numpy()
            _reason(reasons, missing, f"missing required attribute '{target}'")
    return mapped


def convert(raw: pd.Series, target: str, attribute: Attribute, reasons: np.ndarray) -> pd.Series:
    """Values of one attribute in its type; a value that cannot be converted gives its row a reason."""
    kind = attribute.type
    if kind in ("real", "integer"):
        values = _numbers(raw, target, reasons)
        if kind == "integer":
            fractional = values.notna() & (values != values.round())
            _reason(reasons, fractional.to_numpy(), f"{target}: not a whole number", raw)
            huge = values.abs() >= 2.0**63
            _reason(reasons, huge.to_numpy(), f"{target}: too large for a whole number", raw)
            return values.where(~(fractional | huge)).round().astype("Int64")
        return values
    if kind == "text":
        return _text(raw)
    if kind == "boolean":
        return _booleans(raw, target, reasons)
    if kind == "date":
        return _dates(raw, target, reasons)
    if kind == "json":
        return raw.map(lambda value: None if _blank(value) else _jsonable(value))
    return raw  # solid: geometries, reprojected with the layer's geometry


def _numbers(raw: pd.Series, target: str, reasons: np.ndarray) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    text = raw.map(lambda value: None if _blank(value) else str(value))
    extracted = text.str.extract(_NUMBER, expand=False).str.replace(",", "", regex=False)
    values = pd.to_numeric(extracted, errors="coerce")
    bad = text.notna() & values.isna()
    _reason(reasons, bad.to_numpy(), f"{target}: cannot read", raw, "as a number")
    return values.astype("float64")


def _booleans(raw: pd.Series, target: str, reasons: np.ndarray) -> pd.Series:
    def parse(value: object) -> bool | None:
        if _blank(value):
            return None
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        word = str(value).strip().lower()
        return True if word in _TRUE else False if word in _FALSE else None

    values = raw.map(parse)
    bad = values.isna() & ~raw.map(_blank)
    _reason(reasons, bad.to_numpy(), f"{target}: cannot read", raw, "as yes/no")
    return values.astype("boolean")


def _dates(raw: pd.Series, target: str, reasons: np.ndarray) -> pd.Series:
    def parse(value: object) -> object:
        if _blank(value):
            return None
        text = str(value).strip()
        if re.fullmatch(r"\d{4}(\.0)?", text) or re.fullmatch(r"\d{4}年", text):  # a bare year
            return f"{text[:4]}-01-01"
        return text

    values = pd.to_datetime(raw.map(parse), errors="coerce", format="mixed")
    bad = values.isna() & ~raw.map(_blank)
    _reason(reasons, bad.to_numpy(), f"{target}: cannot read", raw, "as a date")
    return values.dt.date.astype(object).where(values.notna(), None)


def _jsonable(value: object) -> object:
    """Dicts and lists as they are; JSON text parsed; anything else as its text."""
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return json.loads(json.dumps(value, default=str))


def _text(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(raw):  # ids and codes read as floats: 12.0 means "12"
        whole = raw.notna() & (raw == raw.round())
        text = raw.astype(object).where(~whole, raw.where(whole).astype("Int64").astype(str))
        return text.astype("string").astype(object).where(raw.notna(), None)
    text = raw.astype("string").str.strip()
    return text.astype(object).where(text.notna() & (text != ""), None)


def _split_sections(raw: pd.Series, chosen: dict[str, str], layer: Layer, mapped: Mapped) -> pd.Series:
    """A 管径 of "400X300" is a duct's section (width x height), not a diameter: the diameter without it."""
    if pd.api.types.is_numeric_dtype(raw) or not {"section_width_mm", "section_height_mm"} <= set(layer.attributes):
        return raw
    parts = raw.astype(str).str.extract(_SECTION)
    is_section = parts[0].notna()
    if not is_section.any():
        return raw
    for index, target in enumerate(("section_width_mm", "section_height_mm")):
        if target not in chosen:
            mapped.columns[target] = pd.to_numeric(parts[index], errors="coerce")
    return raw.astype(object).where(~is_section, None)


def _unique(values: pd.Series) -> bool:
    present = values.dropna()
    return len(present) == len(values) and present.astype(str).is_unique


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return value is pd.NA or value is pd.NaT


def _reason(reasons: np.ndarray, mask: np.ndarray, what: str, raw: pd.Series | None = None,
            tail: str = "") -> None:
    """Give each row in ``mask`` that has no reason yet this one (quoting its value when given)."""
    for row in np.flatnonzero(mask & np.equal(reasons, None)):
        reasons[row] = f"{what} '{raw.iloc[row]}' {tail}".rstrip() if raw is not None else what
