"""Lines as a graph, for the analyses that walk a network (roads, pipes): pgRouting is not at hand, and
the networks a twin holds (thousands to a few hundred thousand segments) walk in well under a second in
Python.

Nodes are the lines' vertices, merged where they coincide (on a :data:`NODE_GRID_M` grid: survey and
OpenStreetMap data share the coordinates of a junction exactly, up to float noise); edges are the
segments between consecutive vertices, each knowing the feature it belongs to and its length in plan.
Two lines that cross without a shared vertex (a bridge, a pipe passing over another) are not connected.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

NODE_GRID_M = 0.01  # vertices closer than about this are one node


@dataclass(frozen=True)
class Snap:
    """Where a point meets the network: the nearest segment, how far along it (metres from its first
    node), the point on it, and the point's distance to it."""

    segment: int
    along: float
    xy: tuple[float, float]
    offset: float


class Network:
    """The graph of ``lines`` (shapely LineStrings or MultiLineStrings; ``features[i]`` names line i)."""

    def __init__(self, lines: Sequence[shapely.Geometry], features: Sequence[object]) -> None:
        self.features = list(features)
        parts, owner = shapely.get_parts(np.asarray(lines, dtype=object), return_index=True)
        coords, part = shapely.get_coordinates(parts, return_index=True)
        keys = np.round(coords / NODE_GRID_M).astype(np.int64)
        _, first, node = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        node = node.ravel()
        self.node_xy = coords[first]
        pairs = np.flatnonzero(part[1:] == part[:-1])  # a vertex and the next one of the same part
        start, end = node[pairs], node[pairs + 1]
        kept = start != end  # a segment shorter than the grid joins its two vertices into one node
        self.segment_nodes = np.column_stack([start[kept], end[kept]])
        self.segment_feature = owner[part[pairs[kept]]]
        ends = self.node_xy[self.segment_nodes]
        self.segment_length = np.hypot(*(ends[:, 1] - ends[:, 0]).T)
        self.adjacency: list[list[tuple[int, int]]] = [[] for _ in range(len(self.node_xy))]
        for segment, (a, b) in enumerate(self.segment_nodes.tolist()):
            self.adjacency[a].append((b, segment))
            self.adjacency[b].append((a, segment))
        self._segments = shapely.linestrings(ends)
        self._tree = shapely.STRtree(self._segments)

    def __len__(self) -> int:
        return len(self.segment_nodes)

    def snap(self, xy: Sequence[tuple[float, float]]) -> list[Snap]:
        """For each point, where it meets the nearest segment (any distance away; an empty network: [])."""
        if not len(self) or not len(xy):
            return []
        points = shapely.points(np.asarray(xy, dtype=float))
        where, nearest = self._tree.query_nearest(points, return_distance=False, all_matches=False)
        segments = np.empty(len(points), dtype=np.int64)
        segments[where] = nearest
        along = shapely.line_locate_point(self._segments[segments], points)
        on = shapely.line_interpolate_point(self._segments[segments], along)
        offsets = shapely.distance(points, on)
        return [Snap(int(s), float(a), (float(p.x), float(p.y)), float(o))
                for s, a, p, o in zip(segments, along, on, offsets)]

    def nodes_near(self, xy: Sequence[tuple[float, float]], within: float) -> list[int | None]:
        """For each point, the nearest node no farther than ``within``, else None."""
        if not len(self.node_xy) or not len(xy):
            return [None] * len(xy)
        tree = shapely.STRtree(shapely.points(self.node_xy))
        points = shapely.points(np.asarray(xy, dtype=float))
        where, nearest = tree.query_nearest(points, max_distance=within, all_matches=False)
        out: list[int | None] = [None] * len(xy)
        for point, node in zip(where.tolist(), nearest.tolist()):
            out[point] = node
        return out

    def distances(self, origin: Snap) -> tuple[np.ndarray, np.ndarray]:
        """Dijkstra from a snapped point: each node's distance along the network (inf where unreachable),
        and the segment each was reached by (-1 for the origin segment's own ends and unreached nodes)."""
        distance = np.full(len(self.node_xy), np.inf)
        via = np.full(len(self.node_xy), -1, dtype=np.int64)
        a, b = self.segment_nodes[origin.segment].tolist()
        length = float(self.segment_length[origin.segment])
        queue = [(origin.along, a), (length - origin.along, b)]
        for d, node in queue:
            distance[node] = min(distance[node], d)
        heapq.heapify(queue)
        while queue:
            d, node = heapq.heappop(queue)
            if d > distance[node]:
                continue
            for neighbour, segment in self.adjacency[node]:
                step = d + self.segment_length[segment]
                if step < distance[neighbour]:
                    distance[neighbour] = step
                    via[neighbour] = segment
                    heapq.heappush(queue, (step, neighbour))
        return distance, via

    def route(self, origin: Snap, target: Snap, distance: np.ndarray, via: np.ndarray
              ) -> tuple[float, list[tuple[float, float]]] | None:
        """The shortest way from ``origin`` to ``target`` along the network (after :meth:`distances` from
        ``origin``): its length and its vertices, from one snapped point to the other; None if unreachable."""
        a, b = self.segment_nodes[target.segment].tolist()
        length = float(self.segment_length[target.segment])
        best = min((distance[a] + target.along, a), (distance[b] + length - target.along, b))
        if target.segment == origin.segment and abs(target.along - origin.along) <= best[0]:
            return abs(target.along - origin.along), [origin.xy, target.xy]
        if not np.isfinite(best[0]):
            return None
        node, path = best[1], [target.xy]
        while True:
            path.append(tuple(self.node_xy[node]))
            segment = int(via[node])
            if segment < 0:
                break
            first, second = self.segment_nodes[segment].tolist()
            node = first if second == node else second
        path.append(origin.xy)
        return float(best[0]), path[::-1]

    def trace(self, start_segments: Iterable[int], barriers: set[int]) -> tuple[set[int], set[int]]:
        """Everything reachable from ``start_segments`` without passing a barrier node: the segments
        reached, and the barrier nodes met (a barrier is reached, never passed)."""
        segments = set(start_segments)
        nodes = {int(n) for s in segments for n in self.segment_nodes[s]}
        met = nodes & barriers
        stack = list(nodes - barriers)
        while stack:
            node = stack.pop()
            for neighbour, segment in self.adjacency[node]:
                segments.add(segment)
                if neighbour in nodes:
                    continue
                nodes.add(neighbour)
                if neighbour in barriers:
                    met.add(neighbour)
                else:
                    stack.append(neighbour)
        return segments, met
