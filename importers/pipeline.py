"""``twin import``: detect the format, read, map, validate, place in 3D, and load in one transaction.

Every format goes through here, so the transaction, the COPY, the reject report and the progress bar
exist once.
"""

from __future__ import annotations

import gc
import json
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely
from pyproj import CRS
from tqdm import tqdm

from importers import city_crs, detect, vertical
from importers.base import Importer, ImportOptions, Records
from importers.geometry import (
    check_near, check_place, check_types, extent_of, outside, reproject, source_crs, to_layer_type, validity_reasons,
)
from importers.heights import apply_heights
from importers.loading import Load, Snapshot, holds, write
from importers.mapping import map_records
from importers.report import ImportReport, ImportSummary
from twin.catalog import Catalog, Layer
from twin.errors import RowRejected, SchemaError, SourceError
from twin.settings import get_settings
from twin.store import city, database
from twin.store.city import read as read_city
from twin.store.meta import NO_SCHEMA, has_schema, twin_srid
from twin.terrain import Terrain


def layers_to_import(path: Path, catalog: Catalog, layer_id: str | None) -> list[Layer]:
    """The layer ``--layer`` names, else every layer the file feeds (:meth:`Importer.feeds`)."""
    if layer_id:
        return [catalog[layer_id]]
    importer = _importer(path)
    fed = importer.feeds(path, catalog)
    if not fed:
        examples = ", ".join([layer.id for layer in catalog if layer.is_raster == importer.raster][:3])
        raise SourceError(f"{path}: a {importer.format} file can feed any layer; say which with --layer "
                          f"(e.g. {examples}; `twin layers` lists them all)")
    return [catalog[layer_id] for layer_id in fed]


def run_import(path: Path, options: ImportOptions, show_progress: bool | None = None) -> ImportSummary:
    """Import ``path`` into ``options.layer``; raises SourceError for a bad file or a --strict reject."""
    return run_imports(path, options, [options.layer], show_progress).summaries[0]


def run_imports(path: Path, options: ImportOptions, layers: list[Layer],
                show_progress: bool | None = None) -> ImportReport:
    """Import ``path`` into each of ``layers`` (each with ``options``, its layer replaced) from one read of
    the file and in one transaction: a bad file, a --strict reject or a refused load in any layer writes
    nothing of any."""
    # An import makes several objects a row that all live until it ends, and no cycles among them: the
    # cyclic collector would only walk them again and again (about 1 s a million rows).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run_import(path, options, layers, show_progress)
    finally:
        if collecting:
            gc.enable()


def _importer(path: Path) -> Importer:
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    return detect(path)


