"""Split a padded batch into groups of similar clip length, so the denoiser computes little padding.

Why: a training batch is padded to its longest crop, and with crops of 1-10 s about half of the
frame tokens a step computes are padding (measured on the shipped generalist's corpus: 43 % valid
with random 1-10 s crops, 59 % with caption crops of at most 6 s). Padding keys are masked out of
attention, so running the batch as a few sub-batches of similar length, each padded only to its
own longest clip, gives every valid frame the same prediction (to float rounding) at a fraction of
the cost. More groups mean less padding but more kernel calls; :func:`length_groups` picks the
split that minimises a simple cost model, exactly (dynamic programming over the sorted lengths).

The cost of one group of ``n`` clips padded to ``L`` frames (``L + 1`` tokens with the condition
token) is ``n·(L+1)·(1 + quad·(L+1)) + overhead``, in units of one token through the per-token
layers: ``quad`` is the relative per-key cost of attention and ``overhead`` the fixed cost of one
more forward/backward pass, in tokens. :data:`CPU_COST` was fitted to fwd+bwd timings of the
``small`` preset on a 2-core CPU (one thread); a GPU, where a pass costs launches rather than
arithmetic, uses :data:`GPU_COST` (one or two groups).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple


@dataclass(frozen=True)
class GroupCost:
    """Cost model of one sub-batch (see the module docstring); units: one token of per-token work."""

    overhead: float
    quad: float

    def __call__(self, n: int, frames: int) -> float:
        tokens = frames + 1
        return n * tokens * (1.0 + self.quad * tokens) + self.overhead


CPU_COST = GroupCost(overhead=120.0, quad=1.5e-3)
GPU_COST = GroupCost(overhead=1e5, quad=0.0)


def length_groups(sorted_lengths: Sequence[int], cost: GroupCost = CPU_COST) -> List[Tuple[int, int]]:
    """Contiguous ``[(start, end), ...]`` ranges over ``sorted_lengths`` (ascending) minimising the
    summed :class:`GroupCost`, each group padded to its last (longest) length. Deterministic: the
    same lengths always give the same groups (ties go to fewer, earlier-closing groups)."""
    lengths = [int(v) for v in sorted_lengths]
    n = len(lengths)
    if any(b < a for a, b in zip(lengths, lengths[1:])):
        raise ValueError("length_groups needs lengths sorted ascending")
    best = [0.0] + [float("inf")] * n  # best[j]: cheapest split of the first j clips
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        frames = lengths[j - 1]
        for i in range(j):
            c = best[i] + cost(j - i, frames)
            if c < best[j]:
                best[j], back[j] = c, i
    out, j = [], n
    while j > 0:
        out.append((back[j], j))
        j = back[j]
    return out[::-1]
