import numpy as np

from benchmarks.tree_equivalence import compare


def test_compare_reports_identical_and_different_samples():
    a = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    old = {"zeroshot": [(0, a), (1, a + 1)], "kinemic": [(0, a)]}
    same = compare(old, {"zeroshot": [(0, a.copy()), (1, a + 1)], "kinemic": [(0, a.copy())]})
    assert same["zeroshot"] == {"samples_old": 2, "samples_new": 2, "identical": True, "max_abs_diff": 0.0}
    b = a.copy()
    b[0, 1, 1, 2] += 0.5
    diff = compare(old, {"zeroshot": [(0, a), (1, b + 1)], "kinemic": [(1, a)]})
    assert diff["zeroshot"]["identical"] is False and diff["zeroshot"]["max_abs_diff"] == 0.5
    assert diff["kinemic"]["identical"] is False and diff["kinemic"]["max_abs_diff"] is None  # label differs
    assert compare(old, {"zeroshot": [(0, a)]})["kinemic"]["samples_new"] == 0
