"""The one selection core: select → queue → weights → observe.

Both the book's trainer (:mod:`lossprio.train`) and users' loops (:mod:`lossprio.loop`) run
selection through :class:`SelectionCore`, so every selector hook behaves the same in both:

- :meth:`SelectionCore.forward`: the selection forward a selector scores with (no gradients, in
  its reference code's mode, the head's input norms captured when it ``wants`` them), or, for a
  selector that ``trains_through_selection_forward``, the one train-mode forward its chosen rows
  are back-propagated through;
- :meth:`SelectionCore.decide`: the selector's choice, with its per-example tables (irreducible
  losses by dataset index) and the captured norms as ``extras``;
- :meth:`SelectionCore.push` / :meth:`SelectionCore.pop`: Selective-Backprop's queue of chosen
  examples, handed out as full :class:`TrainBatch` es of ``batch_size`` (or a pool's picks as one
  batch, for a selector that ``steps_per_pool``);
- :func:`weighted_loss` and :meth:`SelectionCore.observe`: the loss to back-propagate, and what
  the selector sees of the training forward.

What to do with a batch (autocast, backward, clipping, the optimiser's step) is the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .precision import autocast
from .selectors.base import Selection, Selector


class Queue:
    """Chosen examples waiting for a full training batch."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size, self.parts, self.count = batch_size, [], 0

    def push(self, *part: Tensor) -> None:
        self.parts.append(part)
        self.count += part[0].numel()

    def pop(self, drain: bool = False) -> tuple[Tensor, ...] | None:
        """A full batch, or with ``drain`` whatever is left; ``None`` if there is not enough."""
        if self.count == 0 or (self.count < self.batch_size and not drain):
            return None
        joined = [torch.cat(column) for column in zip(*self.parts)]
        take = min(self.batch_size, self.count)
        self.parts = [tuple(c[take:] for c in joined)] if self.count > take else []
        self.count -= take
        return tuple(c[:take] for c in joined)

    def clear(self) -> None:
        self.parts, self.count = [], 0

    def state_dict(self) -> dict[str, Any]:
        """The queued examples (on the CPU), for a checkpoint."""
        return {"batch_size": self.batch_size, "parts": [[t.cpu() for t in part] for part in self.parts]}

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        self.batch_size, self.parts, self.count = state["batch_size"], [], 0
        for part in state["parts"]:
            self.push(*(t.to(device) for t in part))


