"""The scaling chapter: its ladder, its two stages, its speedups and trends on smoke records,
and the slope's interval, whose coverage is measured here."""

import dataclasses
import math
import random

import pytest

from lossprio import sweep
from lossprio.chapters import scaling as S
from lossprio.compare import slope

from .conftest import BOOK_RESULTS


def test_the_cpu_and_paper_ladders_have_three_rungs_and_three_sizes_rising_in_compute():
    for name in ("cpu", "paper"):
        settings = S.PROFILES[name]
        assert len(settings.rungs) >= 3 and len(settings.sizes) >= 3, name
        flops = [S.forward_flops(model, kwargs, settings.dataset) for model, kwargs in settings.rungs.values()]
        assert flops == sorted(flops) and flops[-1] > 4 * flops[0], name  # a ladder, not a step
        assert list(settings.sizes) == sorted(settings.sizes) and settings.sizes[-1] >= 4 * settings.sizes[0]
        assert set(settings.methods) == {S.BASELINE, S.SB, S.RHO} and set(settings.data) == set(S.DATA)
    assert len(S.PROFILES["cpu"].seeds) >= 5


def test_every_run_trains_its_rungs_model_with_the_same_il_model_on_its_share():
    settings = dataclasses.replace(S.PROFILES["cpu"], chosen_lrs=(("MLP 256", 1e-3), ("CNN width 16", 3e-3)))
    configs = S.runs(settings)
    pilot = [k for k in configs if k.stage == S.PILOT]
    assert len(pilot) == len(settings.rungs) * 2 * len(settings.lr_grid)
    assert {k.size for k in pilot} == {settings.pilot_size} and {k.method for k in pilot} == {S.BASELINE}
    assert all(configs[k].evaluate_on == "validation" for k in pilot)
    grid = [k for k in configs if k.stage == S.GRID]
    assert {k.model for k in grid} == {"MLP 256", "CNN width 16"}  # only the rungs with a chosen rate
    assert len(grid) == 2 * len(settings.sizes) * 3 * 2 * len(settings.seeds)
    for key in grid:
        config = configs[key]
        model, kwargs = settings.rungs[key.model]
        assert (config.model, config.model_kwargs, config.il_model, config.il_model_kwargs) == (
            model,
            kwargs,
            model,
            kwargs,
        )
        assert config.train_fraction == key.size and config.evaluate_on == "test" and config.budget == settings.budget
        assert config.lr == dict(settings.chosen_lrs)[key.model] and config.lr_schedule == "cosine"
    assert len(S.planned(S.PROFILES["cpu"])) == len(pilot) + len(settings.rungs) * len(grid) // 2


@pytest.fixture(scope="module")
def smoke():
    """The smoke pilot, its choices and the grid at them, trained once a session into the book's
    results tree, where the notebook's nbval run reads them (``results/scaling/smoke``, ignored by git)."""
    out = BOOK_RESULTS / S.CHAPTER.name / "smoke"
    settings = dataclasses.replace(S.PROFILES["smoke"], chosen_lrs=())
    records = sweep.run_all(S.runs(settings), out, progress=False)
    assert all(k.stage == S.PILOT for k in records)  # nothing chosen yet: the pilot only
    settings = S.with_choices(settings, records)
    assert set(dict(settings.chosen_lrs)) == set(settings.rungs)
    records = sweep.run_all(S.runs(settings), out, progress=False)
    for record in records.values():  # as if timed on an idle machine, whatever ran beside this test
        record.load_average = [[0.0] * 3 for _ in record.load_average]
        for entry in record.evals:
            entry["load"] = 0.0
    return settings, records


def test_the_pilot_chooses_each_rungs_best_rate_and_shows_what_a_longer_budget_gains(smoke):
    settings, records = smoke
    table = S.pilot_table(records, settings)
    assert list(table.index) == list(settings.rungs)
    for rung, lr in settings.chosen_lrs:
        errors = {x: table.loc[rung, f"{settings.budget:g} epochs, lr {x:g} (%)"] for x in settings.lr_grid}
        assert errors[lr] == min(errors.values())
    assert table[f"gained by {settings.pilot_factor:g}× the budget (pts)"].notna().all()


