"""Irreducible losses (paper M): the loss of a model trained on a holdout set, per training example.

An IL model is trained with AdamW (lr 1e-3, batch 320) on the holdout set, keeping the
checkpoint with the lowest validation loss; it then scores the training set on non-augmented
inputs once, and the losses are stored by dataset index and cached on disk keyed by their
config and the data they came from.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from .batches import Augment, BatchIterator, derive_seed
from .checks import check_choice, check_fraction, check_int, check_positive_int, check_range
from .data import ImageSet, class_balanced_fraction, class_balanced_split, halves
from .locks import exclusive
from .models import build as build_model
from .selectors.base import entropy_score, loss_score
from .storage import FileProblem, load_tensors, remove_temporaries, save_tensors, set_aside


@dataclass(frozen=True)
class ILConfig:
    """How irreducible losses are made.

    Attributes:
        model: registry name of the IL model (paper M: the target architecture or ``small_cnn``).
        model_kwargs: its settings (e.g. an MLP's ``hidden`` widths).
        epochs: training epochs over the holdout set.
        holdout: ``holdout`` (train on the given holdout) or ``no_holdout`` (two IL models on the
            two halves of the training set, each scoring the half it did not see).
        holdout_fraction: class-balanced share of the holdout used (paper M's Fig. 5: 1/2, 1/4).
        validation_fraction: class-balanced share of the holdout kept out for checkpoint choice.
    """

    model: str = "small_cnn"
    model_kwargs: dict = field(default_factory=dict)
    epochs: int = 100
    batch_size: int = 320
    lr: float = 1e-3
    holdout: str = "holdout"
    holdout_fraction: float = 1.0
    validation_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_choice("holdout", self.holdout, ["holdout", "no_holdout"])
        check_fraction("holdout_fraction", self.holdout_fraction, allow_zero=False)
        check_range("validation_fraction", self.validation_fraction, 0.0, 1.0, high_open=True)
        check_range("lr", self.lr, 0.0, low_open=True)
        check_int("seed", self.seed, 0)


def il_config(run: Any) -> ILConfig:
    """The IL model a run's config asks for (its ``il_*`` settings and seed)."""
    return ILConfig(
        model=run.il_model,
        model_kwargs=dict(run.il_model_kwargs),
        epochs=run.il_epochs,
        holdout=run.il_holdout,
        holdout_fraction=run.il_holdout_fraction,
        seed=run.seed,
    )


def proxy_config(run: Any) -> ILConfig:
    """SVP's proxy as a run's config asks for it: the IL model's architecture, ``svp_proxy_epochs``."""
    return ILConfig(
        model=run.il_model, model_kwargs=dict(run.il_model_kwargs), epochs=run.svp_proxy_epochs, seed=run.seed
    )


def score(
    model: nn.Module,
    image_set: ImageSet,
    augment: Augment,
    device: torch.device,
    kind: str = "loss",
    batch_size: int = 1024,
) -> Tensor:
    """Per-example ``loss`` or prediction ``entropy`` on non-augmented inputs, by position, on the CPU."""
    check_choice("kind", kind, ["loss", "entropy"])
    score_fn = loss_score if kind == "loss" else entropy_score
    iterator = BatchIterator(image_set, batch_size, device=device, augment=augment, evaluation=True, shuffle=False)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        scores = torch.cat([score_fn(model(b.inputs), b.labels) for b in iterator.epoch(0)])
    model.train(was_training)
    return scores.cpu()


def fit(
    model: nn.Module,
    train: ImageSet,
    validation: ImageSet,
    config: ILConfig,
    augment: Augment,
    device: torch.device,
    progress: bool = True,
) -> nn.Module:
    """Train ``model`` with AdamW on ``train``; return it with the weights of its best validation loss."""
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    batches = BatchIterator(train, config.batch_size, device=device, augment=augment, seed=config.seed)
    best_loss, best_state = float("inf"), copy.deepcopy(model.state_dict())
    for epoch in tqdm(range(config.epochs), desc=f"IL model {config.model}", disable=not progress, leave=False):
        model.train()
        torch.manual_seed(derive_seed(config.seed, epoch, 2))
        for batch in batches.epoch(epoch):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(batch.inputs), batch.labels).backward()
            optimizer.step()
        # without a validation set the last epoch counts as the best
        validation_loss = float(score(model, validation, augment, device).mean()) if len(validation) else -epoch
        if validation_loss < best_loss:
            best_loss, best_state = validation_loss, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model


def train_and_score(
    fit_on: ImageSet,
    score_on: ImageSet,
    config: ILConfig,
    augment: Augment,
    device: torch.device,
    progress: bool = True,
    kind: str = "loss",
) -> Tensor:
    """Fit a model on ``fit_on`` (less a validation share) and return its per-example ``kind``
    (``loss`` or ``entropy``) on ``score_on``."""
    validation, training = class_balanced_split(fit_on, config.validation_fraction, seed=config.seed)
    torch.manual_seed(config.seed)
    c, h, _ = fit_on.image_shape
    model = build_model(
        config.model, num_classes=fit_on.num_classes, in_channels=c, image_size=h, **config.model_kwargs
    )
    model = fit(model, training, validation, config, augment, device, progress)
    return score(model, score_on, augment, device, kind)


def fingerprint(image_set: ImageSet) -> str:
    """A hash of an image set's content and order (images, labels, source indices)."""
    digest = hashlib.sha256()
    for tensor in (image_set.images, image_set.labels, image_set.source_index):
        digest.update(tensor.contiguous().numpy().tobytes())
    digest.update(f"{image_set.name}/{image_set.split}".encode())
    return digest.hexdigest()[:16]


def irreducible_losses(
    train: ImageSet,
    holdout: ImageSet | None,
    config: ILConfig,
    augment: Augment,
    device: torch.device,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> Tensor:
    """Irreducible loss of every example of ``train`` (by position), computed once and cached.

    Args:
        train: the set the target model trains on.
        holdout: the IL model's training data (``None`` allowed only with ``holdout='no_holdout'``).
        config: IL settings; with ``holdout_fraction < 1`` a class-balanced part of the holdout is used.
        augment: augmentation for the IL model's training (its mean/std also normalise scoring).
        cache_dir: folder for ``il-<hash>.pt``; ``None`` disables the cache.
    """
    if config.holdout == "holdout" and holdout is None:
        raise ValueError("holdout=None: ILConfig.holdout='holdout' needs a holdout set (or use holdout='no_holdout')")
    key = hashlib.sha256(
        json.dumps(
            {
                "config": asdict(config),
                "augment": asdict(augment),
                "train": fingerprint(train),
                "holdout": None if holdout is None or config.holdout == "no_holdout" else fingerprint(holdout),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]
    if cache_dir is None:
        return compute_irreducible_losses(train, holdout, config, augment, device, progress)
    path = Path(cache_dir) / f"il-{key}.pt"
    with exclusive(path.with_suffix(".lock")):  # one process trains it; the others wait, then read it
        remove_temporaries(path.parent, path.name)
        if path.exists():
            try:
                return read_cache(path, train)
            except FileProblem as problem:
                set_aside(path, f"{problem.problem}; the IL model is retrained")
        losses = compute_irreducible_losses(train, holdout, config, augment, device, progress)
        save_tensors({"losses": losses, "source_index": train.source_index}, path, config=asdict(config))
        return losses


def compute_irreducible_losses(
    train: ImageSet, holdout: ImageSet | None, config: ILConfig, augment: Augment, device: torch.device, progress: bool
) -> Tensor:
    """Train the IL model(s) as ``config`` says and score ``train`` (no cache)."""
    if config.holdout == "no_holdout":
        first, second = halves(train)
        losses = torch.empty(len(train))
        losses[1::2] = train_and_score(first, second, config, augment, device, progress)
        losses[0::2] = train_and_score(second, first, config, augment, device, progress)
        return losses
    used = (
        holdout
        if config.holdout_fraction == 1
        else class_balanced_fraction(holdout, config.holdout_fraction, config.seed)
    )
    if len(used) == 0:
        raise ValueError(f"holdout_fraction={config.holdout_fraction} leaves no holdout examples out of {len(holdout)}")
    return train_and_score(used, train, config, augment, device, progress)


def read_cache(path: Path, train: ImageSet) -> Tensor:
    """Cached losses, checked for length, dtype, finiteness and the training set's order."""
    _, cached = load_tensors(path)
    losses = cached.get("losses") if isinstance(cached, dict) else None
    if not isinstance(losses, Tensor) or losses.dtype != torch.float32 or losses.shape != (len(train),):
        shape = tuple(losses.shape) if isinstance(losses, Tensor) else type(losses).__name__
        raise FileProblem(
            path,
            f"holds losses of shape/dtype {shape}/{getattr(losses, 'dtype', None)}, "
            f"expected ({len(train)},)/torch.float32",
        )
    if not bool(torch.isfinite(losses).all()):
        raise FileProblem(path, f"holds {int((~torch.isfinite(losses)).sum())} non-finite losses")
    if not torch.equal(cached.get("source_index", torch.empty(0)), train.source_index):
        raise FileProblem(path, "holds losses for another ordering of the training set")
    return losses
