"""Bad inputs refused by name, before anything is written: settings, data files, ``select()``,
results folders in bad states, every command line and the notebooks' parameters.

Each case asserts that the refusal names what is wrong (the setting, argument, flag or file) and
that nothing was written where a run would write."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import stat
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from lossprio import bench, chapters, data, launch, records, reproduce, selectors, sweep, train
from lossprio.config import TrainConfig
from lossprio.files import FileProblem, read_json, read_tensor_header
from lossprio.layout import CHECKPOINT, RECORD, run_folder
from lossprio.notebook import ChapterPage, ParameterGuard
from lossprio.sweep import run_all
from lossprio.train import run

from .test_reliability import hold
from .test_train import small_config


def written(folder: Path) -> list[Path]:
    """Every file under ``folder`` (none when it does not exist)."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).exists() else []


# ----------------------------------------------------------------------------- settings (TrainConfig)

BAD_SETTINGS = [
    # booleans are bools: a string would be truthy
    ({"flip": "False"}, r"flip='False' must be True or False"),
    ({"nesterov": 1}, r"nesterov=1 must be True or False"),
    ({"corrupt_holdout": "yes"}, r"corrupt_holdout='yes' must be True or False"),
    ({"time_phases": None}, r"time_phases=None must be True or False"),
    ({"selection_eval_mode": "no"}, r"selection_eval_mode='no' must be True, False or None"),
    ({"amp": "off"}, r"amp='off' must be True, False or None"),
    ({"channels_last": 0}, r"channels_last=0 must be True, False or None"),
    # strings, paths, mappings, sequences
    ({"dataset": 3}, r"dataset=3 must be a string"),
    ({"optimizer": ["sgd"]}, r"optimizer=\['sgd'\] must be a string"),
    ({"data_root": 5}, r"data_root=5 must be a folder path or None"),
    ({"data_root": ""}, r"data_root='' is not a folder"),
    ({"selector_kwargs": [1.0]}, r"selector_kwargs=\[1.0\] must be a dict"),
    ({"model_kwargs": "width=8"}, r"model_kwargs='width=8' must be a dict"),
    ({"il_model_kwargs": {1: 2}}, r"il_model_kwargs has non-string keys \[1\]"),
    ({"lr_milestones": "100"}, r"lr_milestones='100' must be a list or tuple"),
    ({"confidence_epochs": 2}, r"confidence_epochs=2 must be a list or tuple"),
    ({"relevant_classes": "01"}, r"relevant_classes='01' must be a list or tuple"),
    ({"corruption": 1}, r"corruption=1 must be a corruption name"),
    # selector settings against the selector's own
    (
        {"selector": "sb", "selector_kwargs": {"bta": 1.0}},
        r"selector 'sb' has no setting\(s\) \['bta'\]; allowed: .*'beta'",
    ),
    ({"selector": "sb", "selector_kwargs": {"beta": -1}}, r"selector_kwargs of selector 'sb': beta=-1"),
    (
        {"selector": "sb", "selector_kwargs": {"beta": "2"}},
        r"selector_kwargs of selector 'sb': beta='2' must be a number",
    ),
    ({"selector": "sb", "selector_kwargs": {"history": 0}}, r"selector 'sb': history=0 must be a positive integer"),
    ({"selector": "loss", "selector_kwargs": {"keep": 0}, "candidate_batch": 64}, r"selector 'loss': keep=0"),
    ({"selector": "loss", "selector_kwargs": {}, "candidate_batch": 64}, r"selector 'loss': keep=None and selectivity"),
    (
        {"selector": "loss", "selector_kwargs": {"keep": 8, "selectivity": 0.1}, "candidate_batch": 64},
        r"keep=8 and selectivity=0.1: give one of them",
    ),
    ({"selector": "loss", "selector_kwargs": {"keep": "8"}, "candidate_batch": 64}, r"keep='8' must be a positive"),
    ({"selector": "stale_sb", "selector_kwargs": {"staleness": 0}}, r"selector 'stale_sb': staleness=0"),
    ({"selector": "kath18", "selector_kwargs": {"keep": 8, "switch": "step"}}, r"switch='step' is not allowed"),
    ({"selector": "kath18", "selector_kwargs": {"keep": 8, "unique": "True"}}, r"unique='True' must be True or False"),
    ({"selector": "kath18", "selector_kwargs": {"keep": 8, "reweight": 1}}, r"reweight=1 must be True or False"),
    ({"selector": "svp", "selector_kwargs": {"proxy": "test"}}, r"proxy='test' is not allowed"),
    ({"selector": "svp", "selector_kwargs": {"augment_scores": "no"}}, r"augment_scores='no' must be True or False"),
    ({"selector": "sbx"}, r"selector='sbx' is not allowed"),
    # model settings against the model's own
    ({"model": "fast_cnn", "model_kwargs": {"width": 0}}, r"model_kwargs of model 'fast_cnn': width=0"),
    ({"model": "fast_cnn", "model_kwargs": {"widht": 8}}, r"model 'fast_cnn' has no setting\(s\) \['widht'\]"),
    ({"model": "mlp", "model_kwargs": {"hidden": 1000}}, r"model_kwargs of model 'mlp': hidden=1000 must be a list"),
    ({"model": "mlp", "model_kwargs": {"hidden": [0]}}, r"model_kwargs of model 'mlp': hidden width=0"),
    ({"model": "wrn", "model_kwargs": {"depth": 11}}, r"model_kwargs of model 'wrn': depth=11"),
    ({"model": "wrn", "model_kwargs": {"dropout": 1.5}}, r"model 'wrn': dropout=1.5"),
    ({"il_model": "small_cnn", "il_model_kwargs": {"width": 8}}, r"il_model_kwargs: model 'small_cnn' has no"),
    ({"model": "resnet18", "model_kwargs": {"width": -2}}, r"model 'resnet18': width=-2"),
    # ranges and consistency
    ({"seed": 2**70}, r"seed=\d+ must be below 2\*\*31"),
    ({"seed": -1}, r"seed=-1 must be an integer >= 0"),
    ({"corruption_seed": 2**40}, r"corruption_seed=\d+ must be below 2\*\*31"),
    ({"seed": 1.0}, r"seed=1.0 must be an integer"),
    ({"device": "tpu"}, r"device='tpu' is not allowed"),
    ({"device": "cuda:x"}, r"device='cuda:x' is not allowed"),
    ({"relevant_classes": (99,)}, r"relevant_classes\[0\]=99 is not a class of fashion-mnist"),
    ({"relevant_classes": (1, 1)}, r"relevant_classes=\[1, 1\] names a class twice"),
    ({"lr_milestones": (100,), "epochs": 1}, r"lr_milestones\[0\]=100 \(epoch\) is never reached"),
    ({"lr_milestones": (3,), "epochs": 3}, r"lr_milestones\[0\]=3 \(epoch\) is never reached"),
    (
        {"lr_milestones": (4,), "lr_unit": "backprop_epochs", "epochs": 8, "budget": 3.0},
        r"lr_milestones\[0\]=4 \(backprop_epochs\) is never reached: the run ends at 3",
    ),
    ({"budget": 10.0, "epochs": 1}, r"budget=10 back-propagated epochs cannot be reached in epochs=1"),
    ({"lr_schedule": "exp"}, r"lr_schedule='exp' is not allowed; choose one of \['step', 'cosine', 'linear'\]"),
    (
        {"lr_schedule": "linear", "budget": 1.0, "epochs": 2, "lr_milestones": (1,)},
        r"lr_milestones=\(1,\) are for lr_schedule='step'",
    ),
    ({"selector": "rs2", "selector_kwargs": {"fraction": 1.5}}, r"fraction=1.5 is outside"),
    ({"evaluate_on": "validation"}, r"evaluate_on='validation' needs a validation split: give validation_fraction > 0"),
    ({"validation_fraction": 1.0}, r"validation_fraction=1.0 is outside the allowed range \[0, 1\)"),
    ({"evaluate_on": "train"}, r"evaluate_on='train' is not allowed; choose one of \['test', 'validation'\]"),
    ({"selector": "infobatch", "selector_kwargs": {"prune_ratio": 1.0}}, r"prune_ratio=1.0 is outside"),
    ({"budget": 0.0}, r"budget=0.0 is outside"),
    ({"lr": float("nan")}, r"lr=nan must be a finite number"),
    ({"momentum": 1.0}, r"momentum=1.0 is outside"),
    ({"batch_size": 0}, r"batch_size=0 must be a positive integer"),
    ({"epochs": True}, r"epochs=True must be a positive integer"),
    ({"train_fraction": 0.0}, r"train_fraction=0.0 is outside"),
    ({"corruption_fraction": 0.1}, r"corruption_fraction=0.1 needs a corruption kind"),
    ({"corruption": "gaussian", "corruption_fraction": 1.5}, r"corruption_fraction=1.5 is outside"),
    ({"eval_first": 10}, r"eval_first=10 needs eval_every"),
    ({"confidence_epochs": (5,), "epochs": 2}, r"confidence_epochs\[0\]=5 is after the last epoch"),
    (
        {"selector": "rho", "selector_kwargs": {"keep": 64}, "candidate_batch": 32, "split": "half"},
        r"keep.*=64 exceeds candidate_batch",
    ),
    (
        {"selector": "rho", "selector_kwargs": {"keep": 16}, "candidate_batch": 64},
        r"split='full' has no holdout, and selector='rho' needs one .*give split='half'.*or il_holdout='no_holdout'",
    ),
    (
        {"selector": "svp", "selector_kwargs": {"keep": 16, "proxy": "holdout"}, "candidate_batch": 64},
        r"split='full' has no holdout, and selector='svp' with proxy='holdout' needs one",
    ),
    ({"il_checkpoint": "best"}, r"il_checkpoint='best' is not allowed; choose one of \['validation', 'test'\]"),
    ({"label_smoothing": 1.0}, r"label_smoothing=1.0 is outside"),
    ({"score_probe_every": 5}, r"score_probe_every=5 needs a selector that scores with irreducible losses"),
]


