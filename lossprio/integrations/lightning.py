"""PyTorch Lightning: a ``LightningModule`` whose training step trains on what a selector
chooses (``pip install "lossprio[lightning]"``).

>>> module = PrioritizedModule(model, make_selector("sb"), lambda p: torch.optim.SGD(p, lr=0.1))  # doctest: +SKIP
>>> lightning.Trainer(max_epochs=10).fit(module, DataLoader(IndexedDataset(train), batch_size=128))  # doctest: +SKIP

A candidate batch may give no training batch or several (Selective-Backprop's queue), so the
module optimises manually: one optimiser step per batch the core hands out, each through
``manual_backward`` (Lightning's precision plugin: autocast and loss scaling), clipped to
``clip_norm`` if given (Lightning refuses ``Trainer(gradient_clip_val=…)`` with manual
optimisation). Learning-rate schedulers are stepped once per training batch, if configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from ..core import TrainBatch
from ..loop import LossFn, Prioritizer, per_example_cross_entropy
from ..selectors.base import Selector

try:
    import lightning.pytorch as pl
except ImportError:  # the older package name
    try:
        import pytorch_lightning as pl
    except ImportError as missing:
        raise ImportError(
            'lossprio.integrations.lightning needs PyTorch Lightning: pip install "lossprio[lightning]"'
        ) from missing

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


class PrioritizedModule(pl.LightningModule):
    """Train ``model`` on the examples ``selector`` picks from each candidate batch.

    The training dataloader yields ``(inputs, targets, indices)``: wrap the dataset in
    :class:`lossprio.IndexedDataset`. For RS2 and InfoBatch, use
    ``EpochSampler(module.prioritizer, len(dataset))`` as the dataloader's sampler and set
    ``Trainer(reload_dataloaders_every_n_epochs=1)``.

    Args:
        model: the network (inputs → logits).
        selector: from :func:`lossprio.make_selector`.
        optimizer: builds the optimiser from the model's parameters.
        batch_size: examples per training step (default the candidate batch's size).
        irreducible_losses: per-example IL losses by dataset index (RHO-LOSS and its kin).
        loss_fn: per-example loss (``reduction="none"``).
        clip_norm: clip the gradient's norm to this before each step (``None``: no clipping).
    """

    def __init__(
        self,
        model: nn.Module,
        selector: Selector,
        optimizer: OptimizerFactory,
        batch_size: int | None = None,
        irreducible_losses: Tensor | None = None,
        loss_fn: LossFn = per_example_cross_entropy,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__()
        self.model, self.make_optimizer, self.clip_norm = model, optimizer, clip_norm
        self.automatic_optimization = False
        self.prioritizer = Prioritizer(selector, model, batch_size, loss_fn, irreducible_losses)

    def forward(self, inputs: Tensor) -> Tensor:
        return self.model(inputs)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.make_optimizer(self.model.parameters())

    def training_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> None:
        inputs, targets, indices = batch
        for chosen in self.prioritizer.batches(inputs, targets, indices):
            self.train_on(chosen)
        self.log("share_trained", self.prioritizer.share_trained, prog_bar=True)

    def on_train_epoch_end(self) -> None:
        for chosen in self.prioritizer.end_epoch():
            self.train_on(chosen)

    def train_on(self, batch: TrainBatch) -> None:
        """One optimiser step on a batch the core handed out."""
        optimizer = self.optimizers()
        loss = self.prioritizer.loss(batch)
        optimizer.zero_grad()
        self.manual_backward(loss)
        if self.clip_norm is not None:
            self.clip_gradients(optimizer, gradient_clip_val=self.clip_norm, gradient_clip_algorithm="norm")
        optimizer.step()
        schedulers = self.lr_schedulers()
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
            scheduler.step()
        self.log("train_loss", loss.detach(), prog_bar=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["prioritizer"] = self.prioritizer.state_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if "prioritizer" in checkpoint:
            self.prioritizer.load_state_dict(checkpoint["prioritizer"])
