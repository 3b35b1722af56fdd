"""Skeleton graphs for graph-convolution classifiers, built from :mod:`kinemic_aug.skeleton` layouts.

ST-GCN style models mix joint features with a small stack of fixed ``[K, V, V]`` adjacency matrices
(``x' = sum_k X W_k A_k``), so the graph is plain data computed once: for V <= 25 joints a dense
matrix and an ``einsum`` are used, no sparse message passing. This module only builds those matrices;
the models live in :mod:`har.models`.

Conventions (those of the ST-GCN and PYSKL graph code):

* ``A[k, v, w]`` is the weight with which joint ``v`` feeds joint ``w`` in partition ``k``, so a
  layer computes ``y[..., w] = sum_v x[..., v] * A[k, v, w]``.
* Normalisation is ``A · D^-1`` with column degrees: every column (every receiving joint) that has
  at least one neighbour sums to 1, i.e. each joint averages its neighbours.
* ``spatial`` (ST-GCN++, CTR-GCN): ``[I, norm(inward), norm(outward)]`` where inward edges point from
  a child to its parent (towards the graph centre).
* ``stgcn_spatial`` (original ST-GCN): the neighbourhood of each joint (itself plus its 1-hop
  neighbours) split into *root* (the joint itself), *centripetal* (neighbours at most as far from the
  layout's centre joint as the joint is) and *centrifugal* (neighbours farther from the centre); all
  three share one normalisation, so they sum to the normalised adjacency with self-loops.

torch-geometric is used for the edge bookkeeping (``to_undirected``, ``get_laplacian``) when it is
importable; a numpy path computes the same thing so that the dependency stays optional.
"""
from __future__ import annotations

import importlib.util
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from kinemic_aug.errors import LayoutError
from kinemic_aug.skeleton import SkeletonLayout, get_layout

# optional, pure-Python install, only used for edge bookkeeping; imported on first use because its
# import costs about 2 s
def _pyg_installed() -> bool:
    try:
        return importlib.util.find_spec("torch_geometric") is not None
    except (ImportError, ValueError):  # e.g. sys.modules['torch_geometric'] = None (blocked)
        return False


HAS_PYG = _pyg_installed()
_PYG_UTILS = None


def _pyg():
    """``torch_geometric.utils``, or ``None`` if it cannot be imported (then numpy is used)."""
    global _PYG_UTILS, HAS_PYG
    if _PYG_UTILS is None and HAS_PYG:
        try:
            import torch_geometric.utils as utils  # type: ignore

            _PYG_UTILS = utils
        except Exception:  # a broken install: fall back to numpy
            HAS_PYG = False
    return _PYG_UTILS

Edge = Tuple[int, int]
LayoutLike = Union[str, SkeletonLayout, dict]
MODES = ("spatial", "stgcn_spatial", "binary_adj")


# ---------------------------------------------------------------------- edge utilities
def _check_edges(edges: Sequence[Edge], num_nodes: int) -> List[Edge]:
    out = []
    for a, b in edges:
        a, b = int(a), int(b)
        if not (0 <= a < num_nodes and 0 <= b < num_nodes):
            raise LayoutError(f"graph edge {(a, b)} outside 0..{num_nodes - 1}")
        if a != b:
            out.append((a, b))
    return out


def undirected_edge_index(edges: Sequence[Edge], num_nodes: int, use_pyg: Optional[bool] = None) -> np.ndarray:
    """Both directions of every edge, without self loops or duplicates, as a sorted ``[2, E]`` array."""
    edges = _check_edges(edges, num_nodes)
    use_pyg = (HAS_PYG if use_pyg is None else use_pyg) and _pyg() is not None
    if not edges:
        return np.zeros((2, 0), dtype=np.int64)
    if use_pyg:
        import torch

        ei = torch.tensor(edges, dtype=torch.long).t().contiguous()
        ei = _pyg().to_undirected(ei, num_nodes=num_nodes)
        return ei.numpy().astype(np.int64)
    both = set(edges) | {(b, a) for a, b in edges}
    # sort by (source, target) to match to_undirected's coalesced order
    arr = np.array(sorted(both), dtype=np.int64).T
    return arr


def dense_adjacency(edges: Sequence[Edge], num_nodes: int, self_loops: bool = False) -> np.ndarray:
    """Symmetric 0/1 adjacency ``[V, V]`` from undirected edges."""
    a = np.zeros((num_nodes, num_nodes), dtype=np.float64)
    ei = undirected_edge_index(edges, num_nodes)
    a[ei[0], ei[1]] = 1.0
    if self_loops:
        a[np.arange(num_nodes), np.arange(num_nodes)] = 1.0
    return a


def laplacian(edges: Sequence[Edge], num_nodes: int, normalization: Optional[str] = "sym",
              use_pyg: Optional[bool] = None) -> np.ndarray:
    """Graph Laplacian ``[V, V]`` (``None``: L = D - A; ``'sym'``: I - D^-1/2 A D^-1/2).

    Not used by ST-GCN itself; spectral models and graph diagnostics (connectivity: the number of
    zero eigenvalues is the number of components) read it.
    """
    use_pyg = (HAS_PYG if use_pyg is None else use_pyg) and _pyg() is not None
    ei = undirected_edge_index(edges, num_nodes, use_pyg=use_pyg)
    if use_pyg:
        import torch

        idx, w = _pyg().get_laplacian(torch.from_numpy(ei), normalization=normalization, num_nodes=num_nodes)
        out = np.zeros((num_nodes, num_nodes))
        np.add.at(out, (idx[0].numpy(), idx[1].numpy()), w.double().numpy())
        return out
    a = np.zeros((num_nodes, num_nodes))
    a[ei[0], ei[1]] = 1.0
    deg = a.sum(1)
    if normalization is None:
        return np.diag(deg) - a
    if normalization == "sym":
        inv = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-12)), 0.0)
        return np.diag((deg > 0).astype(float)) - inv[:, None] * a * inv[None, :]
    raise ValueError(f"laplacian normalization must be None or 'sym', got {normalization!r}")


