"""Run configuration: one flat dataclass of every setting a run reads, and how its hash (the run id) is made."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import PurePath
from typing import Any

from . import selectors
from .checks import (
    check_bool,
    check_choice,
    check_device,
    check_finite_tree,
    check_fraction,
    check_int,
    check_mapping,
    check_positive_int,
    check_range,
    check_type,
)
from .identity import config_hash


@dataclass
class TrainConfig:
    """Settings of one training run; ``run_id`` is a hash of them all.

    Traversal: every epoch visits the (shuffled) training set in candidate batches of
    ``candidate_batch`` (B) examples; the selector picks some, and the picks queue into training
    batches of ``batch_size`` (b). Papers J/H: B = b (epoch traversal, SB's queue). Paper M: B =
    n_B = 320, a top-k selector with keep = n_b = 32 = b (candidate sampling without replacement).
    With B > b an epoch's incomplete last candidate batch is dropped, so every one has B examples.
    """

    # data
    dataset: str = "fashion-mnist"
    data_root: str | None = None
    train_fraction: float = 1.0  # class-balanced share of the training split used (CPU-size runs)
    test_fraction: float = 1.0  # class-balanced share of the test split evaluated
    split: str = "full"  # "full": train on the training split; "half": paper M's even half (odd half = holdout)
    corruption: str | None = None  # a lossprio.corruptions kind
    corruption_fraction: float = 0.0
    corruption_seed: int = 0
    corrupt_holdout: bool = (
        False  # paper M's reference corrupts training points only; True gives the holdout the same corruption
    )
    relevant_classes: tuple[int, ...] = ()  # paper M's Fig. 4: holdout and test keep only these classes (empty: all)
    # a class-balanced share of the training examples (after any split="half", before corruption, so
    # with clean labels) set aside for choosing settings; evaluate_on="validation" evaluates on it
    # instead of the test set (tuning never sees the test set)
    validation_fraction: float = 0.0
    evaluate_on: str = "test"  # "test" or "validation"
    # model
    model: str = "fast_cnn"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    # selection
    selector: str = selectors.DEFAULT
    selector_kwargs: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 128  # b: examples per training step
    candidate_batch: int | None = None  # B: candidates per selection forward (None: = batch_size)
    selection_eval_mode: bool | None = (
        None  # selection forward in eval mode (BN running stats); None: the selector's reference code's mode
    )
    # irreducible loss (selectors that require it) and SVP's proxy
    il_model: str = "small_cnn"
    il_model_kwargs: dict[str, Any] = field(default_factory=dict)
    il_epochs: int = 100  # paper M's reference: 100 epochs, keeping the best validation loss
    il_holdout: str = "holdout"  # "holdout" or "no_holdout" (two halves of the training set)
    il_holdout_fraction: float = 1.0
    # which IL checkpoint is kept: "validation" (ours: the lowest loss on a 10 % share of the holdout,
    # the model trained on the rest) or "test" (paper M's reference: trained on the whole holdout, the
    # lowest loss on the test set; see the book's "Where we differ from the authors' code")
    il_checkpoint: str = "validation"
    svp_fraction: float = 0.1  # paper M's SVP baseline: a core-set of 10 % of the training set
    svp_proxy_epochs: int = 25  # paper M's reference trains the proxy for 25 epochs
    # optimisation
    epochs: int = 2
    budget: float | None = (
        None  # stop once budget × (training-set size) examples were back-propagated (shared across methods)
    )
    optimizer: str = "sgd"  # "sgd" or "adamw"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float | None = None  # None: the optimizer's usual value (DEFAULT_WEIGHT_DECAY)
    label_smoothing: float = 0.0  # of the training loss (InfoBatch's CIFAR example: 0.1); evaluation is unsmoothed
    lr_milestones: tuple[float, ...] = ()  # in lr_unit
    lr_gamma: float = 0.2
    lr_unit: str = (
        "epoch"  # "epoch", "backprops", or "backprop_epochs" (backprops / training-set size, as paper J's code)
    )
    # "step": lr × lr_gamma at each of lr_milestones; "cosine" / "linear": from lr down to 0 at the end
    # of the run's budget, by back-propagated examples (every method's rate reaches 0 as its budget ends),
    # or without a budget, at the end of its epochs
    lr_schedule: str = "step"
    # augmentation
    crop_padding: int = 0
    flip: bool = False
    cutout: int = 0
    # bookkeeping
    eval_every: int | None = None  # optimizer steps between evaluations (None: every epoch end)
    # evaluate also at eval_first, 2·eval_first, 4·eval_first, … below eval_every: an early grid that
    # does not cap speedups at the first regular evaluation (None: the regular grid only)
    eval_first: int | None = None
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    amp: bool | None = None  # None: autocast on CUDA only (bf16; fp16, loss scaled, where the GPU lacks bf16)
    channels_last: bool | None = None  # None: on CUDA only
    time_phases: bool = True  # synchronise CUDA at phase boundaries so per-phase wall-clock is true
    # probes (lossprio.probes; their time is left out of training wall-clock)
    probe_every: int | None = None  # steps between gradient-similarity probes (paper J, Fig. 5)
    confidence_epochs: tuple[int, ...] = ()  # after these epochs, store the test set's target-class confidences
    track_examples: int = 0  # training examples whose selection probability is recorded (paper J, Fig. 15)
    score_probe_every: int | None = (
        None  # candidate batches between scorings by every selection function (paper M, Fig. 1)
    )

    def __post_init__(self) -> None:
        for name in ("lr_milestones", "confidence_epochs", "relevant_classes"):
            check_type(name, getattr(self, name), (list, tuple), "a list or tuple")
            setattr(self, name, tuple(getattr(self, name)))
        if isinstance(self.data_root, PurePath):
            self.data_root = str(self.data_root)
        self.validate()
        if self.selection_eval_mode is None:
            self.selection_eval_mode = selectors.selector_class(self.selector).scores_in_eval_mode

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad setting (NaN and infinities included)."""
        from . import corruptions, data, irreducible, models

        self.validate_types()
        check_choice("dataset", self.dataset, data.dataset_names())
        check_choice("model", self.model, models.model_names())
        check_choice("il_model", self.il_model, models.model_names())
        check_choice("selector", self.selector, selectors.selector_names())
        if self.corruption is not None:
            check_choice("corruption", self.corruption, corruptions.corruption_names())
        for name in ("train_fraction", "test_fraction", "il_holdout_fraction", "svp_fraction"):
            check_fraction(name, getattr(self, name), allow_zero=False)  # zero would leave an empty set
        check_fraction("corruption_fraction", self.corruption_fraction)
        check_choice("split", self.split, ["full", "half"])
        check_choice("optimizer", self.optimizer, ["sgd", "adamw"])
        check_choice("lr_unit", self.lr_unit, ["epoch", "backprops", "backprop_epochs"])
        check_choice("lr_schedule", self.lr_schedule, list(LR_SCHEDULES))
        check_range("validation_fraction", self.validation_fraction, 0.0, 1.0, high_open=True)
        check_choice("evaluate_on", self.evaluate_on, ["test", "validation"])
        if self.evaluate_on == "validation" and not self.validation_fraction:
            raise ValueError(
                "evaluate_on='validation' needs a validation split: give validation_fraction > 0 (a share of the "
                "training examples set aside)"
            )
        if self.lr_schedule != "step" and self.lr_milestones:
            raise ValueError(
                f"lr_milestones={self.lr_milestones} are for lr_schedule='step'; lr_schedule={self.lr_schedule!r} "
                "takes none"
            )
        check_choice("il_holdout", self.il_holdout, ["holdout", "no_holdout"])
        check_choice("il_checkpoint", self.il_checkpoint, list(irreducible.IL_CHECKPOINTS))
        self.check_holdout()
        check_range("label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        for name in ("batch_size", "epochs", "il_epochs", "svp_proxy_epochs"):
            check_positive_int(name, getattr(self, name))
        for name in ("seed", "corruption_seed"):
            check_int(name, getattr(self, name), 0)
            if getattr(self, name) > MAX_SEED:
                raise ValueError(f"{name}={getattr(self, name)} must be below 2**31 (at most {MAX_SEED})")
        for name in ("crop_padding", "cutout"):
            check_int(name, getattr(self, name), 0)
        check_device(self.device)
        if self.candidate_batch is not None:
            check_positive_int("candidate_batch", self.candidate_batch)
        check_range("lr", self.lr, 0.0, low_open=True)
        check_range("lr_gamma", self.lr_gamma, 0.0, low_open=True)
        check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        if self.weight_decay is not None:
            check_range("weight_decay", self.weight_decay, 0.0)
        for position, milestone in enumerate(self.lr_milestones):
            check_range(f"lr_milestones[{position}]", milestone, 0.0)
        if self.budget is not None:
            check_range("budget", self.budget, 0.0, low_open=True)
            if self.budget > self.epochs:
                raise ValueError(
                    f"budget={self.budget:g} back-propagated epochs cannot be reached in epochs={self.epochs}: an "
                    f"epoch back-propagates the training set at most once; raise epochs to >= {self.budget:g}"
                )
        self.check_milestones_reached()
        check_finite_tree("selector_kwargs", self.selector_kwargs)
        check_finite_tree("model_kwargs", self.model_kwargs)
        check_finite_tree("il_model_kwargs", self.il_model_kwargs)
        selectors.check_settings(self.selector, self.selector_kwargs)
        shape = data.dataset_shape(self.dataset)
        models.check_settings("model_kwargs", self.model, self.model_kwargs, shape)
        models.check_settings("il_model_kwargs", self.il_model, self.il_model_kwargs, shape)
        keep = self.selector_kwargs.get("keep")
        if keep is not None and keep > self.candidate_size:
            raise ValueError(
                f"selector_kwargs['keep']={keep} exceeds candidate_batch={self.candidate_size}: n_b must be <= n_B"
            )
        selectivity = self.selector_kwargs.get("selectivity")
        if selectivity is not None:
            check_range("selector_kwargs['selectivity']", selectivity, 0.0, 1.0, low_open=True)
        if self.corruption is None and self.corruption_fraction > 0:
            raise ValueError(
                f"corruption_fraction={self.corruption_fraction} needs a corruption kind (corruption=None)"
            )
        if self.eval_first is not None and self.eval_every is None:
            raise ValueError(
                f"eval_first={self.eval_first} needs eval_every (the regular grid it leads into), got None"
            )
        for name in ("eval_every", "eval_first", "probe_every", "score_probe_every"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        for position, epoch in enumerate(self.confidence_epochs):
            check_int(f"confidence_epochs[{position}]", epoch, 1)
            if epoch > self.epochs:
                raise ValueError(
                    f"confidence_epochs[{position}]={epoch} is after the last epoch (epochs={self.epochs})"
                )
        check_int("track_examples", self.track_examples, 0)
        if (
            self.score_probe_every is not None
            and "irreducible_loss" not in selectors.selector_class(self.selector).requires
        ):
            using = [
                n for n in selectors.selector_names() if "irreducible_loss" in selectors.selector_class(n).requires
            ]
            raise ValueError(
                f"score_probe_every={self.score_probe_every} needs a selector that scores with irreducible losses "
                f"(one of {using}), got selector={self.selector!r}"
            )
        for position, label in enumerate(self.relevant_classes):
            check_int(f"relevant_classes[{position}]", label, 0)
            if label >= shape.classes:
                raise ValueError(
                    f"relevant_classes[{position}]={label} is not a class of {self.dataset} (0..{shape.classes - 1})"
                )
        if len(set(self.relevant_classes)) != len(self.relevant_classes):
            raise ValueError(f"relevant_classes={list(self.relevant_classes)} names a class twice")

    def validate_types(self) -> None:
        """Raise ``ValueError`` naming the first setting of the wrong type (a string where a bool
        belongs is truthy, so it would otherwise change what runs without a word)."""
        for name in ("flip", "nesterov", "corrupt_holdout", "time_phases"):
            check_bool(name, getattr(self, name))
        for name in ("selection_eval_mode", "amp", "channels_last"):
            check_bool(name, getattr(self, name), optional=True)
        for name in (
            "dataset",
            "split",
            "model",
            "il_model",
            "selector",
            "optimizer",
            "lr_unit",
            "lr_schedule",
            "evaluate_on",
            "il_holdout",
            "il_checkpoint",
        ):
            check_type(name, getattr(self, name), str, "a string")
        check_type("device", self.device, str, "a string ('auto', 'cpu', 'cuda', 'cuda:1', …)")
        if self.data_root is not None:
            check_type("data_root", self.data_root, str, "a folder path or None")
            if not self.data_root:
                raise ValueError("data_root='' is not a folder; give a folder path, or None for the default")
        if self.corruption is not None:
            check_type("corruption", self.corruption, str, "a corruption name or None")
        for name in ("selector_kwargs", "model_kwargs", "il_model_kwargs"):
            check_mapping(name, getattr(self, name))

    def check_holdout(self) -> None:
        """``ValueError`` for a selector that learns from the holdout on a split that has none."""
        need = selectors.selector_class(self.selector).holdout_need(self.selector_kwargs)
        if self.split == "half":
            return
        if need == "proxy":
            raise ValueError(
                f"split={self.split!r} has no holdout, and selector={self.selector!r} with proxy='holdout' needs one "
                "(its proxy is the IL model trained on it): give split='half' (paper M's halves: the odd half is the "
                "holdout), or selector_kwargs proxy='train'"
            )
        if need == "il" and self.il_holdout == "holdout":
            raise ValueError(
                f"split={self.split!r} has no holdout, and selector={self.selector!r} needs one (its irreducible-loss "
                "model trains on it): give split='half' (paper M's halves: the odd half is the holdout), or "
                "il_holdout='no_holdout' (two IL models, each trained on one half of the training set)"
            )

    def check_milestones_reached(self) -> None:
        """``ValueError`` for a learning-rate milestone the run never reaches (the rate would never
        decay); milestones in backprops are checked against the data at the run's start."""
        length = {"epoch": self.epochs, "backprop_epochs": min(self.epochs, self.budget or self.epochs)}.get(
            self.lr_unit
        )
        for position, milestone in enumerate(self.lr_milestones):
            if length is not None and milestone >= length:
                raise ValueError(
                    f"lr_milestones[{position}]={milestone:g} ({self.lr_unit}) is never reached: the run ends at "
                    f"{length:g} (epochs={self.epochs}, budget={self.budget}); give milestones below {length:g}"
                )

    @property
    def candidate_size(self) -> int:
        """B, the candidate batch."""
        return self.candidate_batch or self.batch_size

    @property
    def decay(self) -> float:
        """The weight decay the optimizer gets: ``weight_decay``, or the optimizer's usual value."""
        return DEFAULT_WEIGHT_DECAY[self.optimizer] if self.weight_decay is None else self.weight_decay

    def evaluates_at(self, step: int) -> bool:
        """Whether the run evaluates after optimizer step ``step`` (besides its last step)."""
        if self.eval_every is None:
            return False
        if step % self.eval_every == 0:
            return True
        first = self.eval_first
        return (
            first is not None
            and step < self.eval_every
            and step % first == 0
            and (step // first) & (step // first - 1) == 0
        )

    def replace(self, **changes: Any) -> TrainConfig:
        """This config with ``changes``; a new selector gets its own reference selection mode
        unless ``selection_eval_mode`` is among the changes."""
        if "selector" in changes and changes["selector"] != self.selector:
            changes.setdefault("selection_eval_mode", None)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig settings {unknown}; allowed: {sorted(known)}")
        return cls(**values)

    @property
    def config_hash(self) -> str:
        """SHA-256 of the settings the run reads: what a record or checkpoint must carry to count as this run's."""
        return config_hash(self.to_dict())

    @property
    def run_id(self) -> str:
        """A readable prefix and the first 10 hex digits of :attr:`config_hash` (a safe folder name)."""
        corruption = f"{self.corruption}{self.corruption_fraction:g}" if self.corruption else "clean"
        prefix = "-".join((self.dataset, corruption, self.model, self.selector, f"s{self.seed}"))
        return f"{SAFE_NAME.sub('_', prefix)}-{self.config_hash[:10]}"


#: the weight decay of each optimizer when ``weight_decay`` is None: papers J and H's SGD, and
#: AdamW's own default (PyTorch's, and paper M's)
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adamw": 0.01}

#: the learning-rate schedules (``TrainConfig.lr_schedule``)
LR_SCHEDULES = ("step", "cosine", "linear")

#: seeds stay below 2**31 so that every generator (torch, NumPy, derived seeds) takes them
MAX_SEED = 2**31 - 1

SAFE_NAME = re.compile(r"[^A-Za-z0-9._+=-]")
