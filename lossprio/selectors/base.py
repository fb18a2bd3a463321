"""The one selector interface, the scores selectors rank by, and the registry."""

from __future__ import annotations

import copy
import functools
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from ..accounting import SetupCost
from ..checks import check_known, check_positive_int, check_range
from ..registry import Registry

if TYPE_CHECKING:
    from ..batches import Augment
    from ..config import TrainConfig
    from ..data import ImageSet

Extras = Mapping[str, Tensor]


@dataclass
class RunContext:
    """What a selector may read and learn from before training: the run's config, its training
    set and holdout (``None`` without one), augmentation, device, the folder for caches and whether
    to show progress."""

    config: TrainConfig
    train: ImageSet
    holdout: ImageSet | None
    augment: Augment
    device: torch.device
    cache_dir: Path
    progress: bool = False
    cost: SetupCost = field(default_factory=SetupCost)  # what prepare() trains, for the record
    test: ImageSet | None = None  # only for choosing an IL checkpoint as paper M's reference did


@dataclass
class Selection:
    """What a selector decided for one candidate batch.

    Attributes:
        chosen: int64 positions in the candidate batch to train on (may repeat when sampling
            with replacement).
        weights: float32 loss weight of each chosen example.
        scores: float32 score of every candidate, chosen or not (NaN where none was computed).
    """

    chosen: Tensor
    weights: Tensor
    scores: Tensor


