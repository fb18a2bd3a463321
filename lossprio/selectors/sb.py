"""Selective-Backprop (Jiang et al. 2019), its entropy variant SBE (Hu et al. 2021) and Stale-SB.

P(select) = CDF_R(score)^β, where CDF_R is the share of the last R scores strictly below this
one. As in the reference code, the whole candidate batch enters the history before any of it is
ranked, so p lies in [0, ((R − 1)/R)^β] once the history is full; one coin flip per candidate;
the history carries across epochs; the first ``warmup_epochs`` train on everything.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..checks import check_positive_int, check_range
from ..scores import SCORES
from .base import (
    SELECTORS,
    Extras,
    RunContext,
    Selection,
    Selector,
    require_extras,
    require_logits,
    take_all,
    unit_weights,
)


def count_below(scores: Tensor, history: Tensor) -> Tensor:
    """For each score, how many ``history`` scores are strictly below it."""
    return torch.searchsorted(torch.msort(history), scores, side="left")


def select_probability(scores: Tensor, history: Tensor, beta: float) -> Tensor:
    """CDF of each score over ``history`` (share strictly below), to the power ``beta``."""
    return (count_below(scores, history).float() / history.numel()).pow(beta)


class CoinFlips:
    """Uniform draws made in blocks of the selector's generator and handed out as views, which
    saves a tensor op per candidate batch; deterministic by the generator's seed."""

    def __init__(self, block: int = 65_536) -> None:
        self.block = block
        self.buffer: Tensor | None = None
        self.position = 0

    def take(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        if self.buffer is None or self.position + n > self.buffer.numel():
            self.buffer = torch.rand(max(self.block, n), generator=generator, device=device)
            self.position = 0
        self.position += n
        return self.buffer[self.position - n : self.position]

    def state_dict(self) -> dict:
        return {"block": self.block, "buffer": self.buffer, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.block, self.buffer, self.position = state["block"], state["buffer"], state["position"]


def draw(scores: Tensor, history: Tensor, beta: float, flips: Tensor) -> Tensor:
    """Positions where ``flips`` < CDF(score)^β over ``history`` (int64, on the scores' device).

    Same decision as ``flips < select_probability(...)`` with fewer ops:
    u < (k/n)^β  ⇔  n · u^(1/β) < k, with k the count of history scores strictly below.
    """
    if beta == 0:
        return torch.arange(scores.numel(), device=scores.device)
    if scores.device.type == "cpu":
        return torch.from_numpy(np.flatnonzero(draw_numpy(scores.numpy(), history.numpy(), beta, flips.numpy())))
    return draw_torch(scores, history, beta, flips).nonzero().flatten()


def draw_torch(scores: Tensor, history: Tensor, beta: float, flips: Tensor) -> Tensor:
    """:func:`draw` in tensor ops (any device)."""
    if beta != 1:
        flips = flips.pow(1.0 / beta)
    return flips * history.numel() < count_below(scores, history)


def draw_numpy(scores: np.ndarray, history: np.ndarray, beta: float, flips: np.ndarray) -> np.ndarray:
    """:func:`draw` on CPU memory through NumPy (zero-copy views of the tensors).

    On a CPU, torch's per-op dispatch (several µs an op) dominates at B = 128 candidates;
    NumPy does the same sort, search and compare about three times faster.
    """
    below = np.searchsorted(np.sort(history), scores, side="left")
    if beta != 1:
        flips = flips ** (1.0 / beta)
    return flips * history.size < below


class LossHistory:
    """Ring buffer of the last ``size`` scores, kept on the scores' device."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: Tensor | None = None
        self.count = 0  # scores seen so far (host int: batch sizes are known without a sync)

    def push(self, scores: Tensor) -> Tensor:
        """Add ``scores``; return the current history (at most ``size`` scores, in no set order)."""
        if self.values is None:
            self.values = torch.empty(self.size, device=scores.device)
        scores = scores.detach()[-self.size :]
        # on the CPU, NumPy views write the same memory without torch's per-op dispatch
        values, new = (self.values.numpy(), scores.numpy()) if scores.device.type == "cpu" else (self.values, scores)
        start = self.count % self.size
        head = min(new.shape[0], self.size - start)
        values[start : start + head] = new[:head]
        if head < new.shape[0]:  # wrap around
            values[: new.shape[0] - head] = new[head:]
        self.count += new.shape[0]
        return self.values[: min(self.count, self.size)]

    def state_dict(self) -> dict:
        return {"size": self.size, "values": self.values, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.size, self.values, self.count = state["size"], state["values"], state["count"]


@SELECTORS.register("sb")
class SelectiveBackprop(Selector):
    """Selective-Backprop.

    Args:
        beta: selectivity exponent, >= 0 (β = 0 trains on everything, β = 1 on ≈ 1/2, β = 2 on ≈ 1/3).
        history: R, the number of recent scores the CDF is taken over.
        warmup_epochs: epochs at the start that train on everything without a selection forward.
        score: ``loss`` (SB) or ``entropy`` (SBE).
        seed: seed of the coin flips.

    Example:
        >>> sb = build("sb", beta=1.0)
        >>> selection = sb.select(indices, logits, targets)   # ≈ half of the candidates
    """

    scores_in_eval_mode = True  # papers J/H's reference code (BN running statistics)

    def __init__(
        self, beta: float = 1.0, history: int = 1024, warmup_epochs: int = 1, score: str = "loss", seed: int = 0
    ) -> None:
        super().__init__(seed)
        check_range("beta", beta, 0.0)
        check_positive_int("history", history)
        check_range("warmup_epochs", warmup_epochs, 0)
        if score not in SCORES:
            raise ValueError(f"score={score!r} is not allowed; choose one of {sorted(SCORES)}")
        self.beta = beta
        self.score = score
        self.warmup_epochs = warmup_epochs
        self.history = LossHistory(history)
        self.flips = CoinFlips()

    def warming_up(self) -> bool:
        return self.epoch < self.warmup_epochs

    def needs_forward(self) -> bool:
        return not self.warming_up()

    def choose(self, scores: Tensor) -> Selection:
        """Coin flips with P = CDF(score)^β, after pushing ``scores`` into the history."""
        flips = self.flips.take(scores.numel(), self.generator(scores.device), scores.device)
        chosen = draw(scores, self.history.push(scores), self.beta, flips)
        return Selection(chosen, unit_weights(chosen.numel(), scores.device), scores)

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        if self.warming_up():
            return take_all(indices.numel(), indices.device)
        return self.choose(SCORES[self.score](require_logits(self, logits), targets))

    def probabilities(self, selection: Selection) -> Tensor:
        if self.warming_up():
            return torch.ones_like(selection.scores)
        history = self.history.values[: min(self.history.count, self.history.size)]
        return select_probability(selection.scores, history, self.beta)


@SELECTORS.register("sbe")
class EntropySelectiveBackprop(SelectiveBackprop):
    """SBE (Hu et al. 2021): Selective-Backprop ranking by the entropy of the prediction."""

    def __init__(self, beta: float = 1.0, history: int = 1024, warmup_epochs: int = 1, seed: int = 0) -> None:
        super().__init__(beta, history, warmup_epochs, score="entropy", seed=seed)


@SELECTORS.register("stale_sb")
class StaleSelectiveBackprop(SelectiveBackprop):
    """Stale-SB(n): a selection forward only every ``staleness``-th epoch; the epochs between
    select with each example's stored score.

    As in paper J's reference code, an example's stored loss is refreshed by every forward that
    computes it: the selection forwards, and also the training forwards of the examples chosen
    (so the warm-up epoch, which trains on everything, stores every loss); and epochs are fresh
    when ``epoch % staleness == 0``, counting the warm-up epochs (the reference's first epoch
    already stores losses). The reference runs an extra selection forward in that first epoch;
    here its training forward gives the same losses at no cost.

    Args:
        num_examples: size of the training set (the stored scores are indexed by dataset index).
        staleness: n >= 1 (1 is plain SB).
    """

    trial_run_settings = {"num_examples": 1}

    @classmethod
    def run_settings(cls, run: RunContext) -> dict:
        return {"num_examples": len(run.train)}

    def __init__(
        self,
        num_examples: int,
        staleness: int = 2,
        beta: float = 1.0,
        history: int = 1024,
        warmup_epochs: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__(beta, history, warmup_epochs, "loss", seed)
        check_positive_int("num_examples", num_examples)
        check_positive_int("staleness", staleness)
        self.staleness = staleness
        self.num_examples = num_examples
        self.stored: Tensor | None = None

    def index_limit(self) -> int:
        return self.num_examples

    def fresh(self) -> bool:
        return self.epoch % self.staleness == 0

    def needs_forward(self) -> bool:
        return not self.warming_up() and self.fresh()

    def store(self, indices: Tensor, scores: Tensor) -> None:
        if self.stored is None:
            self.stored = torch.zeros(self.num_examples, device=indices.device)
        self.stored[indices] = scores

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        if self.warming_up():
            return take_all(indices.numel(), indices.device)
        if self.fresh():
            scores = SCORES["loss"](require_logits(self, logits), targets)
            self.store(indices, scores)
        else:
            if self.stored is None:
                self.store(indices, torch.zeros(indices.numel(), device=indices.device))
            scores = self.stored[indices]  # each example's own stored score, by dataset index
        return self.choose(scores)

    def observe(self, indices: Tensor, logits: Tensor, targets: Tensor) -> None:
        self.store(indices, SCORES["loss"](logits, targets))


@SELECTORS.register("sb_rho")
class ReducibleSelectiveBackprop(SelectiveBackprop):
    """Selective-Backprop's rule on RHO-LOSS's score: P(select) = CDF_R(loss − irreducible loss)^β.

    In none of the three papers: this book's example of what one selector interface allows.
    SB's epoch traversal and coin flips (so its selectivity, ≈ 1/(β + 1)) with paper M's
    reducible held-out loss as the score, so noisy points, whose irreducible loss stays high,
    lose the rank their high loss gives them under SB. Needs ``extras["irreducible_loss"]``;
    scores in eval mode, as SB (whose rule and traversal it keeps).
    """

    requires = ("irreducible_loss",)

    def __init__(self, beta: float = 1.0, history: int = 1024, warmup_epochs: int = 1, seed: int = 0) -> None:
        super().__init__(beta, history, warmup_epochs, score="loss", seed=seed)

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        if self.warming_up():
            return take_all(indices.numel(), indices.device)
        irreducible = require_extras(self, extras)["irreducible_loss"].float()
        return self.choose(SCORES["loss"](require_logits(self, logits), targets) - irreducible)
