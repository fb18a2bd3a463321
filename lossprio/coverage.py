"""How often the book's intervals cover a planted effect: simulations at the book's seed counts,
for a difference of means and for a speedup read off a coarse evaluation grid (the numbers the
"How we decide" page shows and the tests hold at 93 % or more)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from types import SimpleNamespace

from . import compare

#: a coarse grid of evaluations that doubles early, as chapter M's and crosspaper's first ones do
DOUBLING_GRID = (10.0, 20.0, 40.0, 80.0, 93.0, 160.0, 240.0, 320.0, 400.0, 480.0, 560.0, 640.0, 720.0, 800.0)


def planted_run(cost: float, grid: Sequence[float], seed: int = 0) -> SimpleNamespace:
    """A stand-in record whose test error drops from 0.5 to 0.1 at ``cost`` (back-propagated
    examples), seen only at the evaluations ``grid``."""
    evals = [{"backprops": x, "test_error": 0.1 if x >= cost else 0.5} for x in grid]
    return SimpleNamespace(
        evals=evals, status="finished", best_test_error=min(e["test_error"] for e in evals), config={"seed": seed}
    )


def difference_coverage(
    effect: float = -0.4, spreads: tuple[float, float] = (0.3, 0.3), seeds: int = 5, trials: int = 2000, seed: int = 0
) -> float:
    """Share of ``trials`` in which the 95 % interval of a difference of means over ``seeds``
    normal values a side (standard deviations ``spreads``) covers the planted ``effect``."""
    rng, hits = random.Random(seed), 0
    for _ in range(trials):
        first = [rng.gauss(10 + effect, spreads[0]) for _ in range(seeds)]
        second = [rng.gauss(10, spreads[1]) for _ in range(seeds)]
        found = compare.difference(first, second)
        hits += found.low <= effect <= found.high
    return hits / trials


def speedup_coverage(
    true_speedup: float = 2.0,
    spread: float = 0.25,
    grid: Sequence[float] = DOUBLING_GRID,
    seeds: int = 5,
    trials: int = 500,
    seed: int = 0,
    bracketed: bool = True,
) -> float:
    """Share of ``trials`` in which a speedup's 95 % interval covers ``true_speedup``: each seed's
    cost to the target is log-normal (baseline around 300 examples, spread ``spread`` in log),
    seen only at the evaluations ``grid``. ``bracketed=False``: the interval without the grid's
    bracket (what the grid alone does to coverage)."""
    rng, hits = random.Random(seed), 0
    for _ in range(trials):
        base = [planted_run(math.exp(rng.gauss(math.log(300), spread)), grid, s) for s in range(seeds)]
        cost = math.log(300 / true_speedup)
        method = [planted_run(math.exp(rng.gauss(cost, spread)), grid, s) for s in range(seeds)]
        found = compare.speedup(base, method, factor=1.0)
        low, high = found.low, found.high
        if not bracketed:
            bare = compare.Estimate(found.estimate.centre, found.estimate.se, found.estimate.df)
            low, high = (math.exp(end) for end in bare.bounds())
        hits += low <= true_speedup <= high
    return hits / trials


def bootstrap_difference_coverage(
    effect: float = -0.4,
    spreads: tuple[float, float] = (0.3, 0.3),
    seeds: int = 5,
    trials: int = 2000,
    resamples: int = 1000,
    seed: int = 0,
) -> float:
    """The same as :func:`difference_coverage` for the 95 % percentile bootstrap of a difference
    of means (each side's seeds resampled with replacement), the interval the book used before:
    what it gives up at a handful of seeds."""
    import numpy as np

    rng, hits = np.random.default_rng(seed), 0
    for _ in range(trials):
        first = rng.normal(10 + effect, spreads[0], seeds)
        second = rng.normal(10, spreads[1], seeds)
        picks = rng.integers(0, seeds, size=(2, resamples, seeds))
        values = first[picks[0]].mean(axis=1) - second[picks[1]].mean(axis=1)
        low, high = np.quantile(values, [0.025, 0.975])
        hits += low <= effect <= high
    return hits / trials


def coverage_table(trials: int = 2000, seeds: int = 5) -> list[dict[str, object]]:
    """The book's coverage checks as rows (what, interval, measured coverage): differences of
    means with equal and unequal spreads (t and, for comparison, the percentile bootstrap), and
    speedups of 1×–13× on the doubling grid, with and without the grid's bracket."""
    rows: list[dict[str, object]] = []
    for spreads in ((0.3, 0.3), (0.1, 0.6)):
        what = f"difference of means, spreads {spreads[0]:g} and {spreads[1]:g}"
        rows.append(
            {
                "what": what,
                "interval": "Welch t (the book's)",
                "coverage": difference_coverage(spreads=spreads, seeds=seeds, trials=trials),
            }
        )
        rows.append(
            {
                "what": what,
                "interval": "percentile bootstrap (before)",
                "coverage": bootstrap_difference_coverage(spreads=spreads, seeds=seeds, trials=max(1, trials // 4)),
            }
        )
    for true_speedup in (1.0, 2.0, 6.0, 13.0):
        what = f"speedup {true_speedup:g}× on the doubling grid"
        rows.append(
            {
                "what": what,
                "interval": "t on log costs + grid bracket (the book's)",
                "coverage": speedup_coverage(true_speedup, seeds=seeds, trials=max(1, trials // 4)),
            }
        )
    rows.append(
        {
            "what": "speedup 6× on the doubling grid, seeds close together",
            "interval": "t on log costs, no bracket",
            "coverage": speedup_coverage(6.0, spread=0.1, seeds=seeds, trials=max(1, trials // 4), bracketed=False),
        }
    )
    return rows
