"""Motion representations: canonical frame, round trip, normalisation stats."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from kinemic_aug.errors import DataError
from kinemic_aug.generator import XYZRepresentation, get_representation, representation_from_state_dict
from kinemic_aug.data.procedural.swing_clips import swing_corpus


def _roty(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def test_xyz_faces_plus_z_and_is_invariant_to_heading_and_position():
    clip = swing_corpus(1, seed=3)[0]  # a walk
    rep = XYZRepresentation("smpl22")
    f = rep.encode(clip.joints)
    assert f.shape == (clip.num_frames, 66)
    c = rep.canonicalize(clip.joints)
    lay = rep.layout
    # body's left (L_hip) on +x, walks towards +z, root starts at x = z = 0
    assert c[0, lay.index("L_hip"), 0] > c[0, lay.index("R_hip"), 0]
    assert c[-1, 0, 2] > c[0, 0, 2] + 0.5
    assert np.allclose(c[0, 0, [0, 2]], 0, atol=1e-6)
    moved = clip.joints @ _roty(1.1).T + np.array([3.0, 0.0, -2.0])
    assert np.allclose(rep.encode(moved), f, atol=1e-4)
    assert np.allclose(rep.decode(f), c, atol=1e-5)


def test_fit_normalise_and_state_dict_round_trip(tmp_path):
    corpus = swing_corpus(6)
    rep = XYZRepresentation("smpl22").fit([c.joints for c in corpus])
    allf = np.concatenate([rep.encode(c.joints) for c in corpus])
    z = rep.normalize(allf)
    big = allf.std(0) > 0.05
    assert np.allclose(z.mean(0), 0, atol=1e-3)
    assert np.allclose(z.std(0)[big], 1, atol=1e-3)
    assert np.allclose(rep.denormalize(torch.from_numpy(z)).numpy(), allf, atol=1e-4)
    torch.save(rep.state_dict(), tmp_path / "r.pt")
    back = representation_from_state_dict(torch.load(tmp_path / "r.pt", weights_only=True))
    assert np.array_equal(back.mean, rep.mean) and back.layout.name == "smpl22"


def test_matched_to_centres_a_shifted_target_without_amplifying_and_inverts_exactly():
    corpus = swing_corpus(6)
    rep = XYZRepresentation("smpl22").fit([c.joints for c in corpus])
    # a "capture system" with hips 15 cm wider: far off in the corpus's normalised units
    target = []
    for c in swing_corpus(3, seed=11):
        j = c.joints.copy()
        j[:, 1, 0] += 0.15
        j[:, 2, 0] -= 0.15
        target.append(j)
    raw = np.concatenate([rep.normalize(rep.encode(j)) for j in target])
    assert np.abs(raw.mean(0)).max() > 2
    m = rep.matched_to(target)
    z = np.concatenate([m.normalize(m.encode(j)) for j in target])
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-4)
    assert z.std(0).max() <= 1 + 1e-4 and np.all(m.std >= rep.std)
    f = rep.encode(target[0])
    np.testing.assert_allclose(m.denormalize(m.normalize(f)), f, atol=1e-5)
    assert not np.array_equal(m.mean, rep.mean) and np.abs(rep.normalize(rep.encode(target[0]))).max() > 3  # a copy
    with pytest.raises(DataError, match="at least one clip"):
        rep.matched_to([])


def test_bad_input_names_sample_and_field():
    rep = XYZRepresentation("smpl22")
    with pytest.raises(DataError, match="sample 'clip7', field 'joints'"):
        rep.encode(np.zeros((5, 20, 3)), sample="clip7")
    with pytest.raises(DataError, match="unknown motion representation"):
        get_representation("quaternions")


def test_hml263_round_trip_positions():
    pytest.importorskip("kinemic_aug.data.hml_vec")
    clip = swing_corpus(2, seed=1)[1]
    rep = get_representation("hml263")
    f = rep.encode(clip.joints, sample=clip.name)
    assert f.shape == (clip.num_frames - 1, 263)
    j = rep.decode(f)
    # recovered positions preserve bone lengths of the input
    b_in = np.linalg.norm(clip.joints[0, 4] - clip.joints[0, 1])
    b_out = np.linalg.norm(j[0, 4] - j[0, 1])
    assert abs(b_in - b_out) < 1e-3
