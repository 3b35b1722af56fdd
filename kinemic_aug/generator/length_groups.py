"""Split a length-sorted batch into groups of similar clip length for the packed denoiser's attention.

Why: in the packed forward (``MotionDenoiser(..., groups=...)``) the per-token layers see only
valid frames, but attention needs a rectangular ``[clips, L, L]`` layout, so each group of clips is
padded to its own longest. One group pads every clip to the batch's longest (attention and its
dropout then cost up to twice what the valid frames need with 1-10 s crops); one group per
clip pays a fixed cost per group (about a hundred small kernel calls forward and backward).
:func:`length_groups` picks the split of the sorted lengths that minimises a simple cost model,
exactly (dynamic programming).

The cost of one group of ``n`` clips padded to ``L`` frames (``L + 1`` tokens with the condition
token) is ``n·(L+1)·(1 + quad·(L+1)) + overhead`` in relative units: the linear term is the
per-token gather/scatter work, ``quad`` the per-key work of attention, ``overhead`` the fixed cost
of a group. :data:`CPU_COST` was chosen by paired timings of the ``small`` preset's packed
forward+backward on a 2-core CPU (one thread, batch 32): 3-5 groups per batch, 10-20 % faster
than one group, and flat between ``overhead`` 120 and 500. On a GPU a group costs launches rather
than arithmetic, so :data:`GPU_COST` all but always gives one group.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple


@dataclass(frozen=True)
class GroupCost:
    """Cost model of one attention group (see the module docstring), in relative units."""

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
