"""A plain PyTorch dataset over real + synthetic annotations (no MMEngine needed)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset


class AnnotationDataset(Dataset):
    """``(keypoint tensor [M, T, V, C], label, is_synthetic)`` per annotation; ``transform`` (if given)
    maps the keypoint array first - e.g. a normaliser and fixed-length sampler of your own pipeline."""

    def __init__(self, annotations: List[Dict[str, Any]], transform: Optional[Callable[[np.ndarray], np.ndarray]] = None):
        self.annotations = annotations
        self.transform = transform

    def __len__(self) -> int:
        return len(self.annotations)

    def __getitem__(self, idx: int) -> Tuple[torch.Tensor, int, bool]:
        a = self.annotations[idx]
        kp = a["keypoint"]
        if self.transform is not None:
            kp = self.transform(kp)
        return torch.as_tensor(np.asarray(kp, dtype=np.float32)), int(a["label"]), bool(a.get("is_synthetic", False))
