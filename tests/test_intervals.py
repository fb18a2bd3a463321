"""Intervals over seeds, verdicts that can be inconclusive, and seed-drop robustness."""

from typing import NamedTuple

import pytest

from lossprio.intervals import Interval, bootstrap, percentile, seed_drops, speedup_interval, verdict

from .planted import finished_run


def curve(costs_to_errors) -> object:
    return finished_run(evals=[{"backprops": x, "test_error": e} for x, e in costs_to_errors])


def test_percentile_interpolates_between_order_statistics():
    assert percentile([3, 1, 2, 4], 0.5) == 2.5 and percentile([5], 0.9) == 5 and percentile([0, 10], 0.25) == 2.5


def test_a_bootstrap_of_identical_values_has_no_width_and_of_spread_ones_covers_them():
    assert bootstrap(lambda g: sum(g) / len(g), [[2.0] * 5]) == Interval(2.0, 2.0)
    spread = bootstrap(lambda g: sum(g) / len(g), [[1.0, 2.0, 3.0, 4.0, 5.0]], resamples=2000, seed=1)
    assert 1.0 < spread.low < 3.0 < spread.high < 5.0
    with pytest.raises(ValueError, match="level=1.5"):
        bootstrap(sum, [[1.0]], level=1.5)


def test_a_speedup_interval_resamples_both_groups_and_recomputes_the_target():
    baselines = [curve([(100, 0.5), (200, 0.2)]), curve([(100, 0.5), (200, 0.3)])]  # targets 1.2 × 0.2 … 0.3
    fast = [curve([(50, 0.2), (100, 0.1)])] * 3
    interval = speedup_interval(baselines, fast, factor=1.2, resamples=300)
    assert interval.low >= 2.0 and interval.above(1.0) is True
    mixed = [curve([(50, 0.2)]), curve([(400, 0.2)]), curve([(200, 0.2)])]  # 4x, 0.5x and 1x
    assert speedup_interval(baselines, mixed, factor=1.2, resamples=300).above(1.0) is None


def test_verdicts_are_decided_only_by_intervals_that_clear_their_threshold():
    assert verdict([True, True]) == "confirmed" and verdict([False, False]) == "contradicted"
    assert (
        verdict([True, False]) == "mixed"
        and verdict([True, None]) == "inconclusive"
        and verdict([None]) == "inconclusive"
    )
    assert (Interval(1.2, 1.9).above(1.0), Interval(0.5, 0.9).above(1.0), Interval(0.9, 1.3).above(1.0)) == (
        True,
        False,
        None,
    )


class Key(NamedTuple):
    method: str
    seed: int


def test_seed_drops_count_the_single_seed_removals_that_keep_a_verdict():
    records = {
        Key(m, s): finished_run(evals=[{"test_error": 0.1 if (m, s) != ("a", 2) else 0.9}])
        for m in "ab"
        for s in range(5)
    }

    def verdicts(found):
        a = [r.best_test_error for k, r in found.items() if k.method == "a"]
        return ["confirmed" if max(a) < 0.5 else "contradicted", "confirmed"]

    assert seed_drops(records, verdicts) == [(4, 5), (5, 5)]  # only dropping seed 2 flips the first claim


def test_the_target_is_the_worst_baseline_seeds_error_so_every_baseline_seed_reaches_it():
    from lossprio.metrics import speedup_over_seeds

    # best errors 0.10, 0.20, 0.30: the target is 1.0 × 0.30, which the worst seed reaches only at its end
    baselines = [curve([(100, 0.4), (200, e)]) for e in (0.10, 0.20, 0.30)]
    found = speedup_over_seeds(baselines, baselines, factor=1.0)
    assert found.target_error == pytest.approx(0.30)
    assert found.value == pytest.approx(1.0) and found.reached == 3  # the baseline against itself: 1x, every seed
    stricter = speedup_over_seeds(baselines, baselines, factor=1.0, target_share=0.5)
    assert stricter.target_error == pytest.approx(0.15) and stricter.reached == 1  # a stricter target may be missed
    with pytest.raises(ValueError, match="target_share=0"):
        speedup_over_seeds(baselines, baselines, target_share=0.0)
    with pytest.raises(ValueError, match="target_share=1.5"):
        speedup_over_seeds(baselines, baselines, target_share=1.5)


def test_a_sensitivity_table_shows_each_headline_at_each_share_of_the_target():
    from lossprio.chapters.kit import SENSITIVITY_SHARES, target_sensitivity
    from lossprio.metrics import speedup_over_seeds

    # target 0.19: the seeds get there at 400 and 200 (cost 300); below it only the second seed does (200)
    baselines = [curve([(100, 0.5), (200, 0.2), (400, 0.19)]), curve([(100, 0.5), (200, 0.18), (400, 0.15)])]
    method = [curve([(50, 0.3), (100, 0.185)])] * 2

    def at(target_share: float):
        return speedup_over_seeds(baselines, method, 1.0, target_share=target_share)

    table = target_sensitivity({"m": at})
    assert list(table.columns) == [f"{100 * s:g} % of the target" for s in SENSITIVITY_SHARES]
    assert table.loc["m"].tolist() == ["3.0x", "2.0x", "2.0x"]
