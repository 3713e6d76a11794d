"""Analysis results drawn over the scene: one merged mesh and actor per kind of result (uncovered
buildings, valves to close, ...), never an actor per feature.

Results that are features of a layer are that layer's own cells, picked out of its merged mesh by row
(so they sit exactly where the layer draws them, and keep their ``row`` cell data); what an analysis
makes itself (a route, a stretch of road, the place two pipes come too close) is drawn from its geometry,
in the twin's CRS as the scene is, less the scene's origin. Underground mode draws what lies under the
ground deeper (viewer.scene.depth) and the highlights with it; what stands on the ground (a building cut
off by a burst) keeps its height.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyvista as pv
import shapely
import vtk

from twin.terrain import Terrain
from viewer.scene.layer_mesh import LayerMesh, ragged
from viewer.scene.build import ground_height
from viewer.scene.depth import alike, drawn_z, exaggerable, exaggerate
from viewer.scene.timeline import subset
from viewer.tools import section

LIFT_M = 1.5  # lines drawn on the ground float this high, above the roads' ribbons
STEP_M = 5.0  # lines on the ground follow the DEM in steps this long
# The share ramp: viridis (0 dark purple, 0.5 teal, 1 yellow), which red-green colour-blind eyes read
# as well as any and whose lightness rises with the share; grey for no share at all.
RAMP = ((0.0, (68, 1, 84)), (0.5, (33, 145, 140)), (1.0, (253, 231, 37)))
NO_SHARE = (220, 220, 220)


def ramp(shares: np.ndarray) -> np.ndarray:
    """RGB (0-255) for shares from 0 to 1 along :data:`RAMP`; NaN is :data:`NO_SHARE`."""
    stops = np.array([stop for stop, _ in RAMP])
    colours = np.array([colour for _, colour in RAMP], float)
    shares = np.asarray(shares, float)
    rgb = np.column_stack([np.interp(np.nan_to_num(shares), stops, colours[:, i]) for i in range(3)])
    rgb[np.isnan(shares)] = NO_SHARE
    return rgb.astype(np.uint8)


def css_ramp() -> str:
    """The ramp as a CSS gradient, for the legend."""
    return "linear-gradient(to right, " + ", ".join(f"rgb{colour} {stop * 100:.0f}%" for stop, colour in RAMP) + ")"


class Overlay:
    """The highlighted results in one view."""

    def __init__(self, plotter: pv.Plotter, meshes: dict[str, LayerMesh], row_of: dict[str, dict[str, int]],
                 origin: np.ndarray, terrain: Terrain | None) -> None:
        self.plotter, self.meshes, self.row_of = plotter, meshes, row_of
        self.origin, self.terrain = origin, terrain
        self.drawn: dict[str, pv.DataSet] = {}  # kind -> its merged mesh
        self.layers: dict[str, list[str]] = {}  # kind -> the layers its cell data "layer" indexes
        self.actors: dict[str, vtk.vtkActor] = {}  # kind -> its actor
        self._scale = 1.0  # underground mode's depth exaggeration
        self._cut: vtk.vtkPlane | None = None  # the section plane, also given to what is drawn later

    def features(self, kind: str, wanted: dict[str, Sequence[str]], color: str = "#e6194b",
                 shares: dict[str, float | None] | None = None) -> pv.DataSet | None:
        """The cells of features of layers (``wanted``: layer id -> feature ids), in ``color`` or, given
        ``shares`` (feature id -> 0..1 or None), coloured along the ramp. Cell data ``row`` is the
        feature's row in its layer, ``layer`` the index of its layer in ``self.layers[kind]``."""
        pieces, layers = [], []
        for layer_id, ids in wanted.items():
            rows_of = self.row_of.get(layer_id, {})
            rows = np.array([rows_of[i] for i in ids if i in rows_of], dtype=np.int64)
            if layer_id not in self.meshes or not len(rows):
                continue
            mesh = self.meshes[layer_id].mesh
            piece = subset(mesh, np.isin(mesh.cell_data["row"], rows), own_points=True)
            piece.cell_data["layer"] = np.full(piece.n_cells, len(layers), dtype=np.int32)
            if shares is not None:
                share_of_row = np.full(len(self.meshes[layer_id].ids), np.nan)
                for feature_id, share in shares.items():
                    if feature_id in rows_of:
                        share_of_row[rows_of[feature_id]] = np.nan if share is None else share
                piece.cell_data["rgb"] = ramp(share_of_row[piece.cell_data["row"]])
            pieces.append(piece)
            layers.append(layer_id)
        if not pieces:
            return None
        alike(pieces)
        merged = pieces[0] if len(pieces) == 1 else pv.merge(pieces, merge_points=False)
        self.layers[kind] = layers
        style = {"scalars": "rgb", "rgb": True} if shares is not None else {"color": color}
        actor = self._add(kind, merged, **style)
        # Drawn on the very faces of the layer's own: pulled towards the camera so that it wins.
        actor.GetMapper().SetRelativeCoincidentTopologyPolygonOffsetParameters(-2.0, -20.0)
        return merged

    def lines(self, kind: str, geometries: Iterable[shapely.Geometry], color: str, width: float = 6.0
              ) -> pv.PolyData | None:
        """Lines lying on the ground, following the DEM; cell data ``item`` is each line's index in
        ``geometries``."""
        parts, owner = shapely.get_parts(list(geometries), return_index=True)
        if not len(parts):
            return None
        parts = shapely.segmentize(shapely.force_2d(parts), STEP_M)
        xy, part_of = shapely.get_coordinates(parts, return_index=True)
        z = self.ground(xy[:, 0], xy[:, 1]) + LIFT_M
        counts = np.bincount(part_of, minlength=len(parts))
        mesh = pv.PolyData(np.column_stack([xy, z]) - self.origin,
                           lines=ragged(np.cumsum(counts) - counts, counts))
        mesh.cell_data["item"] = owner.astype(np.int32)
        self._add(kind, mesh, color=color, line_width=width, render_lines_as_tubes=True)
        return mesh

    def points(self, kind: str, geometries: Sequence[shapely.Geometry], color: str, size: float = 14.0,
               above_m: float = 0.0) -> pv.PolyData | None:
        """Points as round dots ``size`` pixels wide, whatever the zoom: at their own height where they
        have one (valves, clearance places), else ``above_m`` over the ground; point data ``item`` is each
        point's index in ``geometries``."""
        if not geometries:
            return None
        xyz = np.array([shapely.get_coordinates(g, include_z=True)[0] for g in geometries])
        on_ground = np.isnan(xyz[:, 2])
        xyz[on_ground, 2] = self.ground(xyz[on_ground, 0], xyz[on_ground, 1]) + above_m
        mesh = pv.PolyData(xyz - self.origin)
        mesh.point_data["item"] = np.arange(len(xyz), dtype=np.int32)
        # a valve under the ground is drawn as deep as underground mode draws the pipe it stands on
        exaggerable(mesh, mesh.points[:, 2], self.ground(xyz[:, 0], xyz[:, 1]) - self.origin[2])
        self._add(kind, mesh, color=color, point_size=size, render_points_as_spheres=True)
        return mesh

    def clear(self) -> None:
        for actor in self.actors.values():
            self.plotter.remove_actor(actor, render=False)
        self.actors.clear()
        self.drawn.clear()
        self.layers.clear()

    def rescale(self, exaggeration: float) -> None:
        """Depths below the ground stretched as underground mode stretches the layers'."""
        self._scale = exaggeration
        for mesh in self.drawn.values():
            exaggerate(mesh, exaggeration)

    def drawn_place(self, point: np.ndarray) -> np.ndarray:
        """Where the scene draws a point of the twin's CRS now (deeper in underground mode if under the
        ground), in the twin's CRS: where to fly to."""
        ground = float(self.ground(np.array([point[0]]), np.array([point[1]]))[0])
        return np.array([point[0], point[1], drawn_z(float(point[2]), ground, self._scale)])

    def extent(self, layer_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The box (low and high corners, the twin's CRS) of the cells of ``layer_id`` drawn, of any kind."""
        boxes = []
        for kind, layers in self.layers.items():
            if layer_id in layers:
                mesh = self.drawn[kind]
                boxes.append(mesh.extract_cells(mesh.cell_data["layer"] == layers.index(layer_id)).bounds)
        if not boxes:
            return None
        boxes = np.array(boxes)
        return boxes[:, 0::2].min(axis=0) + self.origin, boxes[:, 1::2].max(axis=0) + self.origin

    def ground(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The DEM's height at points of the twin's CRS (0 m without one), as the scene stands things."""
        return ground_height(self.terrain, np.asarray(x, float), np.asarray(y, float))

    def place(self, geometry: shapely.Geometry) -> np.ndarray:
        """Where to fly to for a geometry: its centre in the twin's CRS, on the ground unless the geometry
        has heights of its own (pipes, valves, clearance places lie below it)."""
        coords = shapely.get_coordinates(geometry, include_z=True)
        centre = shapely.get_coordinates(shapely.centroid(geometry))[0]
        own = coords[:, 2][np.isfinite(coords[:, 2])]
        z = float(own.mean()) if len(own) else float(self.ground(centre[:1], centre[1:])[0])
        return np.array([centre[0], centre[1], z])

    def clip(self, cut: vtk.vtkPlane | None) -> None:
        """Cut by the section plane as the layers are (or by nothing)."""
        self._cut = cut
        section.clip(self.actors.values(), cut)

    def _add(self, kind: str, mesh: pv.DataSet, **style) -> vtk.vtkActor:
        if kind in self.actors:
            self.plotter.remove_actor(self.actors[kind], render=False)
        exaggerate(mesh, self._scale)
        actor = self.plotter.add_mesh(mesh, pickable=False, reset_camera=False, render=False, **style)
        section.clip([actor], self._cut)
        self.actors[kind] = actor
        self.drawn[kind] = mesh
        return actor