def _run_import(path: Path, options: ImportOptions, layers: list[Layer], show_progress: bool | None) -> ImportReport:
    started = time.perf_counter()
    importer = _importer(path)
    for layer in layers:
        if layer.is_raster != importer.raster:
            kind = "a raster" if importer.raster else "features"
            raise SourceError(f"{path}: holds {kind} ({importer.format}) but layer '{layer.id}' "
                              f"is a {'raster' if layer.is_raster else 'vector'} layer; choose another --layer")
    vertical.parse(options.heights)  # a wrong --heights refused before the file is read
    if importer.raster and options.heights:
        raise SourceError(f"{path}: a raster's heights are not converted; import it without --heights")
    if importer.raster:

        from twin.store.migrate import fix_crs

        notes = []
        with database.connect() as connection:
            declared = importer.extent(path, options)
            if declared is not None and read_city(database.psycopg_of(connection)).crs is None:
                bounds, file_crs = declared  # a DEM first: the twin takes its CRS, in the same transaction
                crs, chosen = city_crs.for_bounds(bounds, source_crs(file_crs, options.crs, path)[0], path)
                fix_crs(connection, crs)
                city.name_if_unnamed(database.psycopg_of(connection), options.source)
                notes.append(chosen)
            counts = [importer.register(path, replace(options, layer=layer), connection) for layer in layers]
        return ImportReport([ImportSummary(layer.id, options.source, importer.format, count, 0,
                                           time.perf_counter() - started, raster=True)
                             for layer, count in zip(layers, counts)], notes)

    with database.raw() as connection:  # read the twin's facts before the long work
        if not has_schema(connection):
            raise SchemaError(NO_SCHEMA)
        known = read_city(connection)
        crs = CRS.from_user_input(known.crs) if known.crs else None
        terrain = Terrain.from_store(connection, crs) if crs else None
    # Reading and checking a million features takes seconds before the first row is written: say which.
    with tqdm(total=None, bar_format="{desc}", disable=_hidden(show_progress), leave=False) as status:
        status.set_description_str(f"reading {path.name}")
        declared = importer.extent(path, options) if crs is not None else None
        if declared is not None:
            bounds, file_crs = declared
            check_place(path, bounds, source_crs(file_crs, options.crs, path)[0], crs)
        records = importer.read_many(path, options, layers)
        fed = [layer for layer in layers if len(records[layer.id])]
        if not fed:
            which = f"layer '{layers[0].id}'" if len(layers) == 1 else f"any of the layers {', '.join(records)}"
            raise SourceError(f"{path}: no features for {which} in the file")
        unfed = [layer for layer in layers if layer not in fed]
        # A snapshot's summary of such a layer says what vanished, where the source held any there.
        notes = [f"layer '{layer.id}': no features in the file" + ("" if options.as_of else "; skipped")
                 for layer in unfed]
        if crs is not None:
            first = records[fed[0].id]
            check_near(path, shapely.total_bounds(first.geometry), source_crs(first.crs, options.crs, path)[0], crs,
                       known.extent)
        new_crs = crs is None
        if crs is None:
            crs, chosen = city_crs.choose(records[fed[0].id], options, path)
            notes.insert(0, chosen)
        read_seconds = time.perf_counter() - started
        prepared = []
        for layer in fed:
            status.set_description_str(f"checking {len(records[layer.id]):,} features of {path.name} for {layer.id}")
            prepared.append(_prepare(path, importer, records[layer.id], replace(options, layer=layer), crs, terrain))
        if options.as_of:  # a snapshot without a layer's features: they all vanished
            prepared += [_nothing(replace(options, layer=layer), records[layer.id].crs or crs) for layer in unfed]
    with city_crs.fixed(crs) if new_crs else nullcontext():
        return ImportReport(_load(path, importer, prepared, read_seconds, show_progress), notes)


