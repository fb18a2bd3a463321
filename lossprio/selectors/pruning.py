"""Methods that choose each epoch's training set rather than each batch's: RS2 (Okanovic et al.
2024), a fresh random subset every round, and InfoBatch (Qin et al. 2024), which prunes a random
share of the well-learned examples and up-weights the rest of them.

Both train on every candidate they traverse and need no selection forward; what they decide,
they decide at an epoch's start (:meth:`~lossprio.selectors.base.Selector.epoch_pool`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..checks import check_choice, check_positive_int, check_range
from .base import SELECTORS, Extras, RunContext, Selection, Selector, no_scores


class EpochPruning(Selector):
    """Shared by the per-epoch methods: every traversed candidate is trained on, with the weight
    :meth:`weights_of` gives it."""

    trial_run_settings = {"num_examples": 64}

    def __init__(self, num_examples: int, seed: int = 0) -> None:
        super().__init__(seed)
        check_positive_int("num_examples", num_examples)
        self.num_examples = num_examples

    @classmethod
    def run_settings(cls, run: RunContext) -> dict:
        return {"num_examples": len(run.train)}

    def index_limit(self) -> int:
        return self.num_examples

    def needs_forward(self) -> bool:
        return False

    def weights_of(self, indices: Tensor) -> Tensor:
        """The loss weight of each of ``indices`` this epoch (1 unless the method reweights)."""
        return torch.ones(indices.numel(), dtype=torch.float32, device=indices.device)

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        count = indices.numel()
        chosen = torch.arange(count, device=indices.device)
        return Selection(chosen, self.weights_of(indices), no_scores(count, indices.device))

    def cpu_generator(self) -> torch.Generator:
        """The selector's generator for what it draws at epoch starts (on the CPU: the draw is
        over dataset indices, once per epoch, and must not depend on the device)."""
        return self.generator(torch.device("cpu"))


@SELECTORS.register("rs2")
class RepeatedRandomSampling(EpochPruning):
    """RS2 without replacement: each round (an epoch of the loop) trains on the next ``fraction``
    of a random permutation of the training set; a new permutation is drawn when one is used up,
    so no example repeats within a pass of the permutation, and every example is seen once per
    1 / ``fraction`` rounds. A round that crosses the end of a permutation takes the rest of it and
    the start of the next. (The reference code wraps round the same permutation instead, and its
    modulus ``N + 1`` makes such a round one short; neither happens when ``fraction`` × N divides
    N, as in its CIFAR-10 runs.) The learning-rate schedule is the run's, over all rounds of its
    budget.

    Args:
        fraction: share of the training set per round, in (0, 1] (the reference's default 0.1).
        num_examples: training-set size (the run's).
    """

    def __init__(self, num_examples: int, fraction: float = 0.1, seed: int = 0) -> None:
        super().__init__(num_examples, seed)
        check_range("fraction", fraction, 0.0, 1.0, low_open=True)
        self.fraction = fraction
        self.round_size = max(1, round(fraction * num_examples))  # as the reference's coreset_size
        self.permutation: Tensor | None = None
        self.position = 0

    def epoch_pool(self, epoch: int) -> Tensor:
        parts, needed = [], self.round_size
        while needed > 0:
            if self.permutation is None or self.position == self.num_examples:
                self.permutation = torch.randperm(self.num_examples, generator=self.cpu_generator())
                self.position = 0
            part = self.permutation[self.position : self.position + needed]
            parts.append(part)
            self.position += part.numel()
            needed -= part.numel()
        return torch.cat(parts)


@SELECTORS.register("infobatch")
class InfoBatch(EpochPruning):
    """InfoBatch: unbiased dynamic pruning of well-learned examples.

    Every example keeps the loss of its latest training forward (pruned ones keep their old
    value; all start at 3, as in the reference, so nothing is pruned in the first epoch). At each
    epoch's start, the well-learned examples are those whose score lies below the mean score; a
    random ``int(keep × their number)`` of them are kept (without replacement), ``keep = 1 −
    prune_ratio`` clamped to [0.1, 1], and get loss weight 1 / ``keep``; every other example is
    kept with weight 1. The batch loss is the mean of the weighted losses (the loop's). From the
    first epoch ``e`` with ``e + 1 > delta × epochs`` on (the reference's ``iterations >
    stop_prune``), it trains on the whole training set with weights 1. (The reference resets the
    weights then only when ``delta × epochs`` is a whole number; we always do, as the paper says.
    It reseeds NumPy's global generator with the epoch number; we draw from the run's seed.)

    At a fixed budget of back-propagated examples the number of epochs is not known in advance
    (pruned epochs are shorter), so ``anneal="budget"`` reads δ as a share of the budget instead:
    epochs prune while less than ``delta × budget_examples`` examples were handed to training, and
    the rest of the budget trains on the whole training set.

    Args:
        prune_ratio: share of the well-learned examples pruned each epoch (0.5 by default).
        delta: share of the run's epochs (or of its budget) that prune (0.875 by default).
        epochs: the run's epochs (the run's ``epochs``).
        anneal: ``"epochs"`` (the reference's rule) or ``"budget"``.
        budget_examples: the run's budget in examples (its ``budget`` × training-set size; set
            from the run; needed by ``anneal="budget"``).
        label_smoothing: of the losses that score examples (the run's ``label_smoothing``: the
            reference scores with its training loss, label-smoothed in its CIFAR example).
        num_examples: training-set size (the run's).
    """

    INITIAL_SCORE = 3.0
    ANNEAL = ("epochs", "budget")
    trial_run_settings = {"num_examples": 64, "epochs": 8, "budget_examples": 128}

    def __init__(
        self,
        num_examples: int,
        epochs: int,
        prune_ratio: float = 0.5,
        delta: float = 0.875,
        anneal: str = "epochs",
        budget_examples: int | None = None,
        label_smoothing: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__(num_examples, seed)
        check_positive_int("epochs", epochs)
        check_range("label_smoothing", label_smoothing, 0.0, 1.0, high_open=True)
        self.label_smoothing = label_smoothing
        check_range("prune_ratio", prune_ratio, 0.0, 1.0, high_open=True)
        check_range("delta", delta, 0.0, 1.0)
        check_choice("anneal", anneal, list(self.ANNEAL))
        if anneal == "budget":
            if budget_examples is None:
                raise ValueError("anneal='budget' reads delta as a share of the run's budget: give the run a budget")
            check_positive_int("budget_examples", budget_examples)
        self.epochs, self.prune_ratio, self.delta = epochs, prune_ratio, delta
        self.anneal, self.budget_examples = anneal, budget_examples
        self.handed = 0  # examples handed to training so far (anneal="budget")
        self.keep = min(1.0, max(0.1, 1.0 - prune_ratio))
        self.scores: Tensor | None = None  # on the device of the first losses it sees
        self.weights: Tensor | None = None
        self.pruned = 0  # examples left out, summed over epochs

    @classmethod
    def run_settings(cls, run: RunContext) -> dict:
        budget = run.config.budget
        return {
            "num_examples": len(run.train),
            "epochs": run.config.epochs,
            "budget_examples": None if budget is None else max(1, round(budget * len(run.train))),
            "label_smoothing": run.config.label_smoothing,
        }

    def prunes_in(self, epoch: int) -> bool:
        """Whether ``epoch`` (from 0) prunes: the reference's ``epoch + 1 <= delta × epochs``, or
        with ``anneal="budget"``, whether less than δ of the budget was handed to training."""
        if self.anneal == "budget":
            return self.handed < self.delta * self.budget_examples
        return epoch + 1 <= self.delta * self.epochs

    def epoch_pool(self, epoch: int) -> Tensor | None:
        pool = self.pruned_pool(epoch)
        self.handed += self.num_examples if pool is None else pool.numel()
        return pool

    def pruned_pool(self, epoch: int) -> Tensor | None:
        """``epoch``'s training set (``None``: all of it), with :attr:`weights` set for it."""
        self.weights = None
        if self.scores is None or not self.prunes_in(epoch):
            return None  # the whole training set: nothing scored yet (all equal), or annealing
        scores = self.scores.cpu()
        well_learned = (scores < scores.mean()).nonzero().flatten()
        kept = well_learned[torch.randperm(well_learned.numel(), generator=self.cpu_generator())]
        kept = kept[: int(self.keep * well_learned.numel())]
        self.weights = torch.ones(self.num_examples)
        self.weights[kept] = 1.0 / self.keep
        self.weights = self.weights.to(self.scores.device)
        rest = (scores >= scores.mean()).nonzero().flatten()
        pool = torch.cat([rest, kept]).sort().values
        self.pruned += self.num_examples - pool.numel()
        return pool

    def weights_of(self, indices: Tensor) -> Tensor:
        if self.weights is None:
            return super().weights_of(indices)
        return self.weights[indices]

    def observe(self, indices: Tensor, logits: Tensor, targets: Tensor) -> None:
        if self.scores is None:
            self.scores = torch.full((self.num_examples,), self.INITIAL_SCORE, device=logits.device)
        self.scores[indices] = F.cross_entropy(
            logits.float(), targets, reduction="none", label_smoothing=self.label_smoothing
        )

    def stats(self) -> dict[str, float]:
        return {"pruned_examples": float(self.pruned)}