def test_speedups_trends_and_claims_on_smoke_records(smoke):
    settings, records = smoke
    speedups = S.speedup_table(records, settings)
    assert len(speedups) == len(settings.rungs) * len(settings.sizes) * len(settings.data)
    assert (speedups["compute per run (GFLOPs)"] > 0).all()
    # compute per run: 3 × forward FLOPs × backprops, rising with the rung at each size
    for size in settings.sizes:
        column = speedups.xs(f"{size:.3g}", level=1).xs(S.PRISTINE, level="data")["compute per run (GFLOPs)"]
        assert list(column) == sorted(column)
    trends = S.trend_table(records, settings)
    assert set(trends.index.get_level_values("method")) == {S.SB, S.RHO}
    claims = S.claims(records, settings)
    assert len(claims) == 4 and all(c.verdict in ("confirmed", "contradicted", "mixed", "inconclusive") for c in claims)
    series, fits, papers = S.figure_data(records, settings, S.PRISTINE, "backprops", "compute per run")
    assert set(series) == {S.SB, S.RHO} and all(x > 0 for x, *_ in series[S.SB])
    assert S.SB in fits  # four cells: a fitted line
    assert [p[0] for p in papers] == ["paper M: RHO-LOSS, CIFAR-10, steps (reported)"]  # J's is in wall clock


def test_the_papers_points_sit_at_their_own_compute():
    points = S.paper_points()
    j, m = points.loc["paper J: SB, CIFAR-10, wall clock"], points.loc["paper M: RHO-LOSS, CIFAR-10, steps"]
    assert j["speedup"] == 1.4 and m["speedup"] == 3.82  # the papers' numbers as they report them
    assert j["compute per run (FLOPs)"] > 10 * m["compute per run (FLOPs)"]  # WRN-28-10 for 200 epochs of 50k


def test_the_slopes_interval_covers_the_true_slope_about_95_percent_of_the_time():
    generator = random.Random(0)
    xs = [math.log10(v) for v in (1e9, 3e9, 1e10, 3e10, 1e11, 3e11, 1e12, 3e12, 1e13)]
    covered = 0
    for _ in range(2000):
        ys = [0.2 + 0.15 * x + generator.gauss(0, 0.3) for x in xs]
        found = slope(xs, ys)
        covered += found.low <= 0.15 <= found.high
    assert covered / 2000 == pytest.approx(0.95, abs=0.015)
    exact = slope([0, 1, 2, 3], [1, 3, 5, 7])
    assert exact.value == pytest.approx(2.0) and exact.low == pytest.approx(2.0)
    assert not math.isfinite(slope([0, 1], [0, 1]).estimate.se)  # two points: a slope, no interval


def test_a_trend_over_cells_that_never_reached_the_target_is_shown_not_decided(smoke, monkeypatch):
    settings, records = smoke
    real, last = S.cell_speedup, list(settings.rungs)[-1]

    def without_last_rung(records, cell, method, *rest):  # RHO-LOSS never reaches the target on the last rung
        return None if method == S.RHO and cell.model == last else real(records, cell, method, *rest)

    monkeypatch.setattr(S, "cell_speedup", without_last_rung)
    missing = S.ladder(records, settings, S.RHO, S.PRISTINE, "backprops").unreached
    assert {c.model for c in missing} >= {last} and sum(c.model == last for c in missing) == len(settings.sizes)
    for claim in S.claims(records, settings):
        if claim.claim.startswith(S.RHO):
            assert claim.verdict == "inconclusive" and "cells never reached the target (" in claim.ours
            assert last in claim.ours.split("never reached the target (")[1].split(")")[0]
            assert all(o.value is None for o in claim.outcomes)  # not decided, whatever the rest's slope
    table = S.trend_table(records, settings).xs(S.RHO, level="method")
    assert (table["cells that never reached the target"] >= len(settings.sizes)).all()
