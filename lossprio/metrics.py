"""Measures of speed and quality computed from run records.

Paper H: speedup = backprops the baseline needs to reach 1.2 × its *best* test error, divided
by the backprops the method needs; "—" if the method never gets there. Paper J: the same with
wall-clock and the baseline's *final* error (at 1.1, 1.2, 1.4 ×). Paper M: optimizer steps
needed to reach a target accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .checks import check_choice, check_range
from .records import RunRecord

if TYPE_CHECKING:
    from .intervals import Interval


class NeverReached:
    """The target was never reached: its own value, shown as the papers show it ("—")."""

    def __repr__(self) -> str:
        return "NEVER"

    def __str__(self) -> str:
        return "—"


NEVER = NeverReached()


def first_reaching(xs: Sequence[float], errors: Sequence[float], target: float) -> float | NeverReached:
    """The first x at which error <= target, or :data:`NEVER`."""
    for x, error in zip(xs, errors):
        if error <= target:
            return x
    return NEVER


#: the cost measure that adds a run's one-off set-up (IL model, proxy) to its training wall clock
WITH_SETUP = "train_wall_s+setup"


def curve(record: RunRecord, x: str) -> tuple[list[float], list[float]]:
    """(x values, test errors) of a record's evaluations; x is any eval field (``backprops``,
    ``train_wall_s``, ``step``) or :data:`WITH_SETUP` (``ValueError`` for a record without set-up costs)."""
    if x == WITH_SETUP:
        if record.setup_seconds is None:
            raise ValueError(f"{record.run_id} has no set-up cost recorded (a record older than format 4)")
        return [e["train_wall_s"] + record.setup_seconds for e in record.evals], [e["test_error"] for e in record.evals]
    return [e[x] for e in record.evals], [e["test_error"] for e in record.evals]


@dataclass(frozen=True)
class Speedup:
    """A method's speedup to a target error; ``value`` is a float or :data:`NEVER`."""

    value: float | NeverReached
    target_error: float
    baseline_cost: float
    method_cost: float | NeverReached

    def __str__(self) -> str:
        return str(self.value) if self.value is NEVER else f"{self.value:.1f}x"


def speedup(
    baseline: RunRecord, method: RunRecord, factor: float = 1.2, reference: str = "best", x: str = "backprops"
) -> Speedup:
    """Speedup of ``method`` over ``baseline`` to ``factor`` × the baseline's best (H) or final (J) error.

    Args:
        baseline: the standard-training record.
        method: the record to compare.
        factor: multiple of the baseline's reference error that counts as the target (>= 1).
        reference: ``best`` (paper H) or ``final`` (paper J).
        x: cost axis: ``backprops`` (H), ``train_wall_s`` (J's wall clock), ``step``.
    """
    check_range("factor", factor, 1.0)
    check_choice("reference", reference, ["best", "final"])
    target = factor * (baseline.best_test_error if reference == "best" else baseline.final_test_error)
    baseline_cost = first_reaching(*curve(baseline, x), target)
    if baseline_cost is NEVER:  # cannot happen for factor >= 1 unless the record is empty
        raise ValueError("the baseline never reaches its own target: is its evals list empty?")
    method_cost = first_reaching(*curve(method, x), target)
    value = NEVER if method_cost is NEVER else baseline_cost / method_cost
    return Speedup(value, target, baseline_cost, method_cost)


