"""GIFs of generated samples: the generalist's zero-shot output (shown when there is no target data) and
real shots next to their synthetic samples (the full demo). Synthetic samples are always tagged SYNTHETIC."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from kinemic_aug.skeleton.render import render_gif

from .settings import ZERO_SHOT_PROMPTS


def render_zero_shot(out: Path, generator: Optional[Path], encoder: str, synthesis: Any, seed: int,
                     prompts: Sequence[str] = ZERO_SHOT_PROMPTS, seconds: float = 3.0) -> List[Path]:
    """Sample the generalist generator (no adaptation) for a few prompts and draw them, tagged SYNTHETIC.

    Shows what the shipped generator does before it has seen any target shot."""
    import torch

    from kinemic_aug.generator.checkpoint import load_generator, resolve_generator
    from kinemic_aug.synthesis import sample_sequences
    from kinemic_aug.text import get_text_encoder

    path = resolve_generator(generator)
    if not path.exists():
        print(f"Zero-shot preview: skipped (generator checkpoint not found: {path})")
        return []
    bundle = load_generator(path, use_ema=True, device="cpu")
    fps = float((bundle.config.get("train") or {}).get("fps") or 20.0)
    text = get_text_encoder(encoder).encode(list(prompts))
    n = max(2, int(round(seconds * fps)))
    t0 = time.perf_counter()
    with torch.no_grad():
        seqs = sample_sequences(bundle.model, bundle.representation, bundle.schedule, [n] * len(prompts), text,
                                None, synthesis, seed=seed)
    print(f"Zero-shot preview: {len(seqs)} SYNTHETIC samples of the generalist (step {bundle.step}, "
          f"{synthesis.steps} {synthesis.sampler.upper()} steps) in {time.perf_counter() - t0:.1f} s")
    gif = render_gif(seqs, "smpl22", out / "zero_shot_synthetic.gif", fps=fps, ncols=2,
                     titles=[f"zero-shot #{i}" for i in range(len(seqs))], labels=list(prompts),
                     synthetic=True)
    return [gif]


def render_preview(real: List[dict], synthetic: List[dict], classes: Sequence[int], names: Dict[int, str],
                   layout: str, fps: float, path: Path, n_classes: int = 3, n_syn: int = 2) -> Optional[Path]:
    """One row per class: a real shot, then synthetic samples (tagged SYNTHETIC)."""
    seqs, titles, labels, flags = [], [], [], []
    for c in list(classes)[:n_classes]:
        r = [a for a in real if int(a["label"]) == c][:1]
        s = [a for a in synthetic if int(a["label"]) == c][:n_syn]
        for i, a in enumerate(r + s):
            seqs.append(a["keypoint"])
            syn = bool(a.get("is_synthetic"))
            titles.append(f"synthetic #{i - len(r)}" if syn else f"real {a['frame_dir']}")
            labels.append(names.get(c, str(c)))
            flags.append(syn)
    if not seqs:
        return None
    return render_gif(seqs, layout, path, fps=fps, titles=titles, labels=labels, synthetic=flags, ncols=1 + n_syn)
