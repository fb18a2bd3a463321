"""Records stay lean: a rate that the config's schedule recomputes is not stored, and the
committed ``cpu`` records average at most 40 KB a run."""

import itertools
import random
from pathlib import Path

import pytest

from lossprio import packing
from lossprio.records import DERIVED_RATES, RunRecord, migrate, sidecar
from lossprio.train import run

from .test_train import small_config

ROOT = Path(__file__).resolve().parents[1]


def test_a_budget_schedules_rates_are_recomputed_not_stored(tmp_path):
    config = small_config("sb", epochs=30, budget=2.0, lr_schedule="cosine")
    trained = run(config, tmp_path, progress=False)
    path = tmp_path / config.run_id / "record.json"
    arrays = packing.from_npz(sidecar(path).read_bytes())
    assert DERIVED_RATES in arrays and not any(k.startswith("steps/lr@") and k != DERIVED_RATES for k in arrays)
    read = RunRecord.load(path)
    assert read.steps == trained.steps and list(read.steps) == list(trained.steps)  # the very floats, in order
    assert read.steps["lr"][0] == config.lr and read.steps["lr"][-1] < 0.01 * config.lr


def test_a_step_schedules_rates_are_stored(tmp_path):
    config = small_config("uniform", epochs=2, lr_milestones=(1,))
    run(config, tmp_path, progress=False)
    arrays = packing.from_npz(sidecar(tmp_path / config.run_id / "record.json").read_bytes())
    assert DERIVED_RATES not in arrays and any(k.startswith("steps/lr@") for k in arrays)


def test_migrate_repacks_a_record_that_stored_recomputable_rates(tmp_path, monkeypatch):
    config = small_config("uniform", epochs=30, budget=2.0, lr_schedule="linear")
    with monkeypatch.context() as patch:  # as records were written before the rates were recomputed
        patch.setattr(RunRecord, "recomputed_rates", lambda self: None)
        written = run(config, tmp_path, progress=False)
    path = tmp_path / config.run_id / "record.json"
    size = sidecar(path).stat().st_size
    assert migrate(tmp_path) == 1 and migrate(tmp_path) == 0
    assert sidecar(path).stat().st_size < size
    assert RunRecord.load(path).steps == written.steps


@pytest.mark.parametrize("profile", ["cpu"])
def test_committed_records_average_at_most_40_kb_a_run(profile):
    runs = [p for p in ROOT.glob(f"results/*/{profile}/*") if (p / "record.json").exists()]
    assert len(runs) > 1000
    total = sum(f.stat().st_size for p in runs for f in p.iterdir() if f.name.startswith("record."))
    assert total / len(runs) <= 40_000, f"{total / len(runs) / 1000:.1f} KB a run"


def test_recomputed_rates_are_the_trainers_floats_step_by_step():
    from lossprio.schedules import budget_rates, budget_share, decayed

    generator = random.Random(0)
    for schedule in ("cosine", "linear"):
        for _ in range(50):
            batches = [generator.randint(1, 64) for _ in range(generator.randint(1, 300))]
            after = list(itertools.accumulate(batches))
            size, budget, lr = generator.randint(10, 5000), generator.choice([0.5, 1.25, 3.0, 16.0]), 3e-3
            config = {"lr": lr, "lr_schedule": schedule, "budget": budget}
            each = [decayed(lr, schedule, budget_share(a - n, budget, size)) for a, n in zip(after, batches)]
            assert budget_rates(config, after, batches, size) == each  # equal floats, not close ones
