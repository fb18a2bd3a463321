"""The training loop: accounting identities for every selector, resume after a kill, determinism."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from lossprio import selectors
from lossprio.accounting import PHASES
from lossprio.config import TrainConfig
from lossprio.records import RunRecord, atomic_write_json
from lossprio.train import run

TIMING = {"wall_s", "train_wall_s", "load"}

SETTINGS = {
    "uniform": {},
    "sb": {"beta": 1.0},
    "sbe": {"beta": 1.0},
    "stale_sb": {"beta": 1.0, "staleness": 2},
    "sb_rho": {"beta": 1.0},
    "kath18": {"keep": 16, "tau_switch": False},
    "loss": {"keep": 16},
    "grad_norm": {"keep": 16},
    "grad_norm_is": {"keep": 16},
    "irreducible": {"keep": 16},
    "rho": {"keep": 16},
    "svp": {"keep": 16},
    "rs2": {"fraction": 0.5},
    "infobatch": {},
}
# B = b; the others draw candidate batches of 64
EPOCH_TRAVERSAL = ("uniform", "sb", "sbe", "stale_sb", "sb_rho", "rs2", "infobatch")


def small_config(selector: str = "uniform", **changes) -> TrainConfig:
    settings = dict(
        dataset="digits",
        model="mlp",
        model_kwargs={"hidden": [32]},
        epochs=3,
        batch_size=16,
        lr=0.05,
        selector=selector,
        selector_kwargs=SETTINGS[selector],
        il_model="mlp",
        il_epochs=1,
        svp_proxy_epochs=1,
        corruption="label_flip",
        corruption_fraction=0.2,
        crop_padding=2,
        flip=True,
    )
    if selector not in EPOCH_TRAVERSAL:
        settings.update(candidate_batch=64)
    if selector not in ("uniform", "sb", "sbe", "stale_sb"):
        settings.update(split="half")
    settings.update(changes)
    return TrainConfig(**settings)


def test_every_registered_selector_has_a_loop_test():
    assert set(SETTINGS) == set(selectors.selector_names())


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_accounting_identities_hold_for_every_selector(name, tmp_path):
    record = run(small_config(name), tmp_path, progress=False)
    counters, steps = record.counters, record.steps
    assert record.status == "finished" and record.epochs_done == 3
    assert counters["backprops"] == sum(steps["batch"]) == counters["training_forwards"]
    assert sum(record.selection_counts) == counters["backprops"]
    assert counters["step"] == len(steps["batch"]) == len(steps["loss"]) == len(steps["corrupted_share"])
    n = {  # the examples an epoch traverses: SVP's core-set, RS2's round, InfoBatch's less what it pruned
        "svp": round(record.config["svp_fraction"] * len(record.selection_counts)),
        "rs2": round(0.5 * len(record.selection_counts)),
    }.get(name, len(record.selection_counts))
    pruned = int(record.selector_stats.get("pruned_examples", 0))
    assert counters["candidates"] == 3 * (n if name in EPOCH_TRAVERSAL else n // 64 * 64) - pruned
    assert (pruned > 0) is (name == "infobatch")
    assert all(0.0 <= share <= 1.0 for share in steps["corrupted_share"])
    assert len(record.corrupted) == round(0.2 * len(record.selection_counts))
    assert 0.0 <= record.best_test_error <= 1.0 and len(record.evals) == 3
    assert (
        set(record.phase_seconds) == set(PHASES)
        and record.epoch_ends == [record.epoch_ends[0] * k for k in (1, 2, 3)]
        or name != "uniform"
    )
    assert len(record.epoch_ends) == 3 and record.epoch_ends[-1] == counters["step"] and len(record.load_average) == 2
    assert record.commit and record.machine["torch"]


def test_selection_forward_counts_follow_what_the_selector_needs(tmp_path):
    n = None
    for name, expected_epochs_with_forward in (("uniform", 0), ("sb", 2), ("stale_sb", 1)):
        record = run(small_config(name), tmp_path, progress=False)
        n = len(record.selection_counts)
        assert record.counters["selection_forwards"] == expected_epochs_with_forward * n, name
    rho = run(small_config("rho"), tmp_path, progress=False)
    assert rho.counters["selection_forwards"] == 3 * (len(rho.selection_counts) // 64 * 64)
    assert rho.counters["backprops"] == 16 * rho.counters["step"]


def test_sb_backprops_about_half_after_warmup(tmp_path):
    record = run(small_config("sb", epochs=4), tmp_path, progress=False)
    n = len(record.selection_counts)
    after_warmup = (record.counters["backprops"] - n) / (3 * n)
    assert after_warmup == pytest.approx(0.5, abs=0.06)


def test_same_seed_same_metrics_and_other_seed_differs(tmp_path):
    a = run(small_config("sb"), tmp_path / "a", progress=False)
    b = run(small_config("sb"), tmp_path / "b", progress=False)
    c = run(small_config("sb", seed=1), tmp_path / "c", progress=False)
    assert strip_timing(a) == strip_timing(b)
    assert strip_timing(a)["steps"]["loss"] != strip_timing(c)["steps"]["loss"]


def test_finished_runs_are_skipped(tmp_path):
    first = run(small_config("uniform"), tmp_path, progress=False)
    again = run(small_config("uniform"), tmp_path, progress=False)
    assert again.started == first.started and again.finished == first.finished


def strip_timing(record: RunRecord) -> dict:
    """The record's measurements without wall-clock and resume bookkeeping."""
    return {
        "evals": [{k: v for k, v in e.items() if k not in TIMING} for e in record.evals],
        "steps": record.steps,
        "counters": {k: v for k, v in record.counters.items() if k not in TIMING | {"resumes"}},
        "selection_counts": record.selection_counts,
        "corrupted": record.corrupted,
    }


