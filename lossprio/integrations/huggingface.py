"""Hugging Face ``transformers``: a ``Trainer`` whose loss is that of the examples a selector
chooses (``pip install "lossprio[huggingface]"``).

>>> sb = make_selector("sb")  # doctest: +SKIP
>>> trainer = PrioritizedTrainer(model=model, args=args, train_dataset=data, selector=sb)  # doctest: +SKIP

The ``Trainer`` keeps its own step (mixed precision, clipping, gradient accumulation, schedulers):
only :meth:`PrioritizedTrainer.compute_loss` changes. Its optimiser steps once per candidate
batch, so the batches the core hands out for that candidate batch are averaged into one step
(none ready: a zero loss, no gradient, and the optimiser's step leaves the weights alone). With
SB's B = b at most one batch is ready at a time; with RHO-LOSS's n_B = 10 n_b, exactly one.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..loop import LossFn, Prioritizer, per_example_cross_entropy
from ..selectors.base import Selector

try:
    import transformers
except ImportError as missing:
    raise ImportError(
        'lossprio.integrations.huggingface needs transformers: pip install "lossprio[huggingface]"'
    ) from missing


class KeywordLogits(nn.Module):
    """A model called with keyword inputs (``pixel_values=…``), seen as inputs → logits."""

    def __init__(self, model: nn.Module, input_key: str) -> None:
        super().__init__()
        self.model, self.input_key = model, input_key

    def forward(self, inputs: Tensor) -> Tensor:
        return logits_of(self.model(**{self.input_key: inputs}))


def logits_of(output: Any) -> Tensor:
    """The logits of a model's output: a tensor, or an output object or dict with ``logits``."""
    if isinstance(output, Tensor):
        return output
    logits = output["logits"] if isinstance(output, dict) else getattr(output, "logits", None)
    if logits is None:
        raise ValueError(f"the model's output has no logits: got {type(output).__name__}")
    return logits


class PrioritizedTrainer(transformers.Trainer):
    """A ``transformers.Trainer`` that trains on what ``selector`` chooses from each batch.

    Each training example is a dict with the model's input (``input_key``), its label
    (``label_key``) and its dataset index (``index_key``); set
    ``TrainingArguments(remove_unused_columns=False)`` so the index reaches the loss.

    Args:
        selector: from :func:`lossprio.make_selector`.
        selection_batch_size: examples per training batch (default the candidate batch's size).
        irreducible_losses: per-example IL losses by dataset index (RHO-LOSS and its kin).
        loss_fn: per-example loss (``reduction="none"``).
        input_key, label_key, index_key: the batch's entries.
        *args, **kwargs: ``transformers.Trainer``'s.
    """

    def __init__(
        self,
        *args: Any,
        selector: Selector,
        selection_batch_size: int | None = None,
        irreducible_losses: Tensor | None = None,
        loss_fn: LossFn = per_example_cross_entropy,
        input_key: str = "pixel_values",
        label_key: str = "labels",
        index_key: str = "indices",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.args.remove_unused_columns:
            raise ValueError(
                f"PrioritizedTrainer reads each example's dataset index from the batch's {index_key!r} entry, which "
                "the Trainer drops as an unused column: give TrainingArguments(remove_unused_columns=False)"
            )
        self.keys = (input_key, label_key, index_key)
        self.prioritizer = Prioritizer(
            selector, KeywordLogits(self.model, input_key), selection_batch_size, loss_fn, irreducible_losses
        )
        self.add_callback(EpochEnds(self.prioritizer))

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Tensor | tuple[Tensor, Any]:
        input_key, label_key, index_key = self.keys
        if return_outputs or not model.training:  # evaluation: the plain loss of every example
            logits = logits_of(model(**{input_key: inputs[input_key]}))
            loss = F.cross_entropy(logits.float(), inputs[label_key])
            return (loss, {"logits": logits}) if return_outputs else loss
        ready = self.prioritizer.batches(inputs[input_key], inputs[label_key], inputs[index_key])
        if not ready:
            return torch.zeros((), device=inputs[label_key].device, requires_grad=True)
        return sum(self.prioritizer.loss(batch) for batch in ready) / len(ready)


class EpochEnds(transformers.TrainerCallback):
    """Start the selector's next epoch at each of the Trainer's epoch ends (SB's warm-up counts
    epochs); the queue's rest is dropped (the Trainer has no step left in the epoch for it)."""

    def __init__(self, prioritizer: Prioritizer) -> None:
        self.prioritizer = prioritizer

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.prioritizer.end_epoch()
