"""Selection in your own training loop: the book's selectors for any ``nn.Module``, any
classification loss with per-example values, and any optimiser.

A plain loop becomes a selective one by handing each batch to a :class:`Prioritizer`:

>>> prioritizer = Prioritizer(make_selector("sb", beta=1.0), model, batch_size=128)   # doctest: +SKIP
>>> for inputs, targets, indices in batches:                                           # doctest: +SKIP
...     prioritizer.step(inputs, targets, indices, optimizer)
>>> prioritizer.finish_epoch(optimizer)                                                # doctest: +SKIP

Per candidate batch it runs the selection forward the selector needs (no gradients, in the mode
the selector's reference code scores in), lets the selector choose, queues the chosen examples
with their loss weights (:class:`BatchAssembler`, Selective-Backprop's queue of full training
batches) and trains on every full batch. Loops that train themselves call :meth:`Prioritizer.choose`
and use the positions and weights it returns. RHO-LOSS and SB on reducible loss need irreducible
losses by dataset index: :func:`fit_irreducible_model` trains an IL model on a holdout and
:func:`per_example_losses` scores a dataset with it (or with a model the user trained).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import selectors
from .accounting import Queue
from .batches import derive_seed
from .selectors.base import Selection, Selector, describe

LossFn = Callable[[Tensor, Tensor], Tensor]


def per_example_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy per example (``reduction="none"``): the default loss."""
    return F.cross_entropy(logits.float(), targets, reduction="none")


def make_selector(name: str, **settings: Any) -> Selector:
    """Selector ``name`` (one of :func:`lossprio.selectors.selector_names`) with its paper's
    defaults and ``settings`` changed, e.g. ``make_selector("sb", beta=2.0)`` or
    ``make_selector("rho", selectivity=0.1)``. Stale-SB also needs ``num_examples``."""
    return selectors.build(name, **settings)


class BatchAssembler:
    """Selective-Backprop's queue: chosen examples wait until a full training batch of
    ``batch_size`` is ready; :meth:`rest` hands over what is left (at an epoch's end)."""

    def __init__(self, batch_size: int) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} must be a positive integer (examples per training step)")
        self.queue = Queue(batch_size)

    def add(self, inputs: Tensor, targets: Tensor, indices: Tensor, weights: Tensor) -> None:
        """Queue chosen examples (their inputs, targets, dataset indices and loss weights)."""
        self.queue.push(indices, inputs, targets, weights)

    def full(self) -> Iterator[tuple[Tensor, Tensor, Tensor, Tensor]]:
        """Every full batch that is ready, as (inputs, targets, indices, weights)."""
        while (batch := self.queue.pop()) is not None:
            indices, inputs, targets, weights = batch
            yield inputs, targets, indices, weights

    def rest(self) -> tuple[Tensor, Tensor, Tensor, Tensor] | None:
        """What is queued, as one smaller batch (``None`` when empty)."""
        batch = self.queue.pop(drain=True)
        if batch is None:
            return None
        indices, inputs, targets, weights = batch
        return inputs, targets, indices, weights

    def __len__(self) -> int:
        return self.queue.count

    def state_dict(self) -> dict[str, Any]:
        """The queued examples (on the CPU), for a checkpoint."""
        return {"batch_size": self.queue.batch_size, "parts": [[t.cpu() for t in part] for part in self.queue.parts]}

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        self.queue = Queue(state["batch_size"])
        for part in state["parts"]:
            self.queue.push(*(t.to(device) for t in part))


