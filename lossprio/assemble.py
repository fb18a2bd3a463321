"""Everything a run needs, built once from its config: the data as the config asks (split,
corrupted, restricted to classes), the model, the optimizer, and the selector with what it learns
before the first step (an irreducible-loss model, a proxy), through the selector's own hooks."""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from . import corruptions, selectors
from .accounting import SetupCost
from .batches import Augment, derive_seed
from .config import TrainConfig
from .data import ImageSet, channel_stats, class_balanced_fraction, class_balanced_split, halves, keep_classes, load
from .models import build as build_model
from .selectors.base import RunContext


@dataclass
class Setup:
    """Everything a run needs, built once from its config."""

    train: ImageSet
    test: ImageSet
    corrupted: Tensor  # bool mask over training positions
    augment: Augment
    model: nn.Module
    optimizer: torch.optim.Optimizer
    selector: selectors.Selector
    extras: dict[str, Tensor]  # per-example tables by dataset index, on the device
    among: Tensor | None  # training positions the traversal is limited to (SVP's core-set)
    cost: SetupCost  # what the selector trained before the loop


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r}: no CUDA device is available here; use 'cpu' or 'auto'")
    return device


@functools.lru_cache(maxsize=4)
def load_cached(name: str, split: str, root: str | None) -> ImageSet:
    """:func:`lossprio.data.load`, kept in memory across the runs of a sweep (never modified in place)."""
    return load(name, split, root)


@functools.lru_cache(maxsize=8)
def used_part(name: str, split: str, root: str | None, fraction: float) -> ImageSet:
    """The class-balanced ``fraction`` of a split that a run uses (the whole split at 1), kept in
    memory across a sweep's runs, and between a run's :func:`preflight` and its :func:`load_data`."""
    loaded = load_cached(name, split, root)
    if fraction == 1:
        return loaded
    return require_examples(
        class_balanced_fraction(loaded, fraction, seed=0), f"{split}_fraction", fraction, len(loaded)
    )


def load_data(config: TrainConfig) -> tuple[ImageSet, ImageSet | None, ImageSet, Tensor]:
    """(train, holdout or None, evaluation set, corrupted mask over train) as the config asks;
    the evaluation set is the test set, or with ``evaluate_on="validation"`` the validation split
    carved from the training examples (which no run trains on once ``validation_fraction`` is set)."""
    train = used_part(config.dataset, "train", config.data_root, config.train_fraction)
    test = used_part(config.dataset, "test", config.data_root, config.test_fraction)
    holdout = None
    if config.split == "half":
        train, holdout = halves(train)
    if config.validation_fraction:
        validation, train = class_balanced_split(train, config.validation_fraction, seed=VALIDATION_SEED)
        require_examples(validation, "validation_fraction", config.validation_fraction, len(train) + len(validation))
        if config.evaluate_on == "validation":
            test = validation
    corrupted = torch.zeros(len(train), dtype=torch.bool)
    if config.corruption is not None:
        train, corrupted = corruptions.apply(
            train, config.corruption, config.corruption_fraction, config.corruption_seed
        )
        if holdout is not None and config.corrupt_holdout:
            holdout, _ = corruptions.apply(
                holdout, config.corruption, config.corruption_fraction, config.corruption_seed + 1
            )
    if config.relevant_classes:
        test = keep_classes(test, config.relevant_classes, setting="relevant_classes")
        if holdout is not None:
            holdout = keep_classes(holdout, config.relevant_classes, setting="relevant_classes")
    return train, holdout, test, corrupted


