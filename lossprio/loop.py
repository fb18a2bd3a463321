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
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import irreducible, selectors
from .batches import derive_seed
from .checks import check_choice, check_known, check_positive_int
from .core import SelectionCore, TrainBatch, weighted_loss
from .selectors.base import Selection, Selector, describe

LossFn = Callable[[Tensor, Tensor], Tensor]


def per_example_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy per example (``reduction="none"``): the default loss."""
    return F.cross_entropy(logits.float(), targets, reduction="none")


#: settings that describe the user's data or schedule, which no paper can default
DATA_SETTINGS = {
    "num_examples": "the training set's size (dataset indices run from 0 to num_examples - 1)",
    "epochs": "the number of epochs the loop will run",
}


def make_selector(name: str, **settings: Any) -> Selector:
    """Selector ``name`` (one of :func:`lossprio.selectors.selector_names`) with its paper's
    settings (the selector's ``paper_defaults``) and ``settings`` changed, e.g. ``make_selector("sb", beta=2.0)``
    or ``make_selector("rho", selectivity=0.2)``. Stale-SB, RS2 and InfoBatch also need the size of
    the data (``num_examples``), InfoBatch the ``epochs``. ``ValueError`` names an unknown name, a
    misspelt or missing setting (listing the allowed ones) and a refused value."""
    check_choice("name", name, selectors.selector_names())
    kind = selectors.selector_class(name)
    parameters = inspect.signature(kind.__init__).parameters
    allowed = [p for p in parameters if p != "self"]
    check_known("settings", settings, allowed, f"make_selector({name!r})")
    missing = [
        p
        for p, parameter in parameters.items()
        if p != "self" and parameter.default is inspect.Parameter.empty and p not in settings
    ]
    if missing:
        needs = "; ".join(f"{p}: {DATA_SETTINGS.get(p, 'no default')}" for p in missing)
        raise ValueError(
            f"make_selector({name!r}) needs {', '.join(f'{p}=…' for p in missing)} ({needs}); "
            f"its settings are {', '.join(allowed)}"
        )
    defaults = dict(kind.paper_defaults)
    if "keep" in settings or "selectivity" in settings:
        defaults.pop("selectivity", None)  # the user's count or share replaces the paper's share
    return selectors.build(name, **{**defaults, **settings})


class Prioritizer:
    """One selector and one model in a plain PyTorch loop, on the book's selection core
    (:class:`lossprio.core.SelectionCore`): every selector behaves as in the book's trainer.

    Keep your own step (autocast, GradScaler, clipping, accumulation, DDP)::

        for inputs, targets, indices in loader:
            for batch in prioritizer.batches(inputs, targets, indices):   # what to train now
                loss = prioritizer.loss(batch)                             # forward + weighted loss
                loss.backward(); optimizer.step(); optimizer.zero_grad()
        for batch in prioritizer.end_epoch(): ...                         # the queue's rest

    or let it step: ``prioritizer.step(inputs, targets, indices, optimizer)`` per candidate batch
    and ``prioritizer.finish_epoch(optimizer)`` per epoch.

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
        head: the layer producing the logits, for gradient norms of the last layer
            (``norm="last_layer"``; default the model's ``head`` or its last ``nn.Linear``).
    """

    def __init__(
        self,
        selector: Selector,
        model: nn.Module,
        batch_size: int | None = None,
        loss_fn: LossFn = per_example_cross_entropy,
        irreducible_losses: Tensor | None = None,
        selection_eval_mode: bool | None = None,
        head: nn.Module | None = None,
    ) -> None:
        if not isinstance(selector, Selector):
            raise ValueError(f"selector must be a lossprio Selector (see make_selector), got {type(selector).__name__}")
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        check_loss_fn(loss_fn)
        if batch_size is not None:
            check_positive_int("batch_size", batch_size)
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
        tables = {} if self.irreducible_losses is None else {"irreducible_loss": self.irreducible_losses}
        self.core = SelectionCore(
            selector, batch_size or 1, tables, selection_eval_mode, model=model, head=head, checked=True
        )
        self.batch_size = batch_size
        self.epoch = 0
        self.candidates_seen = 0
        self.examples_trained = 0
        self.selection_forwards = 0  # examples passed through a no-gradient selection forward
        self.training_forwards = 0  # examples passed through a forward that is back-propagated

    @property
    def share_trained(self) -> float:
        """Share of the candidates seen so far that were trained on."""
        return self.examples_trained / max(1, self.candidates_seen)

    def choose(self, inputs: Tensor, targets: Tensor, indices: Tensor | None = None) -> Selection:
        """The selector's choice among a candidate batch, and nothing queued: positions to train
        on (may repeat for samplers), their loss weights and every candidate's score. Runs the
        selection forward only when the selector needs one."""
        return self.decide(inputs, targets, indices)[0]

    def decide(
        self, inputs: Tensor, targets: Tensor, indices: Tensor | None
    ) -> tuple[Selection, Tensor, Tensor | None]:
        """(the choice, the candidates' dataset indices, the selection forward's logits or ``None``)."""
        count = self.check_batch(inputs, targets, indices)
        if indices is None:
            indices = torch.arange(count, device=targets.device)
        if self.irreducible_losses is not None:
            if int(indices.max()) >= self.irreducible_losses.numel() or int(indices.min()) < 0:
                raise ValueError(
                    f"indices run from {int(indices.min())} to {int(indices.max())}, but irreducible_losses covers "
                    f"dataset indices 0..{self.irreducible_losses.numel() - 1}"
                )
            if self.core.tables["irreducible_loss"].device != targets.device:  # moved once, not every step
                self.core.tables["irreducible_loss"] = self.irreducible_losses.to(targets.device)
        logits = None
        if self.core.trains_through or self.selector.needs_forward():
            logits = self.core.forward(self.model, inputs)
            self.check_logits(logits, targets)
            if self.core.trains_through:
                self.training_forwards += count
            else:
                self.selection_forwards += count
        self.candidates_seen += count
        return self.core.decide(indices, logits, targets), indices, logits

    def batches(self, inputs: Tensor, targets: Tensor, indices: Tensor | None = None) -> list[TrainBatch]:
        """Choose among a candidate batch, queue the chosen, and hand back every batch to train
        on now (often none or one): pass each to :meth:`loss`, then back-propagate and step."""
        if self.batch_size is None:
            self.batch_size = self.core.queue.batch_size = int(targets.shape[0])
        selection, indices, logits = self.decide(inputs, targets, indices)
        if self.core.trains_through:
            return [self.core.through(inputs, targets, indices, logits, selection)]
        self.core.push(inputs, targets, indices, selection)
        return self.core.ready()

    def loss(self, batch: TrainBatch) -> Tensor:
        """The loss to back-propagate for ``batch``: the model's forward on it (in train mode;
        or the selection forward's logits it carries), ``loss_fn``'s per-example losses times the
        selection weights, averaged. The selector sees the logits (SB's history, Kath18's τ)."""
        if not isinstance(batch, TrainBatch):
            raise ValueError(f"loss takes a batch from batches() or end_epoch(), got {type(batch).__name__}")
        logits = batch.logits
        if logits is None:
            self.model.train()
            logits = self.model(batch.inputs)
            self.training_forwards += len(batch)
        loss = weighted_loss(self.check_losses(logits, batch.targets), batch.weights)
        self.core.observe(batch, logits)
        self.examples_trained += len(batch)
        return loss

    def end_epoch(self) -> list[TrainBatch]:
        """What is left in the queue (train on it like any batch), and the selector's next epoch
        begins (SB's warm-up counts epochs)."""
        rest = self.core.pop(drain=True)
        self.epoch += 1
        self.selector.start_epoch(self.epoch)
        return [] if rest is None else [rest]

    def step(
        self,
        inputs: Tensor,
        targets: Tensor,
        indices: Tensor | None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> list[Tensor]:
        """:meth:`batches`, and for each a backward and an optimiser step; returns the (detached)
        losses of the steps taken."""
        if isinstance(indices, torch.optim.Optimizer) or (optimizer is None and hasattr(indices, "zero_grad")):
            raise ValueError(
                "step(inputs, targets, indices, optimizer): the third argument is the optimizer; give each input's "
                "dataset index third (a 1-D integer tensor, or None for selectors that keep no per-example state)"
            )
        check_optimizer(optimizer)
        return [self.train_on(batch, optimizer) for batch in self.batches(inputs, targets, indices)]

    def finish_epoch(self, optimizer: torch.optim.Optimizer) -> list[Tensor]:
        """:meth:`end_epoch`, training on the queue's rest; returns the losses of the steps taken."""
        check_optimizer(optimizer)
        return [self.train_on(batch, optimizer) for batch in self.end_epoch()]

    def train_on(self, batch: TrainBatch, optimizer: torch.optim.Optimizer) -> Tensor:
        """One forward (unless the batch carries its logits), backward and optimiser step."""
        loss = self.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def epoch_indices(self) -> Tensor | None:
        """The dataset indices the current epoch should traverse, for a selector that decides
        them at an epoch's start (RS2's round, InfoBatch's pruned set: build the epoch's loader
        over them), or ``None``: every example. Call once per epoch, before its first step."""
        return self.selector.epoch_pool(self.epoch)

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

    def check_logits(self, logits: Tensor, targets: Tensor) -> None:
        """``ValueError`` unless the model gave (N, classes) logits that the targets fit."""
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

    def check_losses(self, logits: Tensor, targets: Tensor) -> Tensor:
        """``loss_fn``'s per-example losses; ``ValueError`` if it reduces them or the classes do not fit."""
        self.check_logits(logits, targets)
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
            "queue": self.core.queue.state_dict(),
            "batch_size": self.batch_size,
            **{name: getattr(self, name) for name in COUNTS},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`: the next step selects as the uninterrupted loop would."""
        self.selector.load_state_dict(copy.deepcopy(state["selector"]))
        device = next(self.model.parameters()).device
        self.core.queue.load_state_dict(state["queue"], device)
        self.batch_size = state["batch_size"]
        for name in COUNTS:
            setattr(self, name, state[name])


#: the counts a :class:`Prioritizer` keeps (and its checkpoint carries)
COUNTS = ("epoch", "candidates_seen", "examples_trained", "selection_forwards", "training_forwards")


def check_loss_fn(loss_fn: object) -> None:
    """``ValueError`` naming a loss class given instead of an instance, a reducing loss module or
    something that is not callable."""
    if isinstance(loss_fn, type):
        raise ValueError(
            f"loss_fn={loss_fn.__name__} is a class: give an instance that returns one loss per example, e.g. "
            f'{loss_fn.__name__}(reduction="none")'
        )
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable as loss_fn(logits, targets), got {type(loss_fn).__name__}")
    reduction = getattr(loss_fn, "reduction", "none")
    if isinstance(loss_fn, nn.Module) and reduction != "none":
        raise ValueError(
            f'loss_fn={type(loss_fn).__name__}(reduction="{reduction}") reduces the batch to one number; selection '
            f'weights need one loss per example: {type(loss_fn).__name__}(reduction="none")'
        )


def check_optimizer(optimizer: object) -> None:
    """``ValueError`` unless ``optimizer`` can zero gradients and step."""
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        raise ValueError(
            f"optimizer must be a torch.optim.Optimizer (or have step and zero_grad), got {type(optimizer).__name__}"
        )


class IndexedDataset(torch.utils.data.Dataset):
    """A dataset whose items are ``(*item, index)``: each example carries its dataset index,
    which selectors that keep per-example state (SB's stale scores, RHO-LOSS's irreducible
    losses, InfoBatch's scores) look it up by."""

    def __init__(self, dataset: torch.utils.data.Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        item = self.dataset[index]
        return (*item, index) if isinstance(item, tuple) else (item, index)


class EpochSampler(torch.utils.data.Sampler[int]):
    """A ``DataLoader`` sampler over the indices each epoch should traverse: a per-epoch method's
    pick (RS2's round, InfoBatch's pruned set, from :meth:`Prioritizer.epoch_indices`) or every
    example, shuffled by ``(seed, epoch)``. With it, InfoBatch and RS2 are InfoBatch's own
    three-line change: wrap the dataset (:class:`IndexedDataset`), use this sampler, and pass the
    losses through :meth:`Prioritizer.loss`; call :meth:`Prioritizer.end_epoch` after each epoch."""

    def __init__(self, prioritizer: Prioritizer, num_examples: int, seed: int = 0) -> None:
        check_positive_int("num_examples", num_examples)
        self.prioritizer, self.num_examples, self.seed = prioritizer, num_examples, seed
        self.drawn_for: int | None = None
        self.pool: Tensor | None = None

    def indices(self) -> Tensor:
        """The current epoch's indices in their order (drawn once per epoch)."""
        epoch = self.prioritizer.epoch
        if self.drawn_for != epoch:
            pool = self.prioritizer.epoch_indices()
            pool = torch.arange(self.num_examples) if pool is None else pool.cpu()
            order = torch.randperm(pool.numel(), generator=torch.Generator().manual_seed(derive_seed(self.seed, epoch)))
            self.pool, self.drawn_for = pool[order], epoch
        return self.pool

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return int(self.indices().numel())


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
    """Train ``model`` on a holdout (``inputs``, ``targets``) with the book's IL trainer
    (:func:`lossprio.irreducible.train_keeping_best`: AdamW, as paper M trains its IL models),
    keeping the weights of the lowest loss on a random ``validation_fraction`` of it."""
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"inputs hold {inputs.shape[0]} examples but targets {targets.shape[0]}: give one target per input"
        )
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(inputs.shape[0], generator=generator).to(inputs.device)
    held = max(1, int(validation_fraction * inputs.shape[0])) if validation_fraction > 0 else 0
    validation, training = order[:held], order[held:]

    def batches(epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        shuffle = torch.Generator().manual_seed(derive_seed(seed, epoch))
        shuffled = training[torch.randperm(training.numel(), generator=shuffle).to(training.device)]
        for start in range(0, shuffled.numel(), batch_size):
            batch = shuffled[start : start + batch_size]
            yield inputs[batch], targets[batch]

    def validation_loss() -> float:
        return float(per_example_losses(model, inputs[validation], targets[validation]).mean())

    return irreducible.train_keeping_best(model, epochs, lr, batches, validation_loss if held else None)
