"""Cache keys of a fixed small input, pinned to the values the code computed before the augmenter
was split into stages: entries written by earlier versions must stay hits (no retraining, no resampling).

The shots are a few rounded random arrays, the generator is the shipped ``small`` one (a file in the
repository) and the corpus is the seed corpus, so nothing here depends on data outside the repository.
If a pinned value changes, every cache built so far is silently missed: when the change was meant to be
behaviour-neutral (a move, a rename), fix the code, not the pin; when it changes how features or keys are
computed on purpose, update the pin and say so.
"""
import numpy as np
import pytest

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.adapt.input_digests import feature_code_sha
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.synthesis import SynthesisConfig

PINNED = {
    "feature_code": "76e4a83728cb7aaa5b27656a0a8eef527d76b18abe6fda394648f1a04a8f549e",
    "adapter_0": "b0bc3ed6882abe822bfdcd9a1a5e128ea1f117bc2b1d3bed618959c0bfd494b7",
    "synthetic_0": "53af3b246c6905d30650aeceb3422b1ca120f6c700412029fafbcd5e0b08ff88",
    "adapter_14": "0c18dca8d5f4805b6ebf8e9248387003edae282e3dffe86561da2a5f632ac604",
    "synthetic_14": "fa5ce38c1fde824668145c309d3dce487640c9557366a8b953cfed4191997d51",
    "adapter_joint": "ac5e730fc02d30a3687e0fdbc21668dc12c3124161a3d0b964f08436e430f49a",
    "synthetic_joint_14": "6e1b7c781de2c07344a95279619f5c3261655469d4bd06e2cfb904f41327bae1",
}


def _data():
    rng = np.random.default_rng(1234)
    anns = []
    for c in (0, 14):
        for k in range(2):
            kp = np.round(rng.normal(size=(1, 24, 20, 3)), 3).astype(np.float32)
            anns.append({"frame_dir": f"s{c:02d}_{k}", "label": c, "keypoint": kp, "total_frames": 24})
    return {"split": {"train": [a["frame_dir"] for a in anns]}, "annotations": anns}


def _aug(cache, mode="per_class"):
    return KineMICAugmenter(_data(), split="train", labels="msr_action3d", layout="msr_action3d", fps=15,
                            synthetic_per_class=3, generator="small", corpus="seed", cache_dir=cache,
                            adapt=AdaptConfig(steps=3, top_k=4, mode=mode), synthesis=SynthesisConfig(steps=4),
                            device="cpu", progress=False, seed=0)


def test_feature_code_digest_is_unchanged():
    assert feature_code_sha() == PINNED["feature_code"]


def test_an_edit_after_the_recorded_split_changes_the_digest(tmp_path, monkeypatch):
    """The split's equivalence names one exact state of the code: a one-byte edit to any feature-code
    file, including the modules the split created, gives a new digest."""
    from kinemic_aug.adapt import input_digests as d

    for rel in d.FEATURE_CODE:
        pkg = tmp_path / rel.replace("/", "_")
        for other in d.FEATURE_CODE:
            (pkg / other).parent.mkdir(parents=True, exist_ok=True)
            (pkg / other).write_bytes((d._PACKAGE / other).read_bytes())
        (pkg / rel).write_bytes((d._PACKAGE / rel).read_bytes() + b"# edited\n")
        monkeypatch.setattr(d, "_PACKAGE", pkg)
        d.feature_code_sha.cache_clear()
        d._raw_feature_code_sha.cache_clear()
        try:
            assert d.feature_code_sha() != PINNED["feature_code"], rel
        finally:
            monkeypatch.undo()
            d.feature_code_sha.cache_clear()
            d._raw_feature_code_sha.cache_clear()
    assert d.feature_code_sha() == PINNED["feature_code"]


@pytest.mark.filterwarnings("ignore:corpus 'seed' is not the one")
def test_per_class_adapter_and_synthetic_keys_are_unchanged(tmp_path):
    aug = _aug(tmp_path / "cache")
    joints = aug.shot_joints
    for c in (0, 14):
        _, akey, _ = aug.adapters.job(c)
        assert akey == PINNED[f"adapter_{c}"]
        assert aug.synthetic_sets.key(c, akey)[0] == PINNED[f"synthetic_{c}"]


@pytest.mark.filterwarnings("ignore:corpus 'seed' is not the one")
def test_joint_adapter_and_synthetic_keys_are_unchanged(tmp_path):
    aug = _aug(tmp_path / "cache", mode="joint")
    aug.adapters.load_or_train = lambda trainer, key, parts: True  # the key only: no training
    _, key, _, _ = aug.adapters.joint(aug.classes)
    assert key == PINNED["adapter_joint"]
    assert aug.synthetic_sets.key(14, key)[0] == PINNED["synthetic_joint_14"]
