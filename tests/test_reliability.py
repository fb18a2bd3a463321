"""Runs that cannot lie: foreign, damaged and planted files, bad settings, divergence, locks, kills."""

import json
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from lossprio import irreducible, locks, selectors
from lossprio.batches import Augment
from lossprio.compare import speedup as speedup_over_seeds
from lossprio.config import TrainConfig
from lossprio.data import channel_stats, halves, load
from lossprio.files import TENSOR_MAGIC, FileProblem, read_tensor_header, save_tensors
from lossprio.layout import run_folder
from lossprio.records import RECORD_FORMAT, RunRecord, load_records, migrate
from lossprio.sweep import run_all
from lossprio.train import DivergenceWarning, run

from .test_train import small_config, strip_timing

ROOT = Path(__file__).parents[1]


def rejected(folder: Path) -> list[str]:
    return sorted(p.name.split(".rejected-")[0] for p in folder.glob("*.rejected-*"))


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*.tmp")]


# ----------------------------------------------------------------------------- foreign files


def test_a_record_of_another_config_is_moved_aside_and_the_run_recomputed(tmp_path):
    config, other = small_config("uniform"), small_config("uniform", lr=0.01)
    truth = run(config, tmp_path / "clean", progress=False)
    foreign = run(other, tmp_path / "foreign", progress=False)
    planted = run_folder(tmp_path / "out", config.run_id)
    planted.mkdir(parents=True)
    for name in ("record.json", "record.npz"):
        (planted / name).write_bytes((run_folder(tmp_path / "foreign", other.run_id) / name).read_bytes())
    with pytest.warns(RuntimeWarning, match=r"a record of another config .*'lr': \(0.01, 0.05\)"):
        record = run(config, tmp_path / "out", progress=False)
    assert record.config_hash == config.config_hash and strip_timing(record) == strip_timing(truth) != strip_timing(
        foreign
    )
    assert rejected(planted) == ["record.json", "record.npz"]


def test_an_edited_record_fails_its_hash_and_is_not_used(tmp_path):
    config = small_config("uniform")
    run(config, tmp_path, progress=False)
    path = run_folder(tmp_path, config.run_id) / "record.json"
    values = json.loads(path.read_text())
    values["config"]["lr"] = 0.5  # the config no longer matches its hash
    values["evals"][-1]["test_error"] = 0.0
    path.write_text(json.dumps(values))
    with pytest.raises(FileProblem, match=r"record.json: its config_hash does not match its config"):
        RunRecord.load(path)
    with pytest.warns(RuntimeWarning, match="config_hash does not match"):
        record = run(config, tmp_path, progress=False)
    assert record.evals[-1]["test_error"] > 0


def test_a_checkpoint_of_another_config_is_not_resumed(tmp_path):
    config, other = small_config("sb", epochs=3), small_config("sb", epochs=3, lr=0.01)
    truth = run(config, tmp_path / "clean", progress=False)
    source = tmp_path / "foreign"
    run(other, source, progress=False)
    # a checkpoint of the other config, as a killed run of it would leave
    from lossprio.assemble import assemble, resolve_device
    from lossprio.train import Trainer

    device = resolve_device("cpu")
    trainer = Trainer(
        other,
        assemble(other, device, tmp_path / "cache", False),
        device,
        RunRecord(other.run_id, other.to_dict(), "c", {}),
    )
    target = run_folder(tmp_path / "out", config.run_id)
    trainer.checkpoint(target / "checkpoint.pt", source / "its-record.json")
    with pytest.warns(RuntimeWarning, match="a checkpoint of another run"):
        record = run(config, tmp_path / "out", progress=False)
    assert record.counters["resumes"] == 0 and strip_timing(record) == strip_timing(truth)
    assert rejected(target) == ["checkpoint.pt"]


