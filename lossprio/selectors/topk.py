"""Top-k selectors of paper M: train on the ``keep`` candidates with the highest score.

``rho`` is RHO-LOSS (Mindermann et al. 2022): score = current loss − irreducible loss, where
the irreducible loss comes in ``extras["irreducible_loss"]`` (see :mod:`lossprio.irreducible`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..scores import GradNormScore, loss_score
from .base import (
    PAPER_M_SELECTIVITY,
    SELECTORS,
    Extras,
    Selection,
    Selector,
    check_keep,
    require_extras,
    require_logits,
    resolve_keep,
    unit_weights,
)


class TopK(Selector):
    """Keep the ``keep`` highest-scoring candidates; subclasses define :meth:`score`.

    Args:
        keep: n_b, how many candidates to train on (at most the candidate batch n_B).
        selectivity: instead of ``keep``, the share n_b / n_B in (0, 1] (paper M: 0.1).
    """

    paper_defaults = {"selectivity": PAPER_M_SELECTIVITY}

    def __init__(self, keep: int | None = None, selectivity: float | None = None, seed: int = 0) -> None:
        super().__init__(seed)
        check_keep(keep, selectivity)
        self.keep, self.selectivity = keep, selectivity

    def score(self, logits: Tensor | None, targets: Tensor, extras: Extras) -> Tensor:
        raise NotImplementedError

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        keep = resolve_keep(self.keep, self.selectivity, indices.numel())
        scores = self.score(logits, targets, require_extras(self, extras))
        chosen = torch.topk(scores, keep, sorted=False).indices
        return Selection(chosen, unit_weights(keep, scores.device), scores)


@SELECTORS.register("loss")
class TopLoss(TopK):
    """Highest current loss."""

    def score(self, logits, targets, extras):
        return loss_score(require_logits(self, logits), targets)


@SELECTORS.register("grad_norm")
class TopGradNorm(GradNormScore, TopK):
    """Highest gradient norm: with respect to the logits (``norm="logits"``, paper M's
    reference), or the exact norm of the last layer's gradient (``norm="last_layer"``)."""

    def __init__(
        self, keep: int | None = None, selectivity: float | None = None, norm: str = "logits", seed: int = 0
    ) -> None:
        super().__init__(keep, selectivity, seed)
        self.check_norm(norm)

    def score(self, logits, targets, extras):
        return self.grad_norms(require_logits(self, logits), targets, extras)


@SELECTORS.register("irreducible")
class LowIrreducible(TopK):
    """Lowest irreducible loss (needs no selection forward)."""

    requires = ("irreducible_loss",)

    def needs_forward(self) -> bool:
        return False

    def score(self, logits, targets, extras):
        return -extras["irreducible_loss"].float()


@SELECTORS.register("rho")
class ReducibleHoldoutLoss(TopK):
    """RHO-LOSS: highest reducible loss = current loss − irreducible loss."""

    requires = ("irreducible_loss",)

    def score(self, logits, targets, extras):
        return loss_score(require_logits(self, logits), targets) - extras["irreducible_loss"].float()
