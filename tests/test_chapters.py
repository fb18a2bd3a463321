import pytest

from lossprio.chapters import chapter, chapter_names, hu2021
from lossprio.reproduce import reproduce


def test_chapter_h_grid_is_table_1_plus_the_sbe_runs():
    settings = hu2021.CHAPTER.profile("smoke", seeds=[0, 1])
    runs = hu2021.runs(settings)
    assert len(runs) == 2 * (5 * 7 + 3)
    assert len({config.run_id for config in runs.values()}) == len(runs)
    vr33 = runs["VR max 33 %", "gaussian", 0.5, 1]
    assert (vr33.selector, vr33.candidates, vr33.batch_size, vr33.seed) == ("kath18", 384, 128, 1)
    assert vr33.selector_kwargs["selectivity"] == pytest.approx(1 / 3) and vr33.selector_kwargs["tau_switch"]
    sb2 = runs["SB 33 %", None, 0.0, 0]
    assert (sb2.selector, sb2.selector_kwargs["beta"], sb2.corruption) == ("sb", 2.0, None)
    assert runs["SBE 50 %", "random_labels", 0.5, 0].selector == "sbe"


def test_profiles_carry_the_papers_recipe():
    paper = hu2021.CHAPTER.profile("paper")
    config = hu2021.config(paper, "standard", "shuffle_pixels", 0.25, seed=0)
    assert (config.dataset, config.model, config.model_kwargs) == ("cifar10", "wrn", {"depth": 28, "widen": 10})
    assert (config.epochs, config.lr_milestones, config.lr_gamma, config.lr, config.weight_decay) == (100, (60, 80), 0.2, 0.1, 5e-4)
    assert (config.batch_size, config.crop_padding, config.flip, len(paper.seeds)) == (128, 4, True, 5)
    assert len(hu2021.CHAPTER.profile("cpu").seeds) >= 3


def test_bad_profile_and_override_names():
    with pytest.raises(ValueError, match=r"profile='gpu' is not allowed; choose one of \['smoke', 'cpu', 'paper'\]"):
        hu2021.CHAPTER.profile("gpu")
    with pytest.raises(ValueError, match=r"unknown HuSettings \['epoch'\]"):
        hu2021.CHAPTER.profile("smoke", epoch=3)
    with pytest.raises(ValueError, match="no such notebook"):
        reproduce("smoke", ["no_such_chapter"])


def test_chapters_are_found_through_one_registry():
    assert chapter_names() == ["hu2021", "jiang2019"]
    assert chapter("hu2021") is hu2021.CHAPTER
    with pytest.raises(ValueError, match=r"unknown chapter 'h2021'; allowed: hu2021, jiang2019"):
        chapter("h2021")


def test_hu2021_cpu_profile_evaluates_on_the_whole_test_set():
    settings = hu2021.CHAPTER.profile("cpu")
    assert settings.test_fraction == 1.0 and len(settings.seeds) >= 3