@pytest.mark.parametrize("settings, message", BAD_SETTINGS, ids=[str(s) for s, _ in BAD_SETTINGS])
def test_a_bad_setting_is_refused_by_name_before_a_run_folder_exists(settings, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        run(TrainConfig(**settings), tmp_path / "out", progress=False)
    assert written(tmp_path) == []


def test_from_dict_refuses_unknown_settings_listing_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown TrainConfig settings \['lr_rate'\]; allowed: \[.*'lr'"):
        TrainConfig.from_dict({"lr_rate": 0.1})


def test_a_path_object_is_taken_as_a_data_root():
    assert TrainConfig(data_root=Path("/tmp/data")).data_root == "/tmp/data"


def test_every_profile_of_every_chapter_passes_the_checks():
    for name in chapters.chapter_names():
        chapter = chapters.chapter(name)
        for profile in chapter.profiles:
            assert chapter.expand(chapter.profile(profile))


# ----------------------------------------------------------------------------- refusals needing the machine or data


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine with CUDA runs it")
def test_cuda_on_a_machine_without_it_is_refused_before_the_run_folder(tmp_path):
    with pytest.raises(ValueError, match=r"device='cuda': no CUDA device is available here"):
        run(small_config(device="cuda"), tmp_path / "out", progress=False)
    assert written(tmp_path) == []


def test_a_data_root_that_does_not_exist_is_refused_not_replaced(tmp_path):
    config = TrainConfig(data_root=str(tmp_path / "nowhere"), model="mlp", model_kwargs={"hidden": [8]})
    with pytest.raises(ValueError, match=r"data_root='.*nowhere' is not a folder"):
        run(config, tmp_path / "out", progress=False)
    assert written(tmp_path) == []


def test_a_candidate_batch_larger_than_the_training_set_is_refused_before_the_run_folder(tmp_path):
    config = small_config("loss", train_fraction=0.02, candidate_batch=64)
    with pytest.raises(ValueError, match=r"candidate_batch=64 exceeds the \d+ training examples"):
        run(config, tmp_path / "out", progress=False)
    assert written(tmp_path) == []


def test_a_milestone_in_backprops_beyond_the_run_is_refused_before_the_run_folder(tmp_path):
    config = small_config("uniform", lr_unit="backprops", lr_milestones=(10**7,))
    with pytest.raises(ValueError, match=r"lr_milestones\[0\]=1e\+07 backprops is never reached"):
        run(config, tmp_path / "out", progress=False)
    assert written(tmp_path) == []


def test_an_empty_results_folder_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"out_dir='': give the results folder"):
        run(small_config(), "", progress=False)


def test_a_training_fraction_that_leaves_no_example_is_refused_before_the_run_folder(tmp_path):
    with pytest.raises(ValueError, match=r"train_fraction=1e-06 leaves no examples"):
        run(small_config(train_fraction=1e-6), tmp_path / "out", progress=False)
    assert written(tmp_path) == []


# ----------------------------------------------------------------------------- data files


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of uint8 ``array``."""
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def fashion_folder(folder: Path, count: int = 40, labels: np.ndarray | None = None) -> Path:
    """A Fashion-MNIST folder of ``count`` random images per split (gzipped, as the release)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, (count, 28, 28))
        found = np.arange(count) % 10 if labels is None else labels
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(found)))
    return folder


