"""RealShareSampler: a fixed share of real samples in every stretch of the stream, no repeats within a pass."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.errors import DataError
from kinemic_aug.integrations.sampler import RealShareSampler

REPO = Path(__file__).resolve().parents[1]


class _Flags:
    """The sampler's whole view of a dataset: its length and each sample's ``is_synthetic`` flag."""

    def __init__(self, flags):
        self.flags = list(flags)

    def __len__(self):
        return len(self.flags)

    def get_data_info(self, i):
        return {} if self.flags[i] is None else {"is_synthetic": self.flags[i]}


def _take(sampler, n):
    return list(itertools.islice(iter(sampler), n))


@pytest.mark.parametrize("fraction", [0.5, 0.25, 1 / 3, 0.75])
def test_every_window_holds_the_share_and_each_pass_is_a_permutation(fraction):
    flags = [False] * 5 + [True] * 40  # 5 real shots, 40 synthetic samples (real first, as the wrapper lists them)
    ds = _Flags(flags)
    stream = _take(RealShareSampler(ds, real_fraction=fraction, seed=3), 2000)
    is_real = np.array([not flags[i] for i in stream])
    for width in (4, 16, 33):
        counts = np.convolve(is_real, np.ones(width, dtype=int), mode="valid")
        assert counts.min() >= np.floor(width * fraction) and counts.max() <= np.ceil(width * fraction)
    real = [i for i in stream if not flags[i]]
    syn = [i for i in stream if flags[i]]
    for stream_of, size in ((real, 5), (syn, 40)):
        passes = [stream_of[k:k + size] for k in range(0, len(stream_of) - size + 1, size)]
        assert len(passes) >= 3 and all(sorted(p) == sorted(set(p)) and len(p) == size for p in passes)
    assert set(real) == set(range(5)) and set(syn) == set(range(5, 45))


def test_the_stream_is_seeded_and_all_real_at_fraction_one():
    ds = _Flags([False] * 4 + [True] * 12)
    a, b = _take(RealShareSampler(ds, 0.5, seed=1), 200), _take(RealShareSampler(ds, 0.5, seed=1), 200)
    assert a == b and a != _take(RealShareSampler(ds, 0.5, seed=2), 200)
    assert set(_take(RealShareSampler(ds, 1.0, seed=0), 100)) == set(range(4))
    assert len(RealShareSampler(ds, 0.5, seed=0)) == 16
    assert set(_take(RealShareSampler(_Flags([False, False]), 1.0, seed=0), 10)) == {0, 1}  # no synthetic needed


def test_real_only_after_keeps_the_share_then_serves_whole_passes_of_the_real_shots():
    flags = [False] * 5 + [True] * 40
    ds = _Flags(flags)
    shared = _take(RealShareSampler(ds, 0.5, seed=4), 300)
    stream = _take(RealShareSampler(ds, 0.5, seed=4, real_only_after=300), 600)
    assert stream[:300] == shared  # up to the switch, the same stream as without it
    tail = stream[300:]
    assert not any(flags[i] for i in tail)
    # the real stream carries on where it was, so every shot keeps turning up equally often
    real = [i for i in stream if not flags[i]]
    counts = np.bincount(real, minlength=5)
    assert counts.max() - counts.min() <= 1
    assert not any(flags[i] for i in _take(RealShareSampler(ds, 0.5, seed=4, real_only_after=0), 50))
    for bad in (-1, 2.5, True, "10", "abc", float("nan")):
        with pytest.raises(DataError, match="real_only_after"):
            RealShareSampler(ds, 0.5, seed=0, real_only_after=bad)


@pytest.mark.parametrize("flags, fraction, match", [
    ([False, True], 0.0, "real_fraction"), ([False, True], 1.5, "real_fraction"),
    ([True, True], 0.5, "no real sample"), ([False, False], 0.5, "has none"),
    ([False, None, True], 0.5, "sample 1, field 'is_synthetic'")])
def test_bad_settings_and_unflagged_datasets_are_refused(flags, fraction, match):
    with pytest.raises(DataError, match=match):
        RealShareSampler(_Flags(flags), real_fraction=fraction, seed=0)
    with pytest.raises(DataError, match="shuffle"):
        RealShareSampler(_Flags([False, True]), real_fraction=0.5, shuffle=False)
    with pytest.raises(DataError, match="get_data_info"):
        RealShareSampler(list(range(4)), real_fraction=0.5, seed=0)


def test_the_runner_trains_the_wrapper_with_a_fixed_real_share(tiny_wrapper_parts, tmp_path):
    from mmengine.runner import Runner

    import har.mm  # noqa: F401
    from har.training import load_config
    import kinemic_aug.integrations.mmengine  # noqa: F401  (registers the dataset and the sampler)

    inner, aug = tiny_wrapper_parts
    inner["pipeline"] = [dict(type="PreNormalize3D"), dict(type="GenSkeFeat", feats=["j"]),
                         dict(type="UniformSample", clip_len=16, num_clips=1), dict(type="PoseDecode"),
                         dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")]
    cfg = load_config(REPO / "configs/stgcn/stgcn_msr_xsub_5shot.py", work_dir=str(tmp_path / "work"), seed=0)
    cfg.train_dataloader = dict(batch_size=4, num_workers=0,
                                sampler=dict(type="RealShareSampler", real_fraction=0.5),
                                dataset=dict(type="KineMICAugmentedDataset", dataset=inner, augmenter=aug))
    cfg.model.backbone.update(base_channels=8, num_stages=3, inflate_stages=[2], down_stages=[2, 3])
    cfg.model.cls_head.update(in_channels=16)
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=4, val_interval=100)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.param_scheduler = None
    cfg.optim_wrapper = dict(optimizer=dict(type="SGD", lr=0.05, momentum=0.9))
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=-1)
    runner = Runner.from_cfg(cfg)
    loader = runner.train_dataloader
    assert type(loader.sampler).__name__ == "RealShareSampler"
    ds = loader.dataset
    batches = list(itertools.islice(iter(loader), 6))
    for b in batches:  # 3 real shots and 6 synthetic samples: every batch of 4 is 2 real + 2 synthetic
        assert sorted(bool(s.is_synthetic) if hasattr(s, "is_synthetic") else s.metainfo["is_synthetic"]
                      for s in b["data_samples"]) == [False, False, True, True]
    runner.train()
    assert runner.iter == 4 and ds.metainfo["num_synthetic"] == 6


def test_each_rank_gets_the_share_from_its_own_stream():
    flags = [False] * 4 + [True] * 12
    ranks = []
    for rank in (0, 1):
        s = RealShareSampler(_Flags(flags), real_fraction=0.5, seed=7)
        s.rank, s.world_size = rank, 2  # as get_dist_info() reports under a two-process launch
        ranks.append(_take(s, 400))
    assert ranks[0] != ranks[1]
    for stream in ranks:
        assert sum(not flags[i] for i in stream) == 200