def test_names_cannot_leave_the_results_folder(tmp_path):
    with pytest.raises(ValueError, match=r"dataset='../../x' is not allowed"):
        TrainConfig(dataset="../../x")
    with pytest.raises(ValueError, match=r"model='../m' is not allowed"):
        TrainConfig(model="../m")
    for bad in ("../x", "a/b", "..", "/etc"):
        with pytest.raises(ValueError, match="not a plain folder name"):
            run_folder(tmp_path, bad)
    assert "/" not in small_config().run_id and run_folder(tmp_path, small_config().run_id).parent == tmp_path.resolve()


# ----------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbled", "a list"])
def test_a_damaged_record_is_named_and_recomputed(tmp_path, damage):
    config = small_config("uniform")
    truth = run(config, tmp_path / "clean", progress=False)
    run(config, tmp_path / "out", progress=False)
    path = run_folder(tmp_path / "out", config.run_id) / "record.json"
    text = path.read_bytes()
    path.write_bytes(
        {"empty": b"", "truncated": text[: len(text) // 2], "garbled": b"\x00\xff{]", "a list": b"[1, 2]"}[damage]
    )
    with pytest.raises(
        FileProblem, match=rf"{config.run_id}/record.json: .*delete it|{config.run_id}/record.json: not valid JSON"
    ):
        load_records(tmp_path / "out")
    with pytest.warns(RuntimeWarning, match="record.json"):
        record = run(config, tmp_path / "out", progress=False)
    assert strip_timing(record) == strip_timing(truth)
    assert load_records(tmp_path / "out")[0].config_hash == config.config_hash


def test_an_old_format_record_says_how_to_migrate():
    values = {"run_id": "r", "config": {}, "commit": "c", "machine": {}}
    with pytest.raises(
        FileProblem,
        match=rf"record format 1, this lossprio reads format {RECORD_FORMAT}; "
        r"migrate it with `python -m lossprio.records migrate",
    ):
        RunRecord.from_dict(values, "x/record.json")


def killed_checkpoint(config: TrainConfig, out: Path, epochs_done: int = 1) -> Path:
    """A checkpoint as a run killed after ``epochs_done`` epochs leaves it."""
    from tqdm.auto import tqdm

    from lossprio.assemble import assemble, resolve_device
    from lossprio.train import Trainer

    device = resolve_device(config.device)
    setup = assemble(config, device, out / "cache", False)
    record = RunRecord(config.run_id, config.to_dict(), "c", {}, corrupted=setup.corrupted.nonzero().flatten().tolist())
    trainer = Trainer(config, setup, device, record)
    for _ in range(epochs_done):
        trainer.run_epoch(tqdm(disable=True))
    path = run_folder(out, config.run_id) / "checkpoint.pt"
    trainer.checkpoint(path, path.with_name("record.json"))
    return path


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "empty"])
def test_a_damaged_checkpoint_is_detected_and_the_run_starts_over(tmp_path, damage):
    config = small_config("sb", epochs=3)
    truth = run(config, tmp_path / "clean", progress=False)
    path = killed_checkpoint(config, tmp_path / "out")
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[len(data) - 500] ^= 0x40  # inside the tensors' data, past every header
    path.write_bytes(
        {"truncated": bytes(data[: len(data) * 2 // 3]), "flipped byte": bytes(data), "empty": b""}[damage]
    )
    with pytest.warns(RuntimeWarning, match="checkpoint.pt: .*the run starts over"):
        record = run(config, tmp_path / "out", progress=False)
    assert record.counters["resumes"] == 0 and strip_timing(record) == strip_timing(truth)


def test_a_planted_checkpoint_cannot_run_code(tmp_path):
    config = small_config("uniform")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = run_folder(tmp_path / "out", config.run_id) / "checkpoint.pt"
    save_tensors({"model": Payload()}, path, format=RECORD_FORMAT, config_hash=config.config_hash, run_id=config.run_id)
    header, _ = read_tensor_header(path)  # a well-formed file with a valid checksum: only weights_only stops it
    assert header["config_hash"] == config.config_hash
    with pytest.warns(RuntimeWarning, match="cannot be loaded safely"):
        record = run(config, tmp_path / "out", progress=False)
    assert not marker.exists() and record.status == "finished"


@pytest.fixture(scope="module")
def digits_halves():
    train = load("digits", "train")
    mean, std = channel_stats(train)
    target, holdout = halves(train)
    return target, holdout, Augment(mean=mean, std=std)


@pytest.mark.parametrize("damage", ["garbage", "nan", "wrong length", "float64"])
def test_a_damaged_irreducible_loss_cache_is_retrained(tmp_path, digits_halves, damage):
    target, holdout, augment = digits_halves
    config = irreducible.ILConfig(model="mlp", epochs=2)
    args = (target, holdout, config, augment, torch.device("cpu"), tmp_path)
    truth = irreducible.irreducible_losses(*args, progress=False)
    [path] = tmp_path.glob("il-*.pt")
    bad = {"nan": truth.clone().fill_(float("nan")), "wrong length": truth[:1], "float64": truth.double()}.get(damage)
    if bad is None:
        path.write_bytes(TENSOR_MAGIC + b"{nonsense")
    else:
        save_tensors({"losses": bad, "source_index": target.source_index}, path)
    with pytest.warns(RuntimeWarning, match=r"il-.*\.pt: .*the IL model is retrained"):
        again = irreducible.irreducible_losses(*args, progress=False)
    assert torch.equal(again, truth)


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "setting",
    [
        "train_fraction",
        "test_fraction",
        "corruption_fraction",
        "il_holdout_fraction",
        "svp_fraction",
        "lr",
        "momentum",
        "weight_decay",
        "lr_gamma",
    ],
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_every_numeric_setting_rejects_nan_and_infinity_by_name(setting, value):
    with pytest.raises(ValueError, match=rf"{setting}={value!r} must be a finite number"):
        TrainConfig(**{setting: value}, **({"corruption": "gaussian"} if setting == "corruption_fraction" else {}))


def test_nested_and_selector_settings_reject_nan():
    nan = float("nan")
    with pytest.raises(ValueError, match=r"lr_milestones\[1\]=nan must be a finite number"):
        TrainConfig(lr_milestones=(1, nan))
    with pytest.raises(ValueError, match=r"selector_kwargs\['beta'\]=nan must be a finite number"):
        TrainConfig(selector="sb", selector_kwargs={"beta": nan})
    with pytest.raises(ValueError, match=r"model_kwargs\['hidden'\]\[0\]=inf"):
        TrainConfig(model="mlp", model_kwargs={"hidden": [float("inf")]})
    with pytest.raises(ValueError, match=r"beta=nan must be a finite number"):
        selectors.build("sb", beta=nan)
    with pytest.raises(ValueError, match=r"tau_momentum=nan must be a finite number"):
        selectors.build("kath18", keep=4, tau_momentum=nan)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"test_fraction": 0.0}, r"test_fraction=0.0 is outside the allowed range \(0, 1\]"),
        ({"il_holdout_fraction": 0.0}, r"il_holdout_fraction=0.0 is outside the allowed range \(0, 1\]"),
        ({"train_fraction": 1e-6}, r"train_fraction=1e-06 leaves no examples of the \d+ in digits/train: raise it"),
        ({"test_fraction": 1e-6}, r"test_fraction=1e-06 leaves no examples"),
        (
            {"selector": "rho", "candidate_batch": 64, "split": "half", "train_fraction": 0.05},
            r"candidate_batch=64 exceeds the \d+ training examples",
        ),
    ],
)
def test_settings_that_leave_nothing_to_train_or_test_are_refused_before_training(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        run(small_config(changes.pop("selector", "uniform"), **changes), tmp_path, progress=False)
    assert not list(tmp_path.rglob("record.json"))


# ----------------------------------------------------------------------------- divergence


@pytest.mark.parametrize("name", ["uniform", "sb", "kath18", "rho"])
def test_a_non_finite_loss_stops_the_run_as_diverged(tmp_path, name):
    config = small_config(name, lr=1e3, epochs=4)
    with pytest.warns(
        DivergenceWarning,
        match=rf"run {config.run_id} diverged: the training loss became (nan|inf) at step \d+ .*lr=1000",
    ):
        record = run(config, tmp_path, progress=False)
    assert record.status == "diverged" and record.diverged["lr"] == 1000.0
    step = record.diverged["step"]
    assert not math.isfinite(record.steps["loss"][step - 1]) and all(
        math.isfinite(v) for v in record.steps["loss"][: step - 1]
    )
    assert not (run_folder(tmp_path, config.run_id) / "checkpoint.pt").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = run(config, tmp_path, progress=False)  # final: read, not retrained
    assert (
        again.finished == record.finished
        and RunRecord.load(run_folder(tmp_path, config.run_id) / "record.json").status == "diverged"
    )


def test_diverged_seeds_are_counted_not_averaged():
    from .test_report import FAST, STANDARD, planted

    baseline, method = [planted(STANDARD), planted(STANDARD)], [planted(FAST), planted(FAST)]
    method[1].status = "diverged"  # its curve reaches the target, but a diverged run does not count
    speedup = speedup_over_seeds(baseline, method)
    assert (speedup.reached, speedup.seeds, speedup.diverged) == (1, 2, 1) and str(speedup).endswith(
        "(1/2 seeds) (1 diverged)"
    )


# ----------------------------------------------------------------------------- select() inputs


@pytest.mark.parametrize("name", ["sb", "loss", "rho", "kath18", "uniform"])
def test_select_names_the_bad_argument(name):
    build = lambda: selectors.build(
        name, **({"warmup_epochs": 0} if name == "sb" else {"keep": 3} if name != "uniform" else {})
    )
    indices, logits, targets = torch.arange(8), torch.randn(8, 10), torch.zeros(8, dtype=torch.int64)
    extras = {"irreducible_loss": torch.rand(8)}
    cases = [
        ((indices, logits[:6], targets, extras), r"logits must be a float tensor of shape \(8, classes\)"),
        (
            (indices, logits, targets, {"irreducible_loss": torch.rand(1)}),
            r"extras\['irreducible_loss'\] must be a 1-D tensor of the 8",
        ),
        (
            (indices, logits, targets, {"irreducible_loss": torch.rand(8, 1)}),
            r"extras\['irreducible_loss'\] must be a 1-D",
        ),
        ((indices, logits, torch.full((8,), -100), extras), r"targets must lie in \[0, 10\), got values from -100"),
        ((indices, logits, targets.float(), extras), "targets must be a 1-D int64 .* dtype torch.float32"),
        ((indices, torch.full((8, 10), float("nan")), targets, extras), "logits holds NaN or infinite values"),
        ((indices.view(2, 4), logits, targets, extras), r"indices must be a 1-D int64 .* shape \(2, 4\)"),
    ]
    for arguments, message in cases:
        with pytest.raises(ValueError, match=message):
            build().select(*arguments)
    assert build().select(indices, logits, targets, extras).chosen.dim() == 1


# ----------------------------------------------------------------------------- command lines


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["lossprio.sweep", "hu2021", "--out", "x", "--worker", "5/2"],
            r"argument --worker: '5/2': need N >= 1 and 0 <= K < N",
        ),
        (["lossprio.sweep", "hu2021", "--out", "x", "--worker=-1/40"], r"argument --worker: '-1/40'"),
        (["lossprio.sweep", "hu2021", "--out", "x", "--worker", "0/0"], r"argument --worker: '0/0'"),
        (["lossprio.sweep", "hu2021", "--out", "x", "--seeds", "9"], r"--seeds \[9\]: profile 'smoke' has seeds \[0\]"),
        (["lossprio.bench", "--batch", "0"], r"argument --batch: '0' is below 1"),
        (["lossprio.reproduce", "--profile", "nonsense"], r"argument --profile: invalid choice: 'nonsense'"),
    ],
)
def test_command_lines_refuse_bad_values_by_name(tmp_path, argv, message):
    result = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and __import__("re").search(message, result.stderr), result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_an_unknown_notebook_parameter_fails_the_notebook(tmp_path):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match=r"unknown notebook parameter\(s\) \['profil'\]"):
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "hu2021.ipynb"),
            str(tmp_path / "out.ipynb"),
            parameters={"profil": "cpu", "results_dir": str(tmp_path)},
            cwd=str(ROOT / "notebooks"),
            progress_bar=False,
            kernel_name="python3",
        )
    assert not list(tmp_path.glob("*/record.json"))