class Prioritizer:
    """One selector, one model and their queue, for a plain PyTorch loop.

    Args:
        selector: from :func:`make_selector` (or any :class:`~lossprio.selectors.Selector`).
        model: any ``nn.Module`` mapping a batch of inputs to class logits.
        batch_size: examples per training step (default: the size of the first candidate batch).
        loss_fn: ``(logits, targets) -> per-example losses`` of shape (N,), e.g.
            ``nn.CrossEntropyLoss(reduction="none")`` (default: per-example cross-entropy).
        irreducible_losses: per-example irreducible losses by dataset index (RHO-LOSS, SB on
            reducible loss, irreducible-loss selection), from :func:`per_example_losses`.
        selection_eval_mode: score in eval mode (BatchNorm running statistics) or train mode;
            default the selector's reference code's mode.
    """

    def __init__(
        self,
        selector: Selector,
        model: nn.Module,
        batch_size: int | None = None,
        loss_fn: LossFn = per_example_cross_entropy,
        irreducible_losses: Tensor | None = None,
        selection_eval_mode: bool | None = None,
    ) -> None:
        if not isinstance(selector, Selector):
            raise ValueError(f"selector must be a lossprio Selector (see make_selector), got {type(selector).__name__}")
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise ValueError(f"loss_fn must be callable as loss_fn(logits, targets), got {type(loss_fn).__name__}")
        needs_table = "irreducible_loss" in selector.requires
        if needs_table and irreducible_losses is None:
            raise ValueError(
                f"{type(selector).__name__} needs irreducible_losses (per-example losses of an IL model by dataset "
                "index): "
                "train one on a holdout with fit_irreducible_model and score the training set with per_example_losses"
            )
        if irreducible_losses is not None and (
            not isinstance(irreducible_losses, Tensor) or irreducible_losses.dim() != 1
        ):
            raise ValueError(
                f"irreducible_losses must be a 1-D tensor by dataset index, got {describe(irreducible_losses)}"
            )
        self.selector, self.model, self.loss_fn = selector, model, loss_fn
        self.irreducible_losses = irreducible_losses if needs_table else None
        self.eval_mode = selector.scores_in_eval_mode if selection_eval_mode is None else bool(selection_eval_mode)
        self.batches = BatchAssembler(batch_size) if batch_size is not None else None
        self.epoch = 0
        self.candidates_seen = 0
        self.examples_trained = 0

    @property
    def share_trained(self) -> float:
        """Share of the candidates seen so far that were trained on."""
        return self.examples_trained / max(1, self.candidates_seen)

    def choose(self, inputs: Tensor, targets: Tensor, indices: Tensor | None = None) -> Selection:
        """The selector's choice among a candidate batch: positions to train on (may repeat for
        samplers), their loss weights and every candidate's score. Runs the selection forward
        (without gradients) only when the selector needs one."""
        count = self.check_batch(inputs, targets, indices)
        if indices is None:
            indices = torch.arange(count, device=targets.device)
        logits = None
        if self.selector.needs_forward():
            was_training = self.model.training
            self.model.train(not self.eval_mode)
            with torch.no_grad():
                logits = self.model(inputs).float()
            self.model.train(was_training)
            self.check_losses(logits, targets)
        extras = {}
        if self.irreducible_losses is not None:
            if int(indices.max()) >= self.irreducible_losses.numel() or int(indices.min()) < 0:
                raise ValueError(
                    f"indices run from {int(indices.min())} to {int(indices.max())}, but irreducible_losses covers "
                    f"dataset indices 0..{self.irreducible_losses.numel() - 1}"
                )
            extras["irreducible_loss"] = self.irreducible_losses.to(targets.device)[indices]
        self.candidates_seen += count
        return self.selector.select(indices, logits, targets, extras)

    def step(
        self, inputs: Tensor, targets: Tensor, indices: Tensor | None, optimizer: torch.optim.Optimizer
    ) -> list[Tensor]:
        """Choose among a candidate batch, queue the chosen and train on every full batch;
        returns the (detached) losses of the training steps taken (often none or one)."""
        selection = self.choose(inputs, targets, indices)
        if self.batches is None:
            self.batches = BatchAssembler(int(targets.shape[0]))
        if indices is None:
            indices = torch.arange(targets.shape[0], device=targets.device)
        chosen = selection.chosen
        self.batches.add(inputs[chosen], targets[chosen], indices[chosen], selection.weights)
        losses = [self.train_on(*batch, optimizer) for batch in self.batches.full()]
        if self.selector.steps_per_pool() and (rest := self.batches.rest()) is not None:
            losses.append(self.train_on(*rest, optimizer))  # this pool's picks as one step of their own
        return losses

    def epoch_indices(self) -> Tensor | None:
        """The dataset indices the current epoch should traverse, for a selector that decides
        them at an epoch's start (RS2's round, InfoBatch's pruned set: build the epoch's loader
        over them), or ``None``: every example. Call once per epoch, before its first step."""
        return self.selector.epoch_pool(self.epoch)

    def finish_epoch(self, optimizer: torch.optim.Optimizer) -> list[Tensor]:
        """Train on what is left in the queue and start the selector's next epoch (SB's warm-up
        counts epochs); returns the losses of the steps taken."""
        rest = self.batches.rest() if self.batches is not None else None
        losses = [self.train_on(*rest, optimizer)] if rest is not None else []
        self.epoch += 1
        self.selector.start_epoch(self.epoch)
        return losses

    def train_on(
        self, inputs: Tensor, targets: Tensor, indices: Tensor, weights: Tensor, optimizer: torch.optim.Optimizer
    ) -> Tensor:
        """One forward, backward and optimiser step on a batch, losses weighted by ``weights``."""
        self.model.train()
        logits = self.model(inputs)
        losses = self.check_losses(logits, targets)
        loss = (losses * weights).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        self.selector.observe(indices, logits.detach().float(), targets)
        self.examples_trained += int(targets.shape[0])
        return loss.detach()

    def check_batch(self, inputs: Tensor, targets: Tensor, indices: Tensor | None) -> int:
        """The candidate count; ``ValueError`` naming a malformed argument."""
        if not isinstance(inputs, Tensor) or inputs.dim() == 0:
            raise ValueError(f"inputs must be a tensor with the batch as its first dimension, got {describe(inputs)}")
        count = inputs.shape[0]
        if not isinstance(targets, Tensor) or targets.shape != (count,) or targets.is_floating_point():
            raise ValueError(
                f"targets must be a 1-D integer tensor of the {count} inputs' classes, got {describe(targets)}"
            )
        if indices is None and (self.irreducible_losses is not None or getattr(self.selector, "num_examples", None)):
            raise ValueError(
                f"{type(self.selector).__name__} looks examples up by dataset index: give indices, a 1-D integer "
                "tensor "
                "of each input's position in the dataset"
            )
        if indices is not None and (
            not isinstance(indices, Tensor) or indices.shape != (count,) or indices.is_floating_point()
        ):
            raise ValueError(
                f"indices must be a 1-D integer tensor of the {count} inputs' dataset positions, got "
                f"{describe(indices)}"
            )
        return count

    def check_losses(self, logits: Tensor, targets: Tensor) -> Tensor:
        """``loss_fn``'s per-example losses; ``ValueError`` if it reduces them or the classes do not fit."""
        if logits.dim() != 2 or logits.shape[0] != targets.shape[0]:
            raise ValueError(
                f"model must map {targets.shape[0]} inputs to ({targets.shape[0]}, classes) logits, got "
                f"{describe(logits)}"
            )
        if (
            targets.device.type == "cpu"
            and targets.numel()
            and (int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1])
        ):
            raise ValueError(
                f"targets must lie in [0, {logits.shape[1]}), got values from {int(targets.min())} to "
                f"{int(targets.max())}"
            )
        losses = self.loss_fn(logits, targets)
        if not isinstance(losses, Tensor) or losses.shape != (targets.shape[0],):
            raise ValueError(
                f"loss_fn must return one loss per example, shape ({targets.shape[0]},), got {describe(losses)}: "
                'use reduction="none" (e.g. nn.CrossEntropyLoss(reduction="none"))'
            )
        return losses

    def state_dict(self) -> dict[str, Any]:
        """The selector's state, the queue and the counts, for a checkpoint beside the model's and optimiser's."""
        return {
            "selector": self.selector.state_dict(),
            "batches": None if self.batches is None else self.batches.state_dict(),
            "epoch": self.epoch,
            "candidates_seen": self.candidates_seen,
            "examples_trained": self.examples_trained,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`: the next step selects as the uninterrupted loop would."""
        self.selector.load_state_dict(copy.deepcopy(state["selector"]))
        device = next(self.model.parameters()).device
        if state["batches"] is None:
            self.batches = None
        else:
            self.batches = BatchAssembler(state["batches"]["batch_size"])
            self.batches.load_state_dict(state["batches"], device)
        self.epoch, self.candidates_seen, self.examples_trained = (
            state["epoch"],
            state["candidates_seen"],
            state["examples_trained"],
        )


def per_example_losses(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor,
    batch_size: int = 1024,
    loss_fn: LossFn = per_example_cross_entropy,
) -> Tensor:
    """``model``'s loss on every example (by position, in eval mode, without gradients): the
    irreducible losses of a training set when ``model`` is an IL model trained on a holdout."""
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"inputs hold {inputs.shape[0]} examples but targets {targets.shape[0]}: give one target per input"
        )
    was_training = model.training
    model.eval()
    with torch.no_grad():
        losses = torch.cat(
            [
                loss_fn(model(inputs[i : i + batch_size]).float(), targets[i : i + batch_size])
                for i in range(0, inputs.shape[0], batch_size)
            ]
        )
    model.train(was_training)
    return losses


def fit_irreducible_model(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 320,
    validation_fraction: float = 0.1,
    seed: int = 0,
) -> nn.Module:
    """Train ``model`` on a holdout (``inputs``, ``targets``) with AdamW, as paper M trains its
    IL models, keeping the weights of the lowest loss on a random ``validation_fraction`` of it."""
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"inputs hold {inputs.shape[0]} examples but targets {targets.shape[0]}: give one target per input"
        )
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(inputs.shape[0], generator=generator).to(inputs.device)
    held = max(1, int(validation_fraction * inputs.shape[0])) if validation_fraction > 0 else 0
    validation, training = order[:held], order[held:]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    best, best_state = float("inf"), copy.deepcopy(model.state_dict())
    for epoch in range(epochs):
        model.train()
        shuffled = training[
            torch.randperm(training.numel(), generator=torch.Generator().manual_seed(derive_seed(seed, epoch)))
        ]
        for start in range(0, shuffled.numel(), batch_size):
            batch = shuffled[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(inputs[batch]), targets[batch]).backward()
            optimizer.step()
        loss = float(per_example_losses(model, inputs[validation], targets[validation]).mean()) if held else -epoch
        if loss < best:
            best, best_state = loss, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model
