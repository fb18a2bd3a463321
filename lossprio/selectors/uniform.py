"""Uniform selection: the baseline every method is measured against."""

from __future__ import annotations

import torch
from torch import Tensor

from .base import SELECTORS, Extras, Selection, Selector, check_keep, no_scores, resolve_keep, take_all, unit_weights


@SELECTORS.register("uniform")
class Uniform(Selector):
    """Train on every candidate, or on ``keep`` (or a ``selectivity`` share) of them drawn
    without replacement. Needs no selection forward."""

    scores_in_eval_mode = True  # moot (no selection forward); papers J/H's Traditional runs say eval

    def __init__(self, keep: int | None = None, selectivity: float | None = None, seed: int = 0) -> None:
        super().__init__(seed)
        check_keep(keep, selectivity, optional=True)
        self.keep, self.selectivity = keep, selectivity

    def needs_forward(self) -> bool:
        return False

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        count = indices.numel()
        keep = resolve_keep(self.keep, self.selectivity, count)
        if keep == count:
            return take_all(count, indices.device)
        chosen = torch.randperm(count, generator=self.generator(indices.device), device=indices.device)[:keep]
        return Selection(chosen, unit_weights(keep, indices.device), no_scores(count, indices.device))