def test_a_complete_data_folder_loads(tmp_path):
    image_set = data.load("fashion-mnist", "train", fashion_folder(tmp_path / "d"))
    assert len(image_set) == 40 and image_set.labels.max() == 9


def damage(folder: Path, how: str) -> str:
    """Damage the training files of a fashion-mnist folder; returns the file the refusal must name."""
    images, labels = folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz"
    if how == "labels missing":
        labels.unlink()
        return r"has the train images \(train-images-idx3-ubyte.gz\) but not its labels file"
    if how == "images missing":
        images.unlink()
        return r"has the train labels .* but not its images file"
    if how == "truncated":
        images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-100]))
        return r"train-images-idx3-ubyte.gz: \d+ bytes where its header \(40, 28, 28\) needs \d+ \(truncated"
    if how == "empty":
        images.write_bytes(gzip.compress(b""))
        return r"train-images-idx3-ubyte.gz: not an IDX file of uint8 images \(empty or damaged\)"
    if how == "not gzip":
        images.write_bytes(b"<html>404</html>")
        return r"train-images-idx3-ubyte.gz: cannot be read"
    if how == "swapped":
        swap = images.read_bytes()
        images.write_bytes(labels.read_bytes())
        labels.write_bytes(swap)
        return r"train-images-idx3-ubyte.gz: holds labels where images belong \(files swapped\?\)"
    if how == "label out of range":
        found = np.arange(40) % 10
        found[3] = 200
        labels.write_bytes(gzip.compress(idx_bytes(found)))
        return r"fashion-mnist/train: labels run from 0 to 200, outside the 10 classes"
    if how == "counts differ":
        labels.write_bytes(gzip.compress(idx_bytes(np.arange(39) % 10)))
        return r"train-images-idx3-ubyte.gz holds 40 images but .*train-labels-idx1-ubyte.gz 39 labels"
    raise AssertionError(how)


