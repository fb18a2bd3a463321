"""SVP (Coleman et al. 2020) as paper M's baseline: an offline core-set chosen once before
training, the examples on which a proxy model's prediction has the highest entropy; training
then samples uniformly within the core-set."""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_range
from .base import SELECTORS, RunContext
from .uniform import Uniform


@SELECTORS.register("svp")
class SelectionViaProxy(Uniform):
    """Uniform selection within a core-set of the ``fraction`` highest-entropy examples.

    Args:
        proxy_entropy: entropy of the proxy model's prediction for every training example, by
            dataset index (see :func:`lossprio.irreducible.score`); ``None``: :meth:`prepare`
            trains the proxy (``il_model`` for ``svp_proxy_epochs``) on the run's training set.
        fraction: share of the training set kept in the core-set, in (0, 1].
        keep, selectivity: examples (or share) to train on per candidate batch (neither: all).
    """

    scores_in_eval_mode = False  # paper M's baseline (moot: no selection forward)
    trains_proxy = True

    def __init__(
        self,
        proxy_entropy: Tensor | None = None,
        fraction: float = 0.1,
        keep: int | None = None,
        selectivity: float | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(keep, selectivity, seed)
        check_range("fraction", fraction, 0.0, 1.0, low_open=True)
        self.proxy_entropy = proxy_entropy
        self.fraction = fraction

    @classmethod
    def run_settings(cls, run: RunContext) -> dict:
        return {"fraction": run.config.svp_fraction}

    def prepare(self, run: RunContext) -> dict[str, Tensor]:
        if self.proxy_entropy is None:
            from .. import irreducible

            proxy = irreducible.proxy_config(run.config)
            self.proxy_entropy = irreducible.train_and_score(
                run.train, run.train, proxy, run.augment, run.device, run.progress, kind="entropy", cost=run.cost
            )
        return super().prepare(run)

    def restrict(self, num_examples: int) -> Tensor:
        if self.proxy_entropy is None:
            raise ValueError("SVP has no proxy_entropy: give one, or call prepare() to train the proxy")
        if self.proxy_entropy.numel() != num_examples:
            raise ValueError(
                f"proxy_entropy has {self.proxy_entropy.numel()} entries for a training set of {num_examples}"
            )
        size = max(1, round(self.fraction * num_examples))
        return torch.topk(self.proxy_entropy.float(), size).indices.sort().values
