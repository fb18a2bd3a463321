"""The paper-scale path, exercised without a GPU or internet: every loader on files in its
dataset's own format, every chapter's ``paper`` and ``colab`` profiles end to end through their
notebooks with only sizes shrunk, the autocast and channels_last branches, and the Colab bootstrap
cell."""

import dataclasses
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from lossprio import notebook, sweep
from lossprio.chapters import chapter, chapter_names, draft_names, hu2021, scaling, tuned
from lossprio.config import TrainConfig
from lossprio.data import load
from lossprio.train import run

from . import formats

ROOT = Path(__file__).parents[1]


def assert_loaded(name: str, root: Path, written: formats.Written, order=None) -> None:
    for split, (images, labels) in written.items():
        loaded = load(name, split, root)
        keep = np.arange(len(labels)) if order is None else np.argsort(labels, kind="stable")
        assert loaded.images.dtype == torch.uint8 and loaded.images.shape == images.shape, (name, split)
        assert np.array_equal(loaded.images.numpy(), images[keep]), (name, split)
        assert np.array_equal(loaded.labels.numpy(), labels[keep]), (name, split)
        assert loaded.name == name and loaded.split == split and len(loaded.classes) == loaded.num_classes


@pytest.mark.parametrize(
    "name,writer",
    [
        ("cifar10", lambda root: formats.write_cifar(root, classes=10)),
        ("cifar100", lambda root: formats.write_cifar(root, classes=100, per_batch=200, test=100)),
        ("svhn", formats.write_svhn),
        ("mnist", formats.write_mnist),
        ("qmnist", formats.write_qmnist),
    ],
)
def test_torchvision_loaders_read_their_own_formats_offline(tmp_path, verified, name, writer):
    assert_loaded(name, tmp_path, writer(tmp_path))


@pytest.mark.parametrize(
    "name,splits,size,suffix",
    [
        ("cinic10", {"train": 12, "valid": 6, "test": 6}, 32, ".png"),
        ("clothing1m", {"train": 9, "clean_train": 6, "clean_val": 6, "clean_test": 6}, 64, ".png"),
    ],
)
def test_image_folder_loaders_read_their_trees(tmp_path, name, splits, size, suffix):
    written = formats.write_image_folder(tmp_path, splits, size, suffix)
    assert_loaded(name, tmp_path, written, order="by class")


def test_image_folder_loaders_resize_jpegs(tmp_path):
    formats.write_image_folder(tmp_path, {"train": 6}, 80, ".jpg")
    assert load("clothing1m", "train", tmp_path).images.shape == (6, 3, 64, 64)


