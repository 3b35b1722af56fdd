"""Generator pretraining speed: the legacy step against the fast engine, interleaved in one run.

Both engines train the same denoiser (same initial weights, same seed, so the same batches) on the
same dataset in one process with one torch thread. Steps alternate in blocks (legacy, fast, fast,
legacy, ...), so load from other processes on a shared machine hits both alike; the speed-up is
the median over blocks of the paired ratio legacy/fast, in wall time and in the process's CPU time
(user + system; both engines run on one thread, and CPU time leaves out the time other jobs take
the core away, which on a busy shared machine is a large, varying part of the wall time). Also recorded: startup (corpus, caption
embedding, normalisation fit), how much of a padded batch is padding, wall time per stage of a
step (:attr:`GeneratorTrainer.timings`), the share of each kind of kernel from ``torch.profiler``,
and a check that the packed forward equals the padded one on a real batch.

Recipes: ``cli-default`` (random crops of 1-10 s, the CLI's defaults) and ``shipped`` (the shipped
generalist's: caption crops of at most 6 s, ``lambda_vel`` 0.5); both batch 32, preset ``small``.

    python -m benchmarks.pretrain_speed                  # seed+procedural:4000:0+segments, MiniLM
    python -m benchmarks.pretrain_speed --quick          # toy corpus, tiny preset, hashing text (smoke test)
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.common import host_facts  # noqa: E402
from kinemic_aug.generator import DenoiserConfig, MotionDenoiser, MotionTextDataset, XYZRepresentation  # noqa: E402
from kinemic_aug.generator.training import GeneratorTrainer, PretrainConfig  # noqa: E402
from kinemic_aug.utils.io import atomic_write_json, atomic_write_text  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
RECIPES: Dict[str, Dict[str, Any]] = {
    "cli-default": dict(crop="random", min_seconds=1.0, max_seconds=10.0, lambda_vel=0.0),
    "shipped": dict(crop="caption", min_seconds=1.0, max_seconds=6.0, lambda_vel=0.5),
}
ENGINES = ("legacy", "fast")
# torch.profiler op names -> kind of work (self CPU time); everything else is "elementwise/other ops"
OP_KINDS = {
    "matmul": ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"),
    "dropout RNG": ("aten::bernoulli_", "aten::random_", "aten::uniform_", "aten::randint"),
    "copies/gathers": ("aten::copy_", "aten::index_select", "aten::index_put_", "aten::index", "aten::scatter_add_",
                       "aten::cat", "aten::fill_", "aten::zero_", "aten::index_add_", "aten::_index_put_impl_"),
    "softmax/GELU/LayerNorm": ("aten::_softmax", "aten::_softmax_backward_data", "aten::gelu", "aten::gelu_backward",
                               "aten::native_layer_norm", "aten::native_layer_norm_backward"),
}


def machine_info() -> Dict[str, Any]:
    return {**host_facts(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "torch_threads": torch.get_num_threads(),
            "load_average_start": list(os.getloadavg())}


class _TimedEmbedder:
    """Wraps a text embedder to time the caption embedding inside :class:`MotionTextDataset`."""

    def __init__(self, embedder: Any):
        self.embedder, self.seconds = embedder, 0.0

    def __call__(self, texts: List[str]) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.embedder.encode(texts) if hasattr(self.embedder, "encode") else self.embedder(texts)
        self.seconds += time.perf_counter() - t0
        return out


def build_dataset(corpus_spec: str, text_encoder: str) -> Dict[str, Any]:
    """Load corpus and text encoder, build the dataset; seconds per part and memory."""
    from kinemic_aug.data.sources import load_corpus
    from kinemic_aug.text import get_text_encoder

    t0 = time.perf_counter()
    corpus = load_corpus(corpus_spec)
    t_corpus = time.perf_counter() - t0
    enc = _TimedEmbedder(get_text_encoder(text_encoder))
    t0 = time.perf_counter()
    ds = MotionTextDataset(corpus, XYZRepresentation("smpl22"), enc, text_dim=int(enc.embedder.dim), fps=20.0)
    t_ds = time.perf_counter() - t0
    frames = sum(len(j) for j in ds.joints)
    return {"dataset": ds, "startup": {
        "corpus_load_s": round(t_corpus, 2), "caption_embedding_s": round(enc.seconds, 2),
        "dataset_rest_s": round(t_ds - enc.seconds, 2), "clips": len(ds), "captions": len(ds.captions),
        "synthetic_clips": sum(bool(getattr(c, "synthetic", False)) for c in corpus),
        "frames": frames, "joint_arrays_mb": round(sum(j.nbytes for j in ds.joints) / 2 ** 20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}}


def make_trainer(ds: MotionTextDataset, preset: str, engine: str, recipe: Dict[str, Any], batch: int,
                 init: Dict[str, torch.Tensor]) -> GeneratorTrainer:
    model = MotionDenoiser(DenoiserConfig.preset(preset, input_dim=ds.rep.dim, text_dim=ds.text_dim))
    model.load_state_dict(init)
    cfg = PretrainConfig(steps=10 ** 9, batch_size=batch, lr=2e-4, diffusion_steps=100, save_every=0, seed=0,
                         device="cpu", progress=False, plot=False, engine=engine, **recipe)
    return GeneratorTrainer(model, ds, cfg)


def padding_stats(ds: MotionTextDataset, trainer: GeneratorTrainer, batches: int = 20) -> Dict[str, float]:
    """Valid share of the padded batch and of the tokens the packed engine's attention groups hold."""
    from kinemic_aug.generator.length_groups import CPU_COST, length_groups

    rng = np.random.default_rng(12345)
    padded, valid, grouped, ngroups = 0, 0, 0, 0
    for _ in range(batches):
        b = ds.sample_batch(rng, trainer.cfg.batch_size, trainer.min_frames, trainer.max_frames, crop=trainer.cfg.crop)
        lengths = sorted((b["mask"].sum(1) + 1).tolist())  # + condition token
        padded += len(lengths) * max(lengths)
        valid += sum(lengths)
        gs = length_groups([n - 1 for n in lengths], CPU_COST)
        grouped += sum((hi - lo) * lengths[hi - 1] for lo, hi in gs)
        ngroups += len(gs)
    return {"valid_share_of_padded_batch": round(valid / padded, 3),
            "valid_share_in_attention_groups": round(valid / grouped, 3),
            "attention_groups_per_batch": round(ngroups / batches, 2)}