# ----------------------------------------------------------------------------- locks and kills

HOLD_LOCK = (
    "import sys, time; from lossprio.locks import exclusive\n"
    "with exclusive(sys.argv[1]):\n    print('held', flush=True); time.sleep(float(sys.argv[2]))"
)


def hold(path: Path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_run_held_by_another_process_is_not_trained_twice(tmp_path):
    configs = {k: small_config("uniform", seed=k) for k in range(3)}
    folder = run_folder(tmp_path, configs[0].run_id)
    holder = hold(folder / "lock", 4.0)
    try:
        assert locks.holder(folder / "lock")["pid"] == holder.pid
        with pytest.raises(locks.Busy, match=rf"held by host .*, pid {holder.pid}"):
            run(configs[0], tmp_path, progress=False, wait=False)
        records = run_all(configs, tmp_path, progress=False)  # runs 1 and 2 first, then waits for 0
    finally:
        holder.wait()
    assert list(records) == [0, 1, 2] and all(r.status == "finished" for r in records.values())
    assert records[0].finished >= max(records[1].finished, records[2].finished)
    assert locks.holder(folder / "lock") is None


def test_a_failing_run_does_not_stop_the_sweep(tmp_path):
    from lossprio.sweep import SweepError

    configs = {"bad": small_config("uniform", train_fraction=1e-6), "good": small_config("uniform")}
    with pytest.raises(
        SweepError,
        match=r"1 run\(s\) failed \(the others finished\):\n  "
        r".*digits-label_flip0.2-mlp-uniform-s0-\w+: ValueError: train_fraction",
    ):
        run_all(configs, tmp_path, progress=False)
    assert [r.config_hash for r in load_records(tmp_path)] == [configs["good"].config_hash]


SLOW_WRITES = textwrap.dedent("""
    import os, sys, time, json
    fsync = os.fsync
    os.fsync = lambda fd: (time.sleep(0.02), fsync(fd))  # widen the write window, so kills land inside writes
    from lossprio.config import TrainConfig
    from lossprio.train import run
    run(TrainConfig.from_dict(json.loads(open(sys.argv[1]).read())), sys.argv[2], progress=False, checkpoint_every_s=0)
""")


def test_kills_at_random_moments_during_writes_resume_to_the_same_record(tmp_path):
    config = small_config("sb", epochs=12, batch_size=8, eval_every=10)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config.to_dict()))
    out = tmp_path / "killed"
    folder = out / config.run_id
    rng = random.Random(7)
    kills = 0
    for _ in range(6):
        process = subprocess.Popen(
            [sys.executable, "-c", SLOW_WRITES, str(config_file), str(out)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60  # wait for the first write, then kill at a random moment
        while not (folder / "record.json").exists() and process.poll() is None and time.time() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.6))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 3, "the runs ended before they could be killed: make the test run longer"
    resumed = run(config, out, progress=False)
    whole = run(config, tmp_path / "whole", progress=False)
    assert strip_timing(resumed) == strip_timing(whole)
    assert not temporaries(out) and not rejected(folder) and not (folder / "checkpoint.pt").exists()