# Per chapter, the only settings the paper-path tests change: sizes (epochs, model depth and width, seeds, cadence);
# the WRNs' stems narrowed from 16 channels to 4, as the ResNet-18s' from 64 to 4.
SHRINK = {
    "hu2021": {
        "epochs": 2,
        "lr_milestones": (1,),
        "eval_every": 2,
        "model_kwargs": {"depth": 10, "widen": 1, "width": 4},
        "batch_size": 64,
        "seeds": (0,),
    },
    "jiang2019": {
        "epochs": 2,
        "eval_every": 2,
        "probe_every": 2,
        "confidence_epochs": (1,),
        "track_examples": 8,
        "model_kwargs": {"depth": 10, "widen": 1, "width": 4, "dropout": 0.3},
        "batch_size": 64,
        "seeds": (0,),
    },
    # n_B → n_b shrunk with the data (the stand-in CIFAR's even half is 150 images), still a tenth; one torch
    # thread: with two, torch 2.14.1's CPU kernels crashed (general protection fault) on this shrunk ResNet-18 path
    "mindermann2022": {
        "epochs": 2,
        "eval_every": 2,
        "score_probe_every": 1,
        "il_epochs": 1,
        "svp_proxy_epochs": 1,
        "model_kwargs": {"width": 4},
        "il_model_kwargs": {"width": 4},
        "candidate_batch": 60,
        "keep": 6,
        "other_targets": {"WRN-10-1": ["wrn", {"depth": 10, "widen": 1, "width": 4}]},
        "holdout_fractions": (0.5,),
        "svp_fraction": 0.5,
        "lr_grid": (),
        "seeds": (0,),
        "threads": 1,
    },
}
# the cross-paper grid runs paper M's loop: shrunk as chapter M (less its Fig. 5 experiments)
SHRINK["crosspaper"] = {
    k: v for k, v in SHRINK["mindermann2022"].items() if k not in ("other_targets", "holdout_fractions", "lr_grid")
}
# the tuned-baseline chapter runs paper M's loop too: shrunk as chapter M; one budget (and the pilot's twice it), two
# rates, one tuning seed, no rates beyond the grid; RHO-LOSS on both kinds of data its claims need (the smoke
# profile runs the other methods)
SHRINK["tuned"] = {
    **{k: v for k, v in SHRINK["crosspaper"].items() if k not in ("epochs", "score_probe_every")},
    "tuning_seeds": (0,),
    "extend_edges": False,
    "budgets": (2.0,),
    "lr_grid": (1e-3, 3e-3),
    "candidate_batch": 120,  # still a tenth kept, in half the steps: its training split (135 images) holds 120
    "keep": 12,
    "methods": ("uniform", "RHO-LOSS"),
    "data": ("pristine", "label noise 10 %"),
}
# the ablations repeat runs of chapters J, H, M and the tuned chapter: each shrunk as that chapter is
# (two of them: chapter J's WRN path and the IL model chosen on the test set; the others' paths are the chapters')
SHRINK["differences"] = {
    "source_overrides": {name: SHRINK[name] for name in ("jiang2019", "mindermann2022")},
    "ablations": ("kath18-steps", "il-checkpoint"),
    "seeds": (0,),
    "timing_seeds": (10,),
}
# the scaling chapter: two narrow ResNet-18 rungs on both halves' sizes, one rate, a budget of one
# epoch of backprops, uniform and RHO-LOSS on clean data (n_B → n_b shrunk as chapter M's)
SHRINK["scaling"] = {
    "rungs": {"ResNet-18 width 4": ["resnet18", {"width": 4}], "ResNet-18 width 8": ["resnet18", {"width": 8}]},
    "sizes": (0.5, 1.0),
    "budget": 1.0,
    "lr_grid": (1e-3,),
    "il_epochs": 1,
    "eval_every": 2,
    "methods": ("uniform", "RHO-LOSS"),
    "data": ("pristine",),
    "candidate_batch": 60,
    "keep": 6,
    "seeds": (0,),
    "threads": 1,
}
# Per chapter, the paper's recipe the shrunk profile must keep: dataset, model, augmentation, optimiser.
RECIPES = {
    "hu2021": ("cifar10", "wrn", 4, True, "sgd", 0.1),
    "jiang2019": ("cifar10", "wrn", 4, True, "sgd", 0.1),
    "mindermann2022": ("cifar10", "resnet18", 4, True, "adamw", 1e-3),
    "crosspaper": ("cifar10", "resnet18", 4, True, "adamw", 1e-3),
    "tuned": ("cifar10", "resnet18", 4, True, "adamw", 1e-3),  # its first run: the grid's first rate
    "differences": ("cifar10", "wrn", 4, True, "sgd", 0.1),  # its first run: chapter J's Kath18
    "scaling": ("cifar10", "resnet18", 4, True, "adamw", 1e-3),  # its first run: the pilot's first rate
}


def shrunk_paper_settings(name: str, root: Path):
    """The chapter's paper profile with only its sizes shrunk."""
    return chapter(name).profile("paper", data_root=str(root), **SHRINK[name])


def test_every_chapter_has_its_shrunk_paper_path_tested():
    assert sorted(SHRINK) == sorted(RECIPES) == sorted(chapter_names() + draft_names())  # drafts too


@pytest.mark.parametrize("name", sorted(SHRINK))
def test_paper_profile_keeps_the_papers_recipe_when_shrunk(cifar_root, name):
    paper, shrunk = chapter(name).profile("paper"), shrunk_paper_settings(name, cifar_root)
    changed = {f.name for f in dataclasses.fields(paper) if getattr(paper, f.name) != getattr(shrunk, f.name)}
    assert changed == set(SHRINK[name]) | {"data_root"}
    config = next(iter(chapter(name).expand(shrunk).values()))
    assert (config.dataset, config.model, config.crop_padding, config.flip, config.optimizer, config.lr) == RECIPES[
        name
    ]
    unshrunk = next(iter(chapter(name).expand(paper).values()))  # the shrunk model keeps the paper's dropout
    assert config.model_kwargs.get("dropout", 0.0) == unshrunk.model_kwargs.get("dropout", 0.0)


