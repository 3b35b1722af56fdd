"""benchmarks/generalist_progress: a pretraining checkpoint's progress record, read without training."""
import json

from benchmarks.generalist_progress import main


def test_progress_record_reads_step_corpus_and_losses_from_the_checkpoint(tiny_generator, tmp_path):
    rec = main([str(tiny_generator["path"]), "--stem", "p", "--out-dir", str(tmp_path), "--command", "cmd x"])
    assert rec["step"] == 20
    assert rec["corpus"]["name"] == tiny_generator["corpus"]
    assert rec["train"]["steps"] == 20 and rec["denoiser"]["width"] > 0
    assert rec["train_loss_last100_mean"] > 0
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["command"] == "cmd x" and saved["val_history"] == rec["val_history"]
    md = (tmp_path / "p.md").read_text()
    assert "step 20" in md and "cmd x" in md
