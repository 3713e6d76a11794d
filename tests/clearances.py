"""The pipe clearance check (twin/analyses/clearance.sql) over the generator's own pipes, in Python, for
the fast tests of the Eco-city's rules: each pipe a straight piece in 3D, its centre line's height the
generator's ground less its depth (as the importers set it), crossing pieces held to the vertical
clearance and the rest to the horizontal one, wall to wall."""

from __future__ import annotations

import numpy as np
import shapely

from twin.analyses.clearance import TOLERANCE_M, clearances
from twin.ecocity.networks import DRAINAGE, Pipe
from twin.ecocity.rasters import ground_height
from twin.ecocity.utilities import size_m


def _closest(p1: np.ndarray, q1: np.ndarray, p2: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """The distances between pairs of 3D segments (p1-q1 to p2-q2, one pair a row)."""
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e = (d1 * d1).sum(1), (d2 * d2).sum(1)
    b, c, f = (d1 * d2).sum(1), (d1 * r).sum(1), (d2 * r).sum(1)
    safe_a, safe_e = np.where(a > 1e-12, a, 1.0), np.where(e > 1e-12, e, 1.0)
    denominator = a * e - b * b
    s = np.where(denominator > 1e-12, np.clip((b * f - c * e) / np.where(denominator > 1e-12, denominator, 1.0), 0, 1), 0.0)
    t = (b * s + f) / safe_e
    s = np.where(t < 0, np.clip(-c / safe_a, 0, 1), np.where(t > 1, np.clip((b - c) / safe_a, 0, 1), s))
    t = np.clip((b * s + f) / safe_e, 0, 1)
    return np.linalg.norm(p1 + d1 * s[:, None] - p2 - d2 * t[:, None], axis=1)


def too_close(pipes: list[Pipe], tunnels: dict[str, shapely.LineString] | None = None
              ) -> list[tuple[Pipe, Pipe, str, float]]:
    """(pipe, pipe, "crossing" or "parallel", shortfall m) for every two pipes of different utilities
    nearer than their clearance; but not two that run in one tunnel (the same, or two of ``tunnels``, id
    -> line, that meet), as the check leaves those to GB 50838."""
    tunnels = tunnels or {}

    def one_gallery(a: Pipe, b: Pipe) -> bool:
        if a.tunnel is None or b.tunnel is None:
            return False
        return a.tunnel == b.tunnel or (a.tunnel in tunnels and b.tunnel in tunnels
                                        and shapely.intersects(tunnels[a.tunnel], tunnels[b.tunnel]))

    table = {frozenset(pair.utilities): pair for pair in clearances()[1]}
    ends = np.array([[p.line.coords[0], p.line.coords[-1]] for p in pipes])
    depths = np.array([[p.start_depth, p.end_depth] for p in pipes])
    width, height = np.array([size_m(p.utility, p.road_class) for p in pipes]).T
    drain = np.array([p.utility in DRAINAGE for p in pipes])
    centre = np.where(drain, height / 2, -height / 2)[:, None]  # drainage depths are to the invert
    z = ground_height(ends[..., 0], ends[..., 1]) - depths + centre
    points = np.dstack([ends, z[..., None]])
    lines = np.array([p.line for p in pipes], dtype=object)
    left, right = shapely.STRtree(lines).query(lines, predicate="dwithin", distance=3.0)
    utilities = np.array([p.utility for p in pipes])
    keep = (left < right) & (utilities[left] != utilities[right])
    left, right = left[keep], right[keep]
    crossing = shapely.intersects(lines[left], lines[right])
    distance = _closest(points[left, 0], points[left, 1], points[right, 0], points[right, 1])
    radii = np.where(crossing, height[left] + height[right], width[left] + width[right]) / 2
    found = []
    for i, j, crosses, wall in zip(left, right, crossing, distance - radii):
        pair = table.get(frozenset((utilities[i], utilities[j])))
        required = None if pair is None else (pair.vertical_m if crosses else pair.horizontal_m)
        if required is not None and wall < required - TOLERANCE_M and not one_gallery(pipes[i], pipes[j]):
            found.append((pipes[i], pipes[j], "crossing" if crosses else "parallel", round(required - wall, 3)))
    return found
