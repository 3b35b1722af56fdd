"""How much of a sample's class does the bridge to the generator's space keep, before any diffusion?

    python -m benchmarks.bridge_roundtrip --dataset msr_action3d --shots 3 --seed 0

Every synthetic sample crosses :class:`~kinemic_aug.generator.dataset_space.TargetDomain` twice: the
shots go to SMPL-22 at the generator's frame rate (retarget, resample, floor), are encoded as the
generator's features, and a generated sequence is decoded and brought back (resample, retarget, placed
like a shot). If the target's judge no longer recognises the *shots themselves* after that round trip,
no generator can give recognisable samples, and the loss is in the bridge, not in the prior.

The real shots of one draw are scored by the target's judge (an ST-GCN trained on the training split
minus these shots, as ``benchmarks.target_recognition --judge-without-shots`` trains it), after each
cumulative stage of the round trip:

* ``shots``: as drawn;
* ``retarget``: dataset layout → SMPL-22 → dataset layout (no resampling);
* ``resample``: + generator fps and back;
* ``features``: + encoded as the generator's features and decoded (``representation.decode``);
* ``rechain``: + the bone lengths re-chained to the shot's own (what synthesis does with
  ``rechain_bones=True``).

Each stage is placed in the shot's frame as synthetic samples are. Nothing is chosen on a test split.
Writes ``benchmarks/results/<stem>.{json,md}``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR  # noqa: E402

STAGES = ("shots", "retarget", "resample", "features", "rechain")


def stage_functions(domain: Any, representation: Any) -> Dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Per stage, a map from a shot's ``[M, T, V, 3]`` keypoints to that stage's ``[1, T', V, 3]``."""
    from kinemic_aug.generator.dataset_space import GENERATOR_LAYOUT, TargetDomain
    from kinemic_aug.skeleton.layout import get_layout
    from kinemic_aug.skeleton.retarget import bone_lengths, rechain, retarget

    parents = get_layout(GENERATOR_LAYOUT).parents
    same_fps = TargetDomain(domain.layout, domain.fps, generator_fps=domain.fps)  # from_generator does not resample

    def retarget_only(kp):
        p = np.asarray(kp, dtype=np.float32)[0]
        p = p[~np.all(p == 0, axis=(1, 2))]
        return same_fps.from_generator(retarget(p, domain.layout, GENERATOR_LAYOUT), reference=kp)

    def through_fps(kp):
        return domain.from_generator(domain.to_generator(kp), reference=kp)

    def through_features(kp):
        j = domain.to_generator(kp)
        return domain.from_generator(representation.decode(representation.encode(j)), reference=kp)

    def through_rechain(kp):
        j = domain.to_generator(kp)
        d = representation.decode(representation.encode(j))
        return domain.from_generator(rechain(d, parents, bone_lengths(j, parents)), reference=kp)

    return {"shots": lambda kp: np.asarray(kp, dtype=np.float32)[:1], "retarget": retarget_only,
            "resample": through_fps, "features": through_features, "rechain": through_rechain}


def main(argv=None) -> Dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="msr_action3d")
    ap.add_argument("--generator", default="bandai", help="its representation (features, statistics) is used")
    ap.add_argument("--shots", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=str(REPO / "work_dirs" / "target_recognition"),
                    help="shared with benchmarks.target_recognition, so the judge without these shots is reused")
    ap.add_argument("--evaluator-root", default=None, help="default: the generation metrics' evaluator cache")
    ap.add_argument("--stem", default="bridge_roundtrip")
    ap.add_argument("--out-dir", default=str(RESULTS_DIR))
    a = ap.parse_args(argv)
    import torch

    from benchmarks.generation_metrics import ensure_evaluator, load_evaluator
    from benchmarks.target_recognition import JUDGE_SPLIT, judge, without_shots
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.data.datasets import get_dataset_spec
    from kinemic_aug.generator import load_generator
    from kinemic_aug.generator.checkpoint import resolve_generator
    from kinemic_aug.generator.dataset_space import TargetDomain
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text

    torch.set_num_threads(1)
    spec = get_dataset_spec(a.dataset)
    pkl = spec.require_pickle()
    gen_path = resolve_generator(a.generator)
    # the shots benchmarks.target_recognition draws for this dataset, seed and shot count, so the same judge
    # (trained without exactly these shots) is a cache hit
    aug = KineMICAugmenter(str(pkl), split=spec.train_split, shots=a.shots, allow_fewer=spec.allow_fewer,
                           labels=spec.labels, layout=spec.layout, fps=spec.fps, variant="retrieved",
                           generator=gen_path, seed=a.seed, progress=False)
    shots = aug.shot_anns
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    jpkl, n_judge = without_shots(pkl, spec.train_split, {x["frame_dir"] for x in shots}, work)
    config = REPO / f"configs/stgcn/{spec.config_stem}_full.py"
    options = {"train_dataloader.dataset.ann_file": str(jpkl), "train_dataloader.dataset.split": JUDGE_SPLIT,
               "val_dataloader.dataset.ann_file": str(jpkl), "test_dataloader.dataset.ann_file": str(jpkl)}
    ev = load_evaluator(ensure_evaluator(config, options, **({"root": Path(a.evaluator_root)}
                                                             if a.evaluator_root else {})))
    rep = load_generator(gen_path).representation
    domain = TargetDomain(spec.layout, spec.fps)
    fns = stage_functions(domain, rep)
    rows: List[Dict[str, Any]] = []
    for stage in STAGES:
        t0 = time.time()
        out = []
        for x in shots:
            kp = fns[stage](x["keypoint"])
            out.append({**{k: v for k, v in x.items() if k not in ("keypoint", "keypoint_score")},
                        "frame_dir": f"{x['frame_dir']}_{stage}", "keypoint": kp.astype(np.float32),
                        "total_frames": int(kp.shape[1]), "synthetic": False, "bridge_stage": stage})
        res = judge(ev, out, work / f"bridge_{stage}.pkl")
        res.update(stage=stage, seconds=round(time.time() - t0, 1))
        rows.append(res)
        print(f"{stage}: recognised {100 * res['recognised']:.1f} % of {res['n']}", flush=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": "2-core CPU (shared)",
              "dataset": spec.name, "shots": a.shots, "seed": a.seed, "generator": str(gen_path.name),
              "judge": {"config": str(config.relative_to(REPO)), "directory": str(ev.directory),
                        "trained_on": f"the {n_judge} real `{spec.train_split}` sequences that are not shots"},
              "rows": rows, "classes": {c: aug.labels[c].name for c in aug.classes}}
    outdir = Path(a.out_dir)
    atomic_write_json(outdir / f"{a.stem}.json", result, indent=1)
    md = [f"# The bridge to the generator's space, round trip: {spec.title}, {a.shots} shots, seed {a.seed}", "",
          f"Run {result['date']}, {result['machine']}. The {len(shots)} real shots of one draw, scored by a judge "
          f"(`{config.relative_to(REPO)}`) trained on {result['judge']['trained_on']} (it never saw them), "
          f"after each cumulative stage of the round trip through the generator's space (representation of "
          f"`{gen_path.name}`); no diffusion. Chance {100.0 / spec.num_classes:.1f} %. Nothing is chosen on a "
          "test split.", "",
          "| stage | recognised | mean own-class probability |", "|---|---|---|"]
    for r in rows:
        md.append(f"| {r['stage']} | {100 * r['recognised']:.1f} % | {r['mean_own_prob']:.3f} |")
    atomic_write_text(outdir / f"{a.stem}.md", "\n".join(md) + "\n")
    print("\n".join(md))
    return result


if __name__ == "__main__":
    main()