class Killed(BaseException):
    """Stands for a SIGKILL landing between two of a save's writes."""


@pytest.mark.parametrize("killed_after", ["the new sidecar", "the new record.json"])
def test_a_save_killed_between_its_files_leaves_a_whole_record_and_nothing_is_set_aside(
    tmp_path, monkeypatch, killed_after
):
    from lossprio import records

    config = small_config("uniform")
    run(config, tmp_path, progress=False)
    path = run_folder(tmp_path, config.run_id) / "record.json"
    old, new = RunRecord.load(path), RunRecord.load(path)
    new.finished, new.selection_counts = "2000-01-01T00:00:00+00:00", [c + 1 for c in new.selection_counts]
    write_json = records.atomic_write_json

    def killed(target, values):
        if killed_after == "the new record.json":
            write_json(target, values)
        raise Killed

    monkeypatch.setattr(records, "atomic_write_json", killed)
    with pytest.raises(Killed):
        new.save(path)
    monkeypatch.undo()
    expected = old if killed_after == "the new sidecar" else new
    assert records.next_sidecar(path).exists()
    assert RunRecord.load(path).state() == expected.state()  # read as it is, by a reader without the lock
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing set aside, no warning
        again = run(config, tmp_path, progress=False)
    assert again.state() == expected.state() and not rejected(path.parent)
    assert not records.next_sidecar(path).exists() and RunRecord.load(path).state() == expected.state()


