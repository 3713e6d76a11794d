"""Z for features that come without it: ground height from the DEM, less the depth the survey gives.

Pipes are stored as their centre line. A depth is measured down to what the layer's ``depth_to`` says
(CJJ 61: pressure pipes to their top, drainage to its invert), so the centre lies half a diameter below
or above it; invert elevations, where given, fix the height without the ground. A survey that gives the
ground at each point (its 地面高程) hands it over as the geometry's Z, which then stands in for the DEM.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from twin.catalog import Layer
from twin.terrain import Terrain

GROUND_DIGITS = 2  # decimals of a ground height taken from the DEM: the centimetre


def _column(columns: dict[str, pd.Series], name: str, n: int) -> np.ndarray:
    values = columns.get(name)
    return np.full(n, np.nan) if values is None else pd.to_numeric(values, errors="coerce").to_numpy(float)


def _fraction_along(coords: np.ndarray, index: np.ndarray) -> np.ndarray:
    """For each vertex, how far along its geometry it lies (0 at the first vertex, 1 at the last)."""
    step = np.zeros(len(coords))
    step[1:] = np.hypot(*(coords[1:, :2] - coords[:-1, :2]).T)
    first = np.r_[True, index[1:] != index[:-1]]
    step[first] = 0.0
    travelled = np.cumsum(step)
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    travelled -= travelled[starts][group]
    total = np.maximum.reduceat(travelled, starts)[group]
    return np.divide(travelled, total, out=np.zeros_like(travelled), where=total > 0)


def apply_heights(geometry: np.ndarray, layer: Layer, columns: dict[str, pd.Series],
                  terrain: Terrain | None, ground_in_z: bool = False) -> tuple[np.ndarray, list[str]]:
    """Geometries with the layer's dimension, and notes for the summary. ``ground_in_z``: the geometries'
    Z is the surveyed ground (NaN where the survey has none, which the DEM then gives)."""
    notes: list[str] = []
    n = len(geometry)
    ok = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    if not layer.z:
        _fill_ground(geometry, ok, layer, columns, terrain)
        lifted = ok & shapely.has_z(geometry)
        if not lifted.any():
            return geometry, notes
        flat = geometry.copy()
        flat[lifted] = shapely.force_2d(geometry[lifted])
        return flat, notes

    need = ok if ground_in_z else ok & ~shapely.has_z(geometry)
    if not need.any():
        return geometry, notes
    rows = np.flatnonzero(need)
    coords, index = shapely.get_coordinates(geometry[rows], include_z=ground_in_z, return_index=True)
    ground = coords[:, 2].copy() if ground_in_z else np.full(len(coords), np.nan)
    unsurveyed = np.isnan(ground)
    if unsurveyed.any():
        ground[unsurveyed] = terrain.height(coords[unsurveyed, 0], coords[unsurveyed, 1]) if terrain else 0.0
    missing_ground = np.isnan(ground)
    if missing_ground.any():
        notes.append(f"{int(missing_ground.sum())} vertices lie outside the terrain: ground taken as 0 m there")
        ground = np.where(missing_ground, 0.0, ground)

    def per_row(name: str) -> np.ndarray:
        return _column(columns, name, n)[rows][index]

    if layer.geometry == "line":
        along = _fraction_along(coords, index)
        start_depth, end_depth = per_row("start_depth_m"), per_row("end_depth_m")
        start_depth = np.where(np.isnan(start_depth), end_depth, start_depth)
        end_depth = np.where(np.isnan(end_depth), start_depth, end_depth)
        depth = start_depth + (end_depth - start_depth) * along
        depth = np.where(np.isnan(depth), per_row("top_depth_m"), depth)
        # The size the layer is drawn with (its catalog file's draw.diameter, else draw.section_size), in mm.
        size = per_row(layer.draw.diameter or "") / 1000.0
        size = np.where(np.isnan(size), per_row(layer.draw.section_size or "") / 1000.0, size)
        half = np.nan_to_num(size / 2.0)
        below_reference = {"top": half, "invert": -half, "centre": 0.0}[layer.depth_to]
        z = ground - np.nan_to_num(depth) - np.where(np.isnan(depth), 0.0, below_reference)
        start_invert, end_invert = per_row("start_invert_m"), per_row("end_invert_m")
        invert = start_invert + (end_invert - start_invert) * along
        z = np.where(np.isnan(invert), z, invert + half)
        used_ground = np.isnan(invert)
    else:
        z = ground - np.nan_to_num(per_row("depth_m"))
        used_ground = np.ones(len(z), bool)
    if terrain is None and (used_ground & unsurveyed).any():
        notes.append("no terrain imported: ground height taken as 0 m for features without Z")
    lifted = shapely.force_3d(geometry[rows])
    out = geometry.copy()
    out[rows] = shapely.set_coordinates(lifted, np.column_stack([coords[:, :2], z]))
    return out, notes


def _fill_ground(geometry: np.ndarray, ok: np.ndarray, layer: Layer, columns: dict[str, pd.Series],
                 terrain: Terrain | None) -> None:
    """A 2D layer whose drawing stands on a ground height attribute (draw.base: the buildings') gets it
    from the geometry's Z or the DEM."""
    base = layer.draw.base
    if base is None:
        return
    n = len(geometry)
    ground = _column(columns, base, n)
    from_z = np.full(n, np.nan)
    has_z = ok & shapely.has_z(geometry)
    if has_z.any():
        coords, index = shapely.get_coordinates(geometry[has_z], include_z=True, return_index=True)
        lowest = np.full(int(has_z.sum()), np.inf)
        np.minimum.at(lowest, index, coords[:, 2])
        from_z[has_z] = lowest
    ground = np.where(np.isnan(ground), from_z, ground)
    if terrain is not None:
        todo = np.isnan(ground) & ok
        if todo.any():
            centre = shapely.centroid(geometry[todo])
            # the DEM interpolated to the centimetre: its float digits beyond say nothing (2.7878103400329697)
            sampled = terrain.height(shapely.get_x(centre), shapely.get_y(centre))
            ground[todo] = np.round(sampled, GROUND_DIGITS)
    columns[base] = pd.Series(ground)
