"""What a chapter's ``paper`` profile would cost on a GPU, estimated, not measured (no GPU has run
it for this book): floating-point operations from each model's forward pass, times the examples
each run passes forward and backward, over an assumed sustained throughput.

The examples a run processes are read off the chapter's ``cpu`` records of the same run (the
same method, data and seed at a smaller size): selection forwards, training forwards and
backprops per training example, scaled to the paper's training set and length. A backward pass is counted as
twice its forward; evaluations, irreducible-loss models and SVP's proxies are added from the
configs; shared IL models are counted once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .config import TrainConfig
from .models import build as build_model
from .records import RunRecord

if TYPE_CHECKING:
    from .chapters import Chapter

#: the paper datasets' sizes and shapes: (training examples, test examples, channels, side, classes)
DATASET_SHAPES: dict[str, tuple[int, int, int, int, int]] = {
    "cifar10": (50_000, 10_000, 3, 32, 10),
    "cifar100": (50_000, 10_000, 3, 32, 100),
    "fashion-mnist": (60_000, 10_000, 1, 28, 10),
}
#: the sustained throughput the estimate assumes: what these CIFAR-size convnets reach on one A100
#: with bf16 autocast (far below its 312 TFLOP/s peak; a Colab T4 is several times slower)
SUSTAINED_FLOPS = 15e12
#: what the ``colab`` profiles are sized for: a T4 (Colab's usual GPU) with fp16 autocast, assumed to
#: sustain about a tenth of its 65 TFLOP/s fp16 tensor-core peak on these convnets (``lossprio.gpu_check``
#: measures it on a lent card)
T4_SUSTAINED_FLOPS = 6e12


def forward_flops(model: str, model_kwargs: Mapping[str, Any], channels: int, side: int, classes: int) -> float:
    """Floating-point operations of one example's forward pass: 2 × the multiply-adds of every
    convolution and linear layer (normalisation and activations are left out)."""
    net = build_model(model, num_classes=classes, in_channels=channels, image_size=side, **model_kwargs)
    total = 0.0

    def conv(module: nn.Conv2d, _: Any, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        total += 2.0 * output.numel() * kernel

    def linear(module: nn.Linear, _: Any, output: torch.Tensor) -> None:
        nonlocal total
        total += 2.0 * output.numel() * module.in_features

    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(conv)
        elif isinstance(module, nn.Linear):
            module.register_forward_hook(linear)
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, channels, side, side))
    return total


@dataclass(frozen=True)
class Estimate:
    """A chapter's estimated cost at ``paper``."""

    runs: int
    runs_estimated: int  # runs with a cpu record to read their counts from
    petaflops: float

    @property
    def gpu_hours(self) -> float:
        """Hours at :data:`SUSTAINED_FLOPS` (an A100)."""
        return self.hours_at(SUSTAINED_FLOPS)

    @property
    def t4_hours(self) -> float:
        """Hours at :data:`T4_SUSTAINED_FLOPS` (a Colab T4)."""
        return self.hours_at(T4_SUSTAINED_FLOPS)

    def hours_at(self, flops_per_second: float) -> float:
        """Hours at a sustained ``flops_per_second``."""
        return self.petaflops * 1e15 / flops_per_second / 3600


