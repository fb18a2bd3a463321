"""The colab profiles: each chapter's paper setup cut to its headline, estimated at one T4-hour or
less, and run through ``notebooks/colab.ipynb`` with papermill at shrunk sizes, offline."""

import json

import pytest

from lossprio import cost, notebook
from lossprio.chapters import chapter

from .test_paper_path import ROOT, SHRINK, SKIP_MD5

#: the settings a colab profile cuts its runs with; its shrunk test keeps them (they are what is tested)
COLAB_CUTS = ("methods", "data", "ablations", "keep_runs")


def shrunk_colab_overrides(name: str) -> dict:
    """The paper path's shrink of chapter ``name`` less the settings its colab profile cuts with."""
    return {k: v for k, v in SHRINK[name].items() if k not in COLAB_CUTS}


@pytest.mark.parametrize("name", sorted(SHRINK))
def test_every_colab_profile_is_the_papers_recipe_cut_to_its_headline(name):
    found = chapter(name)
    colab, paper = found.planned(found.profile("colab")), found.planned(found.profile("paper"))  # later stages too
    recipe = lambda c: (c.dataset, c.model, json.dumps(c.model_kwargs), c.crop_padding, c.flip, c.optimizer)  # noqa: E731
    assert {recipe(c) for c in colab.values()} <= {recipe(c) for c in paper.values()}
    assert 0 < len(colab) < len(paper) and found.headline is not None
    if name not in ("tuned", "scaling", "differences"):  # cut by keep_runs: the paper's own runs, fewer
        assert set(colab) <= set(paper)


@pytest.mark.parametrize("name", sorted(SHRINK))
def test_every_colab_profile_is_estimated_at_one_t4_hour_or_less(name):
    estimate = cost.chapter_estimate(chapter(name), ROOT / "results" / name / "cpu", "colab")
    assert estimate.runs_estimated >= 0.8 * estimate.runs  # read off cpu records, not guessed
    assert 0 < estimate.t4_hours <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHRINK))
def test_colab_notebook_runs_each_chapters_headline_through_papermill_with_sizes_shrunk(
    cifar_root, tmp_path, monkeypatch, name
):
    import papermill

    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-skip-md5.py").write_text(SKIP_MD5)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    overrides = json.loads(json.dumps({"data_root": str(cifar_root), **shrunk_colab_overrides(name)}))
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "colab.ipynb"),
        str(tmp_path / f"{name}-colab.ipynb"),
        cwd=str(ROOT / "notebooks"),
        parameters={"chapter": name, "profile": "colab", "overrides": overrides, "results_root": str(tmp_path)},
        progress_bar=False,
        kernel_name="python3",
    )
    found = chapter(name)
    page = notebook.ChapterPage.open(found, "colab", overrides, tmp_path / name / "colab", headline=True)
    settings = page.settings
    while True:  # every stage's runs recorded, read only (nothing trains here)
        records = found.done_records(found.expand(settings), page.out_dir)
        later = found.next_stage(settings, records) if found.next_stage else settings
        if later == settings:
            break
        settings = later
    assert len(records) == len(found.expand(settings)) > 0
    assert all(r.config["dataset"] == "cifar10" for r in records.values())
    executed = (tmp_path / f"{name}-colab.ipynb").read_text()
    assert chapter(name).headline.question.split("?")[0][:40] in executed
