"""Speedups over seeds to the book's target, and seed-drop robustness."""

from typing import NamedTuple

import pytest

from lossprio.chapters.kit import FASTER
from lossprio.compare import CONFIRMED, INCONCLUSIVE, outcome, speedup
from lossprio.intervals import seed_drops

from .planted import finished_run


def curve(costs_to_errors) -> object:
    return finished_run(evals=[{"backprops": x, "test_error": e} for x, e in costs_to_errors])


def test_a_speedup_interval_holds_both_groups_and_its_target_from_the_baselines():
    baselines = [curve([(100, 0.5), (200, 0.2)]), curve([(100, 0.5), (200, 0.3)])]  # target 1.2 × 0.3
    fast = [curve([(25, 0.5), (50, 0.2), (100, 0.1)])] * 3
    found = speedup(baselines, fast, factor=1.2)
    assert found.value == pytest.approx(4.0) and found.low > 1.0  # 200 against 50 in every seed, the grid's step wide
    assert outcome("", found, FASTER).decided() == CONFIRMED
    mixed = [curve([(25, 0.5), (50, 0.2)]), curve([(200, 0.5), (400, 0.2)]), curve([(100, 0.5), (200, 0.2)])]
    assert outcome("", speedup(baselines, mixed, factor=1.2), FASTER).decided() == INCONCLUSIVE


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
    # best errors 0.10, 0.20, 0.30: the target is 1.0 × 0.30, which the worst seed reaches only at its end
    baselines = [curve([(100, 0.4), (200, e)]) for e in (0.10, 0.20, 0.30)]
    found = speedup(baselines, baselines, factor=1.0)
    assert found.target_error == pytest.approx(0.30)
    assert found.value == 1.0 and found.reached == 3 and found.identical  # the baseline against itself: 1x exactly
    stricter = speedup(baselines, baselines, factor=1.0, target_share=0.5)
    assert stricter.target_error == pytest.approx(0.15) and stricter.reached == 1  # a stricter target may be missed
    with pytest.raises(ValueError, match="target_share=0"):
        speedup(baselines, baselines, target_share=0.0)
    with pytest.raises(ValueError, match="target_share=1.5"):
        speedup(baselines, baselines, target_share=1.5)


def test_a_sensitivity_table_shows_each_headline_at_each_share_of_the_target():
    from lossprio.chapters.kit import SENSITIVITY_SHARES, target_sensitivity

    # target 0.19: the seeds get there at 400 and 200 (geometric mean 283); below it only the second does (200),
    # the first counts at its last evaluation (400), a lower bound on its cost: the speedup is then at least 2.8x
    baselines = [curve([(100, 0.5), (200, 0.2), (400, 0.19)]), curve([(100, 0.5), (200, 0.18), (400, 0.15)])]
    method = [curve([(50, 0.3), (100, 0.185)])] * 2

    def at(target_share: float):
        return speedup(baselines, method, 1.0, target_share=target_share)

    table = target_sensitivity({"m": at})
    assert list(table.columns) == [f"{100 * s:g} % of the target" for s in SENSITIVITY_SHARES]
    first, *stricter = table.loc["m"].tolist()
    assert first.startswith("2.8x (") and all(s.startswith("≥ 2.8x (") and s.endswith("–∞)") for s in stricter)