def preflight(config: TrainConfig) -> torch.device:
    """The run's device, after every check that needs this machine or the data rather than the
    config alone (the device exists here, the data files load and their labels fit, a candidate
    batch fits the training set, milestones in backprops are reached), so that a run refused for
    them writes nothing."""
    device = resolve_device(config.device)
    size = len(used_part(config.dataset, "train", config.data_root, config.train_fraction))
    used_part(config.dataset, "test", config.data_root, config.test_fraction)
    if config.split == "half":
        size = (size + 1) // 2
    size -= round(config.validation_fraction * size)  # about: the split rounds per class
    if config.candidate_size > size:
        raise ValueError(
            f"candidate_batch={config.candidate_size} exceeds the {size} training examples: no full candidate batch, "
            f"so no training step (raise train_fraction={config.train_fraction} or lower candidate_batch)"
        )
    if config.lr_unit == "backprops":
        reach = size * min(config.epochs, config.budget or config.epochs)
        for position, milestone in enumerate(config.lr_milestones):
            if milestone >= reach:
                raise ValueError(
                    f"lr_milestones[{position}]={milestone:g} backprops is never reached: the run back-propagates at "
                    f"most {reach} examples ({size} per epoch); give milestones below {reach}"
                )
    return device


#: the validation split is one fixed draw (not the run's seed): every run of a chapter tunes on,
#: and leaves out, the same examples
VALIDATION_SEED = 1


def require_examples(subset: ImageSet, setting: str, value: float, of: int) -> ImageSet:
    """``subset``, or ``ValueError`` naming the setting that left it empty."""
    if len(subset) == 0:
        raise ValueError(
            f"{setting}={value!r} leaves no examples of the {of} in {subset.name}/{subset.split}: raise it"
        )
    return subset


def build_selector(context: RunContext) -> tuple[selectors.Selector, dict[str, Tensor]]:
    """The run's selector, with the settings it takes from the run (:meth:`Selector.run_settings`)
    under the config's ``selector_kwargs``, and the per-example tables its
    :meth:`~lossprio.selectors.Selector.prepare` learns before training."""
    config = context.config
    kind = selectors.selector_class(config.selector)
    kwargs = {"seed": derive_seed(config.seed, 3), **kind.run_settings(context), **config.selector_kwargs}
    selector = selectors.build(config.selector, **kwargs)
    start = time.perf_counter()
    tables = selector.prepare(context)
    if context.cost.backprops or context.cost.cached:  # it trained (or read) something before the loop
        context.cost.seconds += time.perf_counter() - start
    return selector, tables


def assemble(config: TrainConfig, device: torch.device, cache_dir: Path, progress: bool) -> Setup:
    """Load data, corrupt it, build model, optimizer and selector."""
    train, holdout, test, corrupted = load_data(config)
    mean, std = channel_stats(train)
    augment = Augment(config.crop_padding, config.flip, config.cutout, mean, std)
    context = RunContext(config, train, holdout, augment, device, cache_dir, progress, test=test)
    selector, extras = build_selector(context)
    torch.manual_seed(config.seed)
    c, h, _ = train.image_shape
    model = build_model(config.model, num_classes=train.num_classes, in_channels=c, image_size=h, **config.model_kwargs)
    model = model.to(device)
    if channels_last(config, device):
        model = model.to(memory_format=torch.channels_last)
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov and config.momentum > 0,
            weight_decay=config.decay,
        )
    else:
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.decay)
    among = selector.restrict(len(train))
    return Setup(train, test, corrupted.to(device), augment, model, optimizer, selector, extras, among, context.cost)


def amp_enabled(config: TrainConfig, device: torch.device) -> bool:
    """Autocast (bf16, or fp16 with loss scaling on a GPU without bf16: :mod:`lossprio.precision`): on
    CUDA by default; on a CPU only when asked (it runs, many times slower)."""
    if config.amp and device.type != "cuda":
        warnings.warn(
            f"amp=True on {device}: bf16 autocast runs on a CPU but many times slower than fp32; "
            "use it there only to test the autocast path",
            RuntimeWarning,
            stacklevel=3,
        )
    return (
        device.type == "cuda" if config.amp is None else config.amp
    )  # the default True branch: GPU only, never run in CI


def channels_last(config: TrainConfig, device: torch.device) -> bool:
    """channels_last memory format: on CUDA by default (the CPU-only CI forces it on to test it)."""
    return device.type == "cuda" if config.channels_last is None else config.channels_last