def test_a_killed_run_resumes_to_the_same_record(tmp_path):
    config = small_config("sb", epochs=40, batch_size=8, eval_every=50)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config.to_dict()))
    out = tmp_path / "killed"
    checkpoint, record_file = out / config.run_id / "checkpoint.pt", out / config.run_id / "record.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lossprio.train",
            str(config_file),
            "--out",
            str(out),
            "--no-progress",
            "--checkpoint-every",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[1],
    )
    deadline = time.time() + 120
    while not record_file.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    partial = json.loads(record_file.read_text())  # (its sidecar may be a write ahead: the checkpoint is what resumes)
    assert partial["status"] == "running" and 0 < partial["epochs_done"] < 40, "the kill came too late to test resuming"
    resumed = run(config, out, progress=False)
    uninterrupted = run(config, tmp_path / "whole", progress=False)
    assert resumed.counters["resumes"] == 1 and uninterrupted.counters["resumes"] == 0
    assert strip_timing(resumed) == strip_timing(uninterrupted)
    assert not checkpoint.exists()


def test_atomic_json_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_bad_config_values_are_named():
    with pytest.raises(
        ValueError, match=r"selector_kwargs\['keep'\]=64 exceeds candidate_batch=32: n_b must be <= n_B"
    ):
        TrainConfig(selector="rho", selector_kwargs={"keep": 64}, candidate_batch=32, split="half")
    with pytest.raises(ValueError, match=r"optimizer='adam' is not allowed; choose one of \['sgd', 'adamw'\]"):
        TrainConfig(optimizer="adam")
    with pytest.raises(ValueError, match=r"corruption_fraction=1.2 is outside the allowed range \[0, 1\]"):
        TrainConfig(corruption="gaussian", corruption_fraction=1.2)
    with pytest.raises(ValueError, match=r"selector_kwargs of selector 'loss': selectivity=0 is outside"):
        TrainConfig(selector="loss", selector_kwargs={"selectivity": 0})
    with pytest.raises(ValueError, match=r"unknown TrainConfig settings \['epoch'\]"):
        TrainConfig.from_dict({"epoch": 3})


