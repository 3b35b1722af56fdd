"""Generation metrics of a synthetic MSR Action3D set, measured by an evaluator ST-GCN.

    python -m benchmarks.generation_metrics work_dirs/few_shot/real_kinemic_5shot_s0/synthetic.pkl
    python -m benchmarks.generation_metrics --reference-only      # real train vs real test only

The evaluator is the ``real`` arm's full-data classifier (``configs/stgcn/stgcn_msr_xsub_full.py``: all
284 ``xsub_train`` sequences, i.e. beyond the few shots; acceptable for an evaluator, and said in the
reports). It is trained once per (config, overrides, seed) by ``tools/train.py`` and cached under
``work_dirs/few_shot/evaluator/<key>/`` (``evaluator.pth`` tensors only, ``evaluator.json`` its summary);
the key hashes the fully resolved config, so a changed recipe is a new evaluator, never a stale one. It
never sees synthetic data.

A sample's feature is the evaluator's pooled penultimate feature (the input of its last linear layer),
averaged over the 10 test clips; its class probabilities are the softmax averaged over the same clips
(the test protocol of the configs). Metrics (``kinemic_aug.eval.generation``):

* ``gen_fid``: FID of the synthetic features vs the real ``xsub_train`` features;
* ``gen_diversity``: mean distance of random pairs over the synthetic set (exact all-pairs mean when
  the set has fewer pairs than asked);
* ``gen_multimodality``: mean within-class pair distance, averaged over classes;
* ``gen_eval_acc``: evaluator top-1 on the synthetic samples against their conditioning class.

``num_clips`` (``--clips``) embeds each sequence with that many test clips instead of the config's 10; the
real features are cached per clip count, so a reference and the sets compared with it always share one.
A set's metrics are cached under the evaluator folder by a digest of what they read (each sample's label
and keypoints, in order, plus split, clips and seed): two cells that train on the same samples (a cell served
its samples by the augmenter cache) measure them once.

The real-vs-real reference applies the same metrics to the real ``xsub_test`` sequences in place of
the synthetic set (FID vs real train; diversity, multimodality and accuracy on real test), to calibrate
the numbers. FID grows when a set is small, so compare sets of similar size.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `har` lives at the repository root
    sys.path.insert(0, str(REPO))

from benchmarks.train_runner import run_train, train_command  # noqa: E402
from kinemic_aug.errors import DataError  # noqa: E402
from kinemic_aug.eval.generation import diversity, fid, multimodality  # noqa: E402
from kinemic_aug.utils.io import atomic_save_npz, atomic_write_json  # noqa: E402

EVALUATOR_CONFIG = REPO / "configs" / "stgcn" / "stgcn_msr_xsub_full.py"
EVALUATOR_ROOT = REPO / "work_dirs" / "few_shot" / "evaluator"
DIVERSITY_PAIRS = 300        # random pairs, as in the text-to-motion evaluation of Guo et al. (CVPR 2022) that MDM uses
MULTIMODALITY_PAIRS = 10     # pairs per class
#: part of every cached set's key: raise it when the metrics change, so no entry of the old ones is served
METRICS_VERSION = 1


# ------------------------------------------------------------------------------ pure metrics
def metrics_from_features(real_train: np.ndarray, feats: np.ndarray, labels: Sequence[int],
                          probs: Optional[np.ndarray] = None, seed: int = 0,
                          prefix: str = "gen_") -> Dict[str, Any]:
    """FID vs ``real_train``, diversity, multimodality and (with ``probs``) top-1 against ``labels``.

    Returns ``{prefix+'fid', prefix+'diversity', prefix+'multimodality', prefix+'eval_acc', prefix+'n',
    prefix+'notes'}``; a metric that is undefined for this set (e.g. FID of one sample) is ``None`` with
    the reason in the notes, never a crash of the whole benchmark cell.
    """
    feats = np.asarray(feats, dtype=np.float64)
    y = np.asarray(labels)
    if probs is not None and np.asarray(probs).shape[0] != len(y):
        raise DataError(f"{np.asarray(probs).shape[0]} probability rows for {len(y)} labels", field="probs")
    notes: Dict[str, str] = {}
    out: Dict[str, Any] = {}
    try:
        out["fid"] = fid(feats, real_train)
    except DataError as e:
        out["fid"] = None
        notes["fid"] = str(e)
    div, notes["diversity"] = diversity(feats, n_pairs=DIVERSITY_PAIRS, seed=seed)
    mm, notes["multimodality"] = multimodality(feats, y, n_pairs=MULTIMODALITY_PAIRS, seed=seed)
    out["diversity"] = None if not np.isfinite(div) else div
    out["multimodality"] = None if not np.isfinite(mm) else mm
    if probs is not None:
        out["eval_acc"] = float((np.asarray(probs).argmax(1) == y).mean())
    else:
        out["eval_acc"] = None
    out["n"] = int(len(feats))
    out["notes"] = notes
    return {prefix + k: v for k, v in out.items()}


# ------------------------------------------------------------------------------ the evaluator
def evaluator_key(config: Path, options: Mapping[str, Any], seed: int) -> str:
    """16 hex chars over the resolved config text (bases, overrides included) and the seed."""
    from har.training import load_config

    cfg = load_config(config, cfg_options=dict(options) or None, seed=seed)
    text = cfg.pretty_text
    return hashlib.sha256(f"{text}\nseed={seed}".encode("utf-8")).hexdigest()[:16]


@dataclass
class Evaluator:
    """A trained evaluator: its folder, config, model (eval mode) and training summary."""

    directory: Path
    config: Path
    options: Dict[str, Any]
    model: Any
    cfg: Any
    info: Dict[str, Any]


def ensure_evaluator(config: Path = EVALUATOR_CONFIG, options: Optional[Mapping[str, Any]] = None, seed: int = 0,
                     root: Path = EVALUATOR_ROOT, threads: int = 1, log_dir: Optional[Path] = None) -> Path:
    """The evaluator folder for (config, options, seed); trains it first if it is not cached."""
    options = dict(options or {})
    key = evaluator_key(config, options, seed)
    directory = Path(root) / key
    weights, info_path = directory / "evaluator.pth", directory / "evaluator.json"
    if weights.exists() and info_path.exists():
        return directory
    run_dir = directory / "run"
    cmd = train_command(config, seed, run_dir, options, threads=threads, json_out=run_dir / "summary.json")
    log = Path(log_dir or directory) / f"evaluator_{key}.log"
    print(f"[generation_metrics] training the evaluator {key} ({config.name}), log {log}", flush=True)
    res = run_train(cmd, log, threads=threads)
    if not res.ok:
        raise RuntimeError(f"evaluator training failed (exit {res.returncode}); see {log}")
    from har.training import export_weights, last_checkpoint

    ckpt = last_checkpoint(run_dir, base=REPO)
    if ckpt is None or not ckpt.exists():
        raise RuntimeError(f"evaluator run left no checkpoint in {run_dir}")

    export_weights(ckpt, weights)
    s = res.summary or {}
    atomic_write_json(info_path, {"key": key, "config": str(Path(config).resolve().relative_to(REPO)),
                                  "cfg_options": options, "seed": seed, "train_seconds": round(res.seconds, 1),
                                  "test_top1_last": (s.get("last") or {}).get("acc/top1"),
                                  "last_iter": (s.get("last") or {}).get("iter"),
                                  "trained_on": f"all real training sequences of {Path(config).name} (its full-data "
                                                "split), beyond the few shots"})
    return directory


def load_evaluator(directory: Path) -> Evaluator:
    """Build the evaluator's model from its config and load ``evaluator.pth`` (weights only)."""
    from har.training import load_recognizer

    directory = Path(directory)
    info = json.loads((directory / "evaluator.json").read_text(encoding="utf-8"))
    config = REPO / info["config"]
    model, cfg = load_recognizer(config, directory / "evaluator.pth", cfg_options=info.get("cfg_options") or None,
                                 seed=info.get("seed"))
    return Evaluator(directory, config, dict(info.get("cfg_options") or {}), model, cfg, info)


