"""``har``: skeleton action recognition (ST-GCN / ST-GCN++) on MMEngine, for any kinemic-aug layout.

Sub-modules:

* :mod:`har.graph` - ``[K, V, V]`` adjacency stacks (``spatial``, ``stgcn_spatial``) from layouts;
* :mod:`har.models` - backbones, GCN head, :class:`RecognizerGCN`;
* :mod:`har.datasets` - :class:`PoseDataset` (PYSKL pickles, few-shot) and the pipeline steps;
* :mod:`har.metrics` - :class:`AccMetric` (top-1/top-5/mean-class);
* :mod:`har.hooks`, :mod:`har.training` - run bookkeeping and entry points;
* :mod:`har.mm` - the import that registers everything (``custom_imports``).

Importing ``har`` registers all components; mmcv is never imported and torch-geometric is optional.
"""
from . import mm  # noqa: F401  (registration)
from .datasets import PoseDataset
from .graph import Graph
from .metrics import AccMetric
from .models import GCNHead, RecognizerGCN, STGCN, STGCNPP

__all__ = ["Graph", "STGCN", "STGCNPP", "GCNHead", "RecognizerGCN", "PoseDataset", "AccMetric"]