def test_a_backprop_budget_stops_every_method_at_the_same_cost(tmp_path):
    n = None
    for name in ("uniform", "sb", "stale_sb"):
        record = run(
            small_config(name, epochs=20, budget=2.0, lr_unit="backprop_epochs", lr_milestones=(1.0,)),
            tmp_path,
            progress=False,
        )
        n = len(record.selection_counts)
        assert 2 * n <= record.counters["backprops"] < 2 * n + 16, name  # stops within one batch of the budget
        drop = next(i for i, lr in enumerate(record.steps["lr"]) if lr < 0.05)
        assert record.steps["backprops"][drop - 1] >= n > record.steps["backprops"][drop - 2], (
            name
        )  # lr ÷ 5 after n backprops
        assert record.status == "finished" and record.evals[-1]["step"] == record.counters["step"]
    assert record.counters["epoch"] > 2  # the selective methods traverse more epochs for the same budget


def test_probes_record_what_they_measure_and_leave_training_untouched(tmp_path):
    plain = run(small_config("sb", epochs=3), tmp_path / "plain", progress=False)
    probed = run(
        small_config("sb", epochs=3, probe_every=5, confidence_epochs=(2,), track_examples=40),
        tmp_path / "probed",
        progress=False,
    )
    assert (
        strip_timing(plain)["steps"] == strip_timing(probed)["steps"]
        and strip_timing(plain)["evals"] == strip_timing(probed)["evals"]
    )
    assert len(probed.probes) == probed.counters["step"] // 5
    for probe in probed.probes:
        assert all(
            -1 <= probe[f"cosine_{k}_{s}"] <= 1 and 0 <= probe[f"same_sign_{k}_{s}"] <= 1
            for k in ("top", "random")
            for s in ("half", "third")
        )
    snapshot = probed.confidences["2"]
    assert len(snapshot["confidence"]) == len(snapshot["correct"]) > 0 and all(
        0 <= c <= 1 for c in snapshot["confidence"]
    )
    assert len(probed.tracked) == 40
    rows = [row for rows in probed.tracked.values() for row in rows]
    assert all(row[3] == 1.0 and row[4] == 1 for row in rows if row[0] == 0)  # warm-up: everything chosen
    later = [row for row in rows if row[0] > 0]
    assert later and all(0 <= row[3] < 1 for row in later) and {row[4] for row in later} <= {0, 1}
    assert probed.phase_seconds["probe"] > 0 and plain.phase_seconds["probe"] == 0


def test_a_killed_probed_run_resumes_to_the_same_record(tmp_path):
    config = small_config("sb", epochs=4, probe_every=7, confidence_epochs=(1, 3), track_examples=20)
    whole = run(config, tmp_path / "whole", progress=False)
    from .test_reliability import killed_checkpoint

    killed_checkpoint(config, tmp_path / "killed", epochs_done=2)
    resumed = run(config, tmp_path / "killed", progress=False)
    assert resumed.counters["resumes"] == 1
    for field in ("probes", "confidences", "tracked", "epoch_ends"):
        assert getattr(resumed, field) == getattr(whole, field), field
    assert strip_timing(resumed) == strip_timing(whole)


# the reference codes' selection-forward modes (papers J/H: eval, paper M: train), by selector
SELECTION_MODES = {
    "uniform": True,
    "sb": True,
    "sbe": True,
    "stale_sb": True,
    "kath18": True,
    "loss": False,
    "grad_norm": False,
    "grad_norm_is": False,
    "irreducible": False,
    "rho": False,
    "svp": False,
    "sb_rho": True,
    "rs2": False,  # moot for both (no selection forward)
    "infobatch": False,
}  # this book's: SB's rule and traversal, so SB's mode


def test_the_selection_forward_runs_in_the_mode_of_the_selectors_reference_code(tmp_path):
    from tqdm.auto import tqdm

    from lossprio.assemble import assemble, resolve_device
    from lossprio.train import Trainer

    assert set(SELECTION_MODES) == set(selectors.selector_names())
    for name, eval_mode in SELECTION_MODES.items():
        assert small_config(name).selection_eval_mode is eval_mode, name
        assert small_config(name, selection_eval_mode=not eval_mode).selection_eval_mode is (not eval_mode), name
    for name, override in (("loss", None), ("sb", None), ("loss", True)):
        config = small_config(name, epochs=2, selection_eval_mode=override)
        device = resolve_device("cpu")
        setup = assemble(config, device, tmp_path / "cache", False)
        trainer = Trainer(config, setup, device, RunRecord(config.run_id, config.to_dict(), "c", {}))
        modes, forward = [], trainer.core.forward  # the model's mode in the selection forwards

        def spy(model, inputs, amp, modes=modes, forward=forward):
            hook = model.register_forward_pre_hook(lambda module, _: modes.append(module.training))
            try:
                return forward(model, inputs, amp)
            finally:
                hook.remove()

        trainer.core.forward = spy
        for _ in range(2):
            trainer.run_epoch(tqdm(disable=True))
        assert modes and set(modes) == {not config.selection_eval_mode}, (name, override)


