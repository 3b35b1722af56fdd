"""Import this module to register every ``har`` component in MMEngine's root registries.

Configs load it with ``custom_imports = dict(imports=['har.mm'], allow_failed_imports=False)``.
It needs mmengine and torch; mmcv and torch-geometric are not required.
"""
from . import graph, hooks, metrics, registry  # noqa: F401
from .datasets import pose_dataset, transforms  # noqa: F401
from .models import blocks, head, recognizer, stgcn, stgcnpp  # noqa: F401
