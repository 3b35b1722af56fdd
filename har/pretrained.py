"""Backbone checkpoints pretrained on a motion corpus: written with provenance, loaded with checks.

A pretrained backbone is only useful for a target whose skeleton it was trained on: ST-GCN's graph,
its input batch-norm (``V × C`` channels) and its per-edge importance weights are all sized by the
layout. Loading such weights into a model for another layout by name (as a plain ``load_from`` with
``strict=False`` does) would silently keep the matching tensors and skip the others. So the file
records the layout, joint count, input channels and architecture, and :func:`load_backbone` refuses
a mismatch with an error naming the file and field, before training starts.

File format (``torch.save``, loads with ``weights_only=True``): ``{"state_dict": {"backbone.<name>":
tensor}, "meta": {...}}``. The ``backbone.`` prefix means the same file also works as an MMEngine
``load_from`` for a recognizer (the head keys are absent and stay freshly initialised).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Union

import torch

from kinemic_aug.errors import DataError
from kinemic_aug.skeleton.layout import get_layout
from kinemic_aug.utils.io import atomic_torch_save

FORMAT = "kinemic_aug.pretrained_backbone"
PREFIX = "backbone."
#: Backbone constructor arguments that must match between the checkpoint and the model.
ARCH_KEYS = ("in_channels", "base_channels", "num_stages", "inflate_stages", "down_stages", "ch_ratio",
             "data_bn_type", "gcn_adaptive", "gcn_with_res", "tcn_type")


def save_backbone(state_dict: Mapping[str, torch.Tensor], out: Union[str, Path], meta: Dict[str, Any]) -> Path:
    """Keep the ``backbone.*`` tensors of a recognizer's state dict (the head is dropped) and write
    them with ``meta`` (must name ``layout``, ``num_joints`` and ``arch``) atomically."""
    for key in ("layout", "num_joints", "arch"):
        if key not in meta:
            raise ValueError(f"pretrained backbone meta needs {key!r}")
    state = {k: v.detach().cpu().clone() for k, v in state_dict.items()
             if k.startswith(PREFIX) and isinstance(v, torch.Tensor)}
    if not state:
        raise ValueError("state dict has no 'backbone.' tensors")
    return atomic_torch_save(out, {"state_dict": state, "meta": dict(meta, format=FORMAT)})


def read_backbone(path: Union[str, Path]) -> Dict[str, Any]:
    """``{"state_dict", "meta"}`` of a pretrained backbone file, with errors naming the file."""
    p = Path(path)
    if not p.is_file():
        raise DataError("pretrained backbone not found", source=str(p), field="pretrained")
    try:
        ckpt = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (zip, pickle and unpickling errors alike)
        raise DataError(f"unreadable or corrupt checkpoint ({type(e).__name__}: {e})", source=str(p),
                        field="pretrained") from e
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("meta"), dict) or \
            ckpt["meta"].get("format") != FORMAT or not isinstance(ckpt.get("state_dict"), dict):
        raise DataError(f"not a pretrained backbone file (expected meta.format {FORMAT!r}); write one with "
                        "tools/pretrain_classifier.py", source=str(p), field="meta.format")
    return ckpt


def load_backbone(backbone: torch.nn.Module, path: Union[str, Path], layout: Any, arch: Dict[str, Any]) -> Dict:
    """Load a pretrained backbone file into ``backbone`` (an STGCN for ``layout`` built with ``arch``),
    strictly; any difference in layout, joint count or architecture is a :class:`DataError`."""
    ckpt = read_backbone(path)
    meta = ckpt["meta"]
    want = get_layout(layout)
    got_layout = meta.get("layout")
    same = got_layout == want.name
    if not same and got_layout is not None:
        try:
            same = get_layout(got_layout).name == want.name
        except DataError:  # a user's own layout, not registered here
            same = False
    if same and meta.get("joint_names") is not None and list(meta["joint_names"]) != list(want.joint_names):
        raise DataError(f"checkpoint's joint order differs from layout {want.name!r}", source=str(path),
                        field="meta.joint_names")
    if not same:
        raise DataError(f"checkpoint is for layout {got_layout!r} ({meta.get('num_joints')} joints), the model for "
                        f"{want.name!r} ({want.num_joints} joints); pretrain one for this layout "
                        f"(tools/pretrain_classifier.py --layout {want.name})", source=str(path), field="meta.layout")
    if int(meta.get("num_joints", -1)) != want.num_joints:
        raise DataError(f"checkpoint has {meta.get('num_joints')} joints, layout {want.name!r} has "
                        f"{want.num_joints}", source=str(path), field="meta.num_joints")
    for key in ARCH_KEYS:
        a, b = (meta.get("arch") or {}).get(key), arch.get(key)
        norm = (lambda x: list(x) if isinstance(x, (list, tuple)) else x)
        if key in arch and norm(a) != norm(b):
            raise DataError(f"backbone {key}={b!r} but the checkpoint was trained with {key}={a!r}",
                            source=str(path), field=f"meta.arch.{key}")
    state = {k[len(PREFIX):]: v for k, v in ckpt["state_dict"].items() if k.startswith(PREFIX)}
    try:
        backbone.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise DataError(f"weights do not fit the backbone: {e}", source=str(path), field="state_dict") from e
    return meta
