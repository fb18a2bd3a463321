import matplotlib

matplotlib.use("Agg")
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from lossprio import plots, sweep
from lossprio.chapters import crosspaper as X
from lossprio.chapters import mindermann2022 as M
from lossprio.chapters.kit import EPOCH
from lossprio.reproduce import execution_order


def test_grid_is_every_method_on_every_data_setting_at_one_budget():
    settings = X.CHAPTER.profile("cpu")
    runs = X.runs(settings)
    assert len(runs) == len(X.METHODS) * len(X.DATA) * len(settings.seeds) and len(settings.seeds) >= 3
    assert len({c.run_id for c in runs.values()}) == len(runs)
    budget = X.budget(settings)
    for key, config in runs.items():
        method, data = X.METHODS[key.method], X.DATA[key.data]
        assert (config.budget, config.batch_size, config.split, config.optimizer, config.lr_milestones) == (
            budget,
            settings.keep,
            "half",
            "adamw",
            (),
        )
        assert (config.corruption, config.corruption_fraction) == (data.corruption, data.fraction)
        assert bool(config.relevant_classes) is data.relevance and not config.corrupt_holdout
        assert config.selector == method.selector
        if method.traversal == EPOCH:  # papers J/H: epochs of b (VR: pools of 3b), enough of them for the budget
            assert config.candidate_size == method.pool * settings.keep
            assert (config.epochs - 2) * method.share_trained >= budget
            assert config.selection_eval_mode is True
        else:  # paper M: n_B → n_b, candidates scored in train mode
            assert config.candidate_size == settings.candidate_batch and config.selector_kwargs["keep"] == settings.keep
            assert config.selection_eval_mode is (config.selector == "uniform")
    assert runs[X.Run(X.NEW, X.PRISTINE, 0)].selector == "sb_rho"


@pytest.mark.parametrize(
    "ours, theirs", [("smoke", "smoke"), ("cpu", "cpu"), ("paper", "paper"), ("cpu three seeds", "cpu three seeds")]
)
def test_runs_chapter_m_has_are_chapter_ms_runs(ours, theirs):
    settings = X.CHAPTER.profile(ours) if ours != "cpu three seeds" else X.from_loop(M.CPU_THREE_SEEDS)
    their_settings = M.CPU_THREE_SEEDS if theirs == "cpu three seeds" else M.CHAPTER.profile(theirs)
    ours, theirs = X.runs(settings), M.CHAPTER.expand(their_settings)
    theirs_by_key = {(k.experiment, k.method, k.noise, k.seed): c.run_id for k, c in theirs.items()}
    # chapter M's methods (its uniform as "uniform, n_B → n_b") on the data chapter M has
    # (its relevance split as "low relevance")
    m_label = {"uniform, n_B → n_b": M.BASELINE, **{m: m for m in M.METHODS if m != M.BASELINE}}
    m_data = {
        "pristine": (M.MAIN, M.CLEAN),
        X.LABEL_NOISE_10: (M.MAIN, M.NOISY),  # chapter M's label noise, as the settings ask for it
        "structured noise": (M.MAIN, "structured noise"),
        "low relevance": (M.RELEVANCE, M.CLEAN),
    }
    shared = 0
    for key, config in ours.items():
        if key.method in m_label and key.data in m_data:
            experiment, noise = m_data[key.data]
            assert config.run_id == theirs_by_key[experiment, m_label[key.method], noise, key.seed], key
            shared += 1
        else:
            assert config.run_id not in theirs_by_key.values(), key
    assert shared == len(m_label) * len(m_data) * len(settings.seeds)


def test_sweep_reads_shared_runs_from_the_reused_chapters_folder_and_trains_the_rest(tmp_path):
    settings = X.CHAPTER.profile("smoke")
    runs = X.runs(settings)
    keys = [X.Run("uniform, n_B → n_b", X.PRISTINE, 0), X.Run("loss", X.PRISTINE, 0), X.Run(X.BASELINE, X.PRISTINE, 0)]
    m_dir, out_dir = tmp_path / "mindermann2022" / "smoke", tmp_path / "crosspaper" / "smoke"
    assert X.CHAPTER.reuse_dirs(out_dir) == [m_dir]
    theirs = sweep.run_all({k: runs[k] for k in keys[:2]}, m_dir, progress=False)
    ours = sweep.run_all({k: runs[k] for k in keys}, out_dir, progress=False, reuse=X.CHAPTER.reuse_dirs(out_dir))
    for key in keys[:2]:
        assert ours[key].started == theirs[key].started and not (out_dir / runs[key].run_id).exists()
    assert (out_dir / runs[keys[2]].run_id / "record.json").exists()
    assert ours[keys[2]].counters["backprops"] == pytest.approx(ours[keys[0]].counters["backprops"], abs=settings.keep)


def test_tables_on_smoke_records(tmp_path):
    settings = X.CHAPTER.profile("smoke")
    methods, data = (X.BASELINE, "SB β=1", X.NEW, "loss", "RHO-LOSS"), (X.PRISTINE, "random labels 25 %", X.RELEVANCE)
    configs = {k: c for k, c in X.runs(settings).items() if k.method in methods and k.data in data}
    records = sweep.run_all(configs, tmp_path, progress=False)
    backprops = [r.counters["backprops"] for r in records.values()]
    assert max(backprops) - min(backprops) <= settings.keep  # one budget, to within a batch
    speed = X.speedup_grid(records, settings.target_factor)
    assert list(speed.columns) == list(X.DATA) and speed.loc[X.BASELINE, X.PRISTINE] == pytest.approx(1.0)
    shares = X.corrupted_share_grid(records)
    assert shares.loc["(the training data)", "random labels 25 %"] == pytest.approx(25.0, abs=0.5)
    assert shares.loc[X.BASELINE, "random labels 25 %"] == pytest.approx(25.0, abs=6)
    relevant = X.relevant_shares(records, configs, settings)
    assert relevant["(the training data)"] == pytest.approx(50.0, abs=1) and set(methods) <= set(relevant.index)
    for record in records.values():  # as if timed on an idle machine, whatever else ran beside this test
        record.load_average = [[0.0] * 3 for _ in record.load_average]
        for entry in record.evals:
            entry["load"] = 0.0
    cost = X.selection_cost(records, settings.target_factor)
    assert cost.loc[X.BASELINE, "selecting (% of training time)"] < cost.loc["loss", "selecting (% of training time)"]
    sentences = X.guide(records, settings.target_factor)  # kinds whose every setting ran: label noise ran one of three
    assert [s.split("**")[1] for s in sentences] == ["Clean data", "Irrelevant classes"]