def _hidden(show_progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None shows progress only on a terminal."""
    return None if show_progress is None else not show_progress


@dataclass
class _Prepared:
    options: ImportOptions
    load: Load
    rejects: pd.DataFrame
    source_crs: CRS
    notes: list[str]
    seconds: float  # preparing this layer; writing it adds to it
    repaired: int
    changes: dict[str, int] | None = None  # a snapshot's, once written
    unfed: bool = False  # a layer the file has no features for, in a snapshot (:func:`_nothing`)


def _prepare(path: Path, importer: Importer, records: Records, options: ImportOptions, crs: CRS,
             terrain: Terrain | None) -> _Prepared:
    started = time.perf_counter()
    layer = options.layer
    check_types(records.geometry, layer, path)
    mapped = map_records(records.attributes, layer, options.mapping, path)
    reasons = mapped.reasons
    for row, problem in records.problems.items():
        reasons[row] = problem
    read_crs, shift = source_crs(records.crs, options.crs, path)
    geometry = to_layer_type(records.geometry, layer, reasons)
    geometry, repaired = validity_reasons(geometry, reasons, layer.geometry, options.make_valid)
    with_heights, datum_notes = vertical.plan(read_crs, options.heights, crs, tuple(shapely.total_bounds(geometry)))
    placed = reproject(geometry, read_crs, crs, shift, with_heights)
    candidates = np.equal(reasons, None)
    beyond = outside(placed, extent_of(crs)) & candidates
    if beyond.any() and beyond.sum() == candidates.sum():  # every row: the file's CRS, not its rows
        check_place(path, shapely.total_bounds(geometry[beyond]), read_crs, crs)
    reasons[beyond] = f"outside the twin's extent (the area of use of {crs.to_string()})"
    geometry = placed
    columns = dict(mapped.columns)
    for name, values in columns.items():  # 3D surfaces move with the footprint
        if layer.attributes[name].type == "solid":
            moved = reproject(values.to_numpy(object), read_crs, crs, shift, with_heights)
            columns[name] = pd.Series(moved, index=values.index, dtype=object)
    base = layer.draw.base
    if with_heights is not None and base in columns:  # the ground under a building, in its surfaces' datum
        columns[base] = columns[base] + vertical.offsets(geometry, with_heights, crs, shift)
    geometry, height_notes = apply_heights(geometry, layer, columns, terrain, records.ground_in_z)

    source_ids = mapped.source_id if mapped.source_id is not None else _series(records.source_ids)
    ids_from_rows = source_ids is None or _positional(source_ids)
    if source_ids is None:
        source_ids = pd.Series(records.row_numbers.astype(str))
    source_ids = source_ids.where(source_ids.notna(), pd.Series(records.row_numbers.astype(str)))
    duplicate = source_ids.duplicated(keep="first").to_numpy() & np.equal(reasons, None)
    for row in np.flatnonzero(duplicate):
        reasons[row] = f"source id '{source_ids.iloc[row]}' repeats an earlier row"
    valid_from = mapped.valid_from
    if valid_from is None and layer.time_varying:
        valid_from = _from_year(columns, ("install_year", "build_year"))

    if valid_from is not None and mapped.valid_to is not None:
        both = (valid_from.notna() & mapped.valid_to.notna()).to_numpy()
        backwards = both.copy()
        backwards[both] = (mapped.valid_to[both] <= valid_from[both]).to_numpy()
        for row in np.flatnonzero(backwards & np.equal(reasons, None)):
            reasons[row] = f"valid_to {mapped.valid_to.iloc[row]} is not after valid_from {valid_from.iloc[row]}"
    good = np.equal(reasons, None)
    rejected = np.flatnonzero(~good)
    if options.strict and len(rejected):
        row = rejected[0]
        raise RowRejected(f"{path}: row {records.row_numbers[row]}: {reasons[row]} "
                          f"({len(rejected)} rows fail in all); fix them or import without --strict")
    rejects = pd.DataFrame({
        "row_number": records.row_numbers[rejected],
        "source_id": source_ids.to_numpy(object)[rejected],
        "reason": reasons[rejected],
        "data": [_row_json(records.attributes, row) for row in rejected],
    })
    keep = np.flatnonzero(good)

    def kept(series: pd.Series | None) -> pd.Series | None:
        return None if series is None else series.iloc[keep].reset_index(drop=True)

    load = Load(
        layer=layer, source=options.source, srid=0,  # the twin's, once written: a first import fixes it only then
        source_ids=kept(source_ids), names=kept(mapped.name if mapped.name is not None else _series(records.names)),
        valid_from=kept(valid_from), valid_to=kept(mapped.valid_to), geometry=geometry[keep],
        columns={name: kept(values) for name, values in columns.items()}, ids_from_rows=ids_from_rows,
    )
    notes = list(records.notes) + mapped.notes + datum_notes + height_notes
    if repaired:
        notes.append(f"{repaired:,} invalid geometries repaired (--make-valid)")
    return _Prepared(options, load, rejects, read_crs, notes, time.perf_counter() - started, repaired)


def _nothing(options: ImportOptions, read_crs: CRS) -> _Prepared:
    """A layer the file has no features for: nothing to load (what a snapshot of it closes all)."""
    load = Load(layer=options.layer, source=options.source, srid=0, source_ids=pd.Series([], dtype=object),
                names=None, valid_from=None, valid_to=None, geometry=np.array([], dtype=object), columns={})
    return _Prepared(options, load, pd.DataFrame({"source_id": pd.Series([], dtype=object)}), read_crs, [], 0.0, 0,
                     unfed=True)


def _load(path: Path, importer: Importer, prepared: list[_Prepared], read_seconds: float,
          show_progress: bool | None) -> list[ImportSummary]:
    """Write every layer in one transaction; each layer's time is the shared read and its own work."""
    total = sum(len(item.load.geometry) for item in prepared)
    with tqdm(total=total, unit=" features", disable=_hidden(show_progress), leave=False) as progress:
        layer_id = ""
        try:
            with database.raw() as connection:
                srid = twin_srid(connection)  # a compound CRS's horizontal part, a local grid's own
                to_write = [item for item in prepared
                            if not item.unfed or holds(connection, item.options.layer.id, item.options.source)]
                for item in to_write:
                    layer_id = item.options.layer.id
                    progress.set_description(f"writing {layer_id}")
                    writing = time.perf_counter()
                    log = {"layer": layer_id, "source": item.options.source, "format": importer.format,
                           "path": str(path.resolve()), "crs": item.source_crs.to_string(),
                           "imported": len(item.load.geometry), "rejected": len(item.rejects),
                           "seconds": read_seconds + item.seconds}
                    item.load.srid = srid
                    item.changes = write(connection, item.load, log, item.rejects, progress, _snapshot(path, item.options))
                    if len(item.load.geometry):
                        city.grow_extent(connection, tuple(shapely.total_bounds(item.load.geometry)))
                    item.seconds += time.perf_counter() - writing
                city.name_if_unnamed(connection, prepared[0].options.source)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise SourceError(f"{path}: the database refused the rows of layer '{layer_id}' ({first}); "
                              "nothing was imported") from None
    return [ImportSummary(item.options.layer.id, item.options.source, importer.format, len(item.load.geometry),
                          len(item.rejects), read_seconds + item.seconds,
                          _write_rejects_csv(path, item.options, item.rejects), item.notes, repaired=item.repaired,
                          import_id=item.load.import_id, as_of=item.options.as_of, changes=item.changes,
                          tolerance_m=item.options.tolerance_m)
            for item in prepared if item.load.import_id is not None]


def _snapshot(path: Path, options: ImportOptions) -> Snapshot | None:
    return None if options.as_of is None else Snapshot(path, options.as_of, options.tolerance_m)


def _write_rejects_csv(path: Path, options: ImportOptions, rejects: pd.DataFrame) -> Path | None:
    """The reject report beside the input (or under TWIN_HOME when that folder is read-only)."""
    name = f"{path.name}.{options.layer.id}.rejects.csv"
    beside = path.parent / name
    fallback = get_settings().home / "rejects" / name
    for target in (beside, fallback):
        if not _writable(target.parent):
            continue
        if not len(rejects):
            target.unlink(missing_ok=True)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            rejects.to_csv(target, index=False)
            return target
        except OSError:
            continue
    return None


def _writable(folder: Path) -> bool:
    """Writable, and not marked read-only for everyone (which root's os.access would ignore)."""
    if not folder.exists():
        return True
    return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)


