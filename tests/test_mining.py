import math

import torch

from kinemic_aug.mining import (ContrastiveHead, MemoryBank, MICConfig, MICEncoder, best_window_starts,
                                extract_windows, multi_positive_infonce)


def test_best_window_is_the_argmax_of_sliding_sums():
    attn = torch.zeros(3, 20)
    attn[0, 7:12] = 1.0            # planted at 7, window 5
    attn[1, :] = torch.linspace(0, 1, 20)  # rises to the end -> last valid window
    attn[2, 3] = 1.0
    starts = best_window_starts(attn, torch.tensor([20, 15, 4]), torch.tensor([5, 5, 8]))
    assert starts.tolist() == [7, 10, 0]  # row 2: window longer than source -> start 0


def test_extract_windows_shifts_and_pads_with_last_frame():
    x = torch.arange(2 * 10, dtype=torch.float32).reshape(2, 10, 1)
    w, eff = extract_windows(x, torch.tensor([3, 0]), torch.tensor([10, 4]), torch.tensor([4, 6]), out_len=6)
    assert eff.tolist() == [4, 4]
    assert w[0, :, 0].tolist() == [3, 4, 5, 6, 9 - 3, 9 - 3]  # 3..6 then held at 6
    assert w[1, :, 0].tolist() == [10, 11, 12, 13, 13, 13]


def test_infonce_matches_definition_and_ignores_anchors_without_positive():
    torch.manual_seed(0)
    a, c = torch.randn(3, 4), torch.randn(5, 4)
    ya, yc = torch.tensor([0, 1, 9]), torch.tensor([0, 0, 1, 2, 2])
    scale = torch.tensor(math.log(10.0))
    got = multi_positive_infonce(a, ya, c, yc, scale)
    an, cn = torch.nn.functional.normalize(a, dim=-1), torch.nn.functional.normalize(c, dim=-1)
    sims = 10.0 * an @ cn.t()
    want = []
    for i in range(2):  # anchor 2 (label 9) has no positive
        pos = (yc == ya[i])
        want.append(-torch.log(sims[i][pos].exp().sum() / sims[i].exp().sum()))
    assert torch.allclose(got, torch.stack(want).mean(), atol=1e-5)


def test_memory_bank_is_fifo_and_returns_previous_state():
    bank = MemoryBank(size=4)
    bank.push(torch.ones(3, 2), torch.tensor([0, 0, 0]))
    z, _ = bank.get()
    assert z.shape[0] == 3
    bank.push(torch.zeros(3, 2), torch.tensor([1, 1, 1]))
    z, y = bank.get()
    assert len(bank) == 4 and y.tolist() == [0, 1, 1, 1]


def test_logit_scale_starts_at_1_over_tau_and_is_capped():
    head = ContrastiveHead(tau=0.07)
    assert abs(head.logit_scale.exp().item() - 1 / 0.07) < 1e-3
    with torch.no_grad():
        head.logit_scale.fill_(10.0)
    head.clamp_()
    assert abs(head.logit_scale.exp().item() - 100.0) < 1e-3


def _toy_problem(gen, n_cls=3, d=8, win=6, src_len=24, per_cls=6):
    """Targets are class patterns of length ``win``; sources hide that pattern at a random offset in noise."""
    patterns = torch.randn(n_cls, win, d, generator=gen) * 1.5
    tgt, ty, src, sy, offs = [], [], [], [], []
    for c in range(n_cls):
        for _ in range(per_cls):
            tgt.append(patterns[c] + 0.1 * torch.randn(win, d, generator=gen))
            ty.append(c)
            s = torch.randn(src_len, d, generator=gen) * 0.7
            o = int(torch.randint(0, src_len - win + 1, (1,), generator=gen))
            s[o:o + win] = patterns[c] + 0.1 * torch.randn(win, d, generator=gen)
            src.append(s)
            sy.append(c)
            offs.append(o)
    return torch.stack(tgt), torch.tensor(ty), torch.stack(src), torch.tensor(sy), torch.tensor(offs)


def test_contrastive_training_lowers_loss_and_mines_the_planted_window():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    tgt, ty, src, sy, offs = _toy_problem(gen)
    enc = MICEncoder(MICConfig(in_dim=8, hidden=32, out_dim=16))
    head = ContrastiveHead(tau=0.07, bank_size=36)
    opt = torch.optim.Adam(list(enc.parameters()) + list(head.parameters()), lr=3e-3)
    win = tgt.shape[1]
    losses = []
    for step in range(150):
        zt, _ = enc(tgt)
        zs, _ = enc(src)
        loss = head(zt, ty, zs, sy)
        opt.zero_grad()
        loss.backward()
        opt.step()
        head.clamp_()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.5 * sum(losses[:10]) / 10
    with torch.no_grad():
        _, attn = enc(src)
    starts = best_window_starts(attn, torch.full((len(src),), src.shape[1]), torch.full((len(src),), win))
    hit = ((starts - offs).abs() <= 2).float().mean().item()
    assert hit >= 0.8, (starts.tolist(), offs.tolist())
