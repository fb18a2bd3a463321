"""The book's experiments as data: each chapter's settings at named sizes, and the runs they expand to.

A profile is a :class:`HuSettings` (one flat dataclass, mirrored by the chapter notebook's
parameters); ``hu2021_runs(settings)`` lists the :class:`~lossprio.config.TrainConfig` of every
run the chapter needs. The notebook and ``python -m lossprio.sweep`` expand the same settings to
the same configs, so a sweep run in the background is picked up by the notebook without retraining.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .checks import check_choice
from .config import TrainConfig

# Paper H's corruption settings: (kind, fraction); None = pristine.
HU_SETTINGS: tuple[tuple[str | None, float], ...] = (
    (None, 0.0),
    ("random_labels", 0.25), ("random_labels", 0.5),
    ("shuffle_pixels", 0.25), ("shuffle_pixels", 0.5),
    ("gaussian", 0.25), ("gaussian", 0.5),
)

# Paper H's methods: label → (selector, selector settings, candidate batch as a multiple of b).
HU_METHODS: dict[str, tuple[str, dict[str, Any], int]] = {
    "standard": ("uniform", {}, 1),
    "SB 50 %": ("sb", {"beta": 1.0}, 1),
    "SB 33 %": ("sb", {"beta": 2.0}, 1),
    "VR max 33 %": ("kath18", {"selectivity": 1 / 3, "score": "loss", "reweight": False, "tau_switch": True}, 3),
    "VR max 50 %": ("kath18", {"selectivity": 1 / 2, "score": "loss", "reweight": False, "tau_switch": True}, 2),
    "SBE 50 %": ("sbe", {"beta": 1.0}, 1),
}
TABLE_METHODS = ("standard", "SB 50 %", "SB 33 %", "VR max 33 %", "VR max 50 %")
SBE_SETTINGS = (("random_labels", 0.5), ("gaussian", 0.5), ("shuffle_pixels", 0.5))


@dataclass(frozen=True)
class HuSettings:
    """Size and recipe of the chapter on paper H (defaults: the smoke size)."""

    dataset: str = "fashion-mnist"
    data_root: str | None = None  # the dataset's folder (None: lossprio.data's default; Debian's files for Fashion-MNIST)
    model: str = "fast_cnn"
    model_kwargs: dict[str, Any] = field(default_factory=lambda: {"width": 8})
    train_fraction: float = 0.02  # class-balanced share of the training split
    test_fraction: float = 0.05
    epochs: int = 2
    lr_milestones: tuple[float, ...] = (1,)  # lr × 0.2 at these epochs (paper: 60, 80 of 100)
    batch_size: int = 128
    lr: float = 0.1
    crop_padding: int = 2
    eval_every: int = 4  # optimizer steps between test evaluations
    seeds: tuple[int, ...] = (0,)
    device: str = "auto"
    threads: int | None = None  # torch CPU threads for the runs (None: torch's default)


PROFILES: dict[str, HuSettings] = {
    "smoke": HuSettings(),
    # Fashion-MNIST at a size this project's 2-core CPU machines run in hours, one run per core
    # (one thread each), with paper H's schedule shape: lr × 0.2 at 60 % and 80 % of training.
    "cpu": HuSettings(train_fraction=1 / 6, test_fraction=0.3, epochs=12, lr_milestones=(7, 10), eval_every=26,
                      seeds=(0, 1, 2, 3, 4), threads=1),
    # Paper H's own setup, for a GPU: CIFAR-10, WRN-28-10, 100 epochs, lr × 0.2 at 60 and 80, 5 seeds.
    "paper": HuSettings(dataset="cifar10", model="wrn", model_kwargs={"depth": 28, "widen": 10}, train_fraction=1.0,
                        test_fraction=1.0, epochs=100, lr_milestones=(60, 80), crop_padding=4, eval_every=391,
                        seeds=(0, 1, 2, 3, 4)),
}


def hu2021_profile(name: str, **overrides: Any) -> HuSettings:
    """The named profile (``smoke``, ``cpu``, ``paper``) with ``overrides`` applied."""
    check_choice("profile", name, list(PROFILES))
    known = {f.name for f in dataclasses.fields(HuSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown HuSettings {unknown}; allowed: {sorted(known)}")
    if "seeds" in overrides:
        overrides["seeds"] = tuple(overrides["seeds"])
    return dataclasses.replace(PROFILES[name], **overrides)


def hu2021_config(settings: HuSettings, method: str, corruption: str | None, fraction: float, seed: int) -> TrainConfig:
    """The run of ``method`` on one corruption setting with one seed."""
    check_choice("method", method, list(HU_METHODS))
    selector, selector_kwargs, pool = HU_METHODS[method]
    return TrainConfig(
        dataset=settings.dataset, data_root=settings.data_root, train_fraction=settings.train_fraction, test_fraction=settings.test_fraction,
        corruption=corruption, corruption_fraction=fraction, model=settings.model, model_kwargs=dict(settings.model_kwargs),
        selector=selector, selector_kwargs=dict(selector_kwargs), batch_size=settings.batch_size,
        candidate_batch=pool * settings.batch_size if pool > 1 else None,
        epochs=settings.epochs, optimizer="sgd", lr=settings.lr, momentum=0.9, nesterov=False, weight_decay=5e-4,
        lr_milestones=settings.lr_milestones, lr_gamma=0.2, crop_padding=settings.crop_padding, flip=True,
        eval_every=settings.eval_every, seed=seed, device=settings.device,
    )


def hu2021_runs(settings: HuSettings) -> dict[tuple[str, str | None, float, int], TrainConfig]:
    """Every run of the chapter, keyed by (method, corruption, fraction, seed): Table 1's grid and Fig. 4's SBE runs."""
    runs = {}
    for seed in settings.seeds:
        for corruption, fraction in HU_SETTINGS:
            for method in TABLE_METHODS:
                runs[method, corruption, fraction, seed] = hu2021_config(settings, method, corruption, fraction, seed)
        for corruption, fraction in SBE_SETTINGS:
            runs["SBE 50 %", corruption, fraction, seed] = hu2021_config(settings, "SBE 50 %", corruption, fraction, seed)
    return runs
