"""Importance sampling selectors: Kath18 (Katharopoulos & Fleuret 2018) and gradient-norm IS (paper M).

Both sample ``keep`` candidates with replacement with p ∝ score; with ``reweight`` each chosen
example's loss is weighted 1/(N·p) (N = candidates), which makes the weighted gradient unbiased.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_bool, check_choice, check_range
from ..scores import GradNormScore, grad_norm_score, loss_score
from .base import (
    PAPER_M_SELECTIVITY,
    SELECTORS,
    Extras,
    Selection,
    Selector,
    check_keep,
    require_logits,
    resolve_keep,
    take_all,
    unit_weights,
)


def sample_proportional(scores: Tensor, keep: int, generator: torch.Generator, reweight: bool) -> Selection:
    """Draw ``keep`` positions with replacement, p ∝ ``scores``; weights 1/(N·p) or 1."""
    # nan_to_num: a diverging model's NaN scores must not crash sampling before the loop's
    # divergence check stops the run (it is the identity on finite scores)
    probability = scores.nan_to_num(nan=0.0, posinf=1e30, neginf=0.0).clamp_min(0) + 1e-12
    probability = probability / probability.sum()
    chosen = torch.multinomial(probability, keep, replacement=True, generator=generator)
    weights = 1.0 / (scores.numel() * probability[chosen]) if reweight else unit_weights(keep, scores.device)
    return Selection(chosen, weights.float(), scores)


#: when Kath18's switch is read: at each epoch's start (paper J's code) or after every pool (idiap's)
SWITCHES = ("epoch", "batch")


def unique_positions(chosen: Tensor) -> tuple[Tensor, Tensor]:
    """(the distinct positions in ``chosen``, ascending; where each first occurs in ``chosen``)."""
    distinct, inverse = torch.unique(chosen, sorted=True, return_inverse=True)
    first = torch.full((distinct.numel(),), chosen.numel(), dtype=torch.int64, device=chosen.device)
    first.scatter_reduce_(0, inverse, torch.arange(chosen.numel(), device=chosen.device), reduce="amin")
    return distinct, first


def variance_reduction_tau(scores: Tensor) -> Tensor:
    """τ = (1 − ‖g − u‖² / ‖g‖²)^(−1/2), g the normalised scores, u uniform (a 0-d tensor)."""
    g = scores.float() / scores.float().sum().clamp_min(1e-12)
    u = torch.full_like(g, 1.0 / g.numel())
    ratio = (g - u).square().sum() / g.square().sum().clamp_min(1e-12)
    return (1.0 - ratio).clamp_min(1e-12).rsqrt()


@SELECTORS.register("kath18")
class Kath18(Selector):
    """Importance sampling from a pool (Katharopoulos & Fleuret 2018).

    The candidate batch is the pool B. While importance sampling is off, every candidate is
    trained on (uniform training, no selection forward) and τ is estimated from the training
    forwards; once the moving average of τ (from 0) exceeds ``tau_threshold`` it samples
    ``keep`` of the pool ∝ score. Two readings of the switch exist:

    - ``switch="epoch"`` with ``unique=True``: paper J's code (``pytorch-cifar@35e9c18``
      ``lib/trainer.py``, the first commit after the SysML '20 one whose ``KathTrainer`` runs;
      paper H used it): the switch is read once, at each epoch's start (so the first epoch is
      always uniform), and the examples drawn are marked, so duplicates collapse and only the
      unique set is trained and counted (with ``per_pool_steps`` and ``reference_forwards`` it
      also steps and forwards as that code does; the book's differences page measures both);
    - ``switch="batch"`` with ``unique=False`` (the defaults): idiap/importance-sampling's
      ``ConditionalStartSampler``: the switch is re-decided after every pool, and every draw
      (duplicates included) is trained.

    Args:
        keep: b, examples sampled from each pool.
        selectivity: instead of ``keep``, b / B in (0, 1] (paper H's "VR max 33 %": 1/3).
        score: ``loss`` or ``grad_norm`` (gradient norm with respect to the logits).
        reweight: weight losses by 1/(N·p) (off in papers J and H).
        tau_switch: use the τ switch; ``False`` samples from the first pool on.
        tau_threshold: switch-on level; ``None`` means (B + 3b)/(3b) for a pool of B.
        tau_momentum: momentum of τ's moving average.
        switch: ``epoch`` (paper J's code) or ``batch`` (idiap's), see above.
        unique: train each drawn example once (paper J's code) rather than once per draw.
        per_pool_steps: train each sampled pool's draws as one optimiser step of their own (paper
            J's code: the unique draws, fewer than ``keep`` where draws repeat), rather than queued
            into full batches of ``keep`` across pools (ours).
        reference_forwards: while importance sampling is off, still run the eval-mode forward
            over every candidate batch and read τ off it (paper J's code), rather than reading τ
            off the training forwards and running no selection forward (ours).
    """

    scores_in_eval_mode = True  # papers J/H's reference code (BN running statistics)
    # paper J's code as paper H ran it ("VR max 33 %"): b drawn from a pool of 3b by loss, τ read per epoch
    paper_defaults = {"selectivity": 1 / 3, "score": "loss", "reweight": False, "switch": "epoch", "unique": True}

    def __init__(
        self,
        keep: int | None = None,
        selectivity: float | None = None,
        score: str = "loss",
        reweight: bool = False,
        tau_switch: bool = True,
        tau_threshold: float | None = None,
        tau_momentum: float = 0.9,
        switch: str = "batch",
        unique: bool = False,
        per_pool_steps: bool = False,
        reference_forwards: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        check_keep(keep, selectivity)
        check_choice("switch", switch, list(SWITCHES))
        flags = {
            "unique": unique,
            "reweight": reweight,
            "tau_switch": tau_switch,
            "per_pool_steps": per_pool_steps,
            "reference_forwards": reference_forwards,
        }
        for name, value in flags.items():
            check_bool(name, value)
        self.switch, self.unique = switch, unique
        self.per_pool_steps, self.reference_forwards = per_pool_steps, reference_forwards
        self.pools = self.sampled_pools = 0  # pools seen, and those importance-sampled
        if score not in ("loss", "grad_norm"):
            raise ValueError(f"score={score!r} is not allowed; choose one of ['grad_norm', 'loss']")
        check_range("tau_momentum", tau_momentum, 0.0, 1.0, high_open=True)
        if tau_threshold is not None:
            check_range("tau_threshold", tau_threshold, 1.0)
        self.keep, self.selectivity, self.score, self.reweight = keep, selectivity, score, reweight
        self.tau_switch, self.tau_threshold, self.tau_momentum = tau_switch, tau_threshold, tau_momentum
        self.tau: Tensor | None = None  # moving average, on the device; starts at 0 as in the reference code
        self.sampling = not tau_switch
        self.pool = 0  # size of the last pool, for the threshold while τ is read off training batches
        self.sampled_last = False  # the last pool was sampled (its scores already updated τ)

    def scores(self, logits: Tensor, targets: Tensor) -> Tensor:
        return loss_score(logits, targets) if self.score == "loss" else grad_norm_score(logits, targets)

    def threshold(self, pool: int) -> float:
        """τ's switch-on level for pools of ``pool``: ``tau_threshold``, or (B + 3b)/(3b)."""
        keep = resolve_keep(self.keep, self.selectivity, pool)
        return self.tau_threshold or (pool + 3 * keep) / (3 * keep)

    def update_tau(self, scores: Tensor, pool: int) -> None:
        tau = variance_reduction_tau(scores)
        previous = torch.zeros_like(tau) if self.tau is None else self.tau
        self.tau = self.tau_momentum * previous + (1 - self.tau_momentum) * tau
        if self.switch == "batch":
            self.sampling = bool(self.tau > self.threshold(pool))  # one host sync per pool: it decides the next forward

    def start_epoch(self, epoch: int) -> None:
        super().start_epoch(epoch)
        if self.tau_switch and self.switch == "epoch":  # paper J's code reads the switch once per epoch
            self.sampling = self.tau is not None and bool(self.tau > self.threshold(self.pool or 1))

    def stats(self) -> dict[str, float]:
        """``sampling_share``: the share of pools that were importance-sampled (the rest were uniform training)."""
        return {"sampling_share": self.sampled_pools / max(1, self.pools), "pools": self.pools}

    def needs_forward(self) -> bool:
        return self.sampling or (self.tau_switch and self.reference_forwards)

    def steps_per_pool(self) -> bool:
        return self.per_pool_steps and self.sampled_last

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        self.pools += 1
        self.pool = indices.numel()
        self.sampled_last = self.sampling
        if not self.sampling:
            if logits is not None and self.tau_switch and self.reference_forwards:
                # the reference updates τ once per training batch it assembles (b examples), as ours does
                keep = resolve_keep(self.keep, self.selectivity, indices.numel())
                for part in self.scores(logits, targets).split(keep):
                    self.update_tau(part, indices.numel())
            return take_all(indices.numel(), indices.device)
        self.sampled_pools += 1
        keep = resolve_keep(self.keep, self.selectivity, indices.numel())
        scores = self.scores(require_logits(self, logits), targets)
        selection = sample_proportional(scores, keep, self.generator(scores.device), self.reweight)
        if self.unique:  # marked, not queued per draw: each drawn example trains once, in pool order
            chosen, first = unique_positions(selection.chosen)
            selection = Selection(chosen, selection.weights[first], selection.scores)
        if self.tau_switch:
            self.update_tau(scores, indices.numel())
        return selection

    def observe(self, indices: Tensor, logits: Tensor, targets: Tensor) -> None:
        # τ is read off training batches only while uniform; a sampled pool's scores updated it already,
        # also when that pool switched sampling off (idiap's previously_satisfied guard)
        if self.tau_switch and not self.reference_forwards and not self.sampling and not self.sampled_last:
            self.update_tau(self.scores(logits, targets), self.pool or indices.numel())


@SELECTORS.register("grad_norm_is")
class GradNormIS(GradNormScore, Selector):
    """Paper M's gradient-norm importance sampling: p ∝ gradient norm, with replacement,
    weights 1/(N·p).

    Args:
        keep: n_b, examples sampled from each candidate batch.
        selectivity: instead of ``keep``, the share n_b / n_B in (0, 1].
        reweight: weight by 1/(N·p) (on, as in paper M).
        norm: ``logits`` (‖p − y‖, paper M's reference) or ``last_layer`` (the exact norm).
        one_forward: as paper M's reference (``ImportanceSamplingModel``): one train-mode forward
            over all candidates, the sampled rows' weighted loss back-propagated through it, so
            BatchNorm's statistics come from the n_B candidates; ``False``: a no-grad selection
            forward, then a training forward on the sampled rows (the same for models without
            BatchNorm, but a second forward).
    """

    paper_defaults = {"selectivity": PAPER_M_SELECTIVITY}

    def __init__(
        self,
        keep: int | None = None,
        selectivity: float | None = None,
        reweight: bool = True,
        norm: str = "logits",
        one_forward: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        check_keep(keep, selectivity)
        self.check_norm(norm)
        if not isinstance(one_forward, bool):
            raise ValueError(f"one_forward={one_forward!r} must be True or False")
        self.trains_through_selection_forward = one_forward
        self.keep, self.selectivity, self.reweight = keep, selectivity, reweight

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        keep = resolve_keep(self.keep, self.selectivity, indices.numel())
        scores = self.grad_norms(require_logits(self, logits), targets, extras)
        return sample_proportional(scores, keep, self.generator(scores.device), self.reweight)
