"""Measures of speed and quality computed from run records.

Paper H: speedup = backprops the baseline needs to reach 1.2 × its *best* test error, divided
by the backprops the method needs; "—" if the method never gets there. Paper J: the same with
wall-clock and the baseline's *final* error (at 1.1, 1.2, 1.4 ×). Paper M: optimizer steps
needed to reach a target accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .checks import check_choice, check_range
from .records import RunRecord


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


def previous_point(xs: Sequence[float], x: float) -> float:
    """The evaluation before ``x`` in ``xs`` (0 if ``x`` is the first): where a run that reached
    a target at ``x`` had not yet."""
    place = list(xs).index(x)
    return float(xs[place - 1]) if place > 0 else 0.0


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