def training_size(config: TrainConfig) -> tuple[int, int]:
    """(training examples, test examples) of a paper config."""
    train, test, *_ = DATASET_SHAPES[config.dataset]
    train = round(train * config.train_fraction)
    return (train // 2 if config.split == "half" else train), round(test * config.test_fraction)


def length(config: Mapping[str, Any]) -> float:
    """A run's length in epochs of backprops: its budget, or its epochs."""
    return float(config["budget"] if config.get("budget") is not None else config["epochs"])


def cached_forward_flops(model: str, model_kwargs: Mapping[str, Any], dataset: str, flops: dict[tuple, float]) -> float:
    """:func:`forward_flops` of ``model`` on ``dataset``'s images, counted once per model and
    dataset in ``flops`` (building a WRN-28-10 takes about a second; a chapter has hundreds of runs)."""
    _, _, channels, side, classes = DATASET_SHAPES[dataset]
    key = (model, json.dumps(model_kwargs, sort_keys=True), channels, side, classes)
    if key not in flops:
        flops[key] = forward_flops(model, model_kwargs, channels, side, classes)
    return flops[key]


def run_flops(config: TrainConfig, cpu: RunRecord, flops: dict[tuple, float]) -> float:
    """Estimated operations of one paper run, its counts per training example read off ``cpu``."""
    forward = cached_forward_flops(config.model, config.model_kwargs, config.dataset, flops)
    train, test = training_size(config)
    cpu_train = len(cpu.selection_counts)
    # the cpu run is shorter: its counts per training example scale with the length (budget or epochs)
    scale = length(config.to_dict()) / length(cpu.config)
    per_example = {
        name: cpu.counters.get(name, 0) / cpu_train for name in ("selection_forwards", "training_forwards", "backprops")
    }
    per_example = {name: scale * count for name, count in per_example.items()}
    backprops = per_example["backprops"] * train
    steps = backprops / config.batch_size
    evaluations = steps / config.eval_every if config.eval_every else config.epochs
    examples = per_example["selection_forwards"] * train + per_example["training_forwards"] * train + 2 * backprops
    return forward * (examples + evaluations * test)


def setup_flops(configs: Mapping[Any, TrainConfig], flops: dict[tuple, float]) -> float:
    """Operations of the IL models (each distinct one once: they are cached) and SVP proxies."""
    total, seen = 0.0, set()
    for config in configs.values():
        train, _ = training_size(config)
        forward = cached_forward_flops(config.il_model, config.il_model_kwargs, config.dataset, flops)
        if config.selector in ("rho", "irreducible", "sb_rho"):
            il = (
                config.il_model,
                str(config.il_model_kwargs),
                config.il_epochs,
                config.il_holdout_fraction,
                config.seed,
            )
            if il not in seen:
                seen.add(il)
                total += 3 * forward * config.il_epochs * train * config.il_holdout_fraction
        elif config.selector == "svp":
            total += 3 * forward * config.svp_proxy_epochs * train
    return total


def estimate(
    paper: Mapping[Any, TrainConfig],
    cpu_records: Mapping[Any, RunRecord],
    twin: Callable[[Any], Any] = lambda key: key,
) -> Estimate:
    """The paper runs' estimated cost, each run's counts read from the cpu record of its ``twin``
    key (by default the same key)."""
    flops: dict[tuple, float] = {}
    twins = {key: twin(key) for key in paper}
    found = [key for key in paper if twins[key] in cpu_records]
    total = sum(run_flops(paper[key], cpu_records[twins[key]], flops) for key in found)
    if found:  # runs without a cpu record count as the mean of those with one
        total *= len(paper) / len(found)
    total += setup_flops(paper, flops)
    return Estimate(len(paper), len(found), total / 1e15 if not math.isnan(total) else math.nan)


def chapter_estimate(
    chapter: Chapter, cpu_dir: str | Path, profile: str = "paper", cpu_records: Mapping[Any, RunRecord] | None = None
) -> Estimate:
    """``chapter``'s ``profile`` (``paper`` or ``colab``), every run it plans (later stages
    included), estimated from the finished ``cpu`` records in ``cpu_dir`` of each run's twin
    (``cpu_records``: those records, already read by the caller, so that several estimates read them once)."""
    paper, cpu = chapter.profile(profile), chapter.profile("cpu")
    if cpu_records is None:
        cpu_records = chapter.done_records(chapter.planned(cpu), cpu_dir)
    return estimate(chapter.planned(paper), cpu_records, lambda key: chapter.twin_key(key, paper, cpu))