def test_temporaries_of_interrupted_writes_are_removed(tmp_path):
    config = small_config("uniform")
    folder = run_folder(tmp_path, config.run_id)
    folder.mkdir(parents=True)
    for name in (".record.json.x1.tmp", ".checkpoint.pt.x2.tmp"):
        (folder / name).write_bytes(b"half")
    run(config, tmp_path, progress=False)
    assert not temporaries(tmp_path) and (folder / "record.json").exists()


def plain(value) -> bool:
    """Only containers, numbers, strings and tensors: what weights_only loads on every torch >= 2.1."""
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool) or isinstance(value, torch.Tensor)


@pytest.mark.parametrize("name", sorted(selectors.selector_names()))
def test_checkpoints_hold_only_plain_types(tmp_path, name):
    from lossprio.files import load_tensors

    config = small_config(name)
    path = killed_checkpoint(config, tmp_path, epochs_done=2)
    _, state = load_tensors(path)
    assert plain(state), name


def test_records_timed_on_a_busy_machine_are_flagged_and_can_be_rerun(tmp_path):
    from lossprio.sweep import set_aside_busy

    configs = [small_config("uniform", seed=k) for k in range(2)]
    for config in configs:
        run(config, tmp_path, progress=False)
    for config in configs:  # both timed on a quiet machine (this test may itself run beside other work)
        quiet = RunRecord.load(run_folder(tmp_path, config.run_id) / "record.json")
        quiet.evals = [{**e, "load": 0.0} for e in quiet.evals]
        quiet.load_average = [[0.0, 0.0, 0.0]] * len(quiet.load_average)
        quiet.save(run_folder(tmp_path, config.run_id) / "record.json")
    path = run_folder(tmp_path, configs[0].run_id) / "record.json"
    record = RunRecord.load(path)
    record.evals[1]["load"] = record.machine["cpu_count"] + 3.0  # another job ran beside it
    record.save(path)
    assert RunRecord.load(path).timed_busy
    with pytest.warns(RuntimeWarning, match="timed while the machine was busy"):
        moved = set_aside_busy(configs, tmp_path)
    assert moved == [next(run_folder(tmp_path, configs[0].run_id).glob("record.json.rejected-*"))] and not path.exists()
    assert (run_folder(tmp_path, configs[1].run_id) / "record.json").exists()