def steps_to_accuracy(record: RunRecord, accuracy: float, x: str = "step") -> float | NeverReached:
    """Paper M's measure: the first ``x`` (optimizer steps by default) with test accuracy >= ``accuracy``."""
    check_range("accuracy", accuracy, 0.0, 1.0)
    xs, errors = curve(record, x)
    return first_reaching(xs, [-(1.0 - e) for e in errors], -accuracy)  # accuracy >= target


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (budget, error) points no other point beats on both, sorted by budget."""
    frontier: list[tuple[float, float]] = []
    for budget, error in sorted(points):
        if not frontier or error < frontier[-1][1]:
            frontier.append((budget, error))
    return frontier


@dataclass(frozen=True)
class SeedSpeedup:
    """A method's speedup over several seeds: the median seed's, "never reached" ranked slowest.

    ``lower_bound``: the median seed reached the target at its first evaluation, so it may have
    reached it sooner and the speedup is at least the value (shown ``≥``). ``interval``: a
    bootstrap interval over seeds (:func:`lossprio.intervals.speedup_interval`), where computed.
    """

    value: float | NeverReached
    reached: int
    seeds: int
    target_error: float
    diverged: int = 0  # seeds of the method whose run diverged (counted as not reaching the target)
    lower_bound: bool = False
    interval: Interval | None = None

    def __str__(self) -> str:
        text = "—" if self.value is NEVER else f"{'≥ ' if self.lower_bound else ''}{self.value:.1f}x"
        if self.interval is not None and (self.value is not NEVER or self.interval.high > 0):
            text += f" {self.interval}"  # (never–never) beside "—" would say nothing more
        if 0 < self.reached < self.seeds:
            text += f" ({self.reached}/{self.seeds} seeds)"
        return text + (f" ({self.diverged} diverged)" if self.diverged else "")


#: how every speedup in the book sets its target (the rule, stated once, that the pages print)
TARGET_RULE = (
    "The target of a speedup is a multiple (the target factor; 1 where none is named) of the baseline's "
    "best (or final) test error in its worst seed, so every baseline seed reaches it; the baseline's cost "
    "is the mean over its seeds of the first step (example, second) at which each reaches it, and a "
    "method's speedup is that cost over the method's own, in its median seed."
)


def speedup_over_seeds(
    baselines: Sequence[RunRecord],
    methods: Sequence[RunRecord],
    factor: float = 1.2,
    reference: str = "best",
    x: str = "backprops",
    target_share: float = 1.0,
) -> SeedSpeedup:
    """Speedup to ``factor`` × the worst baseline seed's best (or final) error, over every seed
    (:data:`TARGET_RULE`).

    The target is one number for all seeds, one every baseline seed reaches (its best error is at
    most the worst seed's); the baseline's cost is the mean over its seeds that reach it. Each
    method seed's speedup is that cost over its own, 0 when it never reaches the target; the value
    is the median seed's (the lower median, so always one seed's value), and :data:`NEVER` (shown
    "—") when the median seed never reaches it. Every seed counts, so a speedup of the one seed
    out of five that got there is not reported as the method's. Diverged runs never reach the
    target: a diverged baseline seed is left out of the target, a diverged method seed counts as
    one that did not get there (and in ``diverged``). ``target_share`` < 1 makes the target
    stricter (0.98: 2 % lower error), for sensitivity tables; then some baseline seeds may miss it.
    """
    check_range("factor", factor, 1.0)
    check_range("target_share", target_share, 0.0, 1.0, low_open=True)
    check_choice("reference", reference, ["best", "final"])
    diverged = sum(m.status == "diverged" for m in methods)
    baselines = [b for b in baselines if b.status != "diverged"]
    if not baselines:
        return SeedSpeedup(NEVER, 0, len(methods), float("nan"), diverged)
    errors = [b.best_test_error if reference == "best" else b.final_test_error for b in baselines]
    target = target_share * factor * max(errors)
    baseline_costs = [c for c in (first_reaching(*curve(b, x), target) for b in baselines) if c is not NEVER]
    curves = [curve(m, x) for m in methods]
    costs = [NEVER if m.status == "diverged" else first_reaching(*c, target) for m, c in zip(methods, curves)]
    reached = sum(c is not NEVER for c in costs)
    if not baseline_costs or not costs:
        return SeedSpeedup(NEVER, reached, len(methods), target, diverged)
    baseline_cost = sum(baseline_costs) / len(baseline_costs)
    ranked = sorted(
        (0.0 if cost is NEVER else baseline_cost / cost, cost is not NEVER and cost == xs[0])
        for cost, (xs, _) in zip(costs, curves)
    )
    median, at_first_evaluation = ranked[(len(ranked) - 1) // 2]  # the lower median: one seed's value
    if median == 0:
        return SeedSpeedup(NEVER, reached, len(methods), target, diverged)
    return SeedSpeedup(median, reached, len(methods), target, diverged, lower_bound=at_first_evaluation)
