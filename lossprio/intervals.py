"""How sure a number is: percentile-bootstrap intervals over seeds, verdicts that may say
"inconclusive", and whether a verdict survives dropping any one seed.

A speedup is a statistic of two groups of seeds (the baseline's, which set the target, and the
method's); its interval resamples both groups with replacement and recomputes the target inside
every resample, so the target's own noise is in the interval. A claim is *confirmed* or
*contradicted* only when every interval it rests on clears its threshold; when one straddles it,
the claim is *inconclusive*.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .metrics import NEVER, speedup_over_seeds
from .records import RunRecord

T = TypeVar("T")
#: the verdicts a claim can get
VERDICTS = ("confirmed", "contradicted", "mixed", "inconclusive")


@dataclass(frozen=True)
class Interval:
    """A ``level`` (e.g. 0.95) percentile-bootstrap interval."""

    low: float
    high: float
    level: float = 0.95
    zero_is_never: bool = False  # a speedup interval: 0 stands for "never reached the target"

    def __str__(self) -> str:
        def show(value: float) -> str:
            return "never" if self.zero_is_never and value == 0 else f"{value:.1f}"

        return f"({show(self.low)}–{show(self.high)})"

    def above(self, threshold: float) -> bool | None:
        """``True`` if the whole interval lies above ``threshold``, ``False`` if it lies at or
        below it, ``None`` (undecided) if it straddles it."""
        if self.low > threshold:
            return True
        if self.high <= threshold:
            return False
        return None


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (linear between order statistics)."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bootstrap(
    statistic: Callable[..., float],
    groups: Sequence[Sequence[T]],
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Percentile interval of ``statistic(*groups)`` over ``resamples`` resamplings of every group
    with replacement (each group keeps its size)."""
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} must lie in (0, 1)")
    if resamples < 1:
        raise ValueError(f"resamples={resamples!r} must be a positive integer")
    if any(len(group) == 0 for group in groups):
        raise ValueError("every group needs at least one member to resample")
    rng = random.Random(seed)
    values = [statistic(*(rng.choices(group, k=len(group)) for group in groups)) for _ in range(resamples)]
    tail = (1 - level) / 2
    return Interval(percentile(values, tail), percentile(values, 1 - tail), level)


def speedup_interval(
    baselines: Sequence[RunRecord],
    methods: Sequence[RunRecord],
    factor: float = 1.2,
    reference: str = "best",
    x: str = "backprops",
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    target_share: float = 1.0,
) -> Interval:
    """Bootstrap interval of :func:`~lossprio.metrics.speedup_over_seeds` (the median seed's
    speedup, "never reached" as 0), baseline and method seeds resampled, the target recomputed in
    every resample."""

    def value(sampled_baselines: Sequence[RunRecord], sampled_methods: Sequence[RunRecord]) -> float:
        found = speedup_over_seeds(sampled_baselines, sampled_methods, factor, reference, x, target_share)
        return 0.0 if found.value is NEVER else float(found.value)

    found = bootstrap(value, [list(baselines), list(methods)], resamples, seed, level)
    return dataclasses.replace(found, zero_is_never=True)


def difference_interval(
    first: Sequence[float], second: Sequence[float], resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Bootstrap interval of ``mean(first) − mean(second)``, each group resampled with replacement
    (e.g. a method's final errors over seeds against the baseline's)."""
    return bootstrap(
        lambda a, b: statistics.fmean(a) - statistics.fmean(b), [list(first), list(second)], resamples, seed, level
    )


def verdict(outcomes: Sequence[bool | None]) -> str:
    """A claim's verdict from its comparisons (``True`` agrees, ``False`` disagrees, ``None``
    undecided by its interval): ``confirmed`` if all agree, ``contradicted`` if none does and
    none is undecided, ``inconclusive`` if any is undecided and the rest do not settle it either
    way, else ``mixed``."""
    if not outcomes:
        raise ValueError("a claim needs at least one comparison")
    if all(o is True for o in outcomes):
        return "confirmed"
    if all(o is False for o in outcomes):
        return "contradicted"
    if any(o is None for o in outcomes):
        return "inconclusive"
    return "mixed"


def without_seed(records: Mapping[Hashable, RunRecord], seed: int) -> dict[Hashable, RunRecord]:
    """``records`` less the runs of ``seed`` (run keys with a ``seed`` field)."""
    return {key: record for key, record in records.items() if key.seed != seed}


def seed_drops(
    records: Mapping[Hashable, RunRecord], verdicts: Callable[[Mapping[Hashable, RunRecord]], Sequence[str]]
) -> list[tuple[int, int]]:
    """Per claim: (how many of the single-seed drops keep its verdict, how many seeds there are).
    ``verdicts`` maps records to the claims' verdicts (e.g. a chapter's claims)."""
    seeds = sorted({key.seed for key in records})
    full = list(verdicts(records))
    kept = [0] * len(full)
    for seed in seeds:
        for position, found in enumerate(verdicts(without_seed(records, seed))):
            kept[position] += found == full[position]
    return [(k, len(seeds)) for k in kept]


def describe_drops(kept: int, seeds: int) -> str:
    """``"5/5 seed drops"``: how many single-seed drops keep a verdict."""
    return f"{kept}/{seeds} seed drops"


__all__: list[Any] = [
    "Interval",
    "VERDICTS",
    "bootstrap",
    "describe_drops",
    "percentile",
    "seed_drops",
    "speedup_interval",
    "verdict",
    "without_seed",
]
