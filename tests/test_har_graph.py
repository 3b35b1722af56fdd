"""Graph partitions built from skeleton layouts (har.graph)."""
from __future__ import annotations

import numpy as np
import pytest

from har import graph as hg
from har.graph import Graph, normalize_columns
from kinemic_aug.errors import LayoutError
from kinemic_aug.skeleton import get_layout

LAYOUTS = ["nturgb+d", "msr_action3d", "smpl22", "coco", "deepmimic15", "cmu_bvh"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", ["spatial", "stgcn_spatial"])
def test_shapes_and_column_normalisation(layout, mode):
    g = Graph(layout, mode)
    v = get_layout(layout).num_joints
    assert g.A.shape == (3, v, v) and g.A.dtype == np.float32
    for k in range(3):
        cols = g.A[k].sum(axis=0)
        has_neighbour = (g.A[k] != 0).any(axis=0)
        if mode == "spatial":
            np.testing.assert_allclose(cols[has_neighbour], 1.0, atol=1e-6)
        assert np.all(cols[~has_neighbour] == 0)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_spatial_inward_outward_follow_the_tree(layout):
    lay = get_layout(layout)
    g = Graph(lay, "spatial")
    np.testing.assert_array_equal(g.A[0], np.eye(lay.num_joints))
    inward, outward = g.A[1] > 0, g.A[2] > 0
    expect_in = np.zeros_like(inward)
    for child, parent in lay.edges():
        expect_in[child, parent] = True  # the child feeds its parent
    np.testing.assert_array_equal(inward, expect_in)
    np.testing.assert_array_equal(outward, expect_in.T)
    # every joint that has children averages them: weight 1 / number of children
    n_children = expect_in.sum(axis=0)
    for parent in np.nonzero(n_children)[0]:
        np.testing.assert_allclose(g.A[1][expect_in[:, parent], parent], 1.0 / n_children[parent], rtol=1e-6)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_stgcn_partitions_sum_to_normalised_adjacency_with_self_loops(layout):
    lay = get_layout(layout)
    g = Graph(lay, "stgcn_spatial")
    v = lay.num_joints
    adj = np.eye(v)
    for a, b in lay.edges():
        adj[a, b] = adj[b, a] = 1.0
    np.testing.assert_allclose(g.A.sum(0), normalize_columns(adj), atol=1e-6)
    # every column of the sum is a mean over the neighbourhood
    np.testing.assert_allclose(g.A.sum(0).sum(0), 1.0, atol=1e-6)
    # the root partition is the diagonal only; partitions do not overlap
    assert np.count_nonzero(g.A[0] - np.diag(np.diag(g.A[0]))) == 0
    assert not np.any((g.A[1] != 0) & (g.A[2] != 0))


def test_stgcn_partition_direction_relative_to_centre():
    lay = get_layout("msr_action3d")
    g = Graph(lay, "stgcn_spatial")
    c = lay.center
    # the centre joint has no neighbour closer to the centre than itself
    assert g.A[1][:, c].sum() == pytest.approx(g.A[1][c, c])
    # a child of the centre receives from the centre in the centripetal partition
    child = next(i for i, p in enumerate(lay.parents) if p == c)
    assert g.A[1][c, child] > 0 and g.A[2][c, child] == 0
    # and the centre receives from that child in the centrifugal partition
    assert g.A[2][child, c] > 0


def test_binary_adjacency_and_bones():
    lay = get_layout("nturgb+d")
    g = Graph(lay, "binary_adj")
    assert g.A.shape == (1, 25, 25)
    np.testing.assert_array_equal(g.A[0], g.A[0].T)
    assert g.A[0].sum() == 2 * len(lay.edges()) and np.trace(g.A[0]) == 0
    assert g.bone_pairs == lay.bones()
    assert g.edge_index.shape == (2, 48)


def test_custom_layout_dict_and_errors():
    g = Graph(dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0), "spatial")
    assert g.A.shape == (3, 4, 4)
    with pytest.raises(ValueError):
        Graph("msr_action3d", "nonsense")
    with pytest.raises(LayoutError):
        Graph("no_such_layout")


def test_numpy_fallback_matches_torch_geometric():
    pytest.importorskip("torch_geometric")
    lay = get_layout("nturgb+d")
    a = hg.undirected_edge_index(lay.edges(), 25, use_pyg=True)
    b = hg.undirected_edge_index(lay.edges(), 25, use_pyg=False)
    np.testing.assert_array_equal(a, b)
    for norm in (None, "sym"):
        np.testing.assert_allclose(hg.laplacian(lay.edges(), 25, norm, use_pyg=True),
                                   hg.laplacian(lay.edges(), 25, norm, use_pyg=False), atol=1e-6)


def test_laplacian_counts_components():
    lay = get_layout("smpl22")
    eig = np.linalg.eigvalsh(hg.laplacian(lay.edges(), lay.num_joints, None, use_pyg=False))
    assert np.sum(np.abs(eig) < 1e-9) == 1  # a skeleton is one connected tree
    # drop one edge: two components
    eig2 = np.linalg.eigvalsh(hg.laplacian(lay.edges()[1:], lay.num_joints, None, use_pyg=False))
    assert np.sum(np.abs(eig2) < 1e-9) == 2
