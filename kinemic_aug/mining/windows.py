"""Window mining: where, inside a long source clip, is the short target action?

For each pair (source clip of length L_S, target shot of length L_T) the window of length L_T with
the largest attention mass (MIC attention over the source frames) is chosen by a sliding sum.
If L_T ≥ L_S the whole source is the window. The window is shifted to frame 0 and padded with its
last frame (not zeros, so the padded tail is a held pose rather than a jump to the origin).
"""
from __future__ import annotations

from typing import Tuple

import torch


def best_window_starts(attn: torch.Tensor, src_lengths: torch.Tensor, win_lengths: torch.Tensor) -> torch.Tensor:
    """Start frame per row maximising ``Σ attn[s : s + win]`` within the valid source prefix.

    Args:
        attn: ``[B, T]`` non-negative weights (padding frames are ignored via ``src_lengths``).
        src_lengths: ``[B]`` valid source lengths.
        win_lengths: ``[B]`` window (target) lengths.
    """
    b, t = attn.shape
    a = attn.detach().float()
    valid = torch.arange(t, device=a.device)[None, :] < src_lengths[:, None]
    a = a * valid
    csum = torch.cat([a.new_zeros(b, 1), a.cumsum(1)], dim=1)  # [B, T+1]
    starts = torch.zeros(b, dtype=torch.long, device=a.device)
    for i in range(b):
        ls, lw = int(src_lengths[i]), int(win_lengths[i])
        if lw >= ls:
            continue
        n = ls - lw + 1
        sums = csum[i, lw:lw + n] - csum[i, :n]
        starts[i] = int(torch.argmax(sums))
    return starts


def extract_windows(x: torch.Tensor, starts: torch.Tensor, src_lengths: torch.Tensor,
                    win_lengths: torch.Tensor, out_len: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Cut ``x[i, start:start+win]`` for each row, shift to frame 0, pad with the last window frame.

    Works for motion ``[B, T, D]`` and for noise of the same shape (cut both with the same starts).
    Returns ``(windows [B, out_len, D], effective lengths [B] = min(L_S, L_T))``.
    """
    b = x.shape[0]
    out = x.new_zeros((b, out_len) + tuple(x.shape[2:]))
    eff = torch.minimum(src_lengths, win_lengths).clamp(max=out_len)
    for i in range(b):
        s, n = int(starts[i]), int(eff[i])
        out[i, :n] = x[i, s:s + n]
        if n < out_len:
            out[i, n:] = x[i, s + n - 1]
    return out, eff
