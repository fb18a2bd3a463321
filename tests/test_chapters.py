import dataclasses

import pytest

from lossprio.chapters import chapter, chapter_names, hu2021
from lossprio.chapters.kit import pick
from lossprio.reproduce import reproduce


def test_chapter_h_grid_is_table_1_plus_the_sbe_runs():
    settings = hu2021.CHAPTER.profile("smoke", seeds=[0, 1])
    runs = hu2021.runs(settings)
    assert len(runs) == 2 * (5 * 7 + 3)
    assert len({config.run_id for config in runs.values()}) == len(runs)
    vr33 = runs["VR max 33 %", "gaussian", 0.5, 1]
    assert (vr33.selector, vr33.candidate_size, vr33.batch_size, vr33.seed) == ("kath18", 384, 128, 1)
    assert vr33.selector_kwargs["selectivity"] == pytest.approx(1 / 3) and vr33.selector_kwargs["tau_switch"]
    sb2 = runs["SB 33 %", None, 0.0, 0]
    assert (sb2.selector, sb2.selector_kwargs["beta"], sb2.corruption) == ("sb", 2.0, None)
    assert runs["SBE 50 %", "random_labels", 0.5, 0].selector == "sbe"


def test_profiles_carry_the_papers_recipe():
    paper = hu2021.CHAPTER.profile("paper")
    config = hu2021.config(paper, "standard", "shuffle_pixels", 0.25, seed=0)
    assert (config.dataset, config.model, config.model_kwargs) == ("cifar10", "wrn", {"depth": 28, "widen": 10})
    assert (config.epochs, config.lr_milestones, config.lr_gamma, config.lr, config.weight_decay) == (
        100,
        (60, 80),
        0.2,
        0.1,
        5e-4,
    )
    assert (config.batch_size, config.crop_padding, config.flip, len(paper.seeds)) == (128, 4, True, 5)
    assert len(hu2021.CHAPTER.profile("cpu").seeds) >= 3


def test_bad_profile_and_override_names():
    with pytest.raises(
        ValueError, match=r"profile='gpu' is not allowed; choose one of \['smoke', 'cpu', 'paper', 'colab'\]"
    ):
        hu2021.CHAPTER.profile("gpu")
    with pytest.raises(ValueError, match=r"unknown HuSettings \['epoch'\]"):
        hu2021.CHAPTER.profile("smoke", epoch=3)
    with pytest.raises(ValueError, match="no such notebook"):
        reproduce("smoke", ["no_such_chapter"])


def test_keep_runs_keeps_the_runs_whose_key_has_the_values_named_and_refuses_what_no_run_has():
    runs = hu2021.CHAPTER.runs("smoke", seeds=[0, 1], keep_runs={"method": ["standard"], "corruption": [None]})
    assert sorted(runs) == [("standard", None, 0.0, 0), ("standard", None, 0.0, 1)]
    with pytest.raises(ValueError, match=r"keep_runs\['model'\]: not a field of this chapter's runs; allowed: "):
        hu2021.CHAPTER.runs("smoke", keep_runs={"model": ["wrn"]})
    with pytest.raises(ValueError, match=r"keep_runs\['method'\]=\['SB 25 %'\]: give a list of \['standard', "):
        hu2021.CHAPTER.runs("smoke", keep_runs={"method": ["SB 25 %"]})
    with pytest.raises(ValueError, match=r"keep_runs\['method'\]='standard': give a list of"):
        hu2021.CHAPTER.runs("smoke", keep_runs={"method": "standard"})
    with pytest.raises(ValueError, match=r"keep_runs\['seed'\]: not a field"):
        hu2021.CHAPTER.runs("smoke", keep_runs={"seed": [0]})


def test_a_chapter_page_refuses_the_headline_cut_and_points_to_the_colab_page(tmp_path):
    from lossprio.notebook import ChapterPage

    with pytest.raises(ValueError, match=r"profile='colab' keeps only the headline's runs .* notebooks/colab.ipynb"):
        ChapterPage.open(hu2021.CHAPTER, "colab", {}, tmp_path)
    page = ChapterPage.open(hu2021.CHAPTER, "smoke", {}, tmp_path, headline=True)  # the colab page: any profile
    assert {k.method for k in page.configs} == {"standard", "SB 33 %"} and len(page.configs) == 4
    whole = ChapterPage.open(hu2021.CHAPTER, "colab", {"keep_runs": {}}, tmp_path)  # or every run, asked for
    assert len(whole.configs) == len(hu2021.CHAPTER.runs("paper", seeds=[0]))