class FeatureNorms:
    """Forward hook on a model's head: the norm of its input (penultimate features) per example,
    captured only while :attr:`active`."""

    def __init__(self, head: nn.Module) -> None:
        self.value: Tensor | None = None
        self.active = False
        self.handle = head.register_forward_hook(self.capture)

    def capture(self, module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        if self.active:
            self.value = inputs[0].detach().float().flatten(1).norm(dim=1)


def find_head(model: nn.Module) -> nn.Module | None:
    """The layer producing a model's logits: its ``head`` attribute (the book's models), else its
    last ``nn.Linear``; ``None`` if it has neither."""
    head = getattr(model, "head", None)
    if isinstance(head, nn.Module):
        return head
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


@dataclass
class TrainBatch:
    """Examples to train on in one optimiser step.

    Attributes:
        inputs, targets, indices: the chosen examples (dataset indices) of one or more candidate batches.
        weights: each example's loss weight (importance-sampling corrections; 1 otherwise).
        logits: the chosen rows of the selection forward, with gradients, when the selector
            trains through it (back-propagate through these instead of a second forward); else ``None``.
    """

    inputs: Tensor
    targets: Tensor
    indices: Tensor
    weights: Tensor
    logits: Tensor | None = None

    def __len__(self) -> int:
        return int(self.targets.shape[0])


def weighted_loss(losses: Tensor, weights: Tensor) -> Tensor:
    """The loss to back-propagate: per-example ``losses`` times their selection ``weights``, averaged."""
    return (losses * weights).mean()


class SelectionCore:
    """A selector with its queue, tables and captured norms: the part of a selective loop that
    decides what to train on.

    Args:
        selector: a built selector.
        batch_size: examples per training step (the queue's batch).
        tables: per-example tensors by dataset index handed to the selector as ``extras``
            (``irreducible_loss``), on the candidates' device.
        eval_mode: score in eval mode (BatchNorm running statistics) or train mode; default the
            selector's reference mode.
        head: the layer producing the logits, whose input norms a selector that ``wants``
            ``feature_norm`` reads (default :func:`find_head`).
        checked: validate every decision's inputs (:meth:`Selector.select`) rather than trust
            them (:meth:`Selector.decide`, the book's loop, whose inputs are well formed by construction).
    """

    def __init__(
        self,
        selector: Selector,
        batch_size: int,
        tables: Mapping[str, Tensor] | None = None,
        eval_mode: bool | None = None,
        model: nn.Module | None = None,
        head: nn.Module | None = None,
        checked: bool = False,
    ) -> None:
        self.selector, self.tables, self.checked = selector, dict(tables or {}), checked
        self.eval_mode = selector.scores_in_eval_mode if eval_mode is None else bool(eval_mode)
        self.queue = Queue(batch_size)
        self.features: FeatureNorms | None = None
        if "feature_norm" in selector.wants:
            head = head if head is not None else find_head(model) if model is not None else None
            if head is None:
                raise ValueError(
                    f"{type(selector).__name__} with norm='last_layer' reads the norm of the input of the layer "
                    "that produces the logits: give head=<that layer> (the model has no `head` and no nn.Linear)"
                )
            self.features = FeatureNorms(head)

    @property
    def trains_through(self) -> bool:
        """Whether the chosen rows train through the selection forward (one forward per candidate batch)."""
        return self.selector.trains_through_selection_forward

    def forward(self, model: nn.Module, inputs: Tensor, amp: bool = False) -> Tensor:
        """The selection forward's float logits: without gradients in the scoring mode, or for a
        selector that :attr:`trains_through` it, in train mode with gradients (the model is left
        in train mode). ``amp``: autocast on the inputs' device (:func:`~lossprio.precision.autocast`)."""
        if self.features is not None:
            self.features.active = True
        try:
            if self.trains_through:
                model.train()
                with autocast(inputs.device, amp):
                    return model(inputs)
            model.train(not self.eval_mode)
            with torch.no_grad(), autocast(inputs.device, amp):
                logits = model(inputs).float()
            model.train()
            return logits
        finally:
            if self.features is not None:
                self.features.active = False

    def decide(self, indices: Tensor, logits: Tensor | None, targets: Tensor) -> Selection:
        """The selector's choice among a candidate batch (``logits``: the selection forward's, or
        ``None`` when the selector needs none), its tables and captured norms as ``extras``."""
        extras = {name: table[indices] for name, table in self.tables.items()}
        if logits is not None and self.features is not None:
            extras["feature_norm"] = self.features.value
        scored = None if logits is None else logits.detach().float()
        if self.checked:
            return self.selector.select(indices, scored, targets, extras)
        return self.selector.decide(indices, scored, targets, extras)

    def push(self, inputs: Tensor, targets: Tensor, indices: Tensor, selection: Selection) -> None:
        """Queue the chosen candidates with their weights."""
        chosen = selection.chosen
        self.queue.push(indices[chosen], inputs[chosen], targets[chosen], selection.weights)

    def pop(self, drain: bool = False) -> TrainBatch | None:
        """The next full batch, or with ``drain`` whatever is queued; ``None`` when there is none."""
        part = self.queue.pop(drain=drain)
        if part is None:
            return None
        indices, inputs, targets, weights = part
        return TrainBatch(inputs, targets, indices, weights)

    def ready(self) -> list[TrainBatch]:
        """Every batch to train on now: the full ones, or for a selector that steps per pool,
        what it just chose as one batch."""
        drain = self.selector.steps_per_pool()
        batches = []
        while (batch := self.pop(drain=drain)) is not None:
            batches.append(batch)
        return batches

    def through(
        self, inputs: Tensor, targets: Tensor, indices: Tensor, logits: Tensor, selection: Selection
    ) -> TrainBatch:
        """The chosen rows of a train-through forward as a batch, their logits kept with gradients."""
        chosen = selection.chosen
        return TrainBatch(inputs[chosen], targets[chosen], indices[chosen], selection.weights, logits[chosen])

    def observe(self, batch: TrainBatch, logits: Tensor) -> None:
        """Show the selector the (detached) logits of a training forward on ``batch``."""
        self.selector.observe(batch.indices, logits.detach().float(), batch.targets)
