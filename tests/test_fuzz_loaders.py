"""Fuzzing every loader with malformed input: each bad file must fail with the library's own error
type, and the message must name the sample and the field, so a user with a 10k-sample dataset can
find the broken entry. Valid but extreme input (very long sequences) must load whole.

The case builders below are plain functions of a ``random.Random`` and a mutation name, so the
same families drive both these hypothesis tests and the counting harness in
``benchmarks/robustness.py`` (which imports this module). All data here is synthetic (random
arrays and hand-built files), made only to be broken.
"""
from __future__ import annotations

import csv
import io
import json
import math
import pickle
import random
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinemic_aug.data import bvh as bvh_mod
from kinemic_aug.data import bvh_parse
from kinemic_aug.data.corpus import MotionClip, MotionCorpus
from kinemic_aug.data.deepmimic import FRAME_SIZE, deepmimic_to_joints, read_deepmimic
from kinemic_aug.data.fewshot import FewShotSplit
from kinemic_aug.data.humanml3d import load_humanml3d_corpus, load_vecs, read_split, write_humanml3d_entry
from kinemic_aug.data.ntu import ntu_to_pyskl
from kinemic_aug.data.ntu_reader import read_skeleton
from kinemic_aug.data.pyskl import load_pyskl
from kinemic_aug.errors import CacheError, DataError, LayoutError
from kinemic_aug.skeleton.layout import SkeletonLayout, get_layout
from kinemic_aug.text.labels import LabelSet

# --------------------------------------------------------------------------------------- harness


@dataclass
class Case:
    """One input to try.

    ``load`` runs the loader. For a malformed input, ``expect`` lists the acceptable exception types
    and ``must_contain`` the texts the message must include (file / sample id, ``field 'x'``).
    For a valid-but-extreme input (``valid=True``), ``check`` receives the result and raises
    ``AssertionError`` if it is wrong (e.g. a truncated sequence).
    """

    family: str
    mutation: str
    load: Callable[[], Any]
    expect: Tuple[Type[BaseException], ...] = (DataError,)
    must_contain: Sequence[str] = ()
    valid: bool = False
    check: Optional[Callable[[Any], None]] = None


#: Outcome labels, in the order of the robustness table.
CLEAR, UNCLEAR, WRONG_TYPE, SILENT, OK = "clear", "unclear", "wrong_type", "silent", "ok"