class Selector:
    """Base class: settings and state only; subclasses implement :meth:`decide`.

    Before training, the loop builds a selector with :meth:`run_settings` under the user's
    settings and calls :meth:`prepare` once. Then, per candidate batch, it calls
    :meth:`needs_forward` (is a no-grad selection forward needed?), then :meth:`decide` with that
    forward's logits (``None`` when it was skipped), and, after each training forward,
    :meth:`observe`. :meth:`select` is :meth:`decide` behind input checks, for every other caller.
    """

    #: per-candidate tensors the selector needs in ``extras`` (e.g. ``irreducible_loss``)
    requires: tuple[str, ...] = ()
    #: per-candidate tensors it uses when the loop can give them (``feature_norm``)
    wants: tuple[str, ...] = ()
    #: whether its reference code scores candidates with the model in eval mode (papers J/H's
    #: code: BN running statistics) or in train mode (paper M's code: batch statistics);
    #: ``TrainConfig.selection_eval_mode`` defaults to it
    scores_in_eval_mode: bool = False
    #: whether :meth:`prepare` trains a proxy model on the training set (SVP)
    trains_proxy: bool = False
    #: whether the loop trains through its selection forward: one train-mode forward over the
    #: candidates, the chosen rows' loss back-propagated through it (paper M's gradient-norm IS)
    trains_through_selection_forward: bool = False

    #: the settings its paper runs it with, where its constructor's defaults are not usable on
    #: their own (:func:`lossprio.make_selector` starts from them)
    paper_defaults: dict[str, Any] = {}

    #: stand-ins for the constructor arguments :meth:`run_settings` supplies without a default,
    #: so that :func:`check_settings` can try a user's settings before any run exists
    trial_run_settings: dict[str, Any] = {}

    @classmethod
    def run_settings(cls, run: RunContext) -> dict[str, Any]:
        """Constructor settings taken from the run rather than from the user (a training set's
        size, a config's default); ``selector_kwargs`` override them."""
        return {}

    @classmethod
    def holdout_need(cls, settings: Mapping[str, Any]) -> str:
        """What the selector learns from the run's holdout with these settings (its
        ``selector_kwargs``): ``"il"`` (an IL model: two models on the training set's halves will
        do, ``il_holdout='no_holdout'``), ``"proxy"`` (a proxy that must be the holdout's IL model)
        or ``""`` (nothing)."""
        return "il" if "irreducible_loss" in cls.requires else ""

    def prepare(self, run: RunContext) -> dict[str, Tensor]:
        """Learn what the selector needs before the first step; returns per-example tables by
        dataset index, handed to :meth:`decide` as ``extras``. A selector that :attr:`requires`
        ``irreducible_loss`` gets the losses of an IL model trained on the run's holdout."""
        tables = {}
        if "irreducible_loss" in self.requires:
            from .. import irreducible

            losses = irreducible.irreducible_losses(
                run.train,
                run.holdout,
                irreducible.il_config(run.config),
                run.augment,
                run.device,
                run.cache_dir,
                run.progress,
                cost=run.cost,
                test=run.test,
            )
            tables["irreducible_loss"] = losses.to(run.device)
        return tables

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.epoch = 0
        self._generator: torch.Generator | None = None

    def generator(self, device: torch.device) -> torch.Generator:
        """The selector's own generator, created on the candidates' device at first use."""
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def steps_per_pool(self) -> bool:
        """Whether the loop trains what :meth:`decide` just chose as one optimiser step of its
        own (Kath18's reference), instead of queuing it into full batches of ``batch_size``."""
        return False

    def start_epoch(self, epoch: int) -> None:
        """Called before each epoch's first candidate batch."""
        self.epoch = epoch

    def needs_forward(self) -> bool:
        """Whether the next :meth:`select` needs logits from a selection forward."""
        return True

    def select(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        """Decide which candidates to train on, after checking the inputs (see :func:`check_inputs`).

        Args:
            indices: (N,) dataset indices of the candidates.
            logits: (N, C) logits of a selection forward, or ``None`` when none was made.
            targets: (N,) class labels in [0, C).
            extras: per-candidate (N,) tensors, e.g. ``irreducible_loss``.
        """
        check_inputs(indices, logits, targets, extras, self.index_limit())
        return self.decide(indices, logits, targets, extras)

    def index_limit(self) -> int | None:
        """The number of dataset indices the selector keeps state for (indices must lie below
        it), or ``None`` when it keeps none."""
        return None

    def decide(
        self, indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None = None
    ) -> Selection:
        """:meth:`select` without the input checks (the training loop's inputs are well formed by construction)."""
        raise NotImplementedError

    def observe(self, indices: Tensor, logits: Tensor, targets: Tensor) -> None:
        """See the (detached) logits of a training forward; most selectors ignore them."""

    def probabilities(self, selection: Selection) -> Tensor | None:
        """Each candidate's probability of being chosen in the last :meth:`decide`, where the
        selector has one (SB: CDF(score)^β); ``None`` otherwise. For measurements, not the hot path."""
        return None

    def stats(self) -> dict[str, float]:
        """What the selector did that its record should keep (Kath18: the share of pools it
        importance-sampled); plain numbers, read at checkpoints and at the end."""
        return {}

    def restrict(self, num_examples: int) -> Tensor | None:
        """Dataset indices the traversal is limited to (an offline core-set), or ``None``."""
        return None

    def epoch_pool(self, epoch: int) -> Tensor | None:
        """Dataset indices ``epoch`` traverses, decided at its start (RS2's round, InfoBatch's
        pruned set), or ``None``: the run's fixed traversal (everything, or :meth:`restrict`'s
        core-set). Called once per epoch, in order; what it draws is part of the selector's state."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of everything needed to resume selection exactly, in plain containers of
        tensors, numbers and strings (so a checkpoint loads with ``weights_only=True``)."""
        state = {
            k: v.state_dict() if hasattr(v, "state_dict") else copy.deepcopy(v)
            for k, v in vars(self).items()
            if k != "_generator"
        }
        if self._generator is not None:
            state["_generator_state"] = self._generator.get_state()
            state["_generator_device"] = str(self._generator.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        state = dict(state)
        generator_state = state.pop("_generator_state", None)
        device = state.pop("_generator_device", None)
        for name, value in state.items():
            part = getattr(self, name, None)
            if hasattr(part, "load_state_dict"):
                part.load_state_dict(value)
            else:
                setattr(self, name, value)
        if generator_state is not None:
            self._generator = torch.Generator(device=device)
            self._generator.set_state(generator_state)


def check_inputs(
    indices: Tensor, logits: Tensor | None, targets: Tensor, extras: Extras | None, index_limit: int | None = None
) -> None:
    """``ValueError`` naming the argument unless the shapes, dtypes and devices of a
    :meth:`Selector.select` call agree: int64 indices and targets, float logits that do not
    require grad, extras a mapping of per-candidate tensors, one device with values (not meta).
    On the CPU also unless indices lie in [0, ``index_limit``), targets in [0, C) and the logits
    and float extras are finite. (On a GPU the value checks would each cost a device
    synchronisation; there cross-entropy's own device assertion catches bad targets.)
    """
    if not isinstance(indices, Tensor) or indices.dim() != 1 or indices.dtype != torch.int64:
        raise ValueError(f"indices must be a 1-D int64 (torch.long) tensor of dataset indices, got {describe(indices)}")
    count, device = indices.shape[0], indices.device
    if not isinstance(targets, Tensor) or targets.shape != (count,) or targets.dtype != torch.int64:
        raise ValueError(
            f"targets must be a 1-D int64 (torch.long) tensor of the {count} candidates' labels, got "
            f"{describe(targets)}"
        )
    if logits is not None and (
        not isinstance(logits, Tensor)
        or logits.dim() != 2
        or logits.shape[0] != count
        or not logits.is_floating_point()
    ):
        raise ValueError(
            f"logits must be a float tensor of shape ({count}, classes) for the {count} candidates, got "
            f"{describe(logits)}"
        )
    if logits is not None and logits.requires_grad:
        raise ValueError("logits require grad: a selector only reads them; pass logits.detach() (or score in no_grad)")
    if extras is not None and not isinstance(extras, Mapping):
        raise ValueError(f"extras must be a dict of per-candidate tensors by name, got {type(extras).__name__}")
    for name, value in (extras or {}).items():
        if not isinstance(value, Tensor) or value.shape != (count,):
            raise ValueError(f"extras[{name!r}] must be a 1-D tensor of the {count} candidates, got {describe(value)}")
    tensors = {
        "indices": indices,
        "targets": targets,
        "logits": logits,
        **{f"extras[{k!r}]": v for k, v in (extras or {}).items()},
    }
    for name, value in tensors.items():
        if value is not None and value.device != device:
            raise ValueError(f"{name} is on {value.device}, indices on {device}: give every input on one device")
    if device.type == "meta":
        raise ValueError("the inputs are on the meta device, which holds no values: give them on 'cpu' or 'cuda'")
    if device.type != "cpu" or count == 0:
        return
    # NumPy views: a few µs, well under the selection forward these inputs come from
    positions = indices.detach().numpy()
    if positions.min() < 0 or (index_limit is not None and positions.max() >= index_limit):
        allowed = f"[0, {index_limit})" if index_limit is not None else "non-negative"
        raise ValueError(
            f"indices must be {allowed} dataset indices, got values from {positions.min()} to {positions.max()}"
        )
    labels = targets.detach().numpy()
    classes = logits.shape[1] if logits is not None else None
    if labels.min() < 0 or (classes is not None and labels.max() >= classes):
        raise ValueError(
            f"targets must lie in [0, {classes if classes is not None else 'classes'}), "
            f"got values from {labels.min()} to {labels.max()}"
        )
    for name, value in tensors.items():
        if value is not None and value.is_floating_point() and not np.isfinite(value.detach().numpy()).all():
            raise ValueError(f"{name} holds NaN or infinite values (a diverged model?)")


def describe(value: object) -> str:
    """Type, shape, dtype and device of a would-be tensor, for error messages."""
    if isinstance(value, Tensor):
        return f"shape {tuple(value.shape)}, dtype {value.dtype}, device {value.device}"
    return type(value).__name__


_UNIT_WEIGHTS: dict[torch.device, Tensor] = {}


def unit_weights(count: int, device: torch.device) -> Tensor:
    """``count`` weights of 1 (a view of a cached, read-only tensor: do not modify in place)."""
    ones = _UNIT_WEIGHTS.get(device)
    if ones is None or ones.numel() < count:
        ones = _UNIT_WEIGHTS[device] = torch.ones(max(count, 4096), device=device)
    return ones[:count]


def no_scores(count: int, device: torch.device) -> Tensor:
    """Scores of ``count`` candidates a selector did not score (NaN)."""
    return torch.full((count,), float("nan"), device=device)


def take_all(count: int, device: torch.device) -> Selection:
    """Train on every candidate with weight 1."""
    return Selection(torch.arange(count, device=device), unit_weights(count, device), no_scores(count, device))


def require_extras(selector: Selector, extras: Extras | None) -> Extras:
    """``extras`` holding every key ``selector.requires``; ``ValueError`` naming the missing ones."""
    missing = [key for key in selector.requires if extras is None or key not in extras]
    if missing:
        name = type(selector).__name__
        raise ValueError(
            f"{name} needs extras {missing} (e.g. irreducible losses from lossprio.irreducible); got "
            f"{sorted(extras or {})}"
        )
    return extras or {}


#: paper M's share of each candidate batch trained on (n_b = 32 of n_B = 320)
PAPER_M_SELECTIVITY = 0.1


def check_keep(keep: int | None, selectivity: float | None, optional: bool = False) -> None:
    """``keep`` (a count) or ``selectivity`` (a share of the candidates in (0, 1]), not both."""
    if keep is not None and selectivity is not None:
        raise ValueError(f"keep={keep} and selectivity={selectivity}: give one of them, not both")
    if keep is None and selectivity is None and not optional:
        raise ValueError(
            "keep=None and selectivity=None: give the number (keep) or share (selectivity) of candidates to train on"
        )
    if keep is not None:
        check_positive_int("keep", keep)
    if selectivity is not None:
        check_range("selectivity", selectivity, 0.0, 1.0, low_open=True)


def resolve_keep(keep: int | None, selectivity: float | None, candidates: int) -> int:
    """How many of ``candidates`` to train on; ``ValueError`` if that exceeds them (n_b > n_B)."""
    count = (
        keep if keep is not None else max(1, round(selectivity * candidates)) if selectivity is not None else candidates
    )
    if count > candidates:
        raise ValueError(f"keep={count} exceeds the candidate batch of {candidates}: n_b must be <= n_B")
    return count


def require_logits(selector: Selector, logits: Tensor | None) -> Tensor:
    if logits is None:
        raise ValueError(f"{type(selector).__name__}.select needs logits from a selection forward, got None")
    return logits


SELECTORS: Registry[Selector] = Registry("selector")


def build(name: str, **kwargs) -> Selector:
    """Build selector ``name`` (one of :func:`selector_names`) with its settings."""
    return SELECTORS.build(name, **kwargs)


def selector_names() -> list[str]:
    """Names :func:`build` accepts."""
    return SELECTORS.names()


def selector_class(name: str) -> type[Selector]:
    """The class registered under ``name`` (its settings without building one)."""
    return SELECTORS.get(name)


def check_settings(name: str, settings: Mapping[str, Any], setting: str = "selector_kwargs") -> None:
    """``ValueError`` naming ``setting`` if selector ``name`` has no setting of one of the keys
    (listing those it has) or refuses a value; nothing is trained or allocated beyond a selector."""
    try:
        key = json.dumps(dict(settings), sort_keys=True)
    except TypeError:
        key = None  # tensors and other non-JSON values: checked each time
    if key is None:
        _check_settings(name, dict(settings), setting)
    else:
        _check_settings_once(name, key, setting)


@functools.lru_cache(maxsize=4096)
def _check_settings_once(name: str, key: str, setting: str) -> None:
    _check_settings(name, json.loads(key), setting)


def _check_settings(name: str, settings: dict[str, Any], setting: str) -> None:
    kind = selector_class(name)
    allowed = [p for p in inspect.signature(kind.__init__).parameters if p != "self"]
    check_known(setting, settings, allowed, f"selector {name!r}")
    try:
        kind(**{**kind.trial_run_settings, **settings})
    except (ValueError, TypeError) as error:
        raise ValueError(f"{setting} of selector {name!r}: {error}") from None