def test_the_holdout_stays_clean_unless_asked_as_paper_ms_reference():
    from lossprio.assemble import load_data
    from lossprio.data import halves, load

    clean_holdout = halves(load("digits", "train"))[1]
    for corrupt_holdout in (False, True):
        _, holdout, _, corrupted = load_data(
            small_config("rho", corruption_fraction=0.5, corrupt_holdout=corrupt_holdout)
        )
        flipped = (holdout.labels != clean_holdout.labels).float().mean()
        assert corrupted.float().mean() > 0.45 and bool(flipped > 0.3) is corrupt_holdout
    assert TrainConfig().corrupt_holdout is False


def test_run_ids_ignore_only_the_settings_a_selector_never_reads():
    il_changes = {
        "il_epochs": {"il_epochs": 7},
        "corrupt_holdout": {"corrupt_holdout": True},
        "il_model": {"il_model": "small_cnn", "il_model_kwargs": {}},
        "il_model_kwargs": {"il_model_kwargs": {"hidden": [8]}},
        "il_holdout_fraction": {"il_holdout_fraction": 0.5},
    }
    svp_changes = {"svp_fraction": 0.3, "svp_proxy_epochs": 4}
    every_il_change = {"il_epochs": 7, "corrupt_holdout": True, "il_model_kwargs": {"hidden": [8]}}
    for name in ("uniform", "sb", "kath18", "loss"):
        assert small_config(name, **every_il_change, **svp_changes).run_id == small_config(name).run_id, name
        assert small_config(name, il_model="small_cnn", il_model_kwargs={}).run_id == small_config(name).run_id
    for name in ("rho", "irreducible"):
        for setting, changes in il_changes.items():
            assert small_config(name, **changes).run_id != small_config(name).run_id, (name, setting)
        assert small_config(name, svp_fraction=0.3).run_id == small_config(name).run_id
    for setting, value in svp_changes.items():
        assert small_config("svp", **{setting: value}).run_id != small_config("svp").run_id, setting
    proxy_model = small_config("svp", il_model="small_cnn", il_model_kwargs={})  # SVP's proxy is an il_model
    assert proxy_model.run_id != small_config("svp").run_id
    assert small_config("svp", il_epochs=7).run_id == small_config("svp").run_id


def test_relevant_classes_restrict_holdout_and_test_but_not_training():
    from lossprio.assemble import load_data

    train, holdout, test, _ = load_data(small_config("rho", relevant_classes=(0, 3)))
    assert set(holdout.labels.tolist()) == set(test.labels.tolist()) == {0, 3}
    assert set(train.labels.tolist()) == set(range(10))
    with pytest.raises(ValueError, match=r"relevant_classes\[1\]=12 is not a class of digits \(0..9\)"):
        small_config("rho", relevant_classes=(0, 12))