def test_guide_names_the_fastest_method_that_does_not_end_worse_and_the_ones_that_fail(monkeypatch):
    label_noise = [d for d, s in X.DATA.items() if s.group == X.LABEL_NOISE]
    speed = pd.DataFrame(1.0, index=list(X.METHODS), columns=list(X.DATA))
    final = pd.DataFrame(10.0, index=list(X.METHODS), columns=list(X.DATA))
    speed.loc["loss", label_noise] = 5.0
    final.loc["loss", label_noise] = 14.0  # fastest, but ends 4 points worse
    speed.loc["RHO-LOSS", label_noise] = 2.0
    speed.loc["SB β=2", label_noise[0]] = 0.0  # never reached
    speed.loc["SB β=1", label_noise] = 3.0  # fast on the seeds that choose, not on those that report
    monkeypatch.setattr(X, "final_error_grid", lambda records: final)

    def planted_speedup(records, method, data, factor, x="backprops"):
        seeds = {k.seed for k in records}
        value = speed.loc[method, data] if method != "SB β=1" or seeds == {0, 1} else 1.0
        return SimpleNamespace(number=value, at_least=False, at_most=False)

    monkeypatch.setattr(X, "speedup", planted_speedup)
    records = {
        X.Run(m, d, seed): SimpleNamespace(setup_seconds=None)
        for m in X.METHODS
        if m != "SVP"  # no runs yet: left out, not counted as failing
        for d in X.DATA
        for seed in range(5)
    }
    sentence = next(s for s in X.guide(records, 1.1) if s.startswith("**Label noise**"))
    # SB β=1 is chosen first on seeds 0 and 1 (3.0x there); its number is the other seeds' (1.0x)
    assert "(chosen on seeds 0, 1, reported on seeds 2, 3, 4): SB β=1 (1.0x" in sentence
    assert "; RHO-LOSS (2.0x" in sentence
    assert sentence.split("without ending more than")[1].split(";")[0].strip().startswith("0.5 points worse (chosen on")
    assert "loss (5.0x" not in sentence and "Never reached it in at least one of these settings: SB β=2." in sentence
    assert "SVP" not in sentence


def test_heatmap_marks_never_reached_cells_so_they_cannot_pass_for_a_value():
    values = pd.DataFrame({"a": [2.0, 0.0], "b": [0.5, np.nan]}, index=["m1", "m2"])
    fig, ax = plt.subplots()
    plots.grid_heatmap(ax, values, ".1f", center=1.0, log2=True, never=values == 0)
    texts = {(round(t.get_position()[0], 1), round(t.get_position()[1], 1)): t.get_text() for t in ax.texts}
    assert texts == {(0.5, 0.5): "2.0", (1.5, 0.5): "0.5", (0.5, 1.5): "never", (1.5, 1.5): "no runs"}
    assert ax.patch.get_hatch() == "///"
    plt.close(fig)


def test_cost_chart_draws_each_method_once_and_a_never_reached_median_at_the_edge():
    table = pd.DataFrame(
        {
            "selecting (% of training time)": [2.0, 40.0, 1.0],
            "speedup in backprops (median setting)": [1.0, 4.0, 0.0],
            "speedup in wall clock (median setting)": [0.9, 2.0, 0.0],
        },
        index=["uniform", "RHO-LOSS", "SVP"],
    )
    fig, axes = plt.subplots(1, 2)
    plots.cost_and_savings(axes, table)
    cost, speed = axes
    assert [b.get_width() for b in cost.patches] == [2.0, 40.0, 1.0]
    assert [t.get_text() for t in cost.get_yticklabels()] == ["uniform", "RHO-LOSS", "SVP"]
    assert [t.get_text() for t in speed.texts] == ["never"] and speed.texts[0].xy == (0.5, 2)  # SVP's row, at the floor
    dots = [tuple(c.get_offsets()[0]) for c in speed.collections if len(c.get_offsets())]
    assert (4.0, 1) in dots and (2.0, 1) in dots  # RHO-LOSS: backprops and wall clock on its row
    assert speed.get_xscale() == "log"
    plt.close(fig)


def test_the_chapter_that_reuses_records_is_executed_after_the_one_it_reuses(tmp_path):
    names = ["intro", "crosspaper", "mindermann2022", "hu2021", "run_it_yourself"]
    order = [p.stem for p in sorted((tmp_path / f"{n}.ipynb" for n in names), key=execution_order)]
    assert order.index("crosspaper") > order.index("mindermann2022") and order[-2:] == ["intro", "run_it_yourself"]


def test_bad_grid_names_are_refused_with_the_allowed_ones():
    settings = X.CHAPTER.profile("smoke")
    with pytest.raises(ValueError, match="method='SB' is not allowed"):
        X.config(settings, "SB", X.PRISTINE, 0)
    with pytest.raises(ValueError, match="data='clean'"):
        X.config(settings, X.BASELINE, "clean", 0)
