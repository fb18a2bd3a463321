"""The papers' recipes the chapters share: paper M's training loop (n_B candidates drawn, n_b
trained on, AdamW, a shared backprop budget) at each profile's size, which chapter M, the
cross-paper grid and the tuned-baseline chapter all run, and the kinds of data the grid and the
tuned chapter train on. Kept apart from the chapters so that no chapter imports another."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..config import TrainConfig
from .kit import CANDIDATES, Data, Method, Settings
from .methods import MINDERMANN2022, RHO

RHO_SELECTOR = MINDERMANN2022[RHO].selector

# paper M's Fig. 2 (a)–(c) and the clean data
NOISES: dict[str, Data] = {
    "clean": Data(),
    "label noise 10 %": Data("label_noise", 0.1),  # paper M's: a new label drawn from all classes
    "structured noise": Data("structured", 0.5),
    "ambiguous inputs": Data("ambiguous", 0.5),
}
CLEAN, NOISY = "clean", "label noise 10 %"


@dataclass(frozen=True)
class LoopSettings(Settings):
    """Size and recipe of paper M's loop (defaults: the smoke size, set in :data:`SMOKE`): what
    chapter M and the cross-paper chapter share, so that their runs with equal settings are the
    same runs."""

    il_model: str = "mlp"  # the default IL model: the target architecture, as paper M's default
    il_model_kwargs: dict[str, Any] = field(default_factory=lambda: {"hidden": [32]})
    il_epochs: int = 2  # IL training epochs over the holdout (the checkpoint of lowest validation loss is kept)
    relevant_classes: tuple[int, ...] = (0, 1, 2, 3, 4)  # Fig. 4: the classes holdout and test keep
    candidate_batch: int = 64  # n_B
    keep: int = 8  # n_b
    weight_decay: float = 0.01  # AdamW's PyTorch default, as paper M
    flip: bool = False
    svp_fraction: float = 0.1
    svp_proxy_epochs: int = 1
    score_probe_every: int = 2  # candidate batches between Fig. 1's scorings (RHO-LOSS runs with label noise)
    # round two of the fidelity fixes, off in the profiles whose records predate them (see cpu5):
    label_noise: str = "label_noise"  # the corruption of "label noise 10 %" (label_flip: the first cpu sweep's)
    reference_baselines: bool = True  # gradient-norm IS and SVP as paper M's code runs them (REFERENCE_KWARGS)
    eval_first: int | None = None  # an early evaluation grid: this step, then doubling up to eval_every


#: the smoke size of paper M's loop, where it differs from :class:`~lossprio.chapters.kit.Settings`
#: (``epochs``: candidate traversals of the training half; every method stops at the same step)
SMOKE: dict[str, Any] = {
    "model": "mlp",
    "model_kwargs": {"hidden": [32]},
    "train_fraction": 0.05,
    "test_fraction": 0.1,
    "lr": 1e-3,
    "crop_padding": 0,
    "eval_every": 5,
}


def loop_sized(**changes: Any) -> LoopSettings:
    """Paper M's loop: the smoke size with ``changes``."""
    return LoopSettings(**{**SMOKE, **changes})


#: paper M's loop at each profile's size
LOOPS: dict[str, LoopSettings] = {
    "smoke": loop_sized(),
    # Fashion-MNIST: 30k training examples (the even half), 30k holdout (the odd half), half the
    # test set; an MLP 784-512-512-10 as target and IL model, n_B = 320 → n_b = 32, 40 traversals
    # (3720 steps, 4 epochs of selected examples), 5 seeds, paper M's label noise and its code's
    # gradient-norm IS and SVP, evaluations at steps 10, 20, 40 and then every 93: sized from
    # measured costs, one thread per run.
    "cpu": loop_sized(
        train_fraction=1.0,
        test_fraction=0.5,
        model_kwargs={"hidden": [512, 512]},
        il_model_kwargs={"hidden": [512, 512]},
        il_epochs=15,
        candidate_batch=320,
        keep=32,
        epochs=40,
        svp_proxy_epochs=10,
        eval_every=93,
        eval_first=10,
        score_probe_every=10,
        seeds=(0, 1, 2, 3, 4),
        threads=1,
    ),
    # Paper M's CIFAR-10 setup: ResNet-18 target and IL model (100 IL epochs), crop and flip,
    # n_B = 320 → n_b = 32, AdamW 1e-3, 100 traversals, 3 seeds, its label noise and its code's baselines.
    "paper": loop_sized(
        train_fraction=1.0,
        test_fraction=1.0,
        dataset="cifar10",
        model="resnet18",
        model_kwargs={},
        il_model="resnet18",
        il_model_kwargs={},
        il_epochs=100,
        crop_padding=4,
        flip=True,
        candidate_batch=320,
        keep=32,
        epochs=100,
        svp_proxy_epochs=25,
        eval_every=156,
        eval_first=10,
        score_probe_every=10,
        seeds=(0, 1, 2),
    ),
}


