"""``RealShareSampler``: every stretch of the training stream holds a fixed share of real samples.

Why: next to many synthetic samples the few real shots are a small part of each epoch, and the
usual fix, listing every shot several times (``real_repeat``), ties the share to the list's length.
(A cost of the longer list itself, seen with one to three training seeds in the probes of 2026-11-21 and
2026-11-22, did not hold up for the shots listed twice over ten training seeds:
``benchmarks/results/kinemic_probe.md``.) This sampler fixes the share without duplicating the list: it
interleaves two endless streams, each a fresh seeded permutation of its own indices per pass, so

* among any ``n`` consecutive indices, ``round(n * real_fraction)`` are real, within one;
* a pass over the real shots never repeats a shot before it has served all the others, and the same
  holds for the synthetic samples.

Use it with an iteration-based loop (it never ends, as MMEngine's ``InfiniteSampler``)::

    train_dataloader = dict(sampler=dict(type='RealShareSampler', real_fraction=0.5),
                            dataset=dict(type='KineMICAugmentedDataset', ...))

``real_only_after=n`` turns the stream into a curriculum: after ``n`` indices (per rank; ``max_iters *
batch_size`` is the whole run) it serves real samples only, so the synthetic samples shape the features
early and the real shots alone steer the last, low-learning-rate steps.

Which index is real is read from the dataset's ``get_data_info(i)['is_synthetic']``. Under distributed
training every rank draws its own seeded stream with the same share (the ranks' streams are not disjoint).
"""
from __future__ import annotations

import itertools
import numbers
from fractions import Fraction
from typing import Iterator, List, Optional, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from ..errors import DataError


def _split_indices(dataset: Sized) -> tuple:
    if not hasattr(dataset, "get_data_info"):
        raise DataError(f"{type(dataset).__name__} has no get_data_info: RealShareSampler needs to know which "
                        "samples are synthetic", field="dataset")
    real: List[int] = []
    synthetic: List[int] = []
    for i in range(len(dataset)):
        flag = dataset.get_data_info(i).get("is_synthetic")
        if flag is None:
            raise DataError("no 'is_synthetic' field; wrap the dataset in KineMICAugmentedDataset",
                            sample=i, field="is_synthetic")
        # corpus clips served by the "retrieved" variant are real motion, but not the target's own shots
        added = flag or dataset.get_data_info(i).get("retrieved", False)
        (synthetic if added else real).append(i)
    return real, synthetic


@DATA_SAMPLERS.register_module()
class RealShareSampler(Sampler):
    """See the module docstring.

    Args:
        dataset: a dataset whose infos carry ``is_synthetic`` (``KineMICAugmentedDataset``).
        real_fraction: share of real samples in the stream, in ``(0, 1]``. ``1`` serves real samples only.
        seed: permutation seed; ``None`` takes a seed shared by all ranks (as MMEngine's samplers do).
        shuffle: accepted so the sampler drops into a config written for ``InfiniteSampler(shuffle=True)``;
            the stream is always shuffled, so ``False`` is refused.
        real_only_after: after this many indices, real samples only (``None``: the share holds forever).
    """

    def __init__(self, dataset: Sized, real_fraction: float = 0.5, seed: Optional[int] = None, shuffle: bool = True,
                 real_only_after: Optional[int] = None):
        if real_only_after is not None and (isinstance(real_only_after, bool)
                                            or not isinstance(real_only_after, numbers.Integral) or real_only_after < 0):
            raise DataError(f"real_only_after must be a count of indices >= 0, got {real_only_after!r}",
                            field="real_only_after")
        self.real_only_after = None if real_only_after is None else int(real_only_after)
        if not shuffle:
            raise DataError("RealShareSampler always shuffles; shuffle=False is not supported", field="shuffle")
        if not 0.0 < float(real_fraction) <= 1.0:
            raise DataError(f"real_fraction must be in (0, 1], got {real_fraction}", field="real_fraction")
        self.dataset = dataset
        self.real_fraction = float(real_fraction)
        self.real, self.synthetic = _split_indices(dataset)
        if not self.real:
            raise DataError("the dataset has no real sample", field="is_synthetic")
        if not self.synthetic and self.real_fraction < 1.0:
            raise DataError(f"real_fraction={self.real_fraction} asks for synthetic samples, but the dataset has "
                            "none", field="is_synthetic")
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else int(seed)

    def _endless(self, indices: List[int], stream: int) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.rank, stream])
        arr = np.asarray(indices, dtype=np.int64)
        while True:
            yield from arr[rng.permutation(len(arr))].tolist()

    def _interleaved(self) -> Iterator[int]:
        real, syn = self._endless(self.real, 0), self._endless(self.synthetic, 1) if self.synthetic else None
        f = Fraction(self.real_fraction).limit_denominator(10_000)  # exact counts, no float drift
        p, q = f.numerator, f.denominator
        stop = self.real_only_after
        for n in itertools.count():
            if stop is not None and n >= stop:
                yield from real  # the curriculum's last part: the real stream alone, pass after pass
            # index n is real when the running real count floor((n + 1) p / q) steps up (Bresenham)
            yield next(real) if ((n + 1) * p) // q > (n * p) // q else next(syn)

    def __iter__(self) -> Iterator[int]:
        # every rank draws its own stream (seeded with its rank), so each one gets the share; taking every
        # world_size-th index of one stream would not (at 0.5 and two ranks, one rank would get no real sample)
        yield from self._interleaved()

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Accepted for the loop's sake; the stream is endless, so an epoch changes nothing."""
