"""On a GPU: adaptation and sampling run on CUDA, the same seed gives the same samples twice, and the caller's
CUDA random stream is left as it was. Skipped without a GPU (run it whenever one is available)."""
import numpy as np
import pytest
import torch

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.synthesis import SynthesisConfig

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

PERMISSIVE = SynthesisConfig(steps=4, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9,
                             oversample=1.0)


def _run(msr_pkl, tiny_generator, cache):
    aug = KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=2, labels="msr_action3d", layout="msr_action3d",
                           classes=[0, 14], synthetic_per_class=3, generator=tiny_generator["path"],
                           corpus=tiny_generator["corpus"], cache_dir=cache, device="cuda", progress=False,
                           adapt=AdaptConfig(steps=3, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2),
                           synthesis=PERMISSIVE)
    anns = aug.synthetic_annotations()
    assert next(aug.resources.generator.model.parameters()).is_cuda
    return aug, anns


def test_adaptation_and_sampling_on_cuda_are_seeded_and_leave_the_callers_stream(msr_pkl, tiny_generator, tmp_path):
    torch.cuda.manual_seed_all(11)
    expected = torch.rand(4, device="cuda")
    torch.cuda.manual_seed_all(11)
    _, first = _run(msr_pkl, tiny_generator, tmp_path / "a")
    assert torch.equal(torch.rand(4, device="cuda"), expected)  # adaptation did not reseed the caller's generator
    _, second = _run(msr_pkl, tiny_generator, tmp_path / "b")   # fresh cache: trained and sampled again
    assert len(first) == len(second) == 6
    for x, y in zip(first, second):
        np.testing.assert_allclose(x["keypoint"], y["keypoint"], atol=1e-5)
