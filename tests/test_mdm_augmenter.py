"""The GPU users' path, run end to end on the CPU with stand-ins for the licensed files: a randomly initialised
MDM-shaped checkpoint with the official key names (converted by tools/convert_mdm.py's function), a small
HumanML3D-shaped folder as the corpus (``humanml3d:<root>``), and a random CLIP text tower in OpenAI format.
The augmenter pairs with unit CLIP vectors and conditions the denoiser on raw, 20-token features, as MDM was
trained."""
import json

import numpy as np
import pytest
import torch

from test_humanml3d import _motion
from test_mdm_convert import OfficialShapedMDM, _args, _stats, needs_transformers, tiny_clip  # noqa: F401

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.data.humanml3d import write_humanml3d_entry, write_split
from kinemic_aug.generator.conversion.mdm import convert_mdm_checkpoint
from kinemic_aug.synthesis import SynthesisConfig


@pytest.fixture
def mdm_generator(tmp_path):
    run = tmp_path / "save" / "humanml_enc_tiny_50steps"
    run.mkdir(parents=True)
    torch.save({"model": OfficialShapedMDM(seed=0).state_dict(), "model_avg": OfficialShapedMDM(seed=1).state_dict()},
               run / "model000000100.pt")
    (run / "args.json").write_text(json.dumps(_args(), indent=4))
    hml = tmp_path / "HumanML3D"
    _stats(hml)
    for i, caps in enumerate([["a person walks forward.", "someone walks."], ["a person waves a hand."],
                              ["a person kicks with the left leg."], ["a person sits down."],
                              ["a person bends forward and picks something up."], ["a person jumps up."]]):
        write_humanml3d_entry(hml, f"{i:06d}", _motion(60 + 10 * i, i), caps)
    write_split(hml, "train", [f"{i:06d}" for i in range(6)])
    out = tmp_path / "mdm_tiny.pt"
    convert_mdm_checkpoint(run / "model000000100.pt", out, humanml3d=hml)
    return out, hml


@needs_transformers
def test_an_mdm_generator_augments_msr_shots_with_raw_clip_conditioning(msr_pkl, mdm_generator, tiny_clip, tmp_path,
                                                                         monkeypatch):
    from kinemic_aug.text.clip import mdm_clip_encoder

    gen, hml = mdm_generator
    weights, bpe, _ = tiny_clip
    monkeypatch.setenv("KINEMIC_CLIP_DIR", str(weights))
    monkeypatch.setenv("KINEMIC_CLIP_BPE", str(bpe))
    aug = KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=1, labels="msr_action3d", layout="msr_action3d",
                           classes=[0, 14], synthetic_per_class=2, generator=gen, corpus=f"humanml3d:{hml}",
                           encoder="clip", cache_dir=tmp_path / "cache", progress=False,
                           adapt=AdaptConfig(steps=2, batch_size=2, mic_hidden=16, top_k=3, negatives_per_step=1),
                           synthesis=SynthesisConfig(steps=3, batch_size=4, static_ratio=0.0, explode_ratio=1e9,
                                                     bone_cv_max=1e9, oversample=1.0))
    syn = aug.synthetic_annotations()
    assert sorted(int(s["label"]) for s in syn) == [0, 0, 14, 14]
    assert all(s["is_synthetic"] and s["keypoint"].shape[2:] == (20, 3) for s in syn)
    # conditioning: raw CLIP features, cut to 20 tokens, exactly what MDM's embed_text was trained on
    cond = aug.resources.condition_encoder
    assert cond is not aug.resources.encoder and cond.identifier.endswith(":raw")
    ref = mdm_clip_encoder(weights, bpe_path=bpe).encode(aug.labels.captions(0))
    np.testing.assert_allclose(aug.class_text(0), ref, atol=1e-5)
    assert np.abs(np.linalg.norm(ref, axis=1) - 1.0).max() > 1e-2  # not unit length
    # pairing: unit vectors of the 77-token encoder
    pair = aug.resources.encoder.encode(aug.labels.captions(0))
    np.testing.assert_allclose(np.linalg.norm(pair, axis=1), 1.0, atol=1e-5)
    # the raw features are keyed apart from the pairing ones, and served raw from the cache on a second run
    assert "condition_encoder" in aug.keys.shared
    again = KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=1, labels="msr_action3d", layout="msr_action3d",
                             classes=[0, 14], synthetic_per_class=2, generator=gen, corpus=f"humanml3d:{hml}",
                             encoder="clip", cache_dir=tmp_path / "cache", progress=False, adapt=aug.adapt_cfg,
                             synthesis=aug.synth_cfg)
    np.testing.assert_allclose(again.class_text(0), ref, atol=1e-5)
    assert again.resources.condition_encoder.hits > 0
