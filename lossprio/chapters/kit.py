"""The vocabulary every chapter is written in: methods and data settings as named records, the
size fields every chapter's settings share, one record lookup (:func:`pick`), one speedup
(:func:`speedup`) and one error difference over run keys with named fields, the rules they are
held to, and the record summaries the tables use."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..compare import Difference, Rule, Speedup, difference, shift
from ..compare import speedup as speedup_of
from ..config import TrainConfig
from ..metrics import WITH_SETUP
from ..records import RunRecord
from .methods import CANDIDATES, EPOCH, Method, register_methods  # noqa: F401  (the chapters' vocabulary)


@dataclass(frozen=True)
class Data:
    """A data setting: a corruption of the training set (``None``: none) and its fraction, the
    kind of bad data it is and the paper that uses it, and whether holdout and test keep only the
    relevant classes (paper M's relevance split)."""

    corruption: str | None = None
    fraction: float = 0.0
    group: str = ""
    paper: str = ""
    relevance: bool = False

    def same_data(self, other: Data) -> bool:
        """Whether both settings train and test on the same data (whatever they are called)."""
        return (self.corruption, self.fraction, self.relevance) == (other.corruption, other.fraction, other.relevance)


#: Kath18's settings that make it paper J's code (the switch read at epoch starts, unique draws
#: trained); without them it is idiap's per-pool reading, which the first cpu sweeps ran
PAPER_J_KATH18 = ("switch", "unique")


def idiap_kath18(method: Method) -> Method:
    """``method`` as the first cpu sweeps ran it: Kath18 without paper J's settings (idiap's per-pool
    switch, every draw trained); any other method unchanged."""
    if method.selector != "kath18":
        return method
    return dataclasses.replace(method, kwargs={k: v for k, v in method.kwargs.items() if k not in PAPER_J_KATH18})


#: the book's tolerance: the guide recommends no method whose final test error is more than this
#: many points above uniform's, and the tuned chapter calls a method lossless within it
TOLERANCE_POINTS = 0.5


@dataclass(frozen=True)
class Settings:
    """Size fields every chapter's settings have (defaults: a smoke size); a chapter's settings
    subclass this and add its own recipe."""

    dataset: str = "fashion-mnist"
    data_root: str | None = (
        None  # the dataset's folder (None: lossprio.data's default; Debian's files for Fashion-MNIST)
    )
    model: str = "fast_cnn"
    model_kwargs: dict[str, Any] = field(default_factory=lambda: {"width": 8})
    train_fraction: float = 0.02  # class-balanced share of the training split
    test_fraction: float = 0.05
    epochs: int = 3
    lr: float = 0.1
    crop_padding: int = 2
    eval_every: int = 3  # optimizer steps between test evaluations
    seeds: tuple[int, ...] = (0,)
    device: str = "auto"
    threads: int | None = None  # torch CPU threads for the runs (None: torch's default)
    # run-key field → the values kept (e.g. {"method": ["Traditional", "SB β=1"]}); empty: every run.
    # The ``colab`` profiles keep their headline's runs so (see :func:`kept`)
    keep_runs: dict[str, Any] = field(default_factory=dict)

    def run_fields(self) -> dict[str, Any]:
        """The :class:`~lossprio.config.TrainConfig` settings every chapter takes from these fields as they are."""
        names = (
            "dataset",
            "data_root",
            "train_fraction",
            "test_fraction",
            "model",
            "lr",
            "crop_padding",
            "eval_every",
            "device",
        )
        return {**{name: getattr(self, name) for name in names}, "model_kwargs": dict(self.model_kwargs)}


def kept(grid: Mapping[Any, TrainConfig], keep_runs: Mapping[str, Sequence[Any]]) -> dict[Any, TrainConfig]:
    """The runs of ``grid`` whose key has, for every field ``keep_runs`` names, one of its values
    (``keep_runs`` empty: every run). Refuses a field the keys lack, a value no run has, or a cut
    that keeps nothing, naming the setting and what is allowed."""
    if not keep_runs:
        return dict(grid)
    fields = next(iter(grid))._fields if grid else ()
    for name, values in keep_runs.items():
        if name not in fields or name == "seed":
            allowed = [f for f in fields if f != "seed"]
            raise ValueError(f"keep_runs[{name!r}]: not a field of this chapter's runs; allowed: {allowed}")
        present = list(dict.fromkeys(getattr(key, name) for key in grid))
        unknown = [v for v in values if v not in present]
        if isinstance(values, str) or unknown:
            raise ValueError(f"keep_runs[{name!r}]={values!r}: give a list of {present}")
    return {
        key: config
        for key, config in grid.items()
        if all(getattr(key, name) in values for name, values in keep_runs.items())
    }


# ----------------------------------------------------------------------------- lookups


def pick(records: Mapping[NamedTuple, RunRecord], **fields: Any) -> list[RunRecord]:
    """The records whose run key has every one of ``fields`` (e.g. ``method="SB β=1"``), in seed order."""
    matching = [k for k in records if all(getattr(k, name) == value for name, value in fields.items())]
    return [records[k] for k in sorted(matching, key=lambda k: k.seed)]


#: cost measures read off a clock, which a busy machine distorts (steps and backprops it does not)
WALL_CLOCK = ("train_wall_s", "wall_s", WITH_SETUP)


def fairly_timed(records: Sequence[RunRecord], x: str = "train_wall_s") -> list[RunRecord]:
    """``records`` fit to measure cost ``x``: for a wall-clock measure, those timed on an
    otherwise idle machine (not :attr:`~lossprio.records.RunRecord.timed_busy`); all for counts."""
    return [r for r in records if not r.timed_busy] if x in WALL_CLOCK else list(records)


def speedup(
    records: Mapping[NamedTuple, RunRecord],
    baseline: Mapping[str, Any],
    factor: float = 1.0,
    x: str = "backprops",
    reference: str = "best",
    target_share: float = 1.0,
    target: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Speedup:
    """Speedup of the runs with ``fields`` over the baseline's, the runs with ``fields`` changed by
    ``baseline`` (e.g. ``{"method": "uniform"}``), to ``factor`` × the worst seed's ``reference``
    (best or final) test error (times ``target_share``) of the runs ``target`` names (default: the
    baseline's; e.g. two methods compared with each other at uniform's target), in ``x``, as
    :func:`lossprio.compare.speedup` (wall clock: only seeds timed on an idle machine)."""
    baselines = pick(records, **{**fields, **baseline})
    setters = None if target is None else pick(records, **{**fields, **target})
    if x in WALL_CLOCK:
        require_one_timing(baselines + pick(records, **fields))
    baselines, methods = fairly_timed(baselines, x), fairly_timed(pick(records, **fields), x)
    return speedup_of(baselines, methods, factor, reference, x, target_share, target_from=setters)


#: a speedup is an effect when its interval lies above 1× (no effect); identical arms print 1.0×
FASTER = Rule("superiority", 1.0, "higher", "1×: no effect; the baseline against itself is 1.0×", scale="ratio")


#: the shares of the target a sensitivity table tries (1: the target itself; 0.98: 2 % lower error)
SENSITIVITY_SHARES = (1.0, 0.99, 0.98)


def target_sensitivity(
    headlines: Mapping[str, Callable[..., Speedup]], shares: Sequence[float] = SENSITIVITY_SHARES
) -> pd.DataFrame:
    """How much the headline speedups depend on where the target sits: each headline (label → a
    function of ``target_share`` giving its speedup) at each of ``shares`` of the target error."""
    rows = {
        label: {f"{100 * share:g} % of the target": str(at(target_share=share)) for share in shares}
        for label, at in headlines.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("speedup")


def require_one_timing(records: Sequence[RunRecord]) -> None:
    """``ValueError`` if ``records`` were timed by different wall-clock definitions
    (:data:`lossprio.records.TIMING`): a comparison of their clocks would not be fair."""
    timings = sorted({r.timing for r in records})
    if len(timings) > 1:
        raise ValueError(
            f"these runs' wall clocks were taken by different definitions (timing {timings}): re-time the older ones "
            "with `python -m lossprio.sweep CHAPTER --profile PROFILE --out FOLDER --retime-busy --retime-old-timing`"
        )


# ----------------------------------------------------------------------------- record summaries


def best_error_percent(records: Sequence[RunRecord], final: bool = False) -> tuple[float, float]:
    """Mean and standard deviation (0 for one seed) of the best (or final) test error in %, over
    the runs that did not diverge (NaN when all did)."""
    errors = list(error_percents(records, final).values())
    if not errors:
        return float("nan"), float("nan")
    return statistics.fmean(errors), statistics.stdev(errors) if len(errors) > 1 else 0.0


def error_percents(records: Sequence[RunRecord], final: bool = False) -> dict[int, float]:
    """Each run's best (or final) test error in %, by seed (by position where a record names none),
    leaving out diverged runs."""
    return {
        r.config.get("seed", place): 100 * (r.final_test_error if final else r.best_test_error)
        for place, r in enumerate(records)
        if r.status != "diverged"
    }


def error_difference(first: Sequence[RunRecord], second: Sequence[RunRecord], final: bool = False) -> Difference | None:
    """``first``'s mean best (or final) test error minus ``second``'s, in points, with its
    interval over seeds; ``identical`` where both are the same errors seed by seed (the same runs,
    e.g. a method still in its warm-up); ``None`` where either side has no run left."""
    a, b = error_percents(first, final), error_percents(second, final)
    if not a or not b:
        return None
    return difference(list(a.values()), list(b.values()), identical=a == b)


def share_shift(values: Sequence[float], reference: float) -> Difference | None:
    """Per-seed shares (in %) against a reference share: their mean less it, with a one-sample
    interval (``None`` without values)."""
    return shift(values, reference) if values else None


#: an error difference (points) is an effect where its interval clears 0
HIGHER_ERROR = Rule("superiority", 0.0, "higher", "0 points: no difference")
LOWER_ERROR = Rule("superiority", 0.0, "lower", "0 points: no difference")


def diverged_note(records: Sequence[RunRecord]) -> str:
    """`` (k diverged)`` when k of the runs diverged, else nothing."""
    count = sum(r.status == "diverged" for r in records)
    return f" ({count} diverged)" if count else ""


def corrupted_share_after(record: RunRecord, epochs: int = 1) -> float:
    """Share of corrupted examples among those trained on after the first ``epochs`` epochs
    (0: the whole run), located by the record's epoch boundaries."""
    if epochs == 0:
        start = 0
    else:
        start = record.epoch_ends[epochs - 1] if len(record.epoch_ends) >= epochs else len(record.steps["batch"])
    shares, sizes = record.steps["corrupted_share"][start:], record.steps["batch"][start:]
    return sum(s * n for s, n in zip(shares, sizes)) / max(1, sum(sizes))


def trained_before_loop(records: Sequence[RunRecord]) -> bool:
    """Whether there are runs and every one trained something before its loop (an IL model, a
    proxy): a one-off set-up recorded in its ``setup_seconds`` (record format 4 on)."""
    return bool(records) and all(r.setup_seconds for r in records)


def sampling_share(records: Sequence[RunRecord]) -> str:
    """How much of a Kath18 (VR) method's training was importance sampling: the mean share of
    pools it sampled (``selector_stats``, kept since record format 4) and how many runs never
    sampled, i.e. were uniform training throughout (for older records: no selection forward)."""
    if not records:
        return "no runs"
    shares = [r.selector_stats["sampling_share"] for r in records if "sampling_share" in r.selector_stats]
    uniform = sum(
        r.selector_stats["sampling_share"] == 0
        if "sampling_share" in r.selector_stats
        else r.counters.get("selection_forwards") == 0
        for r in records
    )
    share = f"{100 * statistics.fmean(shares):.0f} % of pools sampled, " if len(shares) == len(records) else ""
    return f"{share}{uniform}/{len(records)} runs uniform throughout"


# ----------------------------------------------------------------------------- selections by class


def relevant_share(record: RunRecord, train_labels: Sequence[int], classes: Sequence[int]) -> float:
    """Share of a run's selections that went to training examples of ``classes``."""
    counts = np.asarray(record.selection_counts, dtype=np.float64)
    relevant = np.isin(np.asarray(train_labels), list(classes))
    return float(counts[relevant].sum() / max(1.0, counts.sum()))


def relevant_shares_of(
    config: TrainConfig, runs: Mapping[str, Sequence[RunRecord]], classes: Sequence[int]
) -> dict[str, list[float]]:
    """Each method's share of selections from ``classes``, one per record (methods without records
    left out), and under ``"training set"`` those classes' share of ``config``'s training set."""
    from ..assemble import load_data

    labels = load_data(config)[0].labels.numpy()
    shares = {m: [relevant_share(r, labels, classes) for r in found] for m, found in runs.items() if found}
    shares["training set"] = [float(np.isin(labels, classes).mean())]
    return shares


def mean_shares(shares: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """:func:`relevant_shares_of`'s per-seed shares as their means."""
    return {m: statistics.fmean(values) for m, values in shares.items()}
