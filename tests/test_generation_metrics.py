import numpy as np
import pytest

from kinemic_aug.errors import DataError
from kinemic_aug.eval import GenerationMetrics, diversity, fid, multimodality, summarize_replications


def test_fid_zero_for_same_distribution_and_grows_with_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 4))
    b = rng.normal(size=(4000, 4))
    assert fid(a, b) < 0.02
    # a pure mean shift of 3 along one axis adds 9 to the Fréchet distance
    assert abs(fid(a, b + np.array([3.0, 0, 0, 0])) - 9.0) < 0.3


def test_fid_of_gaussians_matches_closed_form_for_scaled_covariance():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(20000, 2))
    b = rng.normal(size=(20000, 2)) * 2.0
    # Tr(I + 4I - 2*sqrt(4I)) = 2 * (1 + 4 - 4) = 2
    assert abs(fid(a, b) - 2.0) < 0.15


def test_diversity_exact_for_small_sets_and_sampled_for_large():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    v, how = diversity(x, n_pairs=300)
    assert how.startswith("exact") and abs(v - (5 + 0 + 5) / 3) < 1e-12
    big = np.random.default_rng(0).normal(size=(500, 3))
    v2, how2 = diversity(big, n_pairs=300, seed=1)
    assert how2 == "300 random pairs"
    # expected distance between two standard normal 3-d points is about 2.26
    assert 1.9 < v2 < 2.6


def test_multimodality_is_within_class_and_undefined_for_singletons():
    x = np.array([[0.0], [1.0], [10.0], [12.0], [100.0]])
    y = [0, 0, 1, 1, 2]
    v, how = multimodality(x, y, n_pairs=10)
    assert v == pytest.approx((1.0 + 2.0) / 2) and "2 classes" in how
    v2, how2 = multimodality(x[:1], [0])
    assert np.isnan(v2) and "undefined" in how2


def test_bad_inputs_name_the_field():
    with pytest.raises(DataError, match="feats_a.*NaN"):
        fid(np.full((3, 2), np.nan), np.zeros((3, 2)))
    with pytest.raises(DataError, match="'labels'"):
        multimodality(np.zeros((3, 2)), [0, 1])


def test_summary_ci():
    runs = [GenerationMetrics(1.0, 2.0, 3.0, 0.5, 10), GenerationMetrics(3.0, 2.0, 3.0, 0.7, 10)]
    s = summarize_replications(runs)
    assert s["fid"]["mean"] == 2.0 and s["fid"]["ci95"] == pytest.approx(1.96 * np.sqrt(2) / np.sqrt(2))
    assert s["diversity"]["std"] == 0.0
