"""Selectors: every selection method of papers J, H and M, and the per-epoch pruning of RS2 and
InfoBatch, behind one interface.

``build(name, **settings)`` makes one; ``selector.select(indices, logits, targets, extras)``
returns a :class:`Selection`.
"""

from ..scores import entropy_score, grad_norm_score, loss_score
from . import pruning, sampling, sb, svp, topk, uniform  # noqa: F401  (registers the selectors)
from .base import (
    SELECTORS,
    RunContext,
    Selection,
    Selector,
    build,
    check_settings,
    selector_class,
    selector_names,
)

#: what runs without a selection method use: every candidate, weight 1
DEFAULT = "uniform"

__all__ = [
    "DEFAULT",
    "SELECTORS",
    "RunContext",
    "Selection",
    "Selector",
    "build",
    "check_settings",
    "selector_names",
    "selector_class",
    "loss_score",
    "entropy_score",
    "grad_norm_score",
]
