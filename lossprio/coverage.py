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