def loop_fields(settings: LoopSettings, left_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of paper M's loop in ``settings`` (a chapter's settings that extend it), less ``left_out``."""
    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(LoopSettings) if f.name not in left_out}


def noisy_data(settings: LoopSettings) -> Data:
    """The "label noise 10 %" data as ``settings`` run it: paper M's draw, or the label flips of
    the first cpu sweep."""
    return dataclasses.replace(NOISES[NOISY], corruption=settings.label_noise)


def traversal_epochs(settings: LoopSettings, method: Method) -> int:
    """Candidate traversals a method may make: enough for the shared budget (which stops it);
    SVP traverses only its core-set."""
    share = settings.svp_fraction if method.selector == "svp" else 1.0
    return 1 + math.ceil(1.5 * settings.epochs / share)  # generous: an incomplete last candidate batch is dropped


def budget(settings: LoopSettings) -> float:
    """The shared budget in epochs of back-propagated examples (training-set sizes)."""
    return settings.epochs * settings.keep / settings.candidate_batch


#: with ``reference_baselines``: paper M's code's gradient-norm IS (one forward over the candidates)
#: and SVP (the holdout-trained IL model as proxy, entropy on augmented inputs)
REFERENCE_KWARGS: dict[str, dict[str, Any]] = {
    "grad_norm_is": {"one_forward": True},
    "svp": {"proxy": "holdout", "augment_scores": True},
}


def as_run(settings: LoopSettings, method: Method) -> Method:
    """``method`` as ``settings`` run it (paper M's reference baselines where asked)."""
    if not settings.reference_baselines or method.selector not in REFERENCE_KWARGS:
        return method
    return dataclasses.replace(method, kwargs={**method.kwargs, **REFERENCE_KWARGS[method.selector]})


def loop_config(
    settings: LoopSettings, method: Method, data: Data, seed: int, probed: bool | None = None
) -> TrainConfig:
    """Paper M's loop at ``settings``' size: ``method`` with candidate sampling (n_B → n_b) on
    ``data`` in the even half of the training split (the odd half is the holdout the default IL
    model learns from), AdamW without a schedule, stopped at the shared budget. Fig. 1's score
    probes ride on RHO-LOSS's runs with 10 % label noise (``probed``; ``None``: decided from
    ``method`` and ``data``)."""
    method = as_run(settings, method)
    if probed is None:
        probed = method.selector == RHO_SELECTOR and data.same_data(noisy_data(settings))
    return TrainConfig(
        **settings.run_fields(),
        split="half",
        corruption=data.corruption,
        corruption_fraction=data.fraction,
        relevant_classes=tuple(settings.relevant_classes) if data.relevance else (),
        selector=method.selector,
        selector_kwargs={"keep": settings.keep, **method.selector_kwargs},
        batch_size=settings.keep,
        candidate_batch=settings.candidate_batch,
        il_model=settings.il_model,
        il_model_kwargs=dict(settings.il_model_kwargs),
        il_holdout="holdout",
        il_holdout_fraction=1.0,
        il_epochs=settings.il_epochs,
        svp_fraction=settings.svp_fraction,
        svp_proxy_epochs=settings.svp_proxy_epochs,
        epochs=traversal_epochs(settings, method),
        budget=budget(settings),
        optimizer="adamw",
        weight_decay=settings.weight_decay,
        flip=settings.flip,
        seed=seed,
        score_probe_every=settings.score_probe_every if probed else None,
        eval_first=settings.eval_first,
    )


def epoch_share(method: Method) -> float:
    """About the least share of the training set one of ``method``'s epochs trains on (RS2's
    round, InfoBatch's pruned epoch, SB's selectivity): what sizes its epoch allowance."""
    if method.selector == "rs2":
        return method.kwargs["fraction"]
    if method.selector == "infobatch":
        return 1.0 - method.kwargs["prune_ratio"]
    return method.share_trained


@dataclass(frozen=True)
class BudgetSettings(LoopSettings):
    """Paper M's loop run to fixed budgets of back-propagated examples, each with a learning rate
    decayed to 0 at its end (what the tuned-baseline and scaling chapters share)."""

    lr_schedule: str = "cosine"  # to 0 at the end of each run's budget
    validation_fraction: float = 0.1  # of the training half, class-balanced, clean: where the tuning runs evaluate


def budget_config(
    settings: BudgetSettings,
    method: Method,
    data: Data,
    budget: float | None,
    lr: float,
    seed: int,
    evaluate_on: str = "test",
    epochs: int | None = None,
) -> TrainConfig:
    """A run at a fixed budget of back-propagated examples: paper M's loop at ``settings``' size
    (its data, model, IL model and n_B → n_b; a method of papers J and H traversing epochs of
    batches of n_b instead), ``method`` on ``data`` with a rate falling from ``lr`` to 0 over
    ``budget`` epochs of back-propagated examples (the settings' ``lr_schedule``), evaluated on the
    validation split or the test set. ``budget=None`` with ``epochs``: that many epochs instead
    (InfoBatch as its paper runs it). What the tuned-baseline and scaling chapters run."""
    loop = method if method.traversal == CANDIDATES else MINDERMANN2022["uniform"]
    run = loop_config(settings, loop, data, seed, probed=False)
    if epochs is None and method.traversal == CANDIDATES:
        epochs = 1 + math.ceil(1.5 * budget * settings.candidate_batch / settings.keep)  # the budget stops it
    elif epochs is None:
        epochs = 1 + method.kwargs.get("warmup_epochs", 1) + math.ceil(1.5 * budget / epoch_share(method))
    if method.traversal != CANDIDATES:
        run = run.replace(selector=method.selector, selector_kwargs=method.selector_kwargs, candidate_batch=None)
    return run.replace(
        epochs=epochs,
        budget=budget,
        lr=lr,
        lr_schedule=settings.lr_schedule,
        validation_fraction=settings.validation_fraction,
        evaluate_on=evaluate_on,
        eval_first=None,
        score_probe_every=None,
    )


#: the kinds of data of the cross-paper grid (the tuned chapter trains on three of them)
CLEAN_DATA, LABEL_NOISE, INPUT_NOISE, IRRELEVANT = "clean data", "label noise", "input noise", "irrelevant classes"
LABEL_NOISE_10 = "label noise 10 %"
PRISTINE, RELEVANCE = "pristine", "low relevance"
DATA: dict[str, Data] = {
    PRISTINE: Data(None, 0.0, CLEAN_DATA, "J, H, M"),
    "random labels 25 %": Data("random_labels", 0.25, LABEL_NOISE, "H"),
    # paper M's draw (a new label uniform over all classes); run as the settings' label_noise says
    # (noisy_data: chapter M's first cpu sweep flipped labels as paper J does)
    LABEL_NOISE_10: Data("label_noise", 0.1, LABEL_NOISE, "M"),
    "structured noise": Data("structured", 0.5, LABEL_NOISE, "M"),
    "shuffled pixels 25 %": Data("shuffle_pixels", 0.25, INPUT_NOISE, "H"),
    "Gaussian images 25 %": Data("gaussian", 0.25, INPUT_NOISE, "H"),
    "ambiguous inputs 25 %": Data("ambiguous", 0.25, INPUT_NOISE, "M"),
    RELEVANCE: Data(None, 0.0, IRRELEVANT, "M", relevance=True),
}
