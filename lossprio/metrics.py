"""Measures of speed and quality computed from run records.

The cost curves every comparison reads (:mod:`lossprio.compare` turns them into speedups): when
a run first reaches a target error, in backprops (paper H), wall clock (paper J) or optimizer
steps (paper M); and the Pareto frontier of budget against error.
"""

from __future__ import annotations

from collections.abc import Sequence

from .checks import check_range
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