def equivalence_check(ds: MotionTextDataset, trainer: GeneratorTrainer) -> Dict[str, float]:
    """Packed (grouped) vs padded forward of the same model in eval mode on one real batch."""
    from kinemic_aug.generator.length_groups import CPU_COST, length_groups

    b = ds.sample_batch(np.random.default_rng(7), trainer.cfg.batch_size, trainer.min_frames, trainer.max_frames,
                        crop=trainer.cfg.crop)
    lengths = b["mask"].sum(1)
    order = torch.argsort(lengths, stable=True)
    x, mask = b["x"][order], b["mask"][order]
    text = b["text_emb"][order] if b["text_emb"] is not None else None
    t = torch.arange(len(order)) % trainer.schedule.num_steps
    model = trainer.model.eval()
    with torch.no_grad():
        padded = model(x, t, text_emb=text, mask=mask)
        packed = model(x, t, text_emb=text, mask=mask, groups=length_groups(lengths[order].tolist(), CPU_COST))
    diff = (padded - packed)[mask].abs()
    return {"max_abs_diff": float(diff.max()), "max_abs_output": float(padded[mask].abs().max())}


def op_breakdown(trainer: GeneratorTrainer, steps: int) -> Dict[str, float]:
    """Share of wall time per kind of kernel over ``steps`` profiled steps (self CPU time)."""
    from torch.profiler import ProfilerActivity, profile

    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            trainer.train_step()
    wall = time.perf_counter() - t0
    kinds = {k: 0.0 for k in OP_KINDS}
    total = 0.0
    for ev in prof.key_averages():
        if not ev.key.startswith("aten::"):
            continue
        sec = ev.self_cpu_time_total / 1e6
        total += sec
        for kind, names in OP_KINDS.items():
            if ev.key in names:
                kinds[kind] += sec
                break
    out = {k: round(v / wall, 3) for k, v in kinds.items()}
    out["elementwise/other ops"] = round((total - sum(kinds.values())) / wall, 3)
    out["outside torch ops (python, numpy)"] = round(max(0.0, wall - total) / wall, 3)
    out["profiled_s_per_step"] = round(wall / steps, 3)
    return out


