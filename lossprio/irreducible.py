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
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from .accounting import SetupCost
from .batches import Augment, BatchIterator, derive_seed
from .checks import check_choice, check_fraction, check_int, check_positive_int, check_range
from .data import ImageSet, class_balanced_fraction, class_balanced_split, halves
from .files import FileProblem, load_tensors, remove_temporaries, save_tensors, set_aside
from .locks import exclusive
from .models import build as build_model
from .scores import entropy_score, loss_score

#: how the IL model's checkpoint is chosen: on a share of the holdout (ours) or on the test set (paper M's code)
IL_CHECKPOINTS = ("validation", "test")


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
        checkpoint: ``validation`` (ours: the lowest loss on that share) or ``test`` (paper M's
            reference: trained on the whole holdout, the lowest loss on the run's test set).
    """

    model: str = "small_cnn"
    model_kwargs: dict = field(default_factory=dict)
    epochs: int = 100
    batch_size: int = 320
    lr: float = 1e-3
    holdout: str = "holdout"
    holdout_fraction: float = 1.0
    validation_fraction: float = 0.1
    checkpoint: str = "validation"
    seed: int = 0

    def __post_init__(self) -> None:
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_choice("holdout", self.holdout, ["holdout", "no_holdout"])
        check_fraction("holdout_fraction", self.holdout_fraction, allow_zero=False)
        check_range("validation_fraction", self.validation_fraction, 0.0, 1.0, high_open=True)
        check_choice("checkpoint", self.checkpoint, list(IL_CHECKPOINTS))
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
        checkpoint=run.il_checkpoint,
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
    augmented: bool = False,
    seed: int = 0,
) -> Tensor:
    """Per-example ``loss`` or prediction ``entropy``, by position, on the CPU: on non-augmented
    inputs, or with ``augmented`` on one random augmentation of each (seeded by ``seed``)."""
    check_choice("kind", kind, ["loss", "entropy"])
    score_fn = loss_score if kind == "loss" else entropy_score
    iterator = BatchIterator(
        image_set, batch_size, device=device, augment=augment, evaluation=not augmented, shuffle=False, seed=seed
    )
    was_training = model.training
    model.eval()
    with torch.no_grad():
        scores = torch.cat([score_fn(model(b.inputs), b.labels) for b in iterator.epoch(0)])
    model.train(was_training)
    return scores.cpu()


def train_keeping_best(
    model: nn.Module,
    epochs: int,
    lr: float,
    batches: Callable[[int], Iterable[tuple[Tensor, Tensor]]],
    validation_loss: Callable[[], float] | None,
    progress: bool = False,
    description: str = "IL model",
    cost: SetupCost | None = None,
) -> nn.Module:
    """The one irreducible-loss trainer: AdamW on ``batches(epoch)`` (inputs, labels) for ``epochs``,
    ending with the weights of the lowest ``validation_loss()`` after an epoch (without one: the
    last epoch's). ``cost`` gains the examples back-propagated."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    best_loss, best_state = float("inf"), copy.deepcopy(model.state_dict())
    for epoch in tqdm(range(epochs), desc=description, disable=not progress, leave=False):
        model.train()
        for inputs, labels in batches(epoch):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(inputs), labels).backward()
            optimizer.step()
            if cost is not None:
                cost.backprops += labels.numel()
        loss = validation_loss() if validation_loss is not None else -epoch
        if loss < best_loss:
            best_loss, best_state = loss, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model


def fit(
    model: nn.Module,
    train: ImageSet,
    validation: ImageSet,
    config: ILConfig,
    augment: Augment,
    device: torch.device,
    progress: bool = True,
    cost: SetupCost | None = None,
) -> nn.Module:
    """Train ``model`` on ``train`` (:func:`train_keeping_best`); return it with the weights of
    its best loss on ``validation``."""
    model.to(device)
    iterator = BatchIterator(train, config.batch_size, device=device, augment=augment, seed=config.seed)

    def batches(epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        torch.manual_seed(derive_seed(config.seed, epoch, 2))  # augmentation's random stream
        return ((batch.inputs, batch.labels) for batch in iterator.epoch(epoch))

    def validation_loss() -> float:
        return float(score(model, validation, augment, device).mean())

    return train_keeping_best(
        model,
        config.epochs,
        config.lr,
        batches,
        validation_loss if len(validation) else None,
        progress,
        f"IL model {config.model}",
        cost,
    )


def build_il_model(config: ILConfig, like: ImageSet) -> nn.Module:
    """An untrained IL model for images and classes like ``like``'s (seeded by ``config``)."""
    torch.manual_seed(config.seed)
    c, h, _ = like.image_shape
    return build_model(config.model, num_classes=like.num_classes, in_channels=c, image_size=h, **config.model_kwargs)


def fit_model(
    fit_on: ImageSet,
    config: ILConfig,
    augment: Augment,
    device: torch.device,
    progress: bool = True,
    cost: SetupCost | None = None,
    test: ImageSet | None = None,
) -> nn.Module:
    """A model fitted on ``fit_on`` less a class-balanced validation share (kept for checkpoint
    choice), or with ``config.checkpoint == "test"`` on all of ``fit_on``, its checkpoint chosen on ``test``."""
    model = build_il_model(config, fit_on)
    if config.checkpoint == "test":
        if test is None:
            raise ValueError("il_checkpoint='test' chooses the IL model's checkpoint on the test set: give test")
        return fit(model, fit_on, test, config, augment, device, progress, cost)
    validation, training = class_balanced_split(fit_on, config.validation_fraction, seed=config.seed)
    return fit(model, training, validation, config, augment, device, progress, cost)


def train_and_score(
    fit_on: ImageSet,
    score_on: ImageSet,
    config: ILConfig,
    augment: Augment,
    device: torch.device,
    progress: bool = True,
    kind: str = "loss",
    cost: SetupCost | None = None,
) -> Tensor:
    """Fit a model on ``fit_on`` (less a validation share) and return its per-example ``kind``
    (``loss`` or ``entropy``) on ``score_on``."""
    return score(fit_model(fit_on, config, augment, device, progress, cost), score_on, augment, device, kind)


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
    cost: SetupCost | None = None,
    test: ImageSet | None = None,
) -> Tensor:
    """Irreducible loss of every example of ``train`` (by position), from IL models trained once.

    The IL models are cached by what they learn from: the holdout (its part, with
    ``holdout_fraction``), the IL settings and the augmentation, so runs whose training sets differ
    only in their labels, or chapters that share a holdout, train one model; each training set is
    then scored on its own. With ``holdout='no_holdout'`` the two models learn from the halves of
    ``train`` itself, and the cache is keyed by it.

    Args:
        train: the set the target model trains on.
        holdout: the IL model's training data (``None`` allowed only with ``holdout='no_holdout'``).
        config: IL settings; with ``holdout_fraction < 1`` a class-balanced part of the holdout is used.
        augment: augmentation for the IL model's training (its mean/std also normalise scoring).
        cache_dir: folder for ``il-<hash>.pt``; ``None`` disables the cache.
        cost: gains the examples back-propagated, and ``cached`` when the models were read.
        test: the run's test set, where ``config.checkpoint == "test"`` chooses the checkpoint on it.
    """
    if config.holdout == "holdout" and holdout is None:
        raise ValueError("holdout=None: ILConfig.holdout='holdout' needs a holdout set (or use holdout='no_holdout')")
    learns_from = halves(train) if config.holdout == "no_holdout" else (used_holdout(holdout, config),)
    models = cached_models(learns_from, config, augment, device, cache_dir, progress, cost, test)
    if config.holdout == "no_holdout":
        losses = torch.empty(len(train))
        losses[1::2] = score(models[0], learns_from[1], augment, device)
        losses[0::2] = score(models[1], learns_from[0], augment, device)
        return losses
    return score(models[0], train, augment, device)


def used_holdout(holdout: ImageSet, config: ILConfig) -> ImageSet:
    """The part of ``holdout`` the IL model learns from (``holdout_fraction``, class-balanced)."""
    used = (
        holdout
        if config.holdout_fraction == 1
        else class_balanced_fraction(holdout, config.holdout_fraction, config.seed)
    )
    if len(used) == 0:
        raise ValueError(f"holdout_fraction={config.holdout_fraction} leaves no holdout examples out of {len(holdout)}")
    return used


def cached_models(
    learns_from: tuple[ImageSet, ...],
    config: ILConfig,
    augment: Augment,
    device: torch.device,
    cache_dir: str | Path | None,
    progress: bool,
    cost: SetupCost | None,
    test: ImageSet | None = None,
) -> list[nn.Module]:
    """One IL model fitted on each of ``learns_from``, read from ``cache_dir`` if an earlier run
    trained them (a damaged or foreign file is moved aside and the models retrained)."""
    if cache_dir is None:
        return [fit_model(data, config, augment, device, progress, cost, test) for data in learns_from]
    settings = asdict(config)
    keyed = {"augment": asdict(augment), "learns_from": [fingerprint(d) for d in learns_from]}
    if config.checkpoint == "validation":  # (keys from before the setting stay as they were)
        del settings["checkpoint"]
    else:
        keyed["checkpoint_on"] = fingerprint(test) if test is not None else None
    key = hashlib.sha256(json.dumps({"config": settings, **keyed}, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"il-{key}.pt"
    with exclusive(path.with_suffix(".lock")):  # one process trains them; the others wait, then read them
        remove_temporaries(path.parent, path.name)
        if path.exists():
            try:
                header, models = read_models(path, learns_from, config)
                if cost is not None:  # the one-off cost is what the cached models took to train
                    cost.cached = True
                    cost.seconds += float(header.get("fit_seconds", 0.0))
                    cost.backprops += int(header.get("fit_backprops", 0))
                return [model.to(device) for model in models]
            except FileProblem as problem:
                set_aside(path, f"{problem.problem}; the IL model is retrained")
        spent, start = SetupCost(), time.perf_counter()
        models = [fit_model(data, config, augment, device, progress, spent, test) for data in learns_from]
        seconds = time.perf_counter() - start
        if cost is not None:
            cost.backprops += spent.backprops
        meta = {"config": asdict(config), "fit_seconds": seconds, "fit_backprops": spent.backprops}
        save_tensors({"models": [m.state_dict() for m in models]}, path, **meta)
        return models


def read_models(
    path: Path, learns_from: tuple[ImageSet, ...], config: ILConfig
) -> tuple[dict[str, Any], list[nn.Module]]:
    """(header, models) of a cache file, the models checked: one finite state per model, loading
    into the configured architecture."""
    header, cached = load_tensors(path)
    states = cached.get("models") if isinstance(cached, dict) else None
    if not isinstance(states, list) or len(states) != len(learns_from):
        raise FileProblem(path, f"holds no {len(learns_from)} IL model(s) (an old or foreign cache file)")
    models = []
    for state, data in zip(states, learns_from):
        if not all(
            isinstance(v, Tensor) and (not v.is_floating_point() or bool(torch.isfinite(v).all()))
            for v in state.values()
        ):
            raise FileProblem(path, "holds non-finite or non-tensor weights")
        model = build_il_model(config, data)
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            raise FileProblem(path, f"holds weights of another architecture ({str(error).splitlines()[0]})") from error
        models.append(model.eval())
    return header, models
