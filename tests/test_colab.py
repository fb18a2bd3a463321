"""The colab profiles: each chapter's paper setup cut to its headline and estimated at one T4-hour
or less. (Each runs through ``notebooks/colab.ipynb`` with papermill at shrunk sizes, offline, in
``test_paper_path``, after its chapter's paper notebook: the runs they share train once.)"""

import json

import pytest

from lossprio import cost
from lossprio.chapters import chapter

from .test_paper_path import ROOT, SHRINK


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