def test_score_probes_measure_every_selection_function_on_the_same_batches(tmp_path):
    from lossprio.probes import score_concentration

    # planted: the 2 corrupted points have the highest loss and the highest irreducible loss
    logits = torch.tensor([[4.0, 0.0]] * 8 + [[-4.0, 0.0]] * 2)
    targets = torch.zeros(10, dtype=torch.int64)
    irreducible = torch.tensor([0.5] * 7 + [0.01] + [6.0, 6.0])
    measures = score_concentration(logits, targets, irreducible, torch.arange(10) >= 8, top=0.2, pick=0.2)
    assert measures["noisy_batch"] == pytest.approx(0.2)
    assert measures["noisy_loss"] == measures["noisy_grad_norm"] == 1.0 and measures["noisy_irreducible"] == 0.0
    assert measures["top_loss"] > 0.9  # the two corrupted points hold nearly all of the loss
    record = run(small_config("rho", epochs=1, score_probe_every=2), tmp_path, progress=False)
    assert len(record.score_probes) == -(-record.counters["candidates"] // 64 // 2)
    for probe in record.score_probes:
        assert all(
            0.2 - 1e-6 <= probe[f"top_{f}"] <= 1 + 1e-6 for f in ("reducible", "irreducible", "loss", "grad_norm")
        )
        assert all(0 <= probe[f"noisy_{f}"] <= 1 for f in ("batch", "reducible", "irreducible", "loss", "grad_norm"))
    with pytest.raises(
        ValueError,
        match=r"score_probe_every=2 needs a selector that scores with irreducible losses "
        r"\(one of \['irreducible', 'rho', 'sb_rho'\]\)",
    ):
        small_config("loss", score_probe_every=2)


def one_step(tmp_path, one_forward: bool):
    """A grad-norm IS trainer on a BatchNorm model after one candidate batch, and copies of its
    model and selector from before it, with that batch."""
    import copy

    from lossprio.assemble import assemble, resolve_device
    from lossprio.train import Trainer

    kwargs = {"keep": 16, "one_forward": one_forward}
    config = small_config("grad_norm_is", model="fast_cnn", model_kwargs={"width": 4}, selector_kwargs=kwargs, epochs=1)
    device = resolve_device("cpu")
    setup = assemble(config, device, tmp_path / "cache", False)
    trainer = Trainer(config, setup, device, RunRecord(config.run_id, config.to_dict(), "c", {}))
    batch = next(iter(trainer.candidate_batches.epoch(0)))
    before = copy.deepcopy((setup.model, setup.optimizer, setup.selector))
    trainer.select(batch)
    return trainer, before, batch


def test_one_forward_gradient_norm_is_trains_as_paper_ms_reference_on_a_batchnorm_model(tmp_path):
    trainer, (model, optimizer, selector), batch = one_step(tmp_path, one_forward=True)
    # paper M's reference on the copies: one train-mode forward over the 64 candidates, the sampled rows' weighted loss
    model.train()
    logits = model(batch.inputs)
    selection = selector.decide(batch.indices, logits.detach().float(), batch.labels, {})
    losses = F.cross_entropy(logits[selection.chosen], batch.labels[selection.chosen], reduction="none")
    optimizer.zero_grad()
    (losses * selection.weights).mean().backward()
    optimizer.step()
    for (name, ours), theirs in zip(trainer.setup.model.state_dict().items(), model.state_dict().values()):
        assert torch.allclose(ours.float(), theirs.float(), atol=1e-6), name  # weights and BatchNorm running statistics
    counters = trainer.counters
    assert (counters.step, counters.backprops, counters.training_forwards, counters.selection_forwards) == (
        1,
        16,
        64,
        0,
    )


def test_two_forward_gradient_norm_is_queues_the_sampled_rows_for_their_own_forward(tmp_path):
    trainer, _, _ = one_step(tmp_path, one_forward=False)
    assert trainer.counters.step == 0 and trainer.counters.selection_forwards == 64 and trainer.core.queue.count == 16


def test_weight_decay_follows_the_optimizer_unless_given():
    assert small_config("uniform", optimizer="adamw").decay == 0.01  # AdamW's own default, and paper M's
    assert small_config("uniform", optimizer="sgd").decay == 5e-4  # papers J and H
    assert small_config("uniform", optimizer="adamw", weight_decay=0.0).decay == 0.0
    with pytest.raises(ValueError, match="weight_decay=-1"):
        small_config("uniform", weight_decay=-1)


def test_an_early_evaluation_grid_doubles_up_to_the_regular_one(tmp_path):
    config = small_config("uniform", epochs=2, eval_every=30, eval_first=4)
    assert [s for s in range(1, 100) if config.evaluates_at(s)] == [4, 8, 16, 30, 60, 90]
    record = run(config, tmp_path, progress=False)
    steps = [e["step"] for e in record.evals]
    assert steps[:5] == [4, 8, 16, 30, 60] and steps[-1] == record.counters["step"]
    regular = small_config("uniform", epochs=2, eval_every=30)
    assert regular.run_id != config.run_id and "eval_first" not in regular.run_id  # the regular grid keeps its old ids
    with pytest.raises(ValueError, match="eval_first=4 needs eval_every"):
        small_config("uniform", eval_first=4, eval_every=None)


def test_svp_as_paper_ms_reference_uses_the_holdout_il_model_as_its_proxy(tmp_path):
    from lossprio import irreducible
    from lossprio.assemble import assemble, load_data, resolve_device

    holdout_proxy = {"keep": 16, "proxy": "holdout"}
    config = small_config("svp", selector_kwargs=holdout_proxy, epochs=1)
    rho = run(small_config("rho", epochs=1), tmp_path, progress=False)  # trains the IL model this SVP reads
    svp = run(config, tmp_path, progress=False)
    assert svp.setup_cached and svp.setup_backprops == rho.setup_backprops
    # the core-set is the top entropies of that IL model on the training set
    setup = assemble(config, resolve_device("cpu"), tmp_path / "cache", False)
    train, holdout, _, _ = load_data(config)
    il = irreducible.il_config(config)
    [model] = irreducible.cached_models(
        (holdout,), il, setup.augment, resolve_device("cpu"), tmp_path / "cache", False, None
    )
    assert torch.equal(
        setup.selector.proxy_entropy, irreducible.score(model, train, setup.augment, resolve_device("cpu"), "entropy")
    )
    # its run id reads the IL settings, the training-set proxy's does not
    assert small_config("svp", selector_kwargs=holdout_proxy, il_epochs=5).run_id != config.run_id
    trained_proxy = small_config("svp", epochs=1)
    assert small_config("svp", epochs=1, il_epochs=5).run_id == trained_proxy.run_id


def test_svp_scores_augmented_inputs_where_the_run_augments(tmp_path):
    from lossprio.assemble import assemble, resolve_device

    def entropies(**kwargs) -> torch.Tensor:
        config = small_config("svp", selector_kwargs={"keep": 16, "proxy": "holdout", **kwargs}, epochs=1)
        return assemble(config, resolve_device("cpu"), tmp_path / "cache", False).selector.proxy_entropy

    clean, augmented = entropies(), entropies(augment_scores=True)
    assert clean.shape == augmented.shape and not torch.equal(clean, augmented)  # small_config crops and flips


def test_cosine_and_linear_schedules_fall_from_lr_to_zero_over_the_budget():
    from lossprio.accounting import Counters
    from lossprio.train import learning_rate

    for schedule in ("cosine", "linear"):
        config = small_config("uniform", lr=0.1, budget=2.0, epochs=3, lr_schedule=schedule)
        at = [learning_rate(config, Counters(backprops=b), 100) for b in (0, 50, 100, 150, 200, 250)]
        assert at[0] == pytest.approx(0.1) and at[2] == pytest.approx(0.05) and at[4] == at[5] == pytest.approx(0)
        assert all(a >= b for a, b in zip(at, at[1:]))  # never rises
    cosine = small_config("uniform", lr=0.1, budget=2.0, epochs=3, lr_schedule="cosine")
    assert learning_rate(cosine, Counters(backprops=50), 100) == pytest.approx(0.05 * (1 + 2**-0.5))


def test_without_a_budget_the_schedule_falls_over_the_epochs_even_the_pruned_ones(tmp_path):
    # InfoBatch's epochs traverse part of the training set; each still counts as a whole epoch
    config = small_config(
        "infobatch", lr=0.1, epochs=4, lr_schedule="linear", corruption=None, corruption_fraction=0.0, crop_padding=0
    )
    record = run(config, tmp_path / "run", progress=False)
    lrs, ends = record.steps["lr"], [0, *record.epoch_ends]
    assert record.selector_stats["pruned_examples"] > 0  # some epoch was short
    for epoch, start in enumerate(ends[:-1]):  # each epoch starts on time
        assert lrs[start] == pytest.approx(0.1 * (1 - epoch / 4))
    assert all(a >= b for a, b in zip(lrs, lrs[1:])) and 0 < lrs[-1] < 0.1 / 4
