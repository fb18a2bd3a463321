"""Learning-rate schedules that fall to 0: one formula for the trainer that sets the rate and for
the records that recompute it instead of storing it."""

from __future__ import annotations

import math

import numpy as np

#: the schedules that fall from the config's ``lr`` to 0 over a run's budget (or its epochs)
DECAYING = ("cosine", "linear")


def decayed(lr: float, schedule: str, done: float) -> float:
    """The rate once a share ``done`` (0 to 1) of the run is done: cosine or linear from ``lr`` to 0."""
    return lr * (0.5 * (1.0 + math.cos(math.pi * done)) if schedule == "cosine" else 1.0 - done)


def budget_share(backprops: int | np.ndarray, budget: float, train_size: int) -> float | np.ndarray:
    """The share of a budget of ``budget`` × ``train_size`` back-propagated examples spent (for an
    array of counts, an array of shares: the same floats, as numpy divides and clips alike)."""
    shares = np.minimum(1.0, np.asarray(backprops) / (budget * train_size))
    return shares if shares.ndim else float(shares)


def budget_rates(config: dict, backprops: list[int], batches: list[int], train_size: int) -> list[float] | None:
    """The rate of every step of a run whose config decays its rate over a budget, recomputed from
    the examples back-propagated after each step (``backprops``) and in it (``batches``); ``None``
    for any other schedule (a step schedule, or a decay over epochs), which the record stores."""
    if config.get("lr_schedule") not in DECAYING or config.get("budget") is None:
        return None
    shares = budget_share(np.asarray(backprops) - np.asarray(batches), config["budget"], train_size)
    return [decayed(config["lr"], config["lr_schedule"], done) for done in shares.tolist()]