def test_migrate_gives_a_format_2_record_its_new_id_and_folder_and_refuses_an_edited_one(tmp_path):
    import hashlib

    config = small_config("sb", epochs=1)
    run(config, tmp_path / "new", progress=False)
    values = RunRecord.load(run_folder(tmp_path / "new", config.run_id) / "record.json").state()
    for added in ("setup_seconds", "setup_backprops", "setup_cached", "timing", "checksum"):  # in format 4
        values.pop(added)
    every_setting = hashlib.sha256(json.dumps(values["config"], sort_keys=True, default=str).encode()).hexdigest()
    old_id = config.run_id.rsplit("-", 1)[0] + "-" + every_setting[:10]  # format 2 hashed every setting
    assert old_id != config.run_id
    old = dict(values, format=2, config_hash=every_setting, run_id=old_id)
    (tmp_path / "old" / old_id).mkdir(parents=True)
    (tmp_path / "old" / old_id / "record.json").write_text(json.dumps(old))
    with pytest.raises(FileProblem, match="record format 2"):
        load_records(tmp_path / "old")
    assert migrate(tmp_path / "old") == 1 and migrate(tmp_path / "old") == 0
    [migrated] = load_records(tmp_path / "old")
    assert (tmp_path / "old" / config.run_id / "record.json").exists() and not (tmp_path / "old" / old_id).exists()
    assert (migrated.timing, migrated.setup_seconds) == (1, None)  # its clock included checkpoints; set-up unknown
    kept = {
        k: v
        for k, v in migrated.state().items()
        if k not in ("timing", "checksum", "setup_seconds", "setup_backprops", "setup_cached")
    }
    assert kept == {k: v for k, v in load_records(tmp_path / "new")[0].state().items() if k in kept}
    edited = dict(old, config=dict(old["config"], lr=1.0))
    (tmp_path / "edited" / old_id).mkdir(parents=True)
    (tmp_path / "edited" / old_id / "record.json").write_text(json.dumps(edited))
    with pytest.raises(FileProblem, match="does not give its run id"):
        migrate(tmp_path / "edited")


