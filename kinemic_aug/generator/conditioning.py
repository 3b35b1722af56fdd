"""Text conditioning shared by training and sampling: any embedder (callable, ``.encode``, mapping) to a float matrix."""
from __future__ import annotations

from typing import Any, Callable, List, Mapping, Union

import numpy as np
from torch import Tensor

from ..errors import DataError

TextEmbedder = Union[Callable[[List[str]], np.ndarray], Mapping[str, np.ndarray], Any]


def embed_texts(embedder: TextEmbedder, texts: List[str]) -> np.ndarray:
    """Embed ``texts`` with a callable, an object with ``.encode`` or a ``{caption: vector}`` mapping."""
    if isinstance(embedder, Mapping):
        missing = [t for t in texts if t not in embedder]
        if missing:
            raise DataError(f"no precomputed embedding for {len(missing)} caption(s), e.g. {missing[0]!r}",
                            field="captions")
        out = np.stack([np.asarray(embedder[t], np.float32) for t in texts]) if texts else np.zeros((0, 0), np.float32)
    elif hasattr(embedder, "encode"):
        out = embedder.encode(texts)
    elif callable(embedder):
        out = embedder(texts)
    else:
        raise TypeError(f"text embedder must be a callable, have .encode, or be a mapping; got {type(embedder).__name__}")
    if isinstance(out, Tensor):
        out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=np.float32)
    if out.ndim != 2 or out.shape[0] != len(texts):
        raise DataError(f"text embedder returned shape {out.shape} for {len(texts)} captions", field="captions")
    return out