def measure_recipe(ds: MotionTextDataset, name: str, recipe: Dict[str, Any], preset: str, batch: int,
                   blocks: int, steps_per_block: int, warmup: int, profile_steps: int) -> Dict[str, Any]:
    torch.manual_seed(0)
    init = MotionDenoiser(DenoiserConfig.preset(preset, input_dim=ds.rep.dim, text_dim=ds.text_dim)).state_dict()
    trainers = {e: make_trainer(ds, preset, e, recipe, batch, init) for e in ENGINES}
    for tr in trainers.values():
        for _ in range(warmup):
            tr.train_step()
        tr.timings = {}
    per_block: Dict[str, List[float]] = {e: [] for e in ENGINES}
    cpu_block: Dict[str, List[float]] = {e: [] for e in ENGINES}
    for blk in range(blocks):
        for e in (ENGINES if blk % 2 == 0 else ENGINES[::-1]):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(steps_per_block):
                trainers[e].train_step()
            per_block[e].append((time.perf_counter() - t0) / steps_per_block)
            cpu_block[e].append((time.process_time() - c0) / steps_per_block)
    n_steps = blocks * steps_per_block
    ratios = [a / b for a, b in zip(per_block["legacy"], per_block["fast"])]
    cpu_ratios = [a / b for a, b in zip(cpu_block["legacy"], cpu_block["fast"])]
    res: Dict[str, Any] = {"recipe": recipe, "blocks": blocks, "steps_per_block": steps_per_block, "engines": {}}
    for e, tr in trainers.items():
        res["engines"][e] = {
            "s_per_step_median": round(statistics.median(per_block[e]), 4),
            "s_per_step_blocks": [round(v, 4) for v in per_block[e]],
            "cpu_s_per_step_median": round(statistics.median(cpu_block[e]), 4),
            "cpu_s_per_step_blocks": [round(v, 4) for v in cpu_block[e]],
            "stage_s_per_step": {k: round(v / n_steps, 4) for k, v in tr.timings.items()},
            "last_losses": [round(v, 5) for v in tr.losses[-3:]],
        }
        tr.timings = None
    res["speedup_median_paired"] = round(statistics.median(ratios), 3)
    res["speedup_of_medians"] = round(res["engines"]["legacy"]["s_per_step_median"]
                                      / res["engines"]["fast"]["s_per_step_median"], 3)
    res["speedup_blocks"] = [round(r, 3) for r in ratios]
    res["speedup_cpu_median_paired"] = round(statistics.median(cpu_ratios), 3)
    res["speedup_cpu_blocks"] = [round(r, 3) for r in cpu_ratios]
    res["padding"] = padding_stats(ds, trainers["fast"])
    res["packed_vs_padded_forward"] = equivalence_check(ds, trainers["fast"])
    if profile_steps > 0:
        res["op_share"] = {e: op_breakdown(trainers[e], profile_steps) for e in ENGINES}
    return res


def to_markdown(r: Dict[str, Any]) -> str:
    m, st = r["machine"], r["startup"]
    lines = [f"# Generator pretraining speed: legacy step vs fast engine ({r['settings']['preset']}, batch "
             f"{r['settings']['batch']}, {m['torch_threads']} torch thread)", "",
             f"Corpus `{r['settings']['corpus']}` ({st['clips']} clips, {st['frames']} frames at 20 fps, "
             f"{st['captions']} captions; {st['synthetic_clips']} clips synthetic), text encoder "
             f"`{r['settings']['text_encoder']}`, seed 0. {r['date']}, torch {m['torch']}, {m['cpu']} "
             f"({m['cpus']} CPUs, shared; load average {m['load_average_start'][0]:.1f} at start, "
             f"{m['load_average_end'][0]:.1f} at end).", "",
             "| recipe | legacy s/step (wall / CPU) | fast s/step (wall / CPU) | speed-up, wall (median of paired "
             "blocks, range) | speed-up, CPU time | blocks × steps |",
             "|---|---|---|---|---|---|"]
    for name, rec in r["recipes"].items():
        e = rec["engines"]
        lines.append(f"| {name} | {e['legacy']['s_per_step_median']:.3f} / {e['legacy']['cpu_s_per_step_median']:.3f} | "
                     f"{e['fast']['s_per_step_median']:.3f} / {e['fast']['cpu_s_per_step_median']:.3f} | "
                     f"**{rec['speedup_median_paired']:.2f}×** ({min(rec['speedup_blocks']):.2f}–"
                     f"{max(rec['speedup_blocks']):.2f}) | **{rec['speedup_cpu_median_paired']:.2f}×** "
                     f"({min(rec['speedup_cpu_blocks']):.2f}–{max(rec['speedup_cpu_blocks']):.2f}) | "
                     f"{rec['blocks']} × {rec['steps_per_block']} |")
    lines += ["", "Recipes: " + "; ".join(f"`{n}` = {json.dumps(v['recipe'])}" for n, v in r["recipes"].items()) + ".",
              "", "## Where a step's time goes", ""]
    for name, rec in r["recipes"].items():
        stages = sorted({k for e in rec["engines"].values() for k in e["stage_s_per_step"]})
        lines += [f"**{name}**: padded batches are {rec['padding']['valid_share_of_padded_batch']:.0%} valid frames; "
                  f"the fast engine's {rec['padding']['attention_groups_per_batch']:.1f} attention groups per batch "
                  f"are {rec['padding']['valid_share_in_attention_groups']:.0%} valid (its per-token layers see "
                  f"valid frames only). Packed vs padded forward on one batch: max |diff| "
                  f"{rec['packed_vs_padded_forward']['max_abs_diff']:.1e} (outputs up to "
                  f"{rec['packed_vs_padded_forward']['max_abs_output']:.1f}).", "",
                  "| stage (wall s/step) | " + " | ".join(stages) + " |", "|---|" + "---|" * len(stages)]
        for eng, e in rec["engines"].items():
            lines.append(f"| {eng} | " + " | ".join(f"{e['stage_s_per_step'].get(s, 0):.3f}" for s in stages) + " |")
        if "op_share" in rec:
            share, valid = rec["op_share"]["legacy"]["matmul"], rec["padding"]["valid_share_of_padded_batch"]
            lines += ["", f"Ceiling for this recipe with the same float32 arithmetic: the legacy step spends {share:.0%} "
                      f"in matrix products and only {valid:.0%} of their rows are valid frames, so an engine that did "
                      f"nothing but the valid rows' products, at the same speed per row, would be about "
                      f"1 / ({share:.2f} × {valid:.2f}) = {1 / (share * valid):.1f}× faster; the rest of a step "
                      f"(activations, norms, dropout masks, optimizer) keeps the fast engine below that.", ""]
            kinds = list(next(iter(rec["op_share"].values())))
            kinds = [k for k in kinds if k != "profiled_s_per_step"]
            lines += ["", "| share of profiled step | " + " | ".join(kinds) + " | profiled s/step |",
                      "|---|" + "---|" * (len(kinds) + 1)]
            for eng, o in rec["op_share"].items():
                lines.append(f"| {eng} | " + " | ".join(f"{o[k]:.0%}" for k in kinds) +
                             f" | {o['profiled_s_per_step']:.3f} |")
        lines.append("")
    lines += ["## Startup", "",
              f"Corpus load {st['corpus_load_s']:.1f} s, caption embedding {st['caption_embedding_s']:.1f} s "
              f"({st['captions']} captions), resampling/checks/normalisation fit {st['dataset_rest_s']:.1f} s; joint "
              f"arrays {st['joint_arrays_mb']:.0f} MB, peak RSS {st['max_rss_mb']:.0f} MB.", "",
              "Measured on a shared 2-core CPU while other jobs ran: absolute s/step move with the load, the paired "
              "ratio much less. The legacy engine is the original step, bit for bit; the fast engine trains the same "
              "recipe with other dropout draws (see `kinemic_aug/generator/training/trainer.py`).", ""]
    return "\n".join(lines)