# ----------------------------------------------------------------------------- lean records


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda r: r["evals"][-1].update(test_error=-5), "its measurements do not match their checksum"),
        (lambda r: r["evals"].clear(), "its measurements do not match their checksum"),
        (lambda r: r["counters"].update(backprops=-1), "its measurements do not match their checksum"),
    ],
)
def test_a_record_with_an_edited_measurement_is_set_aside_and_the_run_recomputed(tmp_path, edit, problem):
    config = small_config("uniform")
    truth = run(config, tmp_path, progress=False)
    path = run_folder(tmp_path, config.run_id) / "record.json"
    values = json.loads(path.read_text())
    edit(values)
    path.write_text(json.dumps(values))
    with pytest.raises(FileProblem, match=f"record.json: {problem}"):
        RunRecord.load(path)
    with pytest.warns(RuntimeWarning, match=rf"{config.run_id}/record.json: .*{problem}"):
        again = run(config, tmp_path, progress=False)
    assert strip_timing(again) == strip_timing(truth) and rejected(path.parent) == ["record.json", "record.npz"]


def test_an_edited_sidecar_or_a_missing_one_is_noticed(tmp_path):
    config = small_config("sb", epochs=1)
    run(config, tmp_path, progress=False)
    path = run_folder(tmp_path, config.run_id) / "record.json"
    sidecar = path.with_suffix(".npz")
    arrays = dict(np.load(sidecar))
    key = next(k for k in arrays if k.startswith("selection_counts"))
    arrays[key] = arrays[key] + 1
    np.savez_compressed(sidecar, **arrays)
    with pytest.raises(FileProblem, match="do not match their checksum"):
        RunRecord.load(path)
    sidecar.unlink()
    with pytest.raises(FileProblem, match="record.npz is missing"):
        RunRecord.load(path)