def test_pipeline(ev: Evaluator, num_clips: Optional[int] = None) -> List[Dict[str, Any]]:
    """The evaluator's test pipeline, its ``UniformSample`` taking ``num_clips`` clips when given."""
    if num_clips is not None and int(num_clips) < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    steps = [dict(t) for t in ev.cfg.val_dataloader.dataset.pipeline]
    if num_clips is not None:
        found = [t for t in steps if t.get("type") == "UniformSample"]
        if not found:
            raise ValueError(f"num_clips={num_clips}: the evaluator's test pipeline has no UniformSample step")
        for t in found:
            t["num_clips"] = int(num_clips)
    return steps


def _dataset(ev: Evaluator, ann_file: Path, split: str, num_clips: Optional[int] = None):
    """A test-mode ``PoseDataset`` over ``split`` of ``ann_file`` with the evaluator's test pipeline."""
    from har.datasets import PoseDataset

    base = ev.cfg.val_dataloader.dataset
    return PoseDataset(ann_file=str(ann_file), split=split, layout=base.get("layout"),
                       num_classes=base.get("num_classes"), pipeline=test_pipeline(ev, num_clips), test_mode=True)


def embed(ev: Evaluator, ann_file: Path, split: str, batch_size: int = 32,
          num_clips: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features ``[N, C]`` (clip-averaged pooled features), probabilities ``[N, K]`` and labels ``[N]``."""
    import torch
    from mmengine.dataset import pseudo_collate

    ds = _dataset(ev, ann_file, split, num_clips)
    feats, probs, labels = [], [], []
    with torch.no_grad():
        for start in range(0, len(ds), batch_size):
            items = [ds[i] for i in range(start, min(start + batch_size, len(ds)))]
            data = ev.model.data_preprocessor(pseudo_collate(items), False)
            x = data["inputs"]
            n, nc = x.shape[:2]
            f = ev.model.extract_feat(x).view(n, nc, -1)           # [N, clips, C]
            logits = ev.model.cls_head.fc(f)                        # the head's last layer on the pooled feature
            feats.append(f.mean(1).numpy())
            probs.append(torch.softmax(logits, -1).mean(1).numpy())  # test_cfg average_clips='prob'
            labels.extend(int(ds.get_data_info(i)["label"]) for i in range(start, start + n))
    return np.concatenate(feats), np.concatenate(probs), np.asarray(labels)


def real_features(ev: Evaluator, num_clips: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Evaluator features of real ``xsub_train`` and ``xsub_test`` (cached in the evaluator folder, one file per
    clip count)."""
    path = ev.directory / ("real_features.npz" if num_clips is None else f"real_features_{int(num_clips)}clip.npz")
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    base = ev.cfg.val_dataloader.dataset
    from har.datasets.pose_dataset import resolve_path

    ann = Path(resolve_path(base.ann_file))
    out: Dict[str, np.ndarray] = {}
    for name, split in (("train", ev.cfg.train_dataloader.dataset.get("split", "xsub_train")), ("test", base.split)):
        f, p, y = embed(ev, ann, split, num_clips=num_clips)
        out[f"{name}_feats"], out[f"{name}_probs"], out[f"{name}_labels"] = f, p, y
    atomic_save_npz(path, **out)
    return out


def reference_metrics(ev: Evaluator, num_clips: Optional[int] = None) -> Dict[str, Any]:
    """Real test in place of the synthetic set (FID vs real train): what a perfect generator would score."""
    real = real_features(ev, num_clips)
    ref = metrics_from_features(real["train_feats"], real["test_feats"], real["test_labels"], real["test_probs"],
                                prefix="")
    ref.update(evaluator=ev.info.get("key"), evaluator_test_top1=ev.info.get("test_top1_last"),
               n_train=int(len(real["train_feats"])), what="real xsub_test vs real xsub_train",
               clips=num_clips or _config_clips(ev))
    return ref


def _config_clips(ev: Evaluator) -> Optional[int]:
    """The clip count of the evaluator's own test pipeline."""
    found = [t.get("num_clips", 1) for t in ev.cfg.val_dataloader.dataset.pipeline if t.get("type") == "UniformSample"]
    return int(found[0]) if found else None


def samples_digest(synthetic_pkl: Path, split: str = "synthetic") -> str:
    """sha256 over what the metrics read from ``split`` of a PYSKL pickle: each sample's label, frame count,
    keypoints and keypoint scores (where given), in the split's order (names, reports and timings written beside
    them do not count), with :data:`METRICS_VERSION` and the pair counts."""
    from kinemic_aug.data.pyskl import get_split, load_pyskl

    head = f"v{METRICS_VERSION}|pairs={DIVERSITY_PAIRS},{MULTIMODALITY_PAIRS}|split={split}"
    h = hashlib.sha256(head.encode("utf-8"))
    for ann in get_split(load_pyskl(synthetic_pkl, safe=True, validate=False), split):
        h.update(f"|{int(ann['label'])}|{ann.get('total_frames')}|".encode("utf-8"))
        for field in ("keypoint", "keypoint_score"):
            if ann.get(field) is not None:
                arr = np.ascontiguousarray(np.asarray(ann[field], dtype=np.float32))
                h.update(f"{field}{arr.shape}".encode("utf-8"))
                h.update(arr.tobytes())
    return h.hexdigest()[:24]


def synthetic_metrics(ev: Evaluator, synthetic_pkl: Path, split: str = "synthetic", seed: int = 0,
                      num_clips: Optional[int] = None, cache: bool = True) -> Dict[str, Any]:
    """``gen_*`` metrics of the samples in ``synthetic_pkl`` (a PYSKL pickle with split ``synthetic``).

    With ``cache``, the result is kept under ``<evaluator>/synthetic_metrics/`` by :func:`samples_digest` (with
    the clip count and seed), and a set measured before is read back (``gen_cached`` says so; ``gen_seconds``
    is then the time of the lookup)."""
    t0 = time.time()
    clips = num_clips or _config_clips(ev)
    path = None
    if cache:
        digest = samples_digest(Path(synthetic_pkl), split)
        path = ev.directory / "synthetic_metrics" / f"{digest}_clips{clips}_seed{seed}.json"
        if path.exists():
            try:
                out = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:  # a damaged entry is measured again and rewritten, never trusted
                out = None
            if isinstance(out, dict) and "gen_fid" in out:
                return dict(out, gen_cached=True, gen_seconds=round(time.time() - t0, 1))
    real = real_features(ev, num_clips)
    f, p, y = embed(ev, Path(synthetic_pkl), split, num_clips=num_clips)
    out = metrics_from_features(real["train_feats"], f, y, p, seed=seed)
    out["gen_evaluator"] = ev.info.get("key")
    out["gen_clips"] = clips
    if path is not None:
        out["gen_digest"] = path.stem
        atomic_write_json(path, out)
    out["gen_cached"] = False
    out["gen_seconds"] = round(time.time() - t0, 1)
    return out


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    from benchmarks.train_runner import parse_cfg_options

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("synthetic", nargs="?", help="PYSKL pickle of SYNTHETIC samples (split 'synthetic')")
    p.add_argument("--split", default="synthetic")
    p.add_argument("--reference-only", action="store_true", help="only the real-vs-real reference")
    p.add_argument("--evaluator-config", default=str(EVALUATOR_CONFIG))
    p.add_argument("--evaluator-options", nargs="+", default=None, help="cfg-options of the evaluator run")
    p.add_argument("--evaluator-root", default=str(EVALUATOR_ROOT))
    p.add_argument("--seed", type=int, default=0, help="evaluator training seed")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clips", type=int, default=None, help="test clips per sequence (default: the evaluator "
                   "config's, 10)")
    p.add_argument("--json-out", default=None)
    args = p.parse_args(argv)
    if not args.synthetic and not args.reference_only:
        p.error("give a synthetic pickle or --reference-only")
    import torch

    torch.set_num_threads(max(1, args.threads))
    directory = ensure_evaluator(Path(args.evaluator_config), parse_cfg_options(args.evaluator_options), args.seed,
                                 Path(args.evaluator_root), threads=args.threads)
    ev = load_evaluator(directory)
    out: Dict[str, Any] = {"reference": reference_metrics(ev, args.clips)}
    if args.synthetic:
        out["synthetic"] = synthetic_metrics(ev, Path(args.synthetic), args.split, num_clips=args.clips)
    text = json.dumps(out, indent=2)
    if args.json_out:
        atomic_write_json(args.json_out, out)
    print(text)
    return out


if __name__ == "__main__":
    main()
