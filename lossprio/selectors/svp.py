"""SVP (Coleman et al. 2020) as paper M's baseline: an offline core-set chosen once before
training, the examples on which a proxy model's prediction has the highest entropy; training
then samples uniformly within the core-set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from ..checks import check_choice, check_range
from .base import SELECTORS, RunContext, describe
from .uniform import Uniform

#: where SVP's proxy comes from: the holdout-trained IL model (paper M's reference) or the training set
PROXIES = ("holdout", "train")


@SELECTORS.register("svp")
class SelectionViaProxy(Uniform):
    """Uniform selection within a core-set of the ``fraction`` highest-entropy examples.

    Args:
        proxy_entropy: entropy of the proxy model's prediction for every training example, by
            dataset index (see :func:`lossprio.irreducible.score`); ``None``: :meth:`prepare`
            makes the proxy as ``proxy`` says.
        proxy: ``holdout``, paper M's reference (every committed config sets ``pretrained_proxy``):
            the proxy is the irreducible-loss model trained on the holdout (the same cached model
            RHO-LOSS uses); ``train``: a proxy trained on the run's (possibly corrupted) training
            set for ``svp_proxy_epochs`` (the reference's non-default branch).
        augment_scores: score the entropy on one augmentation of each example where the run
            augments (the reference scores the augmented training set), not on clean inputs.
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
        proxy: str = "train",
        augment_scores: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(keep, selectivity, seed)
        if proxy_entropy is not None and (not isinstance(proxy_entropy, Tensor) or proxy_entropy.dim() != 1):
            raise ValueError(
                f"proxy_entropy must be a 1-D tensor of every training example's entropy (by dataset index), got "
                f"{describe(proxy_entropy)}"
            )
        check_range("fraction", fraction, 0.0, 1.0, low_open=True)
        check_choice("proxy", proxy, list(PROXIES))
        if not isinstance(augment_scores, bool):
            raise ValueError(f"augment_scores={augment_scores!r} must be True or False")
        self.proxy_entropy = proxy_entropy
        self.fraction, self.proxy, self.augment_scores = fraction, proxy, augment_scores

    @classmethod
    def holdout_need(cls, settings: Mapping[str, Any]) -> str:
        return "proxy" if settings.get("proxy") == "holdout" else ""

    @classmethod
    def run_settings(cls, run: RunContext) -> dict:
        return {"fraction": run.config.svp_fraction}

    def prepare(self, run: RunContext) -> dict[str, Tensor]:
        if self.proxy_entropy is None:
            from .. import irreducible

            augmented = self.augment_scores and run.augment.augments
            if self.proxy == "holdout":
                if run.holdout is None:
                    raise ValueError(
                        "SVP proxy='holdout' needs a holdout (split='half'): the proxy is the IL model trained on it"
                    )
                config = irreducible.il_config(run.config)
                learns_from = (irreducible.used_holdout(run.holdout, config),)
                [model] = irreducible.cached_models(
                    learns_from, config, run.augment, run.device, run.cache_dir, run.progress, run.cost, run.test
                )
            else:
                config = irreducible.proxy_config(run.config)
                model = irreducible.fit_model(run.train, config, run.augment, run.device, run.progress, run.cost)
            self.proxy_entropy = irreducible.score(
                model, run.train, run.augment, run.device, kind="entropy", augmented=augmented, seed=self.seed
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