def test_implausible_measurements_are_refused_even_with_a_matching_checksum(tmp_path):
    config = small_config("uniform")
    record = run(config, tmp_path, progress=False)
    record.evals[-1]["test_error"] = 1.5
    path = tmp_path / "planted" / "record.json"
    path.parent.mkdir()
    record.save(path)  # a fresh checksum over an impossible error rate
    with pytest.raises(FileProblem, match=r"implausible measurements: evals\[\d+\]\['test_error'\]=1.5"):
        RunRecord.load(path)
    record.evals.clear()
    record.save(path)
    with pytest.raises(FileProblem, match="a finished run without evaluations"):
        RunRecord.load(path)


def as_json(values: dict) -> dict:
    """``values`` as JSON gives them back (tuples as lists)."""
    return json.loads(json.dumps(values))


def test_records_keep_their_lists_exactly_and_small(tmp_path):
    config = small_config("sb", epochs=3, confidence_epochs=(1,), track_examples=5)
    record = run(config, tmp_path, progress=False)
    path = run_folder(tmp_path, config.run_id) / "record.json"
    again = RunRecord.load(path)
    assert as_json(again.state()) == as_json(record.state())  # (a config's tuples read back as lists)
    assert json.loads(path.read_text()).keys().isdisjoint(("steps", "selection_counts", "corrupted", "tracked"))


def test_format_3_records_migrate_without_changing_a_measurement(tmp_path):
    config = small_config("sb", epochs=2, confidence_epochs=(1,), track_examples=5)
    record = run(config, tmp_path / "new", progress=False)
    added = ("setup_seconds", "setup_backprops", "setup_cached", "timing", "checksum")  # in format 4
    old = {k: v for k, v in as_json(record.state()).items() if k not in added}
    old.update(format=3)
    folder = tmp_path / "old" / config.run_id
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(json.dumps(old))
    assert migrate(tmp_path / "old") == 1 and migrate(tmp_path / "old") == 0
    migrated = RunRecord.load(folder / "record.json")
    changed = {k for k, v in as_json(migrated.state()).items() if v != as_json(record.state())[k]}
    assert changed == {"timing", "setup_seconds", "setup_backprops", "setup_cached", "checksum"}


SET_UP = ("rho", "sb_rho", "irreducible", "svp", "uniform")


def test_every_run_records_its_one_off_set_up(tmp_path):
    records = {name: run(small_config(name, epochs=1), tmp_path, progress=False) for name in SET_UP}
    for name, record in records.items():
        trains_first = name != "uniform"
        assert (record.setup_seconds > 0) is trains_first and (record.setup_backprops > 0) is trains_first, name
    # rho trained the IL model; sb_rho and irreducible read it from the cache, and carry its cost
    assert [records[n].setup_cached for n in ("rho", "sb_rho", "irreducible")] == [False, True, True]
    assert records["sb_rho"].setup_backprops == records["rho"].setup_backprops


def test_checkpoints_are_written_by_time_and_their_writes_are_not_training_time(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from lossprio import train
    from lossprio.train import Trainer

    written = []
    checkpoint = Trainer.checkpoint
    monkeypatch.setattr(Trainer, "checkpoint", lambda self, *paths: (written.append(paths), checkpoint(self, *paths)))
    monkeypatch.setattr(train, "time", SimpleNamespace(monotonic=lambda: 0.0))  # checkpoints' clock stopped
    config = small_config("uniform", epochs=6)
    never = run(config, tmp_path / "never", progress=False, checkpoint_every_s=3600)
    assert written == []  # no hour passes: only its final record is written
    every = run(config, tmp_path / "every", progress=False, checkpoint_every_s=0)
    assert len(written) == 5  # at every epoch end but the last (the final record replaces it)
    for record in (never, every):
        training = record.counters["wall_s"] - sum(
            record.phase_seconds[p] for p in ("evaluation", "probe", "checkpoint")
        )
        assert record.train_wall_s == pytest.approx(training)
    assert strip_timing(never) == strip_timing(every)