DAMAGES = ["labels missing", "images missing", "truncated", "empty", "not gzip", "swapped", "label out of range"]
DAMAGES += ["counts differ"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_data_folder_is_refused_naming_the_file_before_the_run_folder(how, tmp_path):
    folder = fashion_folder(tmp_path / "data")
    message = damage(folder, how)
    with pytest.raises(data.DataProblem, match=message):
        data.load("fashion-mnist", "train", folder)
    config = TrainConfig(data_root=str(folder), model="mlp", model_kwargs={"hidden": [8]}, batch_size=8)
    with pytest.raises(ValueError, match=message):
        run(config, tmp_path / "out", progress=False)
    assert written(tmp_path / "out") == []


def test_a_folder_with_only_the_training_images_is_not_paired_with_labels_from_elsewhere(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((5, 28, 28)))))
    with pytest.raises(data.DataProblem, match=r"but not its labels file"):
        data.load("fashion-mnist", "train", folder)


def test_a_data_root_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(data.DataProblem, match=r"data_root='.*file' is not a folder"):
        data.load("fashion-mnist", "train", tmp_path / "file")


def test_no_files_and_no_network_says_which_package_or_download_provides_them(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(data.DataProblem, match=r"apt-get install dataset-fashion-mnist.*leave data_root=None"):
        data.load("fashion-mnist", "train", tmp_path)


# ----------------------------------------------------------------------------- select()


def candidates(count: int = 6, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.arange(count), torch.randn(count, classes, generator=generator), torch.arange(count) % classes


def bad_select(case: str) -> tuple[selectors.Selector, tuple, str]:
    """A selector, the arguments of a malformed ``select()`` call, and what the refusal must say."""
    indices, logits, targets = candidates()
    sb = selectors.build("sb", beta=1.0, warmup_epochs=0)
    if case == "int32 targets":
        return sb, (indices, logits, targets.int()), r"targets must be a 1-D int64 .* dtype torch.int32"
    if case == "bool targets":
        return sb, (indices, logits, targets > 0), r"targets must be a 1-D int64 .* dtype torch.bool"
    if case == "float targets":
        return sb, (indices, logits, targets.float()), r"targets must be a 1-D int64"
    if case == "targets as a list":
        return sb, (indices, logits, targets.tolist()), r"targets must be a 1-D int64 .* got list"
    if case == "float indices":
        return sb, (indices.float(), logits, targets), r"indices must be a 1-D int64 .* dtype torch.float32"
    if case == "int32 indices":
        return sb, (indices.int(), logits, targets), r"indices must be a 1-D int64"
    if case == "2-D indices":
        return sb, (indices[None], logits, targets), r"indices must be a 1-D int64 .* shape \(1, 6\)"
    if case == "logits that require grad":
        return sb, (indices, logits.requires_grad_(), targets), r"logits require grad: .*logits.detach\(\)"
    if case == "integer logits":
        return sb, (indices, logits.long(), targets), r"logits must be a float tensor of shape \(6, classes\)"
    if case == "logits of another batch":
        return sb, (indices, logits[:4], targets), r"logits must be a float tensor of shape \(6, classes\)"
    if case == "meta device":
        meta = [t.to("meta") for t in (indices, logits, targets)]
        return sb, tuple(meta), r"the inputs are on the meta device, which holds no values"
    if case == "extras as a list":
        return sb, (indices, logits, targets, [torch.zeros(6)]), r"extras must be a dict of per-candidate tensors"
    if case == "extras of another length":
        return sb, (indices, logits, targets, {"irreducible_loss": torch.zeros(5)}), r"extras\['irreducible_loss'\]"
    if case == "negative indices":
        return sb, (indices - 3, logits, targets), r"indices must be non-negative dataset indices, got values from -3"
    if case == "stale_sb indices past num_examples":
        stale = selectors.build("stale_sb", num_examples=4, warmup_epochs=0)
        return stale, (indices, logits, targets), r"indices must be \[0, 4\) dataset indices, got values from 0 to 5"
    if case == "targets past the classes":
        return sb, (indices, logits, targets + 3), r"targets must lie in \[0, 3\), got values from 3 to 5"
    if case == "NaN logits":
        logits[2, 1] = float("nan")
        return sb, (indices, logits, targets), r"logits holds NaN or infinite values"
    if case == "rho without irreducible losses":
        rho = selectors.build("rho", keep=2)
        return rho, (indices, logits, targets), r"needs extras \['irreducible_loss'\]"
    raise AssertionError(case)


SELECT_CASES = [
    "int32 targets",
    "bool targets",
    "float targets",
    "targets as a list",
    "float indices",
    "int32 indices",
    "2-D indices",
    "logits that require grad",
    "integer logits",
    "logits of another batch",
    "meta device",
    "extras as a list",
    "extras of another length",
    "negative indices",
    "stale_sb indices past num_examples",
    "targets past the classes",
    "NaN logits",
    "rho without irreducible losses",
]


@pytest.mark.parametrize("case", SELECT_CASES)
def test_a_malformed_select_call_is_refused_naming_the_argument(case):
    selector, arguments, message = bad_select(case)
    with pytest.raises(ValueError, match=message):
        selector.select(*arguments)


def test_an_svp_proxy_given_as_a_list_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"proxy_entropy must be a 1-D tensor .* got list"):
        selectors.build("svp", proxy_entropy=[0.1, 0.2])


def test_unknown_selector_settings_in_check_settings_list_the_allowed_ones():
    with pytest.raises(ValueError, match=r"selector 'rho' has no setting\(s\) \['kep'\]; allowed: \['keep',"):
        selectors.check_settings("rho", {"kep": 3})


# ----------------------------------------------------------------------------- results folders in bad states


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[TrainConfig, Path]:
    """One finished tiny run, copied by the tests that damage it."""
    out = tmp_path_factory.mktemp("finished")
    config = small_config("uniform", epochs=1)
    run(config, out, progress=False)
    return config, run_folder(out, config.run_id)


def copy_run(finished: tuple[TrainConfig, Path], out: Path) -> Path:
    config, source = finished
    folder = run_folder(out, config.run_id)
    folder.mkdir(parents=True)
    for name in ("record.json", "record.npz"):
        (folder / name).write_bytes((source / name).read_bytes())
    return folder


def edit_record(folder: Path, edit) -> None:
    values = json.loads((folder / RECORD).read_text())
    edit(values)
    (folder / RECORD).write_text(json.dumps(values))


def lower_first_error(values: dict) -> None:
    values["evals"][0]["test_error"] = 0.01


def remove_evaluations(values: dict) -> None:
    values["evals"] = []


def change_commit(values: dict) -> None:
    values["commit"] = "0" * 40


@pytest.mark.parametrize("edit", [lower_first_error, remove_evaluations, change_commit])
def test_an_edited_record_is_not_finished_for_status_nor_for_the_sweep(edit, finished, tmp_path):
    config, _ = finished
    folder = copy_run(finished, tmp_path)
    edit_record(folder, edit)
    [row] = launch.status({"run": config}, tmp_path)
    assert row["state"] == "unreadable" and "do not match their checksum" in row["detail"], row
    with pytest.warns(RuntimeWarning, match=r"record.json: .*moved aside"):
        records = run_all({"run": config}, tmp_path, progress=False)
    assert records["run"].status == "finished" and records["run"].evals[0]["test_error"] != 0.01


def test_a_record_whose_measurements_were_removed_is_not_finished(finished, tmp_path):
    config, _ = finished
    folder = copy_run(finished, tmp_path)
    (folder / "record.npz").unlink()
    [row] = launch.status({"run": config}, tmp_path)
    assert row["state"] == "unreadable" and "record.npz is missing" in row["detail"]


def test_another_runs_record_copied_in_is_foreign_for_status(finished, tmp_path):
    config, _ = finished
    other = small_config("uniform", epochs=1, lr=0.01)
    folder = run_folder(tmp_path, other.run_id)
    folder.mkdir(parents=True)
    for name in ("record.json", "record.npz"):
        (folder / name).write_bytes((finished[1] / name).read_bytes())
    [row] = launch.status({"run": other}, tmp_path)
    assert row["state"] == "foreign" and config.run_id in row["detail"]


@pytest.mark.parametrize("name, read", [(CHECKPOINT, read_tensor_header), (RECORD, read_json)])
def test_a_fifo_in_a_run_folder_is_refused_by_name_not_waited_on(name, read, finished, tmp_path):
    config, _ = finished
    folder = run_folder(tmp_path, config.run_id)
    folder.mkdir(parents=True)
    os.mkfifo(folder / name)
    # the readers refuse it without opening it: were one to open it, it would block for good, so
    # the alarm turns that hang into a failure (it bounds no measured work: the refusal is a stat)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail(f"reading a FIFO {name} hung"))
    signal.alarm(60)
    try:
        with pytest.raises(FileProblem, match=rf"{name}: is a FIFO, not a regular file"):
            read(folder / name)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.warns(RuntimeWarning, match=rf"{name}: is a FIFO, not a regular file"):
        record = run(config, tmp_path, progress=False)
    assert record.status == "finished" and (folder / RECORD).is_file()


def test_records_are_readable_by_the_group_on_a_shared_folder(finished):
    _, folder = finished
    for name in ("record.json", "record.npz"):
        mode = stat.S_IMODE((folder / name).stat().st_mode)
        assert mode & stat.S_IRGRP and mode & stat.S_IROTH, oct(mode)


def test_a_checkpoint_left_in_a_finished_run_is_removed_by_the_next_sweep(finished, tmp_path):
    config, _ = finished
    folder = copy_run(finished, tmp_path)
    (folder / CHECKPOINT).write_bytes(b"left by a kill")
    records = run_all({"run": config}, tmp_path, progress=False)
    assert records["run"].status == "finished" and not (folder / CHECKPOINT).exists()


def test_a_run_held_in_two_folders_is_read_once_with_a_warning_naming_both(finished, tmp_path):
    first, second = copy_run(finished, tmp_path / "a"), copy_run(finished, tmp_path / "b")
    copy_run(finished, tmp_path / "c")  # a third copy: still one run, and one warning naming each extra copy
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = records.load_records(tmp_path)
    [warning] = caught
    assert str(warning.message).startswith("2 record(s) left out, their runs already read from another folder")
    assert f"{finished[0].run_id}: read from {first}, left out {second}" in str(warning.message)
    assert [r.run_id for r in found] == [finished[0].run_id]


def test_migrating_a_record_without_a_config_is_one_line_naming_the_file(finished, tmp_path, capsys):
    folder = copy_run(finished, tmp_path)
    edit_record(folder, lambda values: values.pop("config"))
    message = refused(records.main, ["migrate", str(tmp_path)], capsys)
    assert f"{folder / RECORD}: has no config" in message and "Traceback" not in message
    assert len(message.strip().splitlines()) == 1


def test_a_sweep_names_the_holder_of_a_run_it_waits_for(tmp_path, capsys, monkeypatch):
    configs = {k: small_config("uniform", epochs=1, seed=k) for k in range(2)}
    folder = run_folder(tmp_path, configs[0].run_id)
    holder = hold(folder / "lock", 600.0)
    said, message = [], sweep.waiting_message

    def release_once_named(run_id, busy):  # the holder lets go once the sweep has said who it is
        said.append(message(run_id, busy))
        holder.kill()
        holder.wait()
        return said[-1]

    monkeypatch.setattr(sweep, "waiting_message", release_once_named)
    try:
        records = run_all(configs, tmp_path, progress=False)  # said without bars too
    finally:
        holder.kill()
        holder.wait()
    assert said and f"pid {holder.pid}" in said[0] and "waiting for the process training it" in said[0]
    assert "Ctrl-C stops waiting" in said[0] and f"kill {holder.pid}" in said[0]
    assert said[0] in capsys.readouterr().out and all(r.status == "finished" for r in records.values())


# ----------------------------------------------------------------------------- command lines


def refused(main, argv: list[str], capsys) -> str:
    """Run a command line that must be refused: exit status 2, no traceback; returns stderr."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert "Traceback" not in err
    return err


SWEEP = ["mindermann2022", "--profile", "smoke"]
BAD_COMMANDS = [
    (sweep.main, [*SWEEP, "--out", ""], r"--out: .*an empty path"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--seeds"], r"--seeds: expected at least one argument"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--seeds", "7"], r"--seeds \[7\]: profile 'smoke' has seeds"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--seeds", "x"], r"--seeds: .*'x' is not a whole number"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--partition", "gpu"], r"--partition: only for --launcher slurm"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--gpus-per-run", "2"], r"--gpus-per-run: only for --launcher slurm"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--timeout-min", "5"], r"--timeout-min: only for --launcher slurm"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--status", "--retime-busy"], r"--status only lists the runs"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--retime-old-timing"], r"--retime-old-timing works with --retime-busy"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/mistyped", "--status"], r"--out '.*mistyped' is not a folder"),
    (sweep.main, [*SWEEP, "--out", "{tmp}/o", "--worker", "2/2"], r"--worker: '2/2': need N >= 1 and 0 <= K < N"),
    (sweep.main, ["mindermann2022", "--profile", "cpuu", "--out", "{tmp}/o"], r"--profile 'cpuu': chapter"),
    (sweep.main, ["chapter9", "--out", "{tmp}/o"], r"argument chapter: invalid choice: 'chapter9'"),
    (records.main, ["migrate", "{tmp}/nowhere"], r"folder: '.*nowhere' is not a folder"),
    (records.main, ["migrate", "{tmp}/file.txt"], r"folder: '.*file.txt' is not a folder"),
    (records.main, ["migrate", "{tmp}"], r"holds no record.json"),
    (records.main, ["rename", "{tmp}"], r"argument action: invalid choice: 'rename'"),
    (train.main, ["{tmp}/missing.json"], r"config: '.*missing.json' is not a file"),
    (train.main, ["{tmp}/file.txt"], r"file.txt: not valid JSON"),
    (train.main, ["{tmp}/list.json"], r"list.json: holds a JSON list, not an object of TrainConfig settings"),
    (train.main, ["{tmp}/unknown.json"], r"unknown TrainConfig settings \['lr_rate'\]"),
    (train.main, ["{tmp}/bad.json"], r"flip='yes' must be True or False"),
    (train.main, ["{tmp}/empty.json", "--checkpoint-every", "-1"], r"--checkpoint-every=-1.0 is outside"),
    (bench.main, ["--json", "{tmp}"], r"--json '.*' is a folder; give a file name"),
    (bench.main, ["--device", "tpu"], r"--device='tpu' is not allowed"),
    (bench.main, ["--keep", "300"], r"--keep 300 exceeds --candidates 128"),
    (bench.main, ["--repeats", "0"], r"--repeats: .*'0' is below 1"),
    (reproduce.main, ["--notebooks"], r"--notebooks: expected at least one argument"),
    (reproduce.main, ["--profile", "gpu"], r"--profile: invalid choice: 'gpu'"),
    (reproduce.main, ["--book-dir", "{tmp}/file.txt"], r"--book-dir '.*file.txt' is a file, not a folder"),
    (reproduce.main, ["--notebooks", "chapterx", "--book-dir", "{tmp}/b"], r"no such notebook \['.*chapterx.ipynb'\]"),
    (data.main, ["imagenet"], r"argument names: invalid choice: 'imagenet'"),
]
if not torch.cuda.is_available():
    BAD_COMMANDS.append((bench.main, ["--device", "cuda"], r"device='cuda': no CUDA device is available here"))
if sys.platform.startswith("linux") and not os.environ.get("SLURM_JOB_ID"):
    BAD_COMMANDS.append(
        (
            sweep.main,
            [*SWEEP, "--out", "{tmp}/o", "--launcher", "slurm"],
            r"no sbatch on this machine",
        )
    )


@pytest.mark.parametrize(
    "main, argv, message", BAD_COMMANDS, ids=[f"{m.__module__} {' '.join(a)}" for m, a, _ in BAD_COMMANDS]
)
def test_a_bad_command_line_is_one_message_and_exit_status_2(main, argv, message, tmp_path, capsys, monkeypatch):
    if "--launcher" in argv:
        monkeypatch.setattr(sweep.shutil, "which", lambda name: None)
    (tmp_path / "file.txt").write_text("not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "unknown.json").write_text('{"lr_rate": 0.1}')
    (tmp_path / "bad.json").write_text('{"flip": "yes"}')
    (tmp_path / "empty.json").write_text("{}")
    before = written(tmp_path)
    err = refused(main, [a.replace("{tmp}", str(tmp_path)) for a in argv], capsys)
    assert any(re.search(message, line) for line in err.splitlines()), err
    assert written(tmp_path) == before


def test_retiming_on_a_busy_machine_is_refused_with_the_load(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sweep.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    err = refused(sweep.main, [*SWEEP, "--out", str(tmp_path), "--retime-busy"], capsys)
    assert "--retime-busy: the machine is busy (1-minute load 9.0" in err
    assert written(tmp_path) == []


def test_a_killed_reproduction_leaves_no_partial_page_behind(tmp_path):
    (tmp_path / "hu2021.tmp.ipynb").write_text("{}")
    assert reproduce.remove_stale_copies(tmp_path) == [tmp_path / "hu2021.tmp.ipynb"]
    assert not (tmp_path / "hu2021.tmp.ipynb").exists()


# ----------------------------------------------------------------------------- notebook parameters

TYPES = {"profile": str, "overrides": dict, "results_dir": str, "progress": bool, "data_root": str | None}


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("overrides", "seeds=[0]", r"parameter overrides='seeds=\[0\]' must be a dict, not str"),
        ("results_dir", 3, r"parameter results_dir=3 must be a string, not int"),
        ("progress", "yes", r"parameter progress='yes' must be True or False"),
        ("profile", None, r"parameter profile=None must be a string"),
        ("data_root", 5, r"parameter data_root=5 must be str or None, not int"),
    ],
)
def test_a_notebook_parameter_of_the_wrong_type_is_refused_by_name(name, value, message):
    guard = ParameterGuard({})
    namespace = {"profile": "smoke", "overrides": {}, "results_dir": "r", "progress": False, "data_root": None}
    namespace[name] = value
    with pytest.raises(ValueError, match=message):
        guard.check(namespace, TYPES)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"seeds": []}, r"seeds=\[\]: give at least one seed"),
        ({"seeds": ["0"]}, r"overrides\['seeds'\]\[0\]='0' must be an integer"),
        ({"epochs": "3"}, r"overrides\['epochs'\]='3' must be an integer"),
        ({"model_kwargs": "width=8"}, r"overrides\['model_kwargs'\]='width=8' must be a dict"),
        ({"epoch": 3}, r"unknown .*Settings \['epoch'\]; allowed"),
    ],
)
def test_chapter_overrides_of_the_wrong_type_are_refused_before_any_run(overrides, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        ChapterPage.open(chapters.chapter("mindermann2022"), "smoke", overrides, tmp_path)
    assert written(tmp_path) == []
