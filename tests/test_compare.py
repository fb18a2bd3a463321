"""The comparison module: coverage of its intervals measured on planted data of known effect at
the book's seed counts, consistent estimators (identical arms give exactly 1.0× and ±0), rules
stated as superiority, non-inferiority or equivalence, and Holm's adjustment."""

import math
import random

import pytest

from lossprio import compare as C
from lossprio import coverage
from lossprio.coverage import planted_run
from lossprio.metrics import NEVER

SEEDS = 5  # the book's seed count


@pytest.mark.parametrize("spreads", [(0.3, 0.3), (0.1, 0.6)])
def test_a_difference_of_means_is_covered_at_least_93_percent_at_five_seeds(spreads):
    assert coverage.difference_coverage(spreads=spreads, seeds=SEEDS, trials=3000) >= 0.93


def test_a_mean_interval_is_covered_at_least_93_percent_at_five_seeds():
    rng, hits, trials = random.Random(2), 0, 3000
    for _ in range(trials):
        _, low, high = C.mean_interval([rng.gauss(12.0, 0.5) for _ in range(SEEDS)])
        hits += low <= 12.0 <= high
    assert hits / trials >= 0.93


@pytest.mark.parametrize("true_speedup", [1.0, 2.0, 6.0, 13.0])
def test_a_speedup_on_a_coarse_grid_is_covered_at_least_93_percent(true_speedup):
    assert coverage.speedup_coverage(true_speedup, seeds=SEEDS, trials=500) >= 0.93


def test_the_grid_bracket_is_what_makes_it_cover():
    """Without the evaluation bracket the same interval misses a large speedup on the doubling grid."""
    assert coverage.speedup_coverage(6.0, spread=0.1, bracketed=False) < 0.9
    assert coverage.speedup_coverage(6.0, spread=0.1) >= 0.93


def test_identical_arms_give_exactly_one_and_plus_minus_zero():
    grid = [float(x) for x in range(10, 400, 10)]
    runs = [planted_run(c, grid, s) for s, c in enumerate([120, 150, 90, 200, 130])]
    same = C.speedup(runs, runs, factor=1.0)
    assert same.value == 1.0 and same.identical and str(same).startswith("1.0x (")
    assert C.outcome("noise floor", same, C.Rule("superiority", 1.0, "higher", scale="ratio")).decided() == C.SAME
    errors = [10.0, 10.4, 9.9]
    flat = C.difference(errors, errors, identical=True)
    assert (flat.value, flat.numbers) == (0.0, "±0")


def test_a_seed_that_never_reaches_the_target_makes_the_speedup_an_upper_bound():
    grid = [float(x) for x in range(10, 400, 10)]
    base = [planted_run(c, grid, s) for s, c in enumerate([200, 210, 190, 205, 195])]
    slow = [planted_run(c, grid, s) for s, c in enumerate([100, 110, 90, 1e9, 100])]
    found = C.speedup(base, slow, factor=1.0)
    assert found.at_most and found.reached == 4 and found.low == 0 and str(found).startswith("≤ ")
    mostly_never = C.speedup(base, [planted_run(c, grid, s) for s, c in enumerate([100, 1e9, 1e9, 1e9, 100])])
    assert mostly_never.value is NEVER and str(mostly_never).startswith("—")
    first = C.speedup(base, [planted_run(5, grid, s) for s in range(5)], factor=1.0)
    assert first.at_least and math.isinf(first.high) and str(first).startswith("≥ ")


def test_rules_decide_superiority_non_inferiority_and_equivalence():
    def diff(centre: float, se: float) -> C.Difference:
        return C.Difference(centre, C.Estimate(centre, se, 8.0), (5, 5))

    better = C.Rule("superiority", 0.0, "lower")
    assert C.outcome("a", diff(-1.0, 0.2), better).decided() == C.CONFIRMED
    assert C.outcome("a", diff(+1.0, 0.2), better).decided() == C.CONTRADICTED
    assert C.outcome("a", diff(-0.1, 0.2), better).decided() == C.INCONCLUSIVE
    lossless = C.Rule("non-inferiority", 0.5, "lower", why="InfoBatch's 'lossless'")
    assert C.outcome("a", diff(0.2, 0.05), lossless).decided() == C.CONFIRMED  # worse, but within the margin
    assert C.outcome("a", diff(0.9, 0.05), lossless).decided() == C.CONTRADICTED
    vanish = C.Rule("equivalence", 0.5, "lower")
    assert C.outcome("a", diff(0.0, 0.1), vanish).decided() == C.CONFIRMED
    assert C.outcome("a", diff(-2.0, 0.1), vanish).decided() == C.CONTRADICTED  # a gain far outside the margin
    assert C.outcome("a", diff(0.3, 0.2), vanish).decided() == C.INCONCLUSIVE
    assert "equivalence" in vanish.describe() and "±0.5 pts" in vanish.describe()
    slope = C.Rule("superiority", 0.0, "higher", unit="")  # a plain number: no "pts" on a slope
    assert slope.describe() == "superiority: 95 % interval above 0"
    with pytest.raises(ValueError, match="kind"):
        C.Rule("better", 0.0, "lower")
    with pytest.raises(ValueError, match="margin"):
        C.Rule("equivalence", 0.0, "lower")


def test_a_claims_verdict_reads_mixed_when_its_outcomes_disagree():
    assert C.verdict([C.CONFIRMED, C.CONFIRMED, C.SAME]) == C.CONFIRMED
    assert C.verdict([C.CONFIRMED, C.CONTRADICTED]) == C.MIXED
    assert C.verdict([C.CONFIRMED, C.INCONCLUSIVE]) == C.INCONCLUSIVE
    assert C.verdict([C.SAME]) == C.INCONCLUSIVE


def test_holm_adjusts_a_family():
    assert C.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    outcomes = [C.Outcome(str(i), "", p, 1.0) for i, p in enumerate([0.001, 0.02, 0.5])]
    assert [o.decided() for o in outcomes] == [C.CONFIRMED, C.CONFIRMED, C.INCONCLUSIVE]
    assert C.adjusted_decisions(outcomes) == [C.CONFIRMED, C.INCONCLUSIVE, C.INCONCLUSIVE]