def hop_distance(edges: Sequence[Edge], num_nodes: int, max_hop: int = 1) -> np.ndarray:
    """Shortest-path length in hops, capped: entries beyond ``max_hop`` are ``inf``."""
    adj = dense_adjacency(edges, num_nodes, self_loops=True) > 0
    dist = np.full((num_nodes, num_nodes), np.inf)
    reach = np.eye(num_nodes, dtype=bool)
    dist[reach] = 0
    for d in range(1, max_hop + 1):
        reach_next = (reach.astype(np.int64) @ adj.astype(np.int64)) > 0
        newly = reach_next & ~reach
        dist[newly] = d
        reach = reach_next
    return dist


def normalize_columns(a: np.ndarray) -> np.ndarray:
    """``A · D^-1`` with D the column sums; all-zero columns stay zero."""
    deg = a.sum(axis=0)
    inv = np.where(deg > 0, 1.0 / np.where(deg > 0, deg, 1.0), 0.0)
    return a * inv[None, :]


# ---------------------------------------------------------------------- partitions
def _directed(edges: Sequence[Edge], num_nodes: int) -> np.ndarray:
    """``M[b, a] = 1`` for each directed edge a→b, i.e. joint a feeds joint b (column b receives)."""
    m = np.zeros((num_nodes, num_nodes))
    for a, b in _check_edges(edges, num_nodes):
        m[a, b] = 1.0
    return m


def spatial_partitions(edges: Sequence[Edge], num_nodes: int) -> np.ndarray:
    """``[I, norm(inward), norm(outward)]``: self, child→parent and parent→child message passing.

    ``edges`` are (child, parent) pairs. In the *inward* matrix each parent gathers the mean of its
    children; in the *outward* one each child receives from its parent.
    """
    inward = _directed(edges, num_nodes)              # child feeds parent
    outward = _directed([(p, c) for c, p in edges], num_nodes)
    return np.stack([np.eye(num_nodes), normalize_columns(inward), normalize_columns(outward)])


def stgcn_spatial_partitions(edges: Sequence[Edge], num_nodes: int, center: int, max_hop: int = 1) -> np.ndarray:
    """The original ST-GCN spatial-configuration partition (root / centripetal / centrifugal).

    Neighbourhood = joints within ``max_hop`` hops (itself included), normalised by column degree as a
    whole; each entry is then assigned to one partition by comparing the neighbour's hop distance to
    the centre joint with the receiving joint's distance. For ``max_hop > 1`` there are 2 extra
    partitions per extra hop (centripetal and centrifugal at that hop distance), as in ST-GCN.
    """
    if not 0 <= center < num_nodes:
        raise LayoutError(f"graph centre {center} outside 0..{num_nodes - 1}")
    hop = hop_distance(edges, num_nodes, max_hop)
    neigh = (hop <= max_hop).astype(np.float64)
    norm = normalize_columns(neigh)
    to_center = hop_distance(edges, num_nodes, num_nodes)[:, center]
    if np.isinf(to_center).any():
        far = np.nonzero(np.isinf(to_center))[0].tolist()
        raise LayoutError(f"joints {far} are not connected to the graph centre {center}")
    parts = [np.where(hop == 0, norm, 0.0)]
    for h in range(1, max_hop + 1):
        at_h = hop == h
        # v feeds w; v is "centripetal" if it is no farther from the centre than w
        closer = to_center[:, None] <= to_center[None, :]
        parts.append(np.where(at_h & closer, norm, 0.0))
        parts.append(np.where(at_h & ~closer, norm, 0.0))
    return np.stack(parts)


# ---------------------------------------------------------------------- Graph
class Graph:
    """Adjacency stack for one layout and mode.

    Args:
        layout: a layout name (``get_layout``), a :class:`SkeletonLayout`, or a layout dict (also the
            PYSKL-style ``dict(num_node, inward, center)``).
        mode: ``'spatial'`` (ST-GCN++), ``'stgcn_spatial'`` (ST-GCN) or ``'binary_adj'`` (un-normalised
            adjacency without self loops, K = 1).
        max_hop: neighbourhood size for ``stgcn_spatial``.

    Attributes:
        A: float32 ``[K, V, V]``.
        bone_pairs: ``layout.bones()``, the (joint, partner) pairs for bone features.
        edge_index: ``[2, E]`` undirected edges (both directions).
    """

    def __init__(self, layout: LayoutLike = "nturgb+d", mode: str = "spatial", max_hop: int = 1) -> None:
        if mode not in MODES:
            raise ValueError(f"graph mode must be one of {MODES}, got {mode!r}")
        self.layout = get_layout(layout)
        self.mode = mode
        self.max_hop = int(max_hop)
        self.num_node = self.layout.num_joints
        self.center = self.layout.center
        self.inward: List[Edge] = [tuple(map(int, e)) for e in self.layout.edges()]
        self.bone_pairs: List[Edge] = self.layout.bones()
        self.edge_index = undirected_edge_index(self.inward, self.num_node)
        if mode == "spatial":
            a = spatial_partitions(self.inward, self.num_node)
        elif mode == "stgcn_spatial":
            a = stgcn_spatial_partitions(self.inward, self.num_node, self.center, self.max_hop)
        else:
            a = dense_adjacency(self.inward, self.num_node)[None]
        self.A = a.astype(np.float32)

    def __repr__(self) -> str:
        return f"Graph(layout={self.layout.name!r}, mode={self.mode!r}, A={tuple(self.A.shape)})"