def test_chapters_are_found_through_one_registry():
    assert {"crosspaper", "hu2021", "jiang2019", "mindermann2022", "tuned"} <= set(chapter_names())
    assert chapter("hu2021") is hu2021.CHAPTER
    with pytest.raises(
        ValueError,
        match=r"unknown chapter 'h2021'; allowed: crosspaper, differences, hu2021, jiang2019, mindermann2022, scaling, "
        r"tuned",
    ):
        chapter("h2021")


def test_a_draft_chapter_is_found_and_swept_but_not_in_the_book(monkeypatch):
    from lossprio.chapters import base, book_order, chapter, draft_names
    from lossprio.chapters import hu2021 as H

    draft = dataclasses.replace(H.CHAPTER, name="draft")
    monkeypatch.setitem(base.DRAFTS, "draft", draft)
    assert chapter("draft") is draft and "draft" in draft_names()
    assert "draft" not in chapter_names() and "draft" not in book_order()


def test_hu2021_cpu_profile_evaluates_on_the_whole_test_set():
    settings = hu2021.CHAPTER.profile("cpu")
    assert settings.test_fraction == 1.0 and len(settings.seeds) >= 3


def test_jiang2019_grid_gives_every_method_the_same_backprop_budget():
    from lossprio.chapters import jiang2019 as J

    settings = J.CHAPTER.profile("cpu")
    grid = J.runs(settings)
    assert len(settings.seeds) >= 3 and len(grid) == len(settings.seeds) * (2 * 6 + 2 + 3 * 2)
    assert len({c.run_id for c in grid.values()}) == len(grid)
    assert {c.budget for c in grid.values()} == {float(settings.epochs)} and {c.lr_unit for c in grid.values()} == {
        "backprop_epochs"
    }
    a, b = grid["SB β=2", "A", 0.0, 0], grid["SB β=2", "B", 0.0, 0]
    assert a.lr_milestones == (12.0, 24.0, 32.0) and b.lr_milestones == pytest.approx(
        (9.6, 19.2, 25.6)
    )  # 60/120/160 and 48/96/128 of 200
    assert a.epochs >= 1 + 3 * (settings.epochs - 1)  # enough traversals for the budget at 33 %
    kath = grid["Kath18", "A", 0.0, 0]
    assert (
        kath.candidate_size,
        kath.batch_size,
        kath.selector_kwargs["selectivity"],
        kath.selector_kwargs["reweight"],
    ) == (512, 128, 0.25, False)
    stale = grid["Stale-SB n=3", "A", 0.0, 1]
    assert (stale.selector, stale.selector_kwargs["staleness"], stale.selector_kwargs["beta"], stale.seed) == (
        "stale_sb",
        3,
        2.0,
        1,
    )
    flipped = grid["SB β=2", "A", 0.2, 2]
    assert (flipped.corruption, flipped.corruption_fraction, flipped.track_examples) == ("label_flip", 0.2, 64)
    assert grid["Traditional", "A", 0.0, 0].probe_every and not grid["Traditional", "B", 0.0, 0].probe_every
    paper = J.config(J.CHAPTER.profile("paper"), "Traditional", "A", 0.0, 0)
    assert (paper.dataset, paper.model, paper.model_kwargs, paper.cutout, paper.nesterov) == (
        "cifar10",
        "wrn",
        {"depth": 28, "widen": 10, "dropout": 0.3},
        16,
        True,
    )
    assert paper.lr_milestones == (60.0, 120.0, 160.0) and paper.budget == 200.0


