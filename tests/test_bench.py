import json

from lossprio import bench, selectors


def test_selector_benchmark_writes_the_promised_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    bench.main(["--repeats", "5", "--json", str(out), "--device", "cpu"])
    result = json.loads(out.read_text())
    assert set(result["selectors"]) == set(selectors.selector_names())
    for row in result["selectors"].values():
        assert set(row) == {"bookkeeping_ms", "selection_forward_ms", "train_step_ms"}
        assert row["bookkeeping_ms"] > 0 and row["train_step_ms"] > 0
    assert result["selectors"]["uniform"]["selection_forward_ms"] == 0.0
    assert result["selectors"]["sb"]["selection_forward_ms"] > 0
    assert result["naive_sb_ms"] > 0 and result["device"] == "cpu" and result["batch"] == 128
    assert "naive per-example SB" in capsys.readouterr().out


def test_naive_sb_agrees_with_the_tensor_rule():
    import random
    from collections import deque

    import torch

    losses = torch.linspace(0.0, 1.0, 256)
    chosen = bench.naive_sb(losses, deque(maxlen=1024), 1.0, random.Random(0))
    # P(select) = share of the 256 losses strictly below: ≈ half chosen, more of the high ones
    assert 100 < len(chosen) < 156
    assert sum(1 for c in chosen if c >= 128) > 2 * sum(1 for c in chosen if c < 128)
