"""Shared fixtures. Real data lives outside the repo; tests that need it skip when it is absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MSR_PKL = Path(os.environ.get("KINEMIC_MSR_PKL", REPO.parent / "shared" / "data" / "msr_action3d" / "msr_action3d_skeleton.pkl"))


@pytest.fixture(scope="session")
def msr_pkl() -> Path:
    if not MSR_PKL.exists():
        pytest.skip(f"MSR Action3D pickle not found at {MSR_PKL} (research data, not shipped)")
    return MSR_PKL


def _one_thread() -> None:
    # One thread: test models are tiny, and two OpenMP threads on a busy 2-core machine spin-wait
    # each other into a 50x slowdown (measured: 2.7 s vs 0.035 s per backward of the tiny denoiser).
    # Set at import too, because session-scoped fixtures run before function-scoped ones.
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass


_one_thread()


@pytest.fixture(autouse=True)
def _few_threads():
    _one_thread()  # a test may have changed it
    yield


@pytest.fixture(scope="session")
def tiny_generator(tmp_path_factory):
    """A tiny generalist trained for a few steps on the seed corpus + 40 procedural (synthetic) clips,
    with the real MiniLM text encoder. Enough to exercise the pipeline, not to make good motion."""
    import torch

    from kinemic_aug.data.sources import load_corpus
    from kinemic_aug.generator import DenoiserConfig, PretrainConfig, get_representation, pretrain
    from kinemic_aug.text import get_text_encoder

    spec = "seed+procedural:40:1"
    out = tmp_path_factory.mktemp("gen") / "tiny.pt"
    torch.manual_seed(0)
    cfg = PretrainConfig(steps=20, batch_size=8, max_seconds=4, save_every=20, progress=False, diffusion_steps=50)
    pretrain(load_corpus(spec), out, representation=get_representation("xyz", "smpl22"),
             text_embedder=get_text_encoder("minilm"),
             denoiser=DenoiserConfig.preset("tiny", input_dim=66, text_dim=384), config=cfg, resume=False,
             text_info={"encoder": "minilm", "dim": 384})
    return {"path": out, "corpus": spec}


@pytest.fixture
def tiny_wrapper_parts(msr_pkl, tiny_generator, tmp_path):
    """The wrapped dataset (1 shot of MSR classes 0/4/14, no pipeline) and augmenter dicts of a
    ``KineMICAugmentedDataset`` with the tiny generator, 2 synthetic samples per class and a permissive filter."""
    import har.mm  # noqa: F401  (registers PoseDataset, so a test using these parts also runs alone)
    inner = dict(type="PoseDataset", ann_file=str(msr_pkl), layout="msr_action3d", num_classes=20,
                 split="xsub_train", few_shot=dict(shots=1, seed=0, classes=[0, 4, 14]), pipeline=[])
    aug = dict(labels="msr_action3d", synthetic_per_class=2, generator=str(tiny_generator["path"]),
               corpus=tiny_generator["corpus"], cache_dir=str(tmp_path / "cache"),
               adapt=dict(steps=2, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2),
               synthesis=dict(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9))
    return inner, aug


def fake_kinder_gator(root: Path, *, n: int = 4, t: int = 30, mutate=None) -> Path:
    """Write a small Kinder-Gator-shaped source pickle (the rest pose swaying; labels 'bow' / 'jump';
    participant 723, a held-out one, every fourth trial from the first) under ``root`` and return its path."""
    import pickle

    import numpy as np

    from kinemic_aug.skeleton.retarget import rest_pose

    folder = root / "kinder_gator"
    folder.mkdir(parents=True, exist_ok=True)
    rest = rest_pose("kinect_v1_sdk")
    anns = []
    for i in range(n):
        wave = 0.05 * np.sin(np.linspace(0, 6, t) + i)[:, None, None]
        kp = (rest[None] + wave + np.array([0, 0, 2.5])).astype(np.float16)[None]
        anns.append({"frame_dir": f"trial{i}", "label": i % 2, "subject": 723 if i % 4 == 0 else 100 + i,
                     "group": "adult", "keypoint": kp, "total_frames": t})
    data = {"split": {"all": [a["frame_dir"] for a in anns]}, "annotations": anns,
            "meta": {"classes": ["bow", "jump"]}}
    if mutate:
        mutate(data)
    path = folder / "kinder_gator_skeleton.pkl"
    path.write_bytes(pickle.dumps(data))
    return path