def run(corpus: str, text_encoder: str, preset: str, batch: int, recipes: Sequence[str], blocks: int,
        steps_per_block: int, warmup: int, profile_steps: int, out_dir: Optional[Path],
        log: Callable[[str], None] = print) -> Dict[str, Any]:
    machine = machine_info()
    built = build_dataset(corpus, text_encoder)
    log(f"startup {built['startup']}")
    result: Dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine,
        "settings": {"corpus": corpus, "text_encoder": text_encoder, "preset": preset, "batch": batch,
                     "blocks": blocks, "steps_per_block": steps_per_block, "warmup": warmup,
                     "profile_steps": profile_steps},
        "startup": built["startup"], "recipes": {}}
    for name in recipes:
        res = measure_recipe(built["dataset"], name, RECIPES[name], preset, batch, blocks, steps_per_block, warmup,
                             profile_steps)
        log(f"{name}: legacy {res['engines']['legacy']['s_per_step_median']:.3f} s/step, fast "
            f"{res['engines']['fast']['s_per_step_median']:.3f} s/step, speed-up {res['speedup_median_paired']:.2f}x "
            f"(CPU time {res['speedup_cpu_median_paired']:.2f}x)")
        result["recipes"][name] = res
    machine["load_average_end"] = list(os.getloadavg())
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out_dir / "pretrain_speed.json", result, indent=1)
        atomic_write_text(out_dir / "pretrain_speed.md", to_markdown(result))
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="seed+procedural:4000:0+segments")
    ap.add_argument("--text-encoder", default="minilm")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    ap.add_argument("--blocks", type=int, default=12, help="alternating blocks per engine")
    ap.add_argument("--steps-per-block", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--profile-steps", type=int, default=3, help="torch.profiler steps per engine (0 = skip)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out-dir", default=str(RESULTS))
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: procedural:12:0+segments, tiny preset, hashing text, batch 8, 2 blocks")
    a = ap.parse_args(argv)
    if a.quick:
        a.corpus, a.text_encoder, a.preset, a.batch = "procedural:12:0+segments", "hashing", "tiny", 8
        a.blocks, a.steps_per_block, a.warmup, a.profile_steps = 2, 1, 1, 1
    torch.set_num_threads(a.threads)
    run(a.corpus, a.text_encoder, a.preset, a.batch, a.recipes, a.blocks, a.steps_per_block, a.warmup,
        a.profile_steps, Path(a.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
