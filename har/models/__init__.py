"""ST-GCN / ST-GCN++ backbones, the GCN head and the MMEngine recognizer."""
from .blocks import GraphConv, MultiScaleTemporalConv, STGCNBlock, TemporalConv
from .head import GCNHead
from .recognizer import GCNDataPreprocessor, RecognizerGCN
from .stgcn import PUBLISHED_PRESET, SMALL_PRESET, STGCN
from .stgcnpp import STGCNPP

__all__ = ["STGCN", "STGCNPP", "GCNHead", "RecognizerGCN", "GCNDataPreprocessor", "GraphConv", "TemporalConv",
           "MultiScaleTemporalConv", "STGCNBlock", "SMALL_PRESET", "PUBLISHED_PRESET"]
