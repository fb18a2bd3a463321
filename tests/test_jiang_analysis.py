"""Chapter J's page analyses on planted records whose answers are known by hand."""

import math

import pandas as pd
import pytest

from lossprio.chapters import jiang2019 as J
from lossprio.records import RunRecord

from .planted import finished_run


def record(
    counters=None, phases=None, evals=None, probes=None, confidences=None, tracked=None, corrupted=(), size=10
) -> RunRecord:
    return finished_run(
        counters=counters or {},
        phase_seconds=phases or {},
        evals=evals or [{"backprops": 1, "train_wall_s": 1.0, "step": 1, "test_error": 0.5}],
        probes=probes or [],
        confidences=confidences or {},
        tracked=tracked or {},
        corrupted=list(corrupted),
        selection_counts=[0] * size,
    )


def key(method, seed=0, schedule="A", flips=0.0):
    return J.Run(method, schedule, flips, seed)


def test_modelled_wall_clock_prices_each_count_and_divides_by_traditional():
    times = {"selection_forward": 1.0, "train_forward": 2.0, "backward": 3.0}
    traditional = record({"selection_forwards": 0, "training_forwards": 10, "backprops": 10})
    sb = record({"selection_forwards": 10, "training_forwards": 4, "backprops": 4})
    table = J.modelled_wall_clock_table({key("Traditional"): traditional, key("SB β=2"): sb}, times)
    assert table.loc["Traditional", "modelled, this machine (s)"] == 10 * 2 + 10 * 3
    assert table.loc["SB β=2", "modelled, this machine (s)"] == 10 * 1 + 4 * 2 + 4 * 3
    assert table.loc["SB β=2", "modelled, backward = 2.5 × forward (s)"] == 10 * 1 + 4 * 2 + 4 * 2.5 * 2
    assert table.loc["SB β=2", "modelled, this machine ÷ Traditional"] == pytest.approx(30 / 50)
    assert list(table.index) == ["Traditional", "SB β=2"]


def test_staleness_counts_selection_and_training_forwards_per_training_set():
    records = {
        key("SB β=2"): record({"selection_forwards": 30, "training_forwards": 10}, size=20),
        key("Stale-SB n=3"): record({"selection_forwards": 10, "training_forwards": 10}, size=20),
    }
    table = J.staleness_table(records)
    assert list(table.index) == ["n=1 (SB β=2)", "n=3"]
    assert (
        table.loc["n=1 (SB β=2)", "forward passes (÷ training set)"] == 2.0
        and table.loc["n=3", "forward passes (÷ training set)"] == 1.0
    )


def test_probe_summary_leaves_out_the_first_epoch():
    def probe(epoch, value):
        return {
            "step": epoch + 1,
            "epoch": epoch,
            **{f"{m}_{k}_{s}": value for m in J.PROBE_MEASURES for k in ("top", "random") for s in ("half", "third")},
        }

    records = {
        key("Traditional", s): record(probes=[probe(0, 9.0), probe(1, 0.2 + s), probe(2, 0.4 + s)]) for s in (0, 1)
    }
    summary = J.probe_summary(records)
    assert summary.loc["cosine top", "half"] == pytest.approx((0.2 + 0.4 + 1.2 + 1.4) / 4)
    curves = J.probe_curves(records)
    assert list(curves.index) == [1, 2, 3] and curves["same_sign random third"].iloc[0] == 9.0


def test_hardest_share_averages_the_least_confident_bins():
    curves = {
        "Traditional": pd.DataFrame(
            {"confidence": [0.1, 0.5, 0.9], "accuracy": [0.0, 1.0, 1.0]}, index=[10.0, 20.0, 90.0]
        )
    }
    shares = J.hardest_share(curves, 20)
    assert (
        shares.loc["Traditional", "confidence"] == pytest.approx(0.3) and shares.loc["Traditional", "accuracy"] == 0.5
    )


def test_confidence_by_method_uses_only_runs_that_took_the_snapshot():
    snapshot = {"1": {"confidence": [0.2] * 100 + [0.8] * 100, "correct": [0] * 100 + [1] * 100}}
    records = {key("Traditional"): record(confidences=snapshot), key("SB β=2"): record()}
    curves = J.confidence_by_method(records, 1)
    assert list(curves) == ["Traditional"] and curves["Traditional"]["confidence"].min() == pytest.approx(0.2)
    assert J.hardest_share(curves, 50).loc["Traditional", "accuracy"] == 0.0


def test_pareto_shares_are_shares_of_the_frontier_points():
    points = pd.DataFrame({"method": ["SB", "SB", "Traditional", "Kath18"], "pareto": [True, True, True, False]})
    assert J.pareto_shares(points).round(3).to_dict() == {"SB": 0.667, "Traditional": 0.333}
    assert J.pareto_shares(pd.DataFrame()).empty


def test_tracked_examples_pick_easy_hard_and_flipped_by_mean_probability_after_the_first_epoch():
    def rows(p_first, p_later):  # [epoch, step, score, p, chosen]
        return [[0, 1, 0.0, p_first, 1], [1, 2, 0.0, p_later, 0], [2, 3, 0.0, p_later, 0]]

    tracked = {"0": rows(1.0, 0.1), "1": rows(1.0, 0.9), "2": rows(1.0, 0.5), "3": rows(1.0, 0.95), "4": rows(0.0, 0.3)}
    sb = record(tracked=tracked, corrupted=[3])
    picks = J.tracked_examples({key("SB β=2", flips=0.1, schedule="A"): sb}, per_kind=1)
    assert {kind: list(series) for kind, series in picks.items()} == {"easy": [0], "hard": [1], "flipped label": [3]}
    assert picks["easy"][0].to_dict() == {0: 1.0, 1: 0.1, 2: 0.1}
    assert J.tracked_examples({}) == {}


def test_beta_sweep_reports_each_beta_that_ran():
    fast = [{"backprops": b, "train_wall_s": b / 10, "step": b, "test_error": e} for b, e in ((50, 0.2), (100, 0.1))]
    slow = [{"backprops": b, "train_wall_s": b / 10, "step": b, "test_error": e} for b, e in ((100, 0.2), (200, 0.1))]
    records = {
        key("Traditional"): record(evals=slow),
        key("SB β=1"): record(evals=fast),
        key("SB β=3"): record(evals=slow),
    }
    table = J.beta_sweep(records, factor=1.4)
    assert list(table.index) == ["SB β=1", "SB β=3"]
    assert table.loc["SB β=1", "speedup, backprops"] == "2.0x" and table.loc["SB β=1", "final test error (%)"] == 10.0
    points = J.beta_points(records, factor=1.4)
    assert points["SB β=1"] == pytest.approx((10.0, 2.0)) and points["SB β=3"][1] == pytest.approx(1.0)
    assert not math.isnan(points["SB β=3"][0])
