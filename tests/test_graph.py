"""The network graph the analyses walk (twin.analyses.graph), on handmade lines: vertices merged where
they meet, crossings without a shared vertex left apart, points snapped, shortest ways and their routes,
and traces that stop at barriers."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from twin.analyses.graph import NODE_GRID_M, Network

pytestmark = pytest.mark.fast


def lines(*coordinates: list[tuple[float, float]]) -> list[shapely.LineString]:
    return [shapely.LineString(points) for points in coordinates]


def l_shape_and_an_island() -> Network:
    """An L (A: 0,0 to 100,0; B: 100,0 to 100,100, its first vertex a hair off A's last), a crossing road C
    over A without a shared vertex, and D apart from them all."""
    return Network(lines([(0, 0), (50, 0), (100, 0)], [(100, NODE_GRID_M / 10), (100, 100)],
                         [(25, -50), (25, 50)], [(500, 500), (600, 500)]), ["A", "B", "C", "D"])


def test_vertices_that_meet_are_one_node_and_segments_know_their_feature() -> None:
    network = l_shape_and_an_island()
    assert len(network) == 5  # A's two segments, B, C, D
    assert [network.features[f] for f in network.segment_feature] == ["A", "A", "B", "C", "D"]
    assert network.segment_length.tolist() == pytest.approx([50, 50, 100, 100, 100])
    assert len(network.node_xy) == 3 + 1 + 2 + 2  # B's first vertex is A's last
    assert network.segment_nodes[1][1] == network.segment_nodes[2][0]
    # a segment shorter than the grid joins its two vertices: no segment of length 0
    tiny = Network(lines([(0, 0), (0, NODE_GRID_M / 10), (10, 0)]), ["T"])
    assert len(tiny) == 1 and tiny.segment_length.tolist() == pytest.approx([10.0], abs=1e-2)


def test_points_snap_to_the_nearest_segment() -> None:
    network = l_shape_and_an_island()
    near_a, near_b = network.snap([(60, 5), (103, 40)])
    assert (near_a.segment, near_a.along, near_a.xy, near_a.offset) == (1, pytest.approx(10), (60, 0), pytest.approx(5))
    assert (near_b.segment, near_b.xy) == (2, (100, 40)) and near_b.offset == pytest.approx(3)
    assert Network([], []).snap([(0, 0)]) == [] and network.snap([]) == []
    assert network.nodes_near([(100.001, 0), (70, 0)], within=0.5) == [network.segment_nodes[1][1], None]


def test_shortest_ways_follow_the_lines_and_crossings_do_not_connect() -> None:
    network = l_shape_and_an_island()
    origin, up_b, on_c, on_d = network.snap([(10, 0), (100, 70), (25, 30), (550, 500)])
    distance, via = network.distances(origin)
    assert network.route(origin, up_b, distance, via) == (
        pytest.approx(90 + 70), [(10, 0), (50, 0), (100, 0), (100, 70)])
    # C crosses A at x = 25 without a vertex there: a bridge, not a junction
    assert network.route(origin, on_c, distance, via) is None
    assert network.route(origin, on_d, distance, via) is None
    assert np.isinf(distance[network.segment_nodes[4]]).all()
    # two points on one segment: straight along it
    beside = network.snap([(40, 0)])[0]
    assert network.route(origin, beside, distance, via) == (pytest.approx(30), [(10, 0), (40, 0)])


def test_a_trace_stops_at_barriers_and_says_which_it_met() -> None:
    r"""A line of three segments and a branch from its middle node: a barrier at the branch's far end
    and one at the line's third node.

        a --0-- b --1-- c --2-- d
                |
                3
                |
                e
    """
    network = Network(lines([(0, 0), (10, 0), (20, 0), (30, 0)], [(10, 0), (10, -10)]), ["main", "branch"])
    node = {xy: index for index, xy in enumerate(map(tuple, network.node_xy.tolist()))}
    c, e = node[(20.0, 0.0)], node[(10.0, -10.0)]
    segments, met = network.trace([0], barriers={c, e})
    assert segments == {0, 1, 3} and met == {c, e}  # segment 2, beyond c, is not reached
    everything, none = network.trace([0], barriers=set())
    assert everything == {0, 1, 2, 3} and none == set()
