"""Position-space retargeting between skeleton layouts through one canonical layout, SMPL-22.

Why one hub: with N layouts, pairwise maps would need N² tables that drift apart. Each layout
instead declares two tables, *to* SMPL-22 and *from* SMPL-22, and any pair ``A -> B`` is the
composition ``from_smpl[B] ∘ to_smpl[A]``. SMPL-22 is the hub because it is what the generator
(HumanML3D/MDM) speaks.

Each table is data, not code: for every target joint it names either one source joint (a direct
copy) or a weighted combination of source joints, e.g. ``{"spine_shoulder": 0.6,
"left_shoulder": 0.4}`` for a collar bone 0.4 of the way out to the shoulder, or
``{"left_wrist": 1.3, "left_elbow": -0.3}`` for a hand point extrapolated along the forearm.
Weights must sum to 1 (an *affine* combination): then the map commutes with translation,
rotation and uniform scaling, so retargeting never depends on where the person stands or which
way they face, and an all-zero (missing) frame stays all zero.

Axis conventions: every built-in layout is metres with y up (HumanML3D, Kinect v1/v2 camera
space, DeepMimic, CMU BVH after the loader's scaling, 3-D COCO lifts). Retargeting is a per-frame
linear map of joint positions, so it keeps whatever frame the input is in; convert z-up data to
y-up before mixing it with y-up data, not before retargeting.

Limits (documented, not hidden): the map works on positions only, so points without a source
joint are approximations (NTU hand tips and thumbs extrapolate along the forearm; SMPL feet from
DeepMimic/COCO sit just below the ankle; COCO's face points lie in the head's frontal plane
because no forward direction is available from an affine combination). Left stays left and right
stays right: :func:`register_retarget_map` rejects a left target built mainly from right joints.
Kinect's left/right labels are the dataset's own.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DataError, LayoutError
from .layout import SkeletonLayout, get_layout

CANONICAL = "smpl22"

#: One target joint: a source joint name (direct copy) or {source joint name: weight} (weights sum to 1).
JointSpec = Union[str, Mapping[str, float], Sequence[Tuple[str, float]]]
JointMap = Mapping[str, JointSpec]

_WEIGHT_TOL = 1e-6


@dataclass(frozen=True)
class RetargetMap:
    """The two tables of one layout, normalised to ``{target: {source: weight}}``, plus their
    compiled matrices (``to_matrix`` is ``[22, V]``, ``from_matrix`` is ``[V, 22]``)."""

    layout: str
    to_smpl: Dict[str, Dict[str, float]]
    from_smpl: Dict[str, Dict[str, float]]
    to_matrix: np.ndarray = field(repr=False)
    from_matrix: np.ndarray = field(repr=False)

    def direct_joints(self) -> List[Tuple[str, str]]:
        """``(smpl_joint, layout_joint)`` pairs copied directly in *both* directions; a round trip
        SMPL-22 -> layout -> SMPL-22 reproduces these joints exactly."""
        out = []
        for smpl_j, spec in self.to_smpl.items():
            if len(spec) == 1:
                (src_j, w), = spec.items()
                back = self.from_smpl.get(src_j, {})
                if w == 1.0 and back == {smpl_j: 1.0}:
                    out.append((smpl_j, src_j))
        return out


_MAPS: Dict[str, RetargetMap] = {}


def _normalise_spec(spec: JointSpec, target: str, table: str, layout: str) -> Dict[str, float]:
    if isinstance(spec, str):
        return {spec: 1.0}
    items = spec.items() if isinstance(spec, Mapping) else spec
    out: Dict[str, float] = {}
    try:
        for name, w in items:
            out[str(name)] = out.get(str(name), 0.0) + float(w)
    except (TypeError, ValueError):
        raise LayoutError(f"retarget map {layout!r}, {table}[{target!r}]: expected a joint name or "
                          f"{{joint: weight}}, got {spec!r}", field=table) from None
    out = {k: v for k, v in out.items() if v != 0.0}
    if not out:
        raise LayoutError(f"retarget map {layout!r}, {table}[{target!r}]: no source joint with a "
                          "non-zero weight", field=table)
    total = sum(out.values())
    if abs(total - 1.0) > _WEIGHT_TOL:
        raise LayoutError(f"retarget map {layout!r}, {table}[{target!r}]: weights sum to {total:.6g}, "
                          "must sum to 1 (an affine combination keeps the map independent of where "
                          "the person stands)", field=table)
    return out


def _compile(table: JointMap, src: SkeletonLayout, dst: SkeletonLayout, table_name: str,
             layout_name: str) -> Tuple[Dict[str, Dict[str, float]], np.ndarray]:
    """Check one table against both layouts and turn it into a ``[V_dst, V_src]`` matrix."""
    missing = [j for j in dst.joint_names if j not in table]
    if missing:
        raise LayoutError(f"retarget map {layout_name!r}, {table_name}: no entry for target joints "
                          f"{missing} of layout {dst.name!r}", field=table_name)
    extra = [j for j in table if j not in dst.joint_names]
    if extra:
        raise LayoutError(f"retarget map {layout_name!r}, {table_name}: {extra} are not joints of "
                          f"layout {dst.name!r}", field=table_name)
    norm: Dict[str, Dict[str, float]] = {}
    mat = np.zeros((dst.num_joints, src.num_joints), dtype=np.float64)
    for target in dst.joint_names:
        spec = _normalise_spec(table[target], target, table_name, layout_name)
        bad = [s for s in spec if s not in src.joint_names]
        if bad:
            raise LayoutError(f"retarget map {layout_name!r}, {table_name}[{target!r}]: {bad} are not "
                              f"joints of layout {src.name!r}", field=table_name)
        ti = dst.index(target)
        side = dst.side(ti)
        if side != "center":
            other = "right" if side == "left" else "left"
            same_w = sum(abs(w) for s, w in spec.items() if src.side(src.index(s)) == side)
            opp_w = sum(abs(w) for s, w in spec.items() if src.side(src.index(s)) == other)
            if opp_w > 0 and opp_w >= same_w:
                raise LayoutError(f"retarget map {layout_name!r}, {table_name}[{target!r}]: a {side} "
                                  f"joint built mainly from {other} joints {spec}; left must stay left",
                                  field=table_name)
        for s, w in spec.items():
            mat[ti, src.index(s)] += w
        norm[target] = spec
    return norm, mat


def register_retarget_map(layout_name: Union[str, SkeletonLayout], to_smpl: JointMap, from_smpl: JointMap,
                          *, overwrite: bool = False) -> RetargetMap:
    """Declare how a registered layout maps to SMPL-22 and back.

    Args:
        layout_name: a registered layout (name, alias or :class:`SkeletonLayout`).
        to_smpl: for each of the 22 SMPL joints, a source joint name of this layout or
            ``{joint: weight}`` with weights summing to 1.
        from_smpl: for each joint of this layout, an SMPL joint name or ``{smpl_joint: weight}``.
        overwrite: replace an existing map (built-in maps included).

    Raises:
        LayoutError: unknown layout or joint names, a missing target joint, weights not summing
            to 1, or a left joint built mainly from right joints (or vice versa).
    """
    layout = get_layout(layout_name)
    smpl = get_layout(CANONICAL)
    if layout.name in _MAPS and not overwrite:
        raise LayoutError(f"a retarget map for layout {layout.name!r} is already registered "
                          "(pass overwrite=True to replace it)", field="layout")
    to_norm, to_mat = _compile(to_smpl, layout, smpl, "to_smpl", layout.name)
    from_norm, from_mat = _compile(from_smpl, smpl, layout, "from_smpl", layout.name)
    rmap = RetargetMap(layout.name, to_norm, from_norm, to_mat, from_mat)
    _MAPS[layout.name] = rmap
    return rmap


def get_retarget_map(layout: Union[str, SkeletonLayout]) -> RetargetMap:
    """The registered map of a layout; :class:`LayoutError` if the layout has none.

    A layout without a map of its own whose joint names are those of a mapped layout in another order (a
    user's Kinect layout file) gets that layout's name-keyed tables, registered for it on first use."""
    lay = get_layout(layout)
    if lay.name not in _MAPS:
        names = sorted(lay.joint_names)
        twin = next((m for n, m in _MAPS.items() if sorted(get_layout(n).joint_names) == names), None)
        if twin is not None:
            return register_retarget_map(lay, twin.to_smpl, twin.from_smpl)
        raise LayoutError(f"no retarget map for layout {lay.name!r}; layouts with one: {sorted(_MAPS)}. "
                          "Declare one with kinemic_aug.skeleton.register_retarget_map().", field="layout")
    return _MAPS[lay.name]


def list_retarget_maps() -> List[str]:
    return sorted(_MAPS)


# ---------------------------------------------------------------------------- applying maps
def _check_joints(joints: np.ndarray, layout: SkeletonLayout, sample: Optional[str]) -> np.ndarray:
    x = np.asarray(joints)
    if x.ndim not in (3, 4) or x.shape[-1] != 3:
        raise DataError(f"expected [T, V, 3] or [M, T, V, 3], got shape {x.shape}", sample=sample, field="joints")
    if x.shape[-2] != layout.num_joints:
        raise DataError(f"layout {layout.name!r} has {layout.num_joints} joints, data has {x.shape[-2]}",
                        sample=sample, field="joints")
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"expected a numeric array, got dtype {x.dtype}", sample=sample, field="joints")
    if not np.all(np.isfinite(x)):
        raise DataError("contains NaN or inf", sample=sample, field="joints")
    return x


def _apply(mat: np.ndarray, x: np.ndarray) -> np.ndarray:
    # out[..., w, c] = sum_v mat[w, v] * x[..., v, c]; float64 so direct copies stay exact.
    return np.einsum("wv,...vc->...wc", mat, x.astype(np.float64, copy=False))


def retarget_matrix(src: Union[str, SkeletonLayout], dst: Union[str, SkeletonLayout]) -> np.ndarray:
    """The ``[V_dst, V_src]`` matrix of ``src -> SMPL-22 -> dst`` (identity for ``src == dst``).

    Two layouts with the same joint names in another order (MSR Action3D, the Kinect SDK order and
    UTD-MHAD are all Kinect v1) get the exact permutation instead: going through SMPL-22 would
    rebuild the hands and the shoulder centre approximately, though the data has them.
    """
    s, d = get_layout(src), get_layout(dst)
    if s.name == d.name:
        return np.eye(s.num_joints)
    if sorted(s.joint_names) == sorted(d.joint_names):
        perm = np.zeros((d.num_joints, s.num_joints))
        for w, name in enumerate(d.joint_names):
            perm[w, s.index(name)] = 1.0
        return perm
    return get_retarget_map(d).from_matrix @ get_retarget_map(s).to_matrix


def retarget(joints: np.ndarray, src: Union[str, SkeletonLayout], dst: Union[str, SkeletonLayout], *,
             keep_bone_lengths: bool = False, sample: Optional[str] = None) -> np.ndarray:
    """Map joint positions from layout ``src`` to layout ``dst`` through SMPL-22.

    Args:
        joints: ``[T, V, 3]`` or ``[M, T, V, 3]`` positions (any float dtype; metres, y-up by convention).
        src, dst: layout names/aliases or :class:`SkeletonLayout` objects with a registered map.
        keep_bone_lengths: re-chain the result from the root along the mapped bone directions with
            one length per bone (its median over the clip's non-empty frames), so interpolated
            joints cannot make bones stretch from frame to frame.
        sample: sample id used in error messages.

    Returns:
        float32 array with the same leading shape and ``V = dst.num_joints``. All-zero frames (PYSKL
        padding / absent second person) stay all zero. ``src == dst`` returns a float32 copy.

    A single untracked joint stored as (0, 0, 0) inside an otherwise valid frame is treated as a
    position like any other (it pulls the joints built from it towards the origin): fill or drop
    such frames first.
    """
    s, d = get_layout(src), get_layout(dst)
    x = _check_joints(joints, s, sample)
    if s.name == d.name:
        return np.array(x, dtype=np.float32, copy=True)
    out = _apply(retarget_matrix(s, d), x)
    if keep_bone_lengths:
        flat = out.reshape((-1,) + out.shape[-3:])  # [M, T, V, 3]
        flat = np.stack([_rechain(p, d.parents) for p in flat])
        out = flat.reshape(out.shape)
    return out.astype(np.float32)


def to_canonical(joints: np.ndarray, src: Union[str, SkeletonLayout], **kwargs) -> np.ndarray:
    """``retarget(joints, src, 'smpl22', **kwargs)``."""
    return retarget(joints, src, CANONICAL, **kwargs)


def from_canonical(joints: np.ndarray, dst: Union[str, SkeletonLayout], **kwargs) -> np.ndarray:
    """``retarget(joints, 'smpl22', dst, **kwargs)``."""
    return retarget(joints, CANONICAL, dst, **kwargs)


def retarget_clip(clip, dst: Union[str, SkeletonLayout], *, keep_bone_lengths: bool = False):
    """A :class:`~kinemic_aug.data.corpus.MotionClip` in layout ``dst``; name, captions, fps and the
    ``synthetic`` flag are kept and ``meta['retargeted_from']`` records the source layout."""
    d = get_layout(dst)
    joints = retarget(clip.joints, clip.layout, d, keep_bone_lengths=keep_bone_lengths, sample=clip.name)
    meta = dict(clip.meta)
    if get_layout(clip.layout).name != d.name:
        meta["retargeted_from"] = clip.layout
    return replace(clip, joints=joints, layout=d.name, meta=meta)


def _topological(parents: Sequence[int]) -> List[int]:
    children: Dict[int, List[int]] = {}
    for j, p in enumerate(parents):
        children.setdefault(p, []).append(j)
    order, stack = [], list(children.get(-1, []))
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(children.get(j, []))
    return order


def _fill_invalid(vec: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Replace rows where ``ok`` is False by the nearest earlier valid row (later one at the start)."""
    if ok.all() or not ok.any():
        return vec
    idx = np.where(ok, np.arange(len(ok)), -1)
    idx = np.maximum.accumulate(idx)
    idx[idx < 0] = int(np.argmax(ok))
    return vec[idx]


def bone_lengths(x: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """Median length of every bone ``j -> parents[j]`` over the non-padding frames of ``x [T, V, 3]``
    (0 for the root)."""
    valid = np.any(x != 0, axis=(1, 2))
    out = np.zeros(len(parents), dtype=np.float64)
    for j, p in enumerate(parents):
        if p >= 0 and valid.any():
            out[j] = float(np.median(np.linalg.norm(x[valid, j] - x[valid, p], axis=-1)))
    return out


def rechain(x: np.ndarray, parents: Sequence[int], lengths: Optional[np.ndarray] = None) -> np.ndarray:
    """``x [T, V, 3]`` rebuilt root-first along its own bone directions with one length per bone:
    ``lengths[j]`` (e.g. a real subject's, from :func:`bone_lengths`) or, without it, the clip's own
    median. The root trajectory and every joint's direction from its parent are kept."""
    if lengths is not None and len(lengths) != len(parents):
        raise DataError(f"{len(lengths)} bone lengths for {len(parents)} joints", field="lengths")
    # a bone of zero length in every frame of x has no direction: its joint stays on its parent
    return _rechain(np.asarray(x, dtype=np.float32), parents, lengths=lengths)


def _rechain(x: np.ndarray, parents: Sequence[int], eps: float = 1e-8,
             lengths: Optional[np.ndarray] = None) -> np.ndarray:
    """Rebuild ``x [T, V, 3]`` root-first with constant bone lengths (``lengths`` or the median)."""
    valid = np.any(x != 0, axis=(1, 2))  # frames that are not padding
    if not valid.any():
        return x
    out = np.zeros_like(x)
    root = list(parents).index(-1)
    out[:, root] = x[:, root]
    for j in _topological(parents):
        p = parents[j]
        if p == -1:
            continue
        bone = x[:, j] - x[:, p]
        length = np.linalg.norm(bone, axis=-1)
        ok = valid & (length > eps)
        if not ok.any():  # a zero-length bone by construction (e.g. CMU LowerBack on Hips)
            out[:, j] = out[:, p]
            continue
        ref = float(lengths[j]) if lengths is not None else float(np.median(length[valid]))
        direction = np.zeros_like(bone)
        direction[ok] = bone[ok] / length[ok, None]
        direction = _fill_invalid(direction, ok)
        out[:, j] = out[:, p] + ref * direction
    out[~valid] = 0.0
    return out


# ---------------------------------------------------------------------------- reference pose
# A standing SMPL-22 body (relaxed arms), facing +z, y-up, feet on y=0, about 1.7 m tall; values
# are rounded from the proportions of an average adult, not taken from any dataset.
_SMPL_REST = {
    "pelvis": (0.0, 0.93, 0.0), "L_hip": (0.07, 0.84, 0.0), "R_hip": (-0.07, 0.84, 0.0),
    "spine1": (0.0, 1.04, -0.01), "L_knee": (0.08, 0.46, 0.01), "R_knee": (-0.08, 0.46, 0.01),
    "spine2": (0.0, 1.17, 0.0), "L_ankle": (0.08, 0.07, -0.03), "R_ankle": (-0.08, 0.07, -0.03),
    "spine3": (0.0, 1.23, 0.01), "L_foot": (0.09, 0.02, 0.10), "R_foot": (-0.09, 0.02, 0.10),
    "neck": (0.0, 1.44, -0.02), "L_collar": (0.07, 1.35, 0.0), "R_collar": (-0.07, 1.35, 0.0),
    "head": (0.0, 1.53, 0.03), "L_shoulder": (0.17, 1.36, -0.01), "R_shoulder": (-0.17, 1.36, -0.01),
    "L_elbow": (0.27, 1.12, -0.02), "R_elbow": (-0.27, 1.12, -0.02),
    "L_wrist": (0.33, 0.88, 0.02), "R_wrist": (-0.33, 0.88, 0.02),
}


def rest_pose(layout: Union[str, SkeletonLayout] = CANONICAL) -> np.ndarray:
    """A standing reference pose ``[V, 3]`` (float32, metres, y-up, facing +z, feet at y = 0) in
    any layout with a retarget map: the built-in SMPL-22 pose mapped through the layout's table.
    Meant for tests, plots and default bone lengths; it is not a measured body."""
    smpl = get_layout(CANONICAL)
    pose = np.array([_SMPL_REST[j] for j in smpl.joint_names], dtype=np.float32)
    return from_canonical(pose[None], layout)[0]
