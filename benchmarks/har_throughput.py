"""Training throughput (samples/s) of har's ST-GCN against mmaction2 1.2.0's STGCN on CPU.

mmaction2 lives in a separate location, never in the project venv: install it into a target folder without
its dependencies, e.g.::

    .venv/bin/pip install --no-deps --target /tmp/har_mmaction_site mmaction2==1.2.0 mmcv-lite==2.1.0 \\
        importlib_metadata==8.5.0 zipp einops
    python -m benchmarks.har_throughput --mmaction-site /tmp/har_mmaction_site

Each measurement runs in a fresh process (one torch thread) on identical random inputs: backbone +
GCN head + cross-entropy + SGD step, the part of training that differs between the implementations
(data loading is the same numpy pipeline in both). Two sizes: the CPU preset used by the few-shot
benchmark and the published ST-GCN. The implementations alternate (har, mmaction, har, ...) so that
load from other processes on a shared machine hits both alike; the median over repeats is reported.
mmaction2's import is patched in :func:`_build`: ``localizers.drn`` is stubbed, and so is the ``multimodal``
package, which needs timm; neither is used here.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETTINGS = {
    "small": dict(base_channels=32, num_stages=6, inflate_stages=[3, 5], down_stages=[3, 5], T=32, M=1, batch=16,
                  steps=6),
    "published": dict(base_channels=64, num_stages=10, inflate_stages=[5, 8], down_stages=[5, 8], T=100, M=2,
                      batch=16, steps=2),
}
V, C, NUM_CLASSES = 25, 3, 60


def _build(impl: str, s: dict):
    kw = dict(graph_cfg=dict(layout="nturgb+d", mode="stgcn_spatial"), in_channels=C,
              base_channels=s["base_channels"], num_stages=s["num_stages"], inflate_stages=s["inflate_stages"],
              down_stages=s["down_stages"])
    out_ch = s["base_channels"] * 4
    if impl == "har":
        from har.models import GCNHead, STGCN

        return STGCN(num_person=s["M"], **kw), GCNHead(NUM_CLASSES, out_ch)
    import types

    def stub(name: str, **attrs) -> None:
        m = types.ModuleType(name)
        m.__path__ = []
        m.__dict__.update(attrs)
        sys.modules[name] = m

    stub("mmaction.models.localizers.drn")
    stub("mmaction.models.localizers.drn.drn", DRN=object)
    stub("mmaction.models.multimodal")
    from mmaction.models.backbones import STGCN as MMSTGCN
    from mmaction.models.heads import GCNHead as MMHead

    head = MMHead(num_classes=NUM_CLASSES, in_channels=out_ch)
    return MMSTGCN(**kw), head


def measure(impl: str, setting: str) -> Dict[str, float]:
    """Run in a child process: samples/s of forward + backward + SGD step."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    s = SETTINGS[setting]
    backbone, head = _build(impl, s)
    params = list(backbone.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    x = torch.randn(s["batch"], s["M"], s["T"], V, C)
    y = torch.randint(0, NUM_CLASSES, (s["batch"],))

    def step() -> None:
        logits = head(backbone(x))
        loss = torch.nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(s["steps"]):
        step()
    dt = time.perf_counter() - t0
    return {"samples_per_s": s["batch"] * s["steps"] / dt, "params": sum(p.numel() for p in params)}


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mmaction-site", default=os.environ.get("HAR_MMACTION_SITE", "/tmp/har_mmaction_site"))
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "har_throughput.json"))
    p.add_argument("--child", nargs=2, metavar=("IMPL", "SETTING"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    from benchmarks.common import write_markdown
    from kinemic_aug.utils.io import atomic_write_json

    impls = ["har"]
    if Path(args.mmaction_site, "mmaction").is_dir():
        impls.append("mmaction2")
    else:
        print(f"[har_throughput] mmaction2 not found under {args.mmaction_site}; measuring har only", flush=True)
    runs: Dict[str, Dict[str, List[dict]]] = {s: {i: [] for i in impls} for s in args.settings}
    for setting in args.settings:
        for r in range(args.repeats):
            for impl in impls:
                env = dict(os.environ, OMP_NUM_THREADS="1")
                if impl == "mmaction2":
                    env["PYTHONPATH"] = os.pathsep.join([args.mmaction_site, str(REPO)])
                proc = subprocess.run([sys.executable, "-m", "benchmarks.har_throughput", "--child",
                                       "har" if impl == "har" else "mmaction", setting],
                                      capture_output=True, text=True, cwd=str(REPO), env=env)
                if proc.returncode != 0:
                    raise SystemExit(f"{impl}/{setting} failed:\n{proc.stderr[-3000:]}")
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                runs[setting][impl].append(res)
                print(f"[har_throughput] {setting} {impl} #{r}: {res['samples_per_s']:.2f} samples/s", flush=True)
    summary = []
    for setting, per in runs.items():
        s = SETTINGS[setting]
        for impl, rs in per.items():
            summary.append({"setting": setting, "impl": impl, "params": rs[0]["params"],
                            "samples_per_s_median": statistics.median(r["samples_per_s"] for r in rs),
                            "samples_per_s_all": [round(r["samples_per_s"], 3) for r in rs],
                            "batch": s["batch"], "T": s["T"], "M": s["M"], "V": V,
                            "base_channels": s["base_channels"], "num_stages": s["num_stages"]})
    out = Path(args.out)
    atomic_write_json(out, {"device": "CPU, 1 torch thread", "runs": summary,
                            "note": "forward+backward+SGD step of backbone+GCNHead on random input; "
                                    "shared 2-core machine, implementations interleaved"})
    lines = ["# ST-GCN training throughput: har vs mmaction2 1.2.0 (CPU, 1 thread)", "",
             "| setting | impl | params | samples/s (median) | all repeats |", "|---|---|---|---|---|"]
    for r in summary:
        lines.append(f"| {r['setting']} (B{r['batch']}, M{r['M']}, T{r['T']}, V{r['V']}) | {r['impl']} | "
                     f"{r['params']:,} | {r['samples_per_s_median']:.2f} | {r['samples_per_s_all']} |")
    lines += ["", "Forward + backward + SGD step of backbone + GCN head + cross-entropy on random input, one torch "
              "thread, each run in a fresh process, implementations interleaved. Measured on a shared 2-core CPU "
              "while other jobs ran: compare the two implementations with each other, not with other machines.", ""]
    write_markdown(out.with_suffix(".md"), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