def test_paper_profile_runs_end_to_end_on_cifar_files(cifar_root, tmp_path):
    settings = shrunk_paper_settings("hu2021", cifar_root)
    configs = hu2021.runs(settings)
    chosen = [
        ("standard", None, 0.0, 0),
        ("SB 33 %", "random_labels", 0.5, 0),
        ("VR max 33 %", "gaussian", 0.25, 0),
        ("SBE 50 %", "shuffle_pixels", 0.5, 0),
    ]
    records = sweep.run_all(configs, tmp_path / "records", progress=False, only=chosen)
    for key, record in records.items():
        assert record.status == "finished" and record.counters["epoch"] == 2, key
        assert record.machine["device"] == "cpu" and len(record.selection_counts) == 300
    assert records["SB 33 %", "random_labels", 0.5, 0].counters["selection_forwards"] == 300  # epoch 2 selects


SKIP_MD5 = """
from torchvision.datasets import cifar, utils
cifar.check_integrity = lambda path, md5=None: utils.check_integrity(path)  # test-only: files are stand-ins
"""


#: the settings a colab profile cuts its runs with; its shrunk test keeps them (they are what is tested)
COLAB_CUTS = ("methods", "data", "ablations", "keep_runs")


def shrunk_colab_overrides(name: str) -> dict:
    """The paper path's shrink of chapter ``name`` less the settings its colab profile cuts with."""
    return {k: v for k, v in SHRINK[name].items() if k not in COLAB_CUTS}


def execute(notebook_name: str, out: Path, parameters: dict) -> str:
    """``notebooks/<notebook_name>.ipynb`` run through papermill into ``out``; the executed text."""
    import papermill

    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{notebook_name}.ipynb"),
        str(out),
        cwd=str(ROOT / "notebooks"),
        parameters={**parameters, "progress": False},
        progress_bar=False,
        kernel_name="python3",
    )
    return out.read_text()


def every_stage_recorded(name: str, settings, out_dir: Path) -> dict:
    """The records of every stage of chapter ``name`` from ``settings`` on (read only: nothing
    trains here), each stage's settings chosen from the records of the one before."""
    found = chapter(name)
    while True:
        records = found.done_records(found.expand(settings), out_dir)
        later = found.next_stage(settings, records) if found.next_stage else settings
        if later == settings:
            assert len(records) == len(found.expand(settings)) > 0, f"{name}: runs of the last stage not recorded"
            return records
        settings = later


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHRINK))
def test_paper_and_colab_notebooks_run_through_papermill_with_sizes_shrunk(cifar_root, tmp_path, monkeypatch, name):
    # the kernel is another process: the `verified` fixture's bypass reaches it as an IPython startup file
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-skip-md5.py").write_text(SKIP_MD5)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    overrides = json.loads(
        json.dumps({"data_root": str(cifar_root), **SHRINK[name]})
    )  # as papermill passes them: lists
    # a chapter's records go to results_dir/<profile>, or (a chapter that reads others' records)
    # results_root/<chapter>/<profile>
    folder = {"results_root": str(tmp_path)} if chapter(name).reuses else {"results_dir": str(tmp_path / name)}
    execute(name, tmp_path / f"{name}-paper.ipynb", {"profile": "paper", "overrides": overrides, **folder})
    records = list((tmp_path / name / "paper").glob("*/record.json"))
    settings = chapter(name).profile("paper", data_root=str(cifar_root), **SHRINK[name])
    if name == "tuned":  # stages: the page tunes (past the grid's edges where needed), then runs the chosen rates
        folder = tmp_path / name / "paper"
        settings = tuned.settle(settings, lambda s: tuned.CHAPTER.done_records(tuned.runs(s), folder))
        assert len(settings.chosen_lrs) == len(tuned.tuned_cells(settings)) and settings.runner_up_lrs
    if name == "scaling":  # the pilot, then the grid at the rates it chose
        found = scaling.CHAPTER.done_records(scaling.runs(settings), tmp_path / name / "paper")
        settings = scaling.with_choices(settings, found)
        assert len(settings.chosen_lrs) == len(settings.rungs)
    expected = len(chapter(name).expand(settings))
    assert len(records) == expected
    assert all(json.loads(p.read_text())["config"]["dataset"] == "cifar10" for p in records)

    # Then colab.ipynb on the chapter's colab profile, shrunk alike. Its runs are the paper grid's, cut: the
    # paper runs just recorded are copied to the colab folders so that only runs the paper grid lacks train.
    for paper_dir in tmp_path.glob("*/paper"):
        shutil.copytree(paper_dir, paper_dir.parent / "colab")
    colab = json.loads(json.dumps({"data_root": str(cifar_root), **shrunk_colab_overrides(name)}))
    executed = execute(
        "colab",
        tmp_path / f"{name}-colab.ipynb",
        {"chapter": name, "profile": "colab", "overrides": colab, "results_root": str(tmp_path)},
    )
    page = notebook.ChapterPage.open(chapter(name), "colab", colab, tmp_path / name / "colab", headline=True)
    records = every_stage_recorded(name, page.settings, page.out_dir)
    assert all(r.config["dataset"] == "cifar10" for r in records.values())
    assert chapter(name).headline.question.split("?")[0][:40] in executed