def test_jiang2019_tables_and_claims_run_on_smoke_records(smoke_records):
    from lossprio.chapters import jiang2019 as J

    records = smoke_records("jiang2019")  # J's notebook reads the same records at smoke (nbval)
    for record in records.values():  # as if timed on an idle machine, whatever else runs beside these tests
        record.load_average = [[0.0, 0.0, 0.0]]
        for entry in record.evals:
            entry["load"] = 0.0
    table = J.table_1(records)
    assert list(table.columns) == ["1.1 ×", "1.2 ×", "1.4 ×"]
    assert (
        table.loc[("SB β=2", "paper J, wall clock"), "1.4 ×"] == "1.5x"
        and ("Stale-SB n=2", "ours, backprops") in table.index
    )
    assert [c.verdict in ("confirmed", "contradicted", "mixed", "inconclusive") for c in J.claims(records)] == [
        True
    ] * 5
    times = J.per_example_times(list(records.values()))
    traditional = pick(records, method="Traditional", schedule="A", flips=0.0)[0]
    counts = traditional.counters  # the model prices counts; no measured time is compared (a busy machine passes)
    assert counts["selection_forwards"] == 0 and all(t > 0 for t in times.values())
    assert J.modelled_wall_clock(traditional, times) == pytest.approx(
        counts["training_forwards"] * times["train_forward"] + counts["backprops"] * times["backward"]
    )
    assert J.modelled_wall_clock(traditional, times, 2.5) == pytest.approx(
        counts["training_forwards"] * times["train_forward"] + counts["backprops"] * 2.5 * times["train_forward"]
    )
    points = J.pareto_points(records)
    assert points["pareto"].any() and set(points["schedule"]) <= {"A", "B"}
    curve = J.confidence_curves(traditional, 1)
    assert (
        list(curve.columns) == ["percentile", "confidence", "accuracy"] and curve["confidence"].is_monotonic_increasing
    )


def test_mindermann2022_grid_is_paper_ms_loop_with_one_budget():
    from lossprio.chapters import mindermann2022 as M

    settings = M.CHAPTER.profile("cpu")
    runs = M.runs(settings)
    assert len({c.run_id for c in runs.values()}) == len(runs) and len(settings.seeds) >= 3
    main = [c for k, c in runs.items() if k.experiment == M.MAIN]
    assert len(main) == len(M.METHODS) * len(M.NOISES) * len(settings.seeds)
    for config in runs.values():
        assert (config.candidate_size, config.batch_size, config.selector_kwargs["keep"], config.split) == (
            320,
            32,
            32,
            "half",
        )
        assert (config.optimizer, config.lr_milestones, config.budget) == (
            "adamw",
            (),
            pytest.approx(settings.epochs / 10),
        )
        assert config.selection_eval_mode is (config.selector == "uniform")  # paper M's code scores in train mode
        assert not config.corrupt_holdout
    svp = runs[M.Run(M.MAIN, "SVP", M.CLEAN, 0)]
    assert svp.epochs > 1 / settings.svp_fraction * settings.epochs  # its core-set is traversed for the same budget
    probed = [k for k, c in runs.items() if c.score_probe_every]
    assert probed == [M.Run(M.MAIN, M.RHO, M.NOISY, s) for s in settings.seeds]
    assert all(bool(c.relevant_classes) is (k.experiment == M.RELEVANCE) for k, c in runs.items())
    default = runs[M.Run(M.MAIN, M.RHO, M.CLEAN, 0)]
    for experiment in [e for e, kind in M.experiments(settings).items() if kind.kind in (M.CHEAP_IL, M.REUSED_IL)]:
        variant = runs[M.Run(experiment, M.RHO, M.CLEAN, 0)]
        changed = {k for k, v in variant.to_dict().items() if default.to_dict()[k] != v}
        assert changed and changed <= {
            "il_model",
            "il_model_kwargs",
            "il_holdout",
            "il_holdout_fraction",
            "model",
            "model_kwargs",
            "lr",
        }, experiment
    paper = M.CHAPTER.runs("paper")[M.Run(M.MAIN, M.RHO, M.CLEAN, 0)]
    assert (paper.dataset, paper.model, paper.il_model, paper.il_epochs) == ("cifar10", "resnet18", "resnet18", 100)


def test_mindermann2022_methods_stop_at_the_same_step_on_smoke_records(tmp_path):
    from lossprio import sweep
    from lossprio.chapters import mindermann2022 as M

    settings = M.CHAPTER.profile("smoke")
    configs = {k: c for k, c in M.runs(settings).items() if k.experiment == M.MAIN and k.noise in (M.CLEAN, M.NOISY)}
    records = sweep.run_all(configs, tmp_path, progress=False)
    steps = {k: r.counters["step"] for k, r in records.items()}
    assert max(steps.values()) - min(steps.values()) <= 1, steps
    fig1 = M.score_concentration(records)
    assert set(fig1.index) == {
        "reducible loss (RHO-LOSS)",
        "irreducible loss",
        "loss",
        "gradient norm",
        "the whole batch",
    }
    assert fig1["corrupted share of the top 10 %"]["the whole batch"] == pytest.approx(0.1, abs=0.05)
    table = M.speedup_table(records)
    assert (
        table.loc[(M.RHO, "paper M, CIFAR-10, steps"), M.NOISY] == "5.15x"
        and (M.RHO, "ours, wall clock") in table.index
    )


