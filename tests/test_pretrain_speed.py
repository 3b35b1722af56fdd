"""benchmarks/pretrain_speed.py end to end on a small procedural (synthetic) corpus."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `benchmarks` also under a bare `pytest`
from benchmarks import pretrain_speed  # noqa: E402


def test_benchmark_interleaves_both_engines_and_writes_results(tmp_path):
    threads = torch.get_num_threads()
    try:
        assert pretrain_speed.main(["--quick", "--out-dir", str(tmp_path)]) == 0
    finally:
        torch.set_num_threads(threads)
    res = json.loads((tmp_path / "pretrain_speed.json").read_text())
    assert res["machine"]["torch"] == torch.__version__ and res["machine"]["torch_threads"] == 1
    assert res["startup"]["clips"] > 12 and res["startup"]["captions"] > 0
    assert set(res["recipes"]) == set(pretrain_speed.RECIPES)
    for rec in res["recipes"].values():
        legacy, fast = rec["engines"]["legacy"], rec["engines"]["fast"]
        assert len(legacy["s_per_step_blocks"]) == len(fast["s_per_step_blocks"]) == rec["blocks"] == 2
        assert rec["speedup_median_paired"] > 0 and len(rec["speedup_blocks"]) == 2
        assert rec["speedup_cpu_median_paired"] > 0 and 0 < fast["cpu_s_per_step_median"]
        assert set(fast["stage_s_per_step"]) == {"data", "forward", "backward", "optimizer", "ema"}
        assert 0 < rec["padding"]["valid_share_of_padded_batch"] <= rec["padding"]["valid_share_in_attention_groups"] <= 1
        assert rec["packed_vs_padded_forward"]["max_abs_diff"] < 1e-4
        shares = rec["op_share"]["legacy"]
        assert abs(sum(v for k, v in shares.items() if k != "profiled_s_per_step") - 1.0) < 0.05
        assert rec["op_share"]["fast"]["dropout RNG"] < shares["dropout RNG"]  # bernoulli_ is gone
    md = (tmp_path / "pretrain_speed.md").read_text()
    assert "| cli-default |" in md and "| shipped |" in md and "Startup" in md