def test_autocast_and_channels_last_branches_run_on_the_cpu(tmp_path, cifar_root):
    config = TrainConfig(
        dataset="cifar10",
        data_root=str(cifar_root),
        model="wrn",
        model_kwargs={"depth": 10, "widen": 1, "width": 4},
        selector="sb",
        selector_kwargs={"beta": 1.0, "warmup_epochs": 0},
        epochs=1,
        batch_size=64,
        crop_padding=4,
        flip=True,
        cutout=16,
        amp=True,
        channels_last=True,
        device="cpu",
        test_fraction=0.5,
    )
    with pytest.warns(RuntimeWarning, match="amp=True on cpu: bf16 autocast runs on a CPU but many times slower"):
        record = run(config, tmp_path, progress=False)
    assert record.status == "finished" and all(np.isfinite(record.steps["loss"]))
    assert record.counters["selection_forwards"] == 300 and 0 < record.counters["backprops"] < 300


# ----------------------------------------------------------------------------- the Colab bootstrap cell


def chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_installs_from_the_one_repository_url():
    url = notebook.repository_url()
    assert url.startswith("https://") and url in (ROOT / "_config.yml").read_text()
    for path in chapter_notebooks():
        cell = notebook.bootstrap_cell(json.loads(path.read_text()))
        assert "".join(cell["source"]) == notebook.bootstrap_source(url), (
            f"{path.name}: run `python -m lossprio.notebook sync`"
        )
        assert "remove-cell" in cell["metadata"]["tags"]


def test_sync_rewrites_the_bootstrap_cell_for_a_new_url(tmp_path):
    copy = tmp_path / "hu2021.ipynb"
    copy.write_text((ROOT / "notebooks" / "hu2021.ipynb").read_text())
    assert notebook.sync_bootstrap([copy], "https://example.org/fork/lossprio") == [copy]
    assert "git+https://example.org/fork/lossprio" in "".join(
        notebook.bootstrap_cell(json.loads(copy.read_text()))["source"]
    )
    assert notebook.sync_bootstrap([copy], "https://example.org/fork/lossprio") == []


@pytest.mark.parametrize("on_colab,installed", [(True, False), (True, True), (False, False)])
def test_the_bootstrap_cell_installs_only_on_colab_without_lossprio(monkeypatch, on_colab, installed):
    import importlib.util

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: calls.append(command))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "lossprio" and not installed else real_find_spec(name, *a),
    )
    namespace: dict = {}
    exec(notebook.bootstrap_source(notebook.repository_url()), namespace)
    expected = (
        [[sys.executable, "-m", "pip", "install", "-q", f"git+{notebook.repository_url()}"]]
        if on_colab and not installed
        else []
    )
    assert calls == expected and isinstance(namespace["_guard"], notebook.ParameterGuard)