def test_chapter_m_at_cpu_has_five_seeds_paper_ms_label_noise_and_reference_baselines():
    from lossprio.chapters import mindermann2022 as M

    cpu, first = M.CHAPTER.runs("cpu"), M.CHAPTER.expand(M.CPU_THREE_SEEDS)
    assert len(cpu) == len(first) // 3 * 5 and not {c.run_id for c in cpu.values()} & {c.run_id for c in first.values()}
    noisy = {k.method: c for k, c in cpu.items() if (k.experiment, k.noise, k.seed) == (M.MAIN, M.NOISY, 0)}
    assert {c.corruption for c in noisy.values()} == {"label_noise"}
    assert noisy["gradient norm IS"].selector_kwargs["one_forward"] is True
    assert noisy["SVP"].selector_kwargs["proxy"] == "holdout" and all(c.eval_first == 10 for c in cpu.values())
    assert {c.corruption for k, c in first.items() if k.noise == M.NOISY} == {"label_flip"}  # the first sweep's


def test_settings_read_as_text_not_python_values():
    from lossprio.notebook import readable

    assert readable("train_fraction", 1 / 6) == "16.7 %"
    assert readable("lr", 0.1 + 0.2) == "0.3"
    assert readable("model_kwargs", {"hidden": [512, 512]}) == "hidden: 512, 512"
    assert readable("cheap_il_models", {"small CNN": ["small_cnn", {}]}) == "small CNN: small_cnn"
    assert readable("data_root", None) == readable("relevant_classes", ()) == "—"
    assert readable("seeds", (0, 1, 2)) == "0, 1, 2" and readable("flip", True) == "True"


def test_verdict_changes_list_the_claims_whose_verdict_moved_and_the_new_ones():
    from lossprio.chapters.claims import Claim, verdict_changes

    claims = [Claim("A holds.", "", "confirmed"), Claim("B holds.", "", "inconclusive"), Claim("C holds.", "", "mixed")]
    changes = verdict_changes(claims, {"A hol": "confirmed", "B hol": "confirmed"})
    assert changes.to_dict("records") == [
        {"claim": "B holds.", "before": "confirmed", "now": "inconclusive"},
        {"claim": "C holds.", "before": "(not checked)", "now": "mixed"},
    ]


def test_the_dashboard_lists_chapters_in_the_books_order(tmp_path):
    from lossprio.chapters import book_order

    assert book_order() == ["jiang2019", "hu2021", "mindermann2022", "crosspaper", "tuned", "scaling", "differences"]
    toc = tmp_path / "_toc.yml"
    toc.write_text("- file: book/crosspaper\n- file: book/hu2021\n")
    assert book_order(toc) == ["crosspaper", "hu2021", "differences", "jiang2019", "mindermann2022", "scaling", "tuned"]


#: CIE76 ΔE below which two lines of one figure are hard to tell apart
MIN_COLOUR_DIFFERENCE = 12.0


@pytest.mark.parametrize("vision", ["normal", "protanopia", "deuteranopia"])
def test_every_method_on_one_figure_has_a_colour_told_apart_also_by_colour_blind_readers(vision):
    from lossprio import palette
    from lossprio.chapters import crosspaper as X
    from lossprio.chapters import hu2021 as H
    from lossprio.chapters import jiang2019 as J
    from lossprio.chapters import mindermann2022 as M
    from lossprio.chapters import tuned as T

    figures = {
        "J, Fig. 6/7": J.MAIN_METHODS,
        "J, Fig. 13": J.BETA_METHODS,
        "H, Fig. 3/4": H.TABLE_METHODS + ("SBE 50 %",),
        "M, Fig. 3": tuple(M.METHODS),
        "crosspaper, curves": X.CURVE_METHODS,
        "tuned, every figure": tuple(T.METHODS),
    }
    for figure, methods in figures.items():
        difference, first, second = palette.closest_pair(list(methods), vision)
        assert difference >= MIN_COLOUR_DIFFERENCE, f"{figure}: {first} and {second} (ΔE {difference:.1f}, {vision})"
    assert palette.difference("#000000", "#ffffff") == pytest.approx(100, abs=0.5)  # black to white: L* 0 to 100


def test_heatmap_cells_show_no_negative_zero():
    from lossprio.plots import cell_text

    assert [cell_text(v, "+.1f") for v in (-0.04, 0.04, -1.26, 2.0)] == ["0.0", "0.0", "-1.3", "+2.0"]