def _positional(ids: pd.Series) -> bool:
    """Ids that only number the rows in file order (0.. or 1.., as a GeoJSON's or Shapefile's feature ids
    are): they name no feature from one edition of a source to the next."""
    count = len(ids)
    text = ids.astype(str).to_numpy()
    return any(np.array_equal(text, np.arange(start, start + count).astype(str)) for start in (0, 1))


def _series(values: np.ndarray | None) -> pd.Series | None:
    return None if values is None else pd.Series(values, dtype=object)


def _from_year(columns: dict[str, pd.Series], names: tuple[str, ...]) -> pd.Series | None:
    """1 January of an install or build year: when the feature came into being, to the year."""
    for name in names:
        years = columns.get(name)
        if years is not None:
            known = years.notna().to_numpy()
            values = np.full(len(years), None, dtype=object)
            first_days = (years[known].to_numpy("int64") - 1970).astype("datetime64[Y]").astype("datetime64[D]")
            values[known] = first_days.astype(object)  # datetime.date objects
            return pd.Series(values, dtype=object)
    return None


def _row_json(frame: pd.DataFrame, row: int) -> str:
    values = {str(key): (None if _missing(value) else value) for key, value in frame.iloc[row].items()}
    return json.dumps(values, ensure_ascii=False, default=str)


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values, not missing
        return False
