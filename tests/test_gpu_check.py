"""The GPU check runs end to end: on the CPU with every part shrunk, so the script a lent GPU
runs is correct by construction (the CUDA-only lines: autocast and channels_last, in
``test_paper_path``'s forced branches)."""

import json

from lossprio import gpu_check


def test_the_gpu_check_measures_every_part_and_writes_its_json(tmp_path):
    result = gpu_check.main(["--out", str(tmp_path), "--device", "cpu", "--small"])
    written = json.loads((tmp_path / "gpu_check.json").read_text())
    assert written["device"] == "cpu" and set(written) >= {"throughput", "selection", "sb_bound", "short_run"}
    for found in result["throughput"].values():
        assert found["train_examples_per_s"] > 0 and found["forward_examples_per_s"] > 0  # measured: no order asserted
    sb = result["sb_bound"]
    assert 0.3 < sb["share_trained"] < 0.7  # a count; the bound and its share are times (a busy machine moves them)
    assert sb["bound"] > 0 and sb["share_of_bound"] > 0
    assert all(found["sustained_tflops"] > 0 for found in result["throughput"].values())
    assert result["short_run"]["best_test_error"] < 0.9
    assert "SB β=1" in gpu_check.summary(result)