def run_case(case: Case) -> Tuple[str, str]:
    """Run ``case`` and classify what happened: ``(outcome, detail)``.

    clear: the expected error type and every required text in its message. unclear: right type,
    but the message misses the sample or field. wrong_type: any other exception (a crash from deep
    inside). silent: a malformed input loaded without complaint, or a valid one came back wrong.
    ok: a valid input loaded correctly.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = case.load()
        except case.expect as e:
            if case.valid:
                return WRONG_TYPE, f"valid input raised {type(e).__name__}: {e}"
            msg = str(e)
            missing = [t for t in case.must_contain if t not in msg]
            if missing:
                return UNCLEAR, f"message lacks {missing}: {msg[:300]}"
            return CLEAR, msg[:300]
        except Exception as e:  # noqa: BLE001 - classifying is the point
            return WRONG_TYPE, f"{type(e).__name__}: {str(e)[:300]}"
    if not case.valid:
        return SILENT, f"loaded without error: {type(result).__name__}"
    try:
        if case.check is not None:
            case.check(result)
    except AssertionError as e:
        return SILENT, f"wrong result: {e}"
    return OK, "loaded whole"


def assert_clear(case: Case) -> None:
    outcome, detail = run_case(case)
    want = OK if case.valid else CLEAR
    assert outcome == want, f"{case.family}/{case.mutation}: {outcome}: {detail}"


def fld(name: str) -> str:
    """How a :class:`DataError` message names a field."""
    return f"field {name!r}"


# --------------------------------------------------------------------------------------- PYSKL
PYSKL_MUTATIONS = (
    "keypoint_ndim", "keypoint_channels", "keypoint_nan", "keypoint_inf", "keypoint_dtype_str",
    "keypoint_dtype_complex", "keypoint_dtype_bool", "keypoint_dtype_object", "keypoint_list", "zero_persons",
    "zero_frames", "wrong_joint_count", "missing_label", "missing_keypoint", "missing_total_frames",
    "missing_frame_dir", "label_negative", "label_float", "label_bool", "label_str", "label_out_of_range",
    "total_frames_mismatch", "total_frames_float", "score_shape", "score_nan", "duplicate_id", "split_unknown_id",
    "empty_id", "annotation_not_dict", "truncated_file", "not_a_pickle", "unsafe_global", "top_not_dict",
    "annotations_not_list", "missing_annotations",
)
PYSKL_VALID = ("very_long",)
MSR_V, NUM_CLASSES = 20, 20


def _pyskl_valid(rnd: random.Random, n: int, t_max: int = 30) -> Dict[str, Any]:
    rng = np.random.default_rng(rnd.getrandbits(32))
    anns = []
    for i in range(n):
        t = rnd.randint(2, t_max)
        anns.append({"frame_dir": f"a{rnd.randint(1, 20):02d}_s{i:02d}_e{rnd.randint(1, 3):02d}",
                     "label": rnd.randrange(NUM_CLASSES),
                     "keypoint": rng.normal(size=(rnd.randint(1, 2), t, MSR_V, 3)).astype(np.float32),
                     "total_frames": t, "subject": rnd.randint(1, 10)})
    return {"split": {"train": [a["frame_dir"] for a in anns]}, "annotations": anns}


class _Evil:
    """Pickles to a call of ``os.getcwd`` (harmless here, but a real attack would call os.system)."""

    def __reduce__(self):
        import os
        return (os.getcwd, ())


def pyskl_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    data = _pyskl_valid(rnd, rnd.randint(1, 4))
    anns = data["annotations"]
    i = rnd.randrange(len(anns))
    a = anns[i]
    sid = a["frame_dir"]
    kp = a["keypoint"]
    m, t, v, c = kp.shape
    path = tmp / f"fuzz_{rnd.getrandbits(24):06x}.pkl"
    need = [path.name]
    if mutation == "very_long":
        t_long = 20_000
        a["keypoint"] = np.zeros((1, t_long, MSR_V, 3), np.float32) + np.arange(t_long, dtype=np.float32)[None, :,
                                                                                                         None, None]
        a["total_frames"] = t_long
        path.write_bytes(pickle.dumps(data, protocol=4))

        def check(out: Dict[str, Any]) -> None:
            got = out["annotations"][i]
            assert got["keypoint"].shape == (1, t_long, MSR_V, 3), got["keypoint"].shape
            assert got["total_frames"] == t_long
            assert got["keypoint"][0, -1, 0, 0] == t_long - 1, "last frame changed"

        return Case("pyskl", mutation, lambda: load_pyskl(path, layout="msr_action3d", num_classes=NUM_CLASSES),
                    valid=True, check=check)

    per_sample: Dict[str, Tuple[str, Callable[[], None]]] = {
        "keypoint_ndim": ("keypoint", lambda: a.update(keypoint=kp[0] if rnd.random() < 0.5 else kp[None])),
        "keypoint_channels": ("keypoint", lambda: a.update(keypoint=np.zeros((m, t, v, rnd.choice([1, 4, 6])),
                                                                             np.float32))),
        "keypoint_nan": ("keypoint", lambda: kp.__setitem__(tuple(rnd.randrange(s) for s in kp.shape), np.nan)),
        "keypoint_inf": ("keypoint", lambda: kp.__setitem__(tuple(rnd.randrange(s) for s in kp.shape),
                                                           rnd.choice([np.inf, -np.inf]))),
        "keypoint_dtype_str": ("keypoint", lambda: a.update(keypoint=kp.astype(str))),
        "keypoint_dtype_complex": ("keypoint", lambda: a.update(keypoint=kp.astype(np.complex64))),
        "keypoint_dtype_bool": ("keypoint", lambda: a.update(keypoint=kp > 0)),
        "keypoint_dtype_object": ("keypoint", lambda: a.update(keypoint=kp.astype(object))),
        "keypoint_list": ("keypoint", lambda: a.update(keypoint=kp.tolist())),
        "zero_persons": ("keypoint", lambda: a.update(keypoint=np.zeros((0, t, v, c), np.float32))),
        "zero_frames": ("keypoint", lambda: a.update(keypoint=np.zeros((m, 0, v, c), np.float32), total_frames=0)),
        "wrong_joint_count": ("keypoint", lambda: a.update(keypoint=np.zeros((m, t, rnd.choice([17, 25]), c),
                                                                             np.float32))),
        "missing_label": ("label", lambda: a.pop("label")),
        "missing_keypoint": ("keypoint", lambda: a.pop("keypoint")),
        "missing_total_frames": ("total_frames", lambda: a.pop("total_frames")),
        "label_negative": ("label", lambda: a.update(label=-rnd.randint(1, 5))),
        "label_float": ("label", lambda: a.update(label=float(a["label"]) + 0.5)),
        "label_bool": ("label", lambda: a.update(label=True)),
        "label_str": ("label", lambda: a.update(label=str(a["label"]))),
        "label_out_of_range": ("label", lambda: a.update(label=NUM_CLASSES + rnd.randint(0, 100))),
        "total_frames_mismatch": ("total_frames", lambda: a.update(total_frames=t + rnd.choice([-1, 1, 100]))),
        "total_frames_float": ("total_frames", lambda: a.update(total_frames=float(t))),
        "score_shape": ("keypoint_score", lambda: a.update(keypoint_score=np.ones((m, t + 1, v), np.float32))),
        "score_nan": ("keypoint_score", lambda: a.update(keypoint_score=np.full((m, t, v), np.nan, np.float32))),
    }
    if mutation in per_sample:
        fname, mutate = per_sample[mutation]
        mutate()
        need += [repr(sid), fld(fname)]
    elif mutation == "missing_frame_dir":
        a.pop("frame_dir")
        need += [f"'#{i}'", fld("frame_dir")]
    elif mutation == "duplicate_id":
        if len(anns) == 1:
            anns.append(dict(a))
            data["split"]["train"].append(sid)
        else:
            anns[(i + 1) % len(anns)]["frame_dir"] = sid
            data["split"]["train"] = [x["frame_dir"] for x in anns]
        need += [repr(sid), fld("frame_dir")]
    elif mutation == "split_unknown_id":
        ghost = f"ghost_{rnd.randint(0, 999):03d}"
        data["split"]["test"] = [ghost]
        need += [repr(ghost), fld("split")]
    elif mutation == "empty_id":
        a["frame_dir"] = rnd.choice(["", 7, None])
        need += [f"'#{i}'", fld("frame_dir")]
    elif mutation == "annotation_not_dict":
        anns[i] = rnd.choice([[1, 2], "a01", 3.0])
        need += [f"'#{i}'"]
    elif mutation == "top_not_dict":
        data = list(anns)  # type: ignore[assignment]
    elif mutation == "annotations_not_list":
        data["annotations"] = {x["frame_dir"]: x for x in anns}
        need += [fld("annotations")]
    elif mutation == "missing_annotations":
        data["samples"] = data.pop("annotations")
        need += [fld("annotations")]
    elif mutation == "truncated_file":
        blob = pickle.dumps(data, protocol=rnd.choice([2, 4, 5]))
        path.write_bytes(blob[: rnd.randrange(0, len(blob))])
    elif mutation == "not_a_pickle":
        path.write_bytes(rnd.choice([b"", b"hello, world\n", bytes(rnd.getrandbits(8) for _ in range(64)),
                                     json.dumps({"annotations": []}).encode()]))
    elif mutation == "unsafe_global":
        data["meta"] = {"hook": _Evil()}
        need += ["refusing to load global"]
    else:
        raise ValueError(mutation)
    if not path.exists():
        path.write_bytes(pickle.dumps(data, protocol=4))
    return Case("pyskl", mutation, lambda: load_pyskl(path, layout="msr_action3d", num_classes=NUM_CLASSES),
                must_contain=need)


# --------------------------------------------------------------------------------------- NTU .skeleton
NTU_MUTATIONS = ("truncate_lines", "truncate_bytes", "joint_nan", "joint_inf", "joint_text", "joint_missing_value",
                 "joint_count", "body_count_negative", "body_count_text", "frame_count_text",
                 "frame_count_negative", "body_info_fields", "body_info_text", "duplicate_body", "trailing_content",
                 "bad_file_name")
NTU_VALID = ("very_long",)
ANY_FIELD = "field '"  # some field must be named (truncations can hit any of them)


def _ntu_text(rnd: random.Random, frames: int, max_bodies: int = 2) -> str:
    lines = [str(frames)]
    for _ in range(frames):
        nb = rnd.randint(1, max_bodies)
        lines.append(str(nb))
        for b in range(nb):
            lines.append(f"{72057594037931101 + b} 0 1 1 1 1 0 0.1 -0.2 2")
            lines.append("25")
            for _j in range(25):
                x, y, z = rnd.uniform(-1, 1), rnd.uniform(-1, 1), rnd.uniform(2, 4)
                lines.append(f"{x:.5f} {y:.5f} {z:.5f} 250.1 200.2 900.3 500.4 0.1 0.2 0.3 0.9 2")
    return "\n".join(lines) + "\n"


def ntu_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    name = f"S{rnd.randint(1, 32):03d}C00{rnd.randint(1, 3)}P{rnd.randint(1, 106):03d}R00{rnd.randint(1, 2)}" \
           f"A{rnd.randint(1, 120):03d}"
    path = tmp / f"{name}.skeleton"
    if mutation == "very_long":
        n = 3000
        path.write_text(_ntu_text(rnd, n, max_bodies=1))

        def check(out: Dict[str, Any]) -> None:
            assert out["num_frames"] == n
            (body,) = out["bodies"].values()
            assert body["joints"].shape == (n, 25, 3), body["joints"].shape
            assert body["frames"][-1] == n - 1

        return Case("ntu", mutation, lambda: read_skeleton(path), valid=True, check=check)

    frames = rnd.randint(1, 4)
    text = _ntu_text(rnd, frames)
    lines = text.splitlines()
    joint_lines = [k for k, ln in enumerate(lines) if len(ln.split()) == 12]
    info_lines = [k for k, ln in enumerate(lines) if len(ln.split()) == 10]
    count_lines = [k for k, ln in enumerate(lines) if ln == "25"]
    body_count_lines = [k - 1 for k in info_lines if len(lines[k - 1].split()) == 1]
    need = [name]
    load: Callable[[], Any] = lambda: read_skeleton(path)  # noqa: E731

    def set_token(k: int, value: str) -> None:
        toks = lines[k].split()
        toks[rnd.randrange(len(toks))] = value
        lines[k] = " ".join(toks)

    if mutation == "truncate_lines":
        lines = lines[: rnd.randrange(0, len(lines))]
        need.append(ANY_FIELD)
    elif mutation == "truncate_bytes":
        cut = rnd.randrange(0, len(text) - 3)  # at least the last value and the newline go
        path.write_text(text[:cut])
        need.append(ANY_FIELD)
    elif mutation in ("joint_nan", "joint_inf"):
        set_token(rnd.choice(joint_lines), "nan" if mutation == "joint_nan" else rnd.choice(["inf", "-inf"]))
        need.append(fld("joint"))
    elif mutation == "joint_text":
        set_token(rnd.choice(joint_lines), rnd.choice(["abc", "1.2.3", "--", "0x"]))
        need.append(fld("joint"))
    elif mutation == "joint_missing_value":
        k = rnd.choice(joint_lines)
        lines[k] = " ".join(lines[k].split()[:-1])
        need.append(fld("joint"))
    elif mutation == "joint_count":
        lines[rnd.choice(count_lines)] = str(rnd.choice([0, 20, 24, 26]))
        need.append(fld("joint count"))
    elif mutation == "body_count_negative":
        lines[rnd.choice(body_count_lines)] = str(-rnd.randint(1, 3))
        need.append(fld("body count"))
    elif mutation == "body_count_text":
        lines[rnd.choice(body_count_lines)] = rnd.choice(["two", "1.5", ""])
        need.append(fld("body count"))
    elif mutation == "frame_count_text":
        lines[0] = rnd.choice(["many", "3.0", ""])
        need.append(fld("frame count"))
    elif mutation == "frame_count_negative":
        lines[0] = str(-rnd.randint(1, 5))
        need.append(fld("frame count"))
    elif mutation == "body_info_fields":
        k = rnd.choice(info_lines)
        toks = lines[k].split()
        lines[k] = " ".join(toks[:-1] if rnd.random() < 0.5 else toks + ["7"])
        need.append(fld("body info"))
    elif mutation == "body_info_text":
        set_token(rnd.choice(info_lines), "body")
        need.append(fld("body info"))
    elif mutation == "duplicate_body":
        text = _ntu_text(rnd, 1, max_bodies=1)
        block = text.splitlines()[2:]  # info, 25, joints
        lines = ["1", "2"] + block + block
        need.append(fld("body info"))
    elif mutation == "trailing_content":
        lines.append(rnd.choice(["1", "garbage", "0 0 0"]))
        need.append(fld("end of file"))
    elif mutation == "bad_file_name":
        folder = tmp / f"ntu_{rnd.getrandbits(20):05x}"
        folder.mkdir()
        bad = rnd.choice(["clip_01", "S001C001P001R001", "S1C1P1R1A1", "s001c001p001r001a001"])
        (folder / f"{bad}.skeleton").write_text(text)
        (folder / f"{name}.skeleton").write_text(text)
        return Case("ntu", mutation, lambda: ntu_to_pyskl(folder, None), must_contain=[repr(bad), fld("name")])
    else:
        raise ValueError(mutation)
    if not path.exists():
        path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return Case("ntu", mutation, load, must_contain=need)


# --------------------------------------------------------------------------------------- HumanML3D
HML_MUTATIONS = ("joints_shape", "joints_nan", "joints_inf", "joints_dtype_str", "joints_dtype_complex",
                 "joints_dtype_bool", "joints_object", "joints_truncated", "joints_garbage", "joints_zero_frames",
                 "joints_missing", "texts_missing", "texts_no_hash", "texts_bad_time", "texts_negative_time",
                 "texts_reversed_span", "texts_empty_caption", "split_missing", "vecs_shape", "vecs_nan",
                 "vecs_dtype_str")
HML_VALID = ("very_long", "very_long_default_max")


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def hml_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    root = tmp / f"hml_{rnd.getrandbits(24):06x}"
    mid = f"{rnd.randint(0, 14615):06d}"
    t = rnd.randint(5, 60)
    rng = np.random.default_rng(rnd.getrandbits(32))
    joints = rng.normal(size=(t, 22, 3)).astype(np.float32)
    if mutation.startswith("very_long"):
        t = 5000
        joints = np.zeros((t, 22, 3), np.float32) + np.arange(t, dtype=np.float32)[:, None, None]
    write_humanml3d_entry(root, mid, joints, ["a person walks forward.", "someone walks."])
    jp, tp = root / "new_joints" / f"{mid}.npy", root / "texts" / f"{mid}.txt"
    kw: Dict[str, Any] = {"ids": [mid], "min_len": 1, "max_len": 10 ** 7}
    need = [mid]

    def load() -> Any:
        return load_humanml3d_corpus(root, **kw)

    if mutation == "very_long":
        def check(corpus: MotionCorpus) -> None:
            assert len(corpus) == 1 and corpus[0].num_frames == t, [c.num_frames for c in corpus]
            assert corpus[0].joints[-1, 0, 0] == t - 1

        return Case("humanml3d", mutation, load, valid=True, check=check)
    if mutation == "very_long_default_max":
        kw.pop("max_len")

        def check(corpus: MotionCorpus) -> None:  # dropped *and recorded*, never cut to max_len
            assert len(corpus) == 0 and corpus.skipped["length"] == [mid], corpus.skipped

        return Case("humanml3d", mutation, load, valid=True, check=check)

    def bad_joints(arr: np.ndarray) -> None:
        jp.write_bytes(_npy(arr))

    def bad_text(line: str) -> None:
        tp.write_text(line + "\n")

    if mutation == "joints_shape":
        bad_joints(rnd.choice([joints[:, :21], joints[..., :2], joints[0], joints[None]]))
        need.append(fld("new_joints"))
    elif mutation in ("joints_nan", "joints_inf"):
        joints[rnd.randrange(t), rnd.randrange(22), rnd.randrange(3)] = np.nan if mutation == "joints_nan" else np.inf
        bad_joints(joints)
        need.append(fld("new_joints"))
    elif mutation == "joints_dtype_str":
        bad_joints(joints.astype(str))
        need.append(fld("new_joints"))
    elif mutation == "joints_dtype_complex":
        bad_joints(joints.astype(np.complex64) + 1j)
        need.append(fld("new_joints"))
    elif mutation == "joints_dtype_bool":
        bad_joints(joints > 0)
        need.append(fld("new_joints"))
    elif mutation == "joints_object":
        bad_joints(joints.astype(object))
        need.append(fld("new_joints"))
    elif mutation == "joints_truncated":
        blob = jp.read_bytes()
        jp.write_bytes(blob[: rnd.randrange(0, len(blob) - 1)])
        need.append(fld("new_joints"))
    elif mutation == "joints_garbage":
        jp.write_bytes(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200))))
        need.append(fld("new_joints"))
    elif mutation == "joints_zero_frames":
        bad_joints(np.zeros((0, 22, 3), np.float32))
        kw["min_len"] = 0
        need.append(fld("joints"))
    elif mutation == "joints_missing":
        jp.unlink()
        need.append(fld("new_joints"))
    elif mutation == "texts_missing":
        tp.unlink()
        need.append(fld("texts"))
    elif mutation == "texts_no_hash":
        bad_text(rnd.choice(["a person walks", "a person walks#a/DET", "#"]))
        need.append(fld("texts"))
    elif mutation == "texts_bad_time":
        bad_text(f"a person walks.#a/DET#{rnd.choice(['x', '1,5', '--'])}#0.0")
        need.append(fld("texts"))
    elif mutation == "texts_negative_time":
        bad_text(f"a person walks.#a/DET#-{rnd.uniform(0.1, 3):.2f}#1.0")
        need.append(fld("texts"))
    elif mutation == "texts_reversed_span":
        bad_text("a person walks.#a/DET#2.0#1.0")
        need.append(fld("texts"))
    elif mutation == "texts_empty_caption":
        bad_text(" #a/DET#0.0#0.0")
        need.append(fld("texts"))
    elif mutation == "split_missing":
        kw.pop("ids")
        kw["split"] = rnd.choice(["train", "val", "test"])
        need = [f"{kw['split']}.txt", fld("split")]
    elif mutation.startswith("vecs_"):
        vecs = rng.normal(size=(t - 1, 263)).astype(np.float32)
        if mutation == "vecs_shape":
            vecs = rnd.choice([vecs[:, :262], vecs[:-1], vecs[0]])
        elif mutation == "vecs_nan":
            vecs[rnd.randrange(t - 1), rnd.randrange(263)] = np.nan
        else:
            vecs = vecs.astype(str)
        (root / "new_joint_vecs").mkdir(exist_ok=True)
        (root / "new_joint_vecs" / f"{mid}.npy").write_bytes(_npy(vecs))
        return Case("humanml3d", mutation, lambda: load_vecs(root, mid, num_frames=t),
                    must_contain=[mid, fld("new_joint_vecs")])
    else:
        raise ValueError(mutation)
    if mutation == "split_missing":
        return Case("humanml3d", mutation, lambda: read_split(root, kw["split"]), must_contain=need)
    return Case("humanml3d", mutation, load, must_contain=need)


# --------------------------------------------------------------------------------------- BVH
BVH_MUTATIONS = ("truncate_lines", "motion_nan", "motion_text", "motion_short_row", "frames_more_than_rows",
                 "frames_text", "frames_negative", "frame_time_zero", "frame_time_text", "channel_count",
                 "unknown_channel", "offset_nan", "offset_short", "missing_brace", "duplicate_joint", "no_hierarchy")
BVH_VALID = ("very_long", "extra_rows")


def _bvh_text(rnd: random.Random, frames: int) -> str:
    n = rnd.randint(2, 4)
    names = [f"J{k}_{rnd.randint(0, 99)}" for k in range(n)]
    # depth-first order needs contiguous subtrees: a chain or a star always is
    parents = [-1] + list(range(n - 1)) if rnd.random() < 0.7 else [-1] + [0] * (n - 1)
    chans = [("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")] + \
            [("Zrotation", "Xrotation", "Yrotation")] * (n - 1)
    nch = sum(len(c) for c in chans)
    motion = np.array([[rnd.uniform(-90, 90) for _ in range(nch)] for _ in range(frames)])
    b = bvh_mod.BVH(names, parents, np.array([[rnd.uniform(-5, 5) for _ in range(3)] for _ in range(n)]), chans,
                    1 / 30, motion, end_site_parents=[n - 1], end_site_offsets=[[0.0, 1.0, 0.0]])
    return bvh_mod.format_bvh(b)


def bvh_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    path = tmp / f"take_{rnd.getrandbits(24):06x}.bvh"
    if mutation in BVH_VALID:
        n = 5000 if mutation == "very_long" else rnd.randint(2, 6)
        text = _bvh_text(rnd, n)
        lines = text.splitlines()
        if mutation == "extra_rows":  # one trailing row too many: kept count = header, with a warning
            lines.append(lines[-1])
        path.write_text("\n".join(lines) + "\n")

        def load() -> Any:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                out = bvh_parse.read_bvh(path)
            return out, [str(x.message) for x in w]

        def check(res: Any) -> None:
            out, warns = res
            assert out.num_frames == n, out.num_frames
            assert np.allclose(out.motion[-1], [float(x) for x in lines[-1].split()])
            if mutation == "extra_rows":
                assert any("ignored" in m for m in warns), "extra rows dropped without a warning"
            else:
                assert not warns, warns

        return Case("bvh", mutation, load, valid=True, check=check)

    frames = rnd.randint(1, 5)
    lines = _bvh_text(rnd, frames).splitlines()
    mo = lines.index("MOTION")
    rows = list(range(mo + 3, len(lines)))
    need = [path.name]

    def set_token(k: int, value: str) -> None:
        toks = lines[k].split()
        toks[rnd.randrange(len(toks))] = value
        lines[k] = " ".join(toks)

    chan_lines = [k for k, ln in enumerate(lines) if ln.strip().startswith("CHANNELS")]
    off_lines = [k for k, ln in enumerate(lines) if ln.strip().startswith("OFFSET")]
    if mutation == "truncate_lines":
        lines = lines[: rnd.randrange(1, len(lines))]
        need.append(ANY_FIELD)
    elif mutation == "motion_nan":
        set_token(rnd.choice(rows), rnd.choice(["nan", "inf", "-inf"]))
        need.append(fld("MOTION"))
    elif mutation == "motion_text":
        set_token(rnd.choice(rows), rnd.choice(["x", "1e", "--1"]))
        need.append(fld("MOTION"))
    elif mutation == "motion_short_row":
        k = rnd.choice(rows)
        lines[k] = " ".join(lines[k].split()[:-1])
        need.append(fld("MOTION"))
    elif mutation == "frames_more_than_rows":
        lines[mo + 1] = f"Frames: {frames + rnd.randint(1, 10)}"
        need.append(fld("MOTION"))
    elif mutation == "frames_text":
        lines[mo + 1] = f"Frames: {rnd.choice(['ten', '2.5', ''])}"
        need.append(fld("Frames"))
    elif mutation == "frames_negative":
        lines[mo + 1] = f"Frames: -{rnd.randint(1, 9)}"
        need.append(fld("Frames"))
    elif mutation == "frame_time_zero":
        lines[mo + 2] = f"Frame Time: {rnd.choice(['0', '-0.0333', 'inf', 'nan'])}"
        need.append(fld("Frame Time"))
    elif mutation == "frame_time_text":
        lines[mo + 2] = "Frame Time: fast"
        need.append(fld("Frame Time"))
    elif mutation == "channel_count":
        k = rnd.choice(chan_lines)
        toks = lines[k].split()
        toks[1] = str(int(toks[1]) + rnd.choice([-1, 1, 3]))
        lines[k] = "\t" + " ".join(toks)
        need.append(fld("CHANNELS"))
    elif mutation == "unknown_channel":
        k = rnd.choice(chan_lines)
        toks = lines[k].split()
        toks[rnd.randrange(2, len(toks))] = rnd.choice(["Wrotation", "xrotation", "Xscale"])
        lines[k] = "\t" + " ".join(toks)
        need.append(fld("CHANNELS"))
    elif mutation == "offset_nan":
        set_token(rnd.choice(off_lines), "nan")  # may hit the keyword itself: then OFFSET is missing
        need.append(fld("OFFSET"))
    elif mutation == "offset_short":
        k = rnd.choice(off_lines)
        lines[k] = " ".join(lines[k].split()[:-1])
        need.append(fld("OFFSET"))
    elif mutation == "missing_brace":
        closing = [k for k, ln in enumerate(lines[:mo]) if ln.strip() == "}"]
        del lines[rnd.choice(closing)]
        need.append(ANY_FIELD)
    elif mutation == "duplicate_joint":
        joint_lines = [k for k, ln in enumerate(lines) if ln.strip().startswith(("ROOT", "JOINT"))]
        root_name = lines[joint_lines[0]].split()[1]
        k = joint_lines[-1]
        lines[k] = f"JOINT {root_name}"
        need.append(fld("JOINT"))
    elif mutation == "no_hierarchy":
        lines = lines[1:] if rnd.random() < 0.5 else ["HIERARKY"] + lines[1:]
        need.append(fld("HIERARCHY"))
    else:
        raise ValueError(mutation)
    path.write_text("\n".join(lines) + "\n")
    return Case("bvh", mutation, lambda: bvh_parse.read_bvh(path), must_contain=need)


# --------------------------------------------------------------------------------------- DeepMimic
DM_MUTATIONS = ("frame_length", "frame_nan", "frame_text", "frame_null", "frame_nested", "negative_dt", "all_dt_zero",
                "zero_quaternion", "loop_not_str", "truncated_json", "not_object", "empty_frames")
DM_VALID = ("very_long",)


def _dm_frame(rnd: random.Random, dt: float = 1 / 30) -> List[float]:
    fr = [dt, rnd.uniform(-1, 1), rnd.uniform(0.8, 1.0), rnd.uniform(-1, 1)]
    for sl in ("root", "chest", "neck", "rhip", "rknee", "rankle", "rsh", "relbow", "lhip", "lknee", "lankle", "lsh",
               "lelbow"):
        if sl.endswith(("knee", "elbow")):
            fr.append(rnd.uniform(-1, 0))
        else:
            q = np.array([rnd.uniform(0.5, 1)] + [rnd.uniform(-0.3, 0.3) for _ in range(3)])
            fr += (q / np.linalg.norm(q)).tolist()
    assert len(fr) == FRAME_SIZE
    return fr


def dm_load(path: Path) -> np.ndarray:
    doc = read_deepmimic(path)
    return deepmimic_to_joints(doc["frames"], source=doc["source"])


def dm_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    path = tmp / f"humanoid3d_{rnd.getrandbits(24):06x}.txt"
    n = 6000 if mutation == "very_long" else rnd.randint(1, 6)
    frames = [_dm_frame(rnd) for _ in range(n)]
    doc: Any = {"Loop": "wrap", "Frames": frames}
    if mutation == "very_long":
        path.write_text(json.dumps(doc))

        def check(j: np.ndarray) -> None:
            assert j.shape == (n, 15, 3), j.shape
            assert np.allclose(j[-1, 0], frames[-1][1:4], atol=1e-6)

        return Case("deepmimic", mutation, lambda: dm_load(path), valid=True, check=check)
    i = rnd.randrange(n)
    need = [path.name]
    text: Optional[str] = None
    if mutation == "frame_length":
        frames[i] = frames[i][: rnd.choice([0, 1, 43])] if rnd.random() < 0.5 else frames[i] + [0.0]
        need += [repr(f"frame {i}"), fld("Frames")]
    elif mutation == "frame_nan":
        frames[i][rnd.randrange(FRAME_SIZE)] = rnd.choice([math.nan, math.inf, -math.inf])
        need += [repr(f"frame {i}"), fld("Frames")]
    elif mutation == "frame_text":
        frames[i][rnd.randrange(FRAME_SIZE)] = rnd.choice(["x", "", "1,5"])
        need += [fld("Frames")]
    elif mutation == "frame_null":
        frames[i][rnd.randrange(FRAME_SIZE)] = None
        need += [fld("Frames")]
    elif mutation == "frame_nested":
        frames[i][rnd.randrange(FRAME_SIZE)] = [0.0, 1.0]
        need += [fld("Frames")]
    elif mutation == "negative_dt":
        frames[i][0] = -rnd.uniform(0.01, 1)
        need += [repr(f"frame {i}"), fld("dt")]
    elif mutation == "all_dt_zero":
        for fr in frames:
            fr[0] = 0.0
        need += [fld("dt")]
    elif mutation == "zero_quaternion":
        name, start = rnd.choice([("root_rot", 4), ("chest", 8), ("neck", 12), ("right_hip", 16),
                                  ("left_shoulder", 39)])
        frames[i][start:start + 4] = [0.0, 0.0, 0.0, 0.0]
        need += [fld(name)]
    elif mutation == "loop_not_str":
        doc["Loop"] = rnd.choice([1, None, ["wrap"]])
        need += [fld("Loop")]
    elif mutation == "truncated_json":
        full = json.dumps(doc)
        text = full[: rnd.randrange(0, len(full) - 1)]
        need += [fld("file")]
    elif mutation == "not_object":
        doc = rnd.choice([frames, "Frames", 3])
        need += [fld("Frames")]
    elif mutation == "empty_frames":
        doc["Frames"] = rnd.choice([[], {}, "none"])
        need += [fld("Frames")]
    else:
        raise ValueError(mutation)
    path.write_text(text if text is not None else json.dumps(doc))
    return Case("deepmimic", mutation, lambda: dm_load(path), must_contain=need)


# --------------------------------------------------------------------------------------- label metadata
LABEL_MUTATIONS = ("missing_id", "negative_id", "float_id", "bool_id", "text_id", "empty_name", "name_not_str",
                   "captions_not_list", "caption_not_str", "two_person_garbage", "duplicate_id", "duplicate_name",
                   "entry_not_dict", "truncated_json", "no_classes_key", "empty_classes", "csv_missing_column",
                   "csv_bad_id", "yaml_syntax", "yaml_missing_name")


def _label_records(rnd: random.Random, n: int) -> List[Dict[str, Any]]:
    return [{"id": k, "name": f"action {k} {rnd.randint(0, 9)}", "captions": [f"a person does action {k}."]}
            for k in range(n)]


def label_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    n = rnd.randint(1, 5)
    recs = _label_records(rnd, n)
    i = rnd.randrange(n)
    r = recs[i]
    stem = f"labels_{rnd.getrandbits(24):06x}"
    path = tmp / f"{stem}.json"
    payload: Any = {"name": stem, "classes": recs}
    raw_text: Optional[str] = None
    need = [path.name]
    entry = f"entry {i}"
    simple = {
        "missing_id": ("id", lambda: r.pop("id")),
        "negative_id": ("id", lambda: r.update(id=-rnd.randint(1, 9))),
        "float_id": ("id", lambda: r.update(id=i + 0.5)),
        "bool_id": ("id", lambda: r.update(id=True)),
        "text_id": ("id", lambda: r.update(id=rnd.choice(["one", "1a", ""]))),
        "empty_name": ("name", lambda: r.update(name=rnd.choice(["", "   "]))),
        "name_not_str": ("name", lambda: r.update(name=rnd.choice([3, None, ["kick"]]))),
        "captions_not_list": ("captions", lambda: r.update(captions=rnd.choice([3, {"a": 1}, 2.5]))),
        "caption_not_str": ("captions", lambda: r.update(captions=["ok.", rnd.choice([3, None, "  "])])),
        "two_person_garbage": ("two_person", lambda: r.update(two_person=rnd.choice(["maybe", 2, [True]]))),
    }
    if mutation in simple:
        f, mut = simple[mutation]
        mut()
        need += [entry, fld(f)]
    elif mutation == "duplicate_id":
        recs.append({"id": r["id"], "name": "another action", "captions": ["x."]})
        need += [f"entry {n}", fld("id")]
    elif mutation == "duplicate_name":
        recs.append({"id": 100, "name": r["name"].upper(), "captions": ["x."]})
        need += [f"entry {n}", fld("name")]
    elif mutation == "entry_not_dict":
        recs[i] = rnd.choice([["id", 1], "kick", 5])
        need += [entry, fld("entry")]
    elif mutation == "truncated_json":
        full = json.dumps(payload)
        raw_text = full[: rnd.randrange(0, len(full) - 1)]
        need += [fld("file")]
    elif mutation == "no_classes_key":
        payload = {"name": stem, "labels": recs}
        need += [fld("classes")]
    elif mutation == "empty_classes":
        payload = {"name": stem, "classes": rnd.choice([[], {}, "x"])}
        need += [fld("classes")]
    elif mutation in ("csv_missing_column", "csv_bad_id"):
        path = tmp / f"{stem}.csv"
        need = [path.name]
        buf = io.StringIO()
        cols = ["id", "name", "captions"] if mutation == "csv_bad_id" else ["ident", "name", "captions"]
        w = csv.writer(buf)
        w.writerow(cols)
        for k, rec in enumerate(recs):
            w.writerow([("x" if k == i else rec["id"]) if mutation == "csv_bad_id" else rec["id"], rec["name"],
                        "|".join(rec["captions"])])
        raw_text = buf.getvalue()
        need += [entry, fld("id")] if mutation == "csv_bad_id" else [fld("header")]
    elif mutation in ("yaml_syntax", "yaml_missing_name"):
        import yaml
        path = tmp / f"{stem}.yaml"
        need = [path.name]
        if mutation == "yaml_syntax":
            raw_text = "classes:\n  - id: 0\n    name: [unclosed\n"
            need += [fld("file")]
        else:
            r.pop("name")
            raw_text = yaml.safe_dump(payload)
            need += [entry, fld("name")]
    else:
        raise ValueError(mutation)
    path.write_text(raw_text if raw_text is not None else json.dumps(payload))
    return Case("labels", mutation, lambda: LabelSet.from_file(path, default_captions=False), must_contain=need)


# --------------------------------------------------------------------------------------- few-shot manifests
MANIFEST_MUTATIONS = ("missing_key", "wrong_format", "per_class_not_dict", "per_class_bad_label", "ids_disagree",
                      "shots_not_int", "seed_not_int", "truncated_json", "not_utf8", "top_not_object")


def manifest_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    per_class = {c: [f"s{c}_{k}" for k in range(rnd.randint(1, 3))] for c in range(rnd.randint(1, 4))}
    fs = FewShotSplit("fuzz", "train", "test", 3, rnd.randint(0, 99), [i for c in per_class for i in per_class[c]],
                      per_class)
    d = fs.to_dict()
    path = tmp / f"manifest_{rnd.getrandbits(24):06x}.json"
    need = [path.name]
    blob: Optional[bytes] = None
    if mutation == "missing_key":
        k = rnd.choice(["dataset", "train_split", "test_split", "shots", "seed", "ids", "per_class"])
        d.pop(k)
        need.append(fld(k))
    elif mutation == "wrong_format":
        d["format"] = rnd.choice([None, "FewShot", 1])
        need.append(fld("format"))
    elif mutation == "per_class_not_dict":
        d["per_class"] = rnd.choice([[1, 2], "0:a", 5])
        need.append(fld("per_class"))
    elif mutation == "per_class_bad_label":
        d["per_class"] = {"zero": d["ids"]}
        need.append(fld("per_class"))
    elif mutation == "ids_disagree":
        d["ids"] = d["ids"] + ["intruder"]
        need.append(fld("ids"))
    elif mutation == "shots_not_int":
        d["shots"] = rnd.choice(["five", None, [5], 2.5])
        need.append(fld("shots"))
    elif mutation == "seed_not_int":
        d["seed"] = rnd.choice(["s", None, {"a": 1}])
        need.append(fld("seed"))
    elif mutation == "truncated_json":
        full = json.dumps(d).encode()
        blob = full[: rnd.randrange(0, len(full) - 1)]
    elif mutation == "not_utf8":
        blob = b"\xff\xfe" + json.dumps(d).encode("utf-16-le")
    elif mutation == "top_not_object":
        d = rnd.choice([[d], "manifest", 3])  # type: ignore[assignment]
        need.append(fld("format"))
    else:
        raise ValueError(mutation)
    path.write_bytes(blob if blob is not None else json.dumps(d).encode())
    return Case("manifest", mutation, lambda: FewShotSplit.load(path), must_contain=need)


# --------------------------------------------------------------------------------------- layouts
LAYOUT_MUTATIONS = ("unknown_name", "missing_key", "parents_not_int", "parent_out_of_range", "two_roots", "cycle",
                    "center_out_of_range", "axis_malformed", "axis_out_of_range", "duplicate_joint_names",
                    "inward_out_of_range", "inward_missing_joint")


def layout_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    base = get_layout(rnd.choice(["msr_action3d", "smpl22", "nturgb+d", "deepmimic15"])).to_dict()
    name = f"user_layout_{rnd.getrandbits(16):04x}"
    d = dict(base, name=name)
    v = len(d["joint_names"])
    need = [repr(name)]
    if mutation == "unknown_name":
        return Case("layout", mutation, lambda: get_layout(name), expect=(LayoutError,),
                    must_contain=need + ["known layouts"])
    if mutation == "missing_key":
        k = rnd.choice(["joint_names", "parents", "center", "zaxis", "xaxis"])
        d.pop(k)
        need += [repr(k)]
    elif mutation == "parents_not_int":
        d["parents"] = list(d["parents"])
        d["parents"][rnd.randrange(1, v)] = rnd.choice(["hip", None, 1.5j])
        need += ["parents"]
    elif mutation == "parent_out_of_range":
        d["parents"] = list(d["parents"])
        d["parents"][rnd.randrange(1, v)] = rnd.choice([v, v + 5, -3])
        need += ["parent"]
    elif mutation == "two_roots":
        d["parents"] = list(d["parents"])
        d["parents"][rnd.randrange(1, v)] = -1
        need += ["root"]
    elif mutation == "cycle":
        d["parents"] = list(d["parents"])
        j = rnd.randrange(1, v)
        d["parents"][d["parents"].index(-1)] = j  # the root now hangs below a descendant: no root left
        need += ["root"]
    elif mutation == "center_out_of_range":
        d["center"] = rnd.choice([v, -1, 99])
        need += ["center"]
    elif mutation == "axis_malformed":
        d[rnd.choice(["zaxis", "xaxis"])] = rnd.choice([[0], [0, 1, 2], 5, "spine"])
        need += ["axis"]
    elif mutation == "axis_out_of_range":
        ax = rnd.choice(["zaxis", "xaxis"])
        d[ax] = [0, v + rnd.randint(0, 5)]
        need += [ax]
    elif mutation == "duplicate_joint_names":
        d["joint_names"] = list(d["joint_names"])
        d["joint_names"][1] = d["joint_names"][0]
        need += ["duplicate joint names"]
    elif mutation in ("inward_out_of_range", "inward_missing_joint"):
        vv = rnd.randint(3, 10)
        inward = [(k, k - 1) for k in range(1, vv)]
        if mutation == "inward_out_of_range":
            inward.append((vv + rnd.randint(0, 5), 0))
            need += ["inward"]
        else:
            inward.pop(rnd.randrange(len(inward)))
            need += ["no inward edge"]
        d = {"num_node": vv, "inward": inward, "center": 0, "name": name}
    else:
        raise ValueError(mutation)
    return Case("layout", mutation, lambda: SkeletonLayout.from_dict(d), expect=(LayoutError,), must_contain=need)


# --------------------------------------------------------------------------------------- corpus .npz
CORPUS_MUTATIONS = ("truncated", "garbage", "byte_flip", "empty_file")


def _corpus(rnd: random.Random) -> MotionCorpus:
    rng = np.random.default_rng(rnd.getrandbits(32))
    clips = [MotionClip(rng.normal(size=(rnd.randint(2, 30), 22, 3)).astype(np.float32), "smpl22", 20.0,
                        [f"caption {k}"], name=f"clip{k}", source="fuzz", synthetic=True) for k in range(3)]
    return MotionCorpus(clips, name="fuzz")


def damaged_bytes(blob: bytes, rnd: random.Random, mutation: str) -> bytes:
    """A file's bytes cut short, replaced by garbage or emptied, or with one bit flipped."""
    out = bytearray(blob)
    if mutation == "truncated":
        out = out[: rnd.randrange(0, len(out) - 1)]
    elif mutation == "garbage":
        out = bytearray(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
    elif mutation == "byte_flip":
        k = rnd.randrange(len(out))
        out[k] ^= 1 << rnd.randrange(8)
    elif mutation == "empty_file":
        out = bytearray()
    else:
        raise ValueError(mutation)
    return bytes(out)


def corpus_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    corpus = _corpus(rnd)
    path = tmp / f"corpus_{rnd.getrandbits(24):06x}.npz"
    path.write_bytes(damaged_bytes(corpus.to_bytes(), rnd, mutation))
    if mutation == "byte_flip":
        # a flip in a zip timestamp or padding changes nothing: then the data must come back exactly
        def check(out: MotionCorpus) -> None:
            assert [c.name for c in out] == [c.name for c in corpus]
            for a, b in zip(out, corpus):
                assert np.array_equal(a.joints, b.joints) and a.synthetic == b.synthetic and a.captions == b.captions

        return Case("corpus", mutation, lambda: MotionCorpus.load(path), expect=(CacheError,),
                    must_contain=[path.name], check=check)
    return Case("corpus", mutation, lambda: MotionCorpus.load(path), expect=(CacheError,), must_contain=[path.name])


def run_flip_case(case: Case) -> Tuple[str, str]:
    """A byte flip is fine if it is detected (the case's error: CacheError for a corpus) *or* the data is
    provably unchanged."""
    try:
        out = case.load()
    except case.expect as e:
        return (CLEAR, str(e)[:200]) if all(t in str(e) for t in case.must_contain) else (UNCLEAR, str(e)[:200])
    except Exception as e:  # noqa: BLE001
        return WRONG_TYPE, f"{type(e).__name__}: {e}"
    try:
        case.check(out)  # type: ignore[misc]
    except AssertionError as e:
        return SILENT, f"flipped file loaded with different content: {e}"
    return OK, "flip hit bytes that carry no data; content identical"


# --------------------------------------------------------------------------------------- configs (har)
CONFIG_MUTATIONS = ("missing_base", "unknown_dataset_type", "bad_ann_file")


def config_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    """MMEngine configs through the public ``har`` API. Config parsing errors are MMEngine's own
    (FileNotFoundError / KeyError); what is checked is that they name the file or the type."""
    folder = tmp / f"cfg_{rnd.getrandbits(24):06x}"
    folder.mkdir()
    if mutation == "missing_base":
        base = f"base_{rnd.randint(0, 999)}.py"
        (folder / "main.py").write_text(f"_base_ = ['./{base}']\nx = 1\n")

        def load() -> Any:
            from har.training import load_config
            return load_config(folder / "main.py")

        return Case("config", mutation, load, expect=(FileNotFoundError,), must_contain=[base])
    if mutation == "unknown_dataset_type":
        typ = f"NoSuchDataset{rnd.randint(0, 999)}"
        (folder / "main.py").write_text(f"ds = dict(type='{typ}', ann_file='x.pkl')\n")

        def load() -> Any:
            from har.registry import DATASETS
            from har.training import load_config
            import har.mm  # noqa: F401
            return DATASETS.build(load_config(folder / "main.py").ds)

        return Case("config", mutation, load, expect=(KeyError,), must_contain=[typ])
    if mutation == "bad_ann_file":
        data = _pyskl_valid(rnd, 2)
        data["annotations"][1]["keypoint"][0, 0, 0, 0] = np.nan
        sid = data["annotations"][1]["frame_dir"]
        (folder / "ann.pkl").write_bytes(pickle.dumps(data))
        (folder / "main.py").write_text(f"ds = dict(type='PoseDataset', ann_file='{folder / 'ann.pkl'}', "
                                        "split='train', layout='msr_action3d')\n")

        def load() -> Any:
            from har.registry import DATASETS
            from har.training import load_config
            import har.mm  # noqa: F401
            ds = DATASETS.build(load_config(folder / "main.py").ds)
            ds.full_init()
            return ds

        return Case("config", mutation, load, must_contain=["ann.pkl", repr(sid), fld("keypoint")])
    raise ValueError(mutation)


# --------------------------------------------------------------------------------------- pinned shot statistics
STATS_MUTATIONS = ("mean_nan", "std_inf", "mean_short", "std_2d", "std_zero", "std_negative", "mean_int",
                   "mean_str", "mean_huge64", "std_tiny64", "missing_field", "other_representation", "other_layout",
                   "truncated", "garbage", "empty_file", "object_array", "byte_flip")


def stats_case(tmp: Path, rnd: random.Random, mutation: str) -> Case:
    """``target_stats=`` files (``kinemic_aug/augmenter/pinned_stats.py``): what ``save_target_stats`` writes, damaged."""
    from kinemic_aug.generator.representation import get_representation
    from kinemic_aug.augmenter.pinned_stats import load_target_stats, save_target_stats

    rng = np.random.default_rng(rnd.getrandbits(32))
    rep = get_representation("xyz", "smpl22")
    rep.set_stats(rng.normal(size=rep.dim), rng.uniform(0.1, 2.0, size=rep.dim))
    path = tmp / f"stats_{rnd.getrandbits(24):06x}.npz"
    save_target_stats(path, rep, {"classes": [0], "norm_key": "x"})
    with np.load(path, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    need = [path.name]
    if mutation in ("mean_nan", "std_inf", "mean_short", "std_2d", "std_zero", "std_negative", "mean_int",
                    "mean_str", "mean_huge64", "std_tiny64"):
        key = mutation.split("_")[0]  # the field the mutation damages: mean or std
        a = d[key].copy()
        if mutation == "mean_nan":
            a[rnd.randrange(a.size)] = np.nan
        elif mutation == "std_inf":
            a[rnd.randrange(a.size)] = np.inf
        elif mutation == "mean_short":
            a = a[: rnd.randrange(0, a.size)]
        elif mutation == "std_2d":
            a = a[None]
        elif mutation == "std_zero":
            a[rnd.randrange(a.size)] = 0.0
        elif mutation == "std_negative":
            a[rnd.randrange(a.size)] = -rnd.uniform(0.01, 5.0)
        elif mutation == "mean_int":
            a = a.astype(np.int64)
        elif mutation == "mean_str":
            a = a.astype(str)
        elif mutation == "mean_huge64":  # finite in float64, inf once stored as float32
            a = a.astype(np.float64)
            a[rnd.randrange(a.size)] = rnd.choice([1e39, -1e300])
        elif mutation == "std_tiny64":  # positive in float64, zero once stored as float32
            a = a.astype(np.float64)
            a[rnd.randrange(a.size)] = rnd.choice([1e-50, 1e-300])
        d[key] = a
        np.savez(path, **d)
        need.append(fld(key))
    elif mutation == "missing_field":
        gone = rnd.choice(["mean", "std", "representation", "layout", "provenance"])
        d.pop(gone)
        np.savez(path, **d)
        need.append(fld(gone))
    elif mutation in ("other_representation", "other_layout"):
        key = "representation" if mutation == "other_representation" else "layout"
        d[key] = np.array(f"other{rnd.randint(0, 99)}")
        np.savez(path, **d)
        need.append(fld(key))
    elif mutation == "object_array":
        d["mean"] = np.array([object()] * rep.dim, dtype=object)
        np.savez(path, **d)  # readable only with allow_pickle=True, which the loader never passes
        need.append(fld("target_stats"))
    else:
        path.write_bytes(damaged_bytes(path.read_bytes(), rnd, mutation))
        if mutation != "byte_flip":  # a flip may rename a member instead: then the message names that field
            need.append(fld("target_stats"))
        if mutation == "byte_flip":  # a flip is either refused (zip CRC, header) or hit bytes that carry no data
            def check(out: Any) -> None:
                assert np.array_equal(out.mean, rep.mean) and np.array_equal(out.std, rep.std)

            def load_flip() -> Any:
                return load_target_stats(path, rep)[0]

            return Case("target_stats", mutation, load_flip, must_contain=[path.name], check=check)
    return Case("target_stats", mutation, lambda: load_target_stats(path, rep), must_contain=need)


# --------------------------------------------------------------------------------------- registry
#: family -> (builder, malformed mutations, valid-but-extreme mutations)
FAMILIES: Dict[str, Tuple[Callable[[Path, random.Random, str], Case], Sequence[str], Sequence[str]]] = {
    "pyskl": (pyskl_case, PYSKL_MUTATIONS, PYSKL_VALID),
    "ntu": (ntu_case, NTU_MUTATIONS, NTU_VALID),
    "humanml3d": (hml_case, HML_MUTATIONS, HML_VALID),
    "bvh": (bvh_case, BVH_MUTATIONS, BVH_VALID),
    "deepmimic": (dm_case, DM_MUTATIONS, DM_VALID),
    "labels": (label_case, LABEL_MUTATIONS, ()),
    "manifest": (manifest_case, MANIFEST_MUTATIONS, ()),
    "layout": (layout_case, LAYOUT_MUTATIONS, ()),
    "corpus": (corpus_case, CORPUS_MUTATIONS, ()),
    "config": (config_case, CONFIG_MUTATIONS, ()),
    "target_stats": (stats_case, STATS_MUTATIONS, ()),
}


def evaluate(case: Case) -> Tuple[str, str]:
    """Outcome of any case (byte flips have their own rule)."""
    if case.family in ("corpus", "target_stats") and case.mutation == "byte_flip":
        return run_flip_case(case)
    return run_case(case)


# --------------------------------------------------------------------------------------- tests
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True, database=None)


def _fuzz(family: str, mutation: str, rnd: random.Random) -> None:
    builder = FAMILIES[family][0]
    with tempfile.TemporaryDirectory() as d:
        case = builder(Path(d), rnd, mutation)
        outcome, detail = evaluate(case)
        allowed = {CLEAR, OK} if mutation == "byte_flip" else {CLEAR}
        assert outcome in allowed, f"{family}/{mutation}: {outcome}: {detail}"


@FUZZ
@given(mutation=st.sampled_from(PYSKL_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_pyskl_pickles(mutation, rnd):
    _fuzz("pyskl", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(NTU_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_ntu_skeleton_files(mutation, rnd):
    _fuzz("ntu", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(HML_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_humanml3d_folders(mutation, rnd):
    _fuzz("humanml3d", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(BVH_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_bvh_files(mutation, rnd):
    _fuzz("bvh", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(DM_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_deepmimic_files(mutation, rnd):
    _fuzz("deepmimic", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(LABEL_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_label_metadata_files(mutation, rnd):
    _fuzz("labels", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(MANIFEST_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_few_shot_manifests(mutation, rnd):
    _fuzz("manifest", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(LAYOUT_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_layouts(mutation, rnd):
    _fuzz("layout", mutation, rnd)


@FUZZ
@given(mutation=st.sampled_from(STATS_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_pinned_target_stats_files(mutation, rnd):
    _fuzz("target_stats", mutation, rnd)


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(mutation=st.sampled_from(CORPUS_MUTATIONS), rnd=st.randoms(use_true_random=False))
def test_fuzz_corpus_files(mutation, rnd):
    _fuzz("corpus", mutation, rnd)


@pytest.mark.parametrize("family,mutation", [(f, m) for f, (_, _, valid) in FAMILIES.items() for m in valid])
def test_very_long_sequences_load_whole(family, mutation, tmp_path):
    """20k-frame pickles, 3k-frame NTU files, 5k-frame HumanML3D / BVH, 6k-frame DeepMimic: nothing cut."""
    case = FAMILIES[family][0](tmp_path, random.Random(0), mutation)
    assert_clear(case)


@pytest.mark.parametrize("mutation", CONFIG_MUTATIONS)
def test_config_errors_name_the_file_or_type(mutation, tmp_path):
    pytest.importorskip("har")
    assert_clear(config_case(tmp_path, random.Random(1), mutation))


def test_harness_flags_a_silent_loader(tmp_path):
    """The classifier itself can fail a case: a loader that swallows bad input is reported as silent,
    and an IndexError from deep inside as wrong_type."""
    silent = Case("x", "nan", lambda: np.zeros(3), must_contain=["x"])
    assert run_case(silent)[0] == SILENT
    crash = Case("x", "idx", lambda: [][1], must_contain=["x"])
    assert run_case(crash)[0] == WRONG_TYPE
    vague = Case("x", "vague", lambda: (_ for _ in ()).throw(DataError("bad")), must_contain=["field 'k'"])
    assert run_case(vague)[0] == UNCLEAR


def test_unsafe_pickle_is_refused_but_loads_with_explicit_opt_out(tmp_path):
    data = _pyskl_valid(random.Random(3), 2)
    data["meta"] = {"hook": _Evil()}
    p = tmp_path / "evil.pkl"
    p.write_bytes(pickle.dumps(data))
    with pytest.raises(DataError, match="refusing to load global 'posix.getcwd'|refusing to load global 'os.getcwd'"):
        load_pyskl(p)
    out = load_pyskl(p, safe=False)  # the user vouches for the file: the call runs
    assert isinstance(out["meta"]["hook"], str)


def test_augmenter_rejects_labels_outside_the_label_set_before_any_work():
    """A dataset label with no caption entry fails at construction, naming a sample of that class,
    instead of a KeyError after the generator has loaded and the first adapters have trained."""
    from kinemic_aug.augmenter import KineMICAugmenter

    rng = np.random.default_rng(0)
    anns = [{"frame_dir": f"clip{i}", "label": lab, "keypoint": rng.normal(size=(1, 12, MSR_V, 3)).astype(np.float32),
             "total_frames": 12} for i, lab in enumerate([0, 0, 27, 27])]
    with pytest.raises(DataError, match=r"sample 'clip2', field 'label'.*\[27\]"):
        KineMICAugmenter(anns, labels="msr_action3d", layout="msr_action3d", fps=15, progress=False)
