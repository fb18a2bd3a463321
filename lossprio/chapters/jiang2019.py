"""Chapter J: Jiang et al. 2019, "Accelerating deep learning by focusing on the biggest losers"
(Selective-Backprop).

Every method trains for the same budget of back-propagated examples (Traditional's epochs ×
the training set), as the reference code's ``max_num_backprops`` does, with the learning-rate
schedule keyed to back-propagated examples per training-set size (the reference code's unit).
The grid: the main methods under J's two schedules, SB's selectivity sweep (β), and label flips.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from ..checks import check_choice
from ..config import TrainConfig
from ..metrics import pareto_frontier
from ..records import RunRecord
from .base import Chapter, Claim, best_error_percent, fairly_timed, register, speedup_over_seeds, speedup_value, verdict

# label → (selector, selector settings, candidate batch as a multiple of b)
METHODS: dict[str, tuple[str, dict[str, Any], int]] = {
    "Traditional": ("uniform", {}, 1),
    "SB β=1": ("sb", {"beta": 1.0}, 1),
    "SB β=2": ("sb", {"beta": 2.0}, 1),
    "Stale-SB n=2": ("stale_sb", {"beta": 2.0, "staleness": 2}, 1),
    "Stale-SB n=3": ("stale_sb", {"beta": 2.0, "staleness": 3}, 1),
    # as J ran it: loss score, no re-weighting, τ switch, b sampled from a pool of 4b (J's code)
    "Kath18": ("kath18", {"keep": None, "selectivity": 0.25, "score": "loss", "reweight": False, "tau_switch": True}, 4),
    "SB β=0.5": ("sb", {"beta": 0.5}, 1),
    "SB β=3": ("sb", {"beta": 3.0}, 1),
}
MAIN_METHODS = ("Traditional", "SB β=1", "SB β=2", "Stale-SB n=2", "Stale-SB n=3", "Kath18")
BETA_METHODS = ("SB β=0.5", "SB β=1", "SB β=2", "SB β=3")  # Fig. 13
SB = "SB β=2"  # J's CIFAR-10 selectivity, 33 %
FLIPS = (0.01, 0.1, 0.2)  # Fig. 12: share of labels flipped
# J's two schedules as fractions of the run: lr ÷ 5 at 60/120/160 and at 48/96/128 of 200 epochs
SCHEDULES: dict[str, tuple[float, ...]] = {"A": (0.3, 0.6, 0.8), "B": (0.24, 0.48, 0.64)}
TARGETS = (1.1, 1.2, 1.4)

# Paper J, Table 1, CIFAR-10 (WRN-28-10, Traditional's final error 2.96 %): wall-clock speedup to
# 1.1 / 1.2 / 1.4 × Traditional's final error (None: not reached). Its Stale-SB row is n = 3.
PAPER_TABLE_1: dict[str, tuple[float | None, ...]] = {
    "SB": (1.4, 1.2, 1.5),
    "Stale-SB": (None, 1.5, 2.0),
    "Kath18": (1.4, 1.1, 1.3),
}
PAPER_ROW = {"SB β=2": "SB", "Stale-SB n=3": "Stale-SB", "Kath18": "Kath18"}


class Run(NamedTuple):
    """A run of the chapter: (method, schedule, share of labels flipped, seed)."""

    method: str
    schedule: str
    flips: float
    seed: int


@dataclass(frozen=True)
class JiangSettings:
    """Size and recipe of the chapter on paper J (defaults: the smoke size)."""

    dataset: str = "fashion-mnist"
    data_root: str | None = None
    model: str = "fast_cnn"
    model_kwargs: dict[str, Any] = field(default_factory=lambda: {"width": 8})
    train_fraction: float = 0.02
    test_fraction: float = 0.05
    epochs: int = 3  # Traditional's epochs: every method back-propagates epochs × the training set
    lr: float = 0.1
    lr_gamma: float = 0.2
    batch_size: int = 128
    crop_padding: int = 2
    flip: bool = True
    cutout: int = 0
    eval_every: int = 3  # optimizer steps between test evaluations (the same backprops for every method)
    probe_every: int = 3  # steps between gradient-similarity probes in Traditional's schedule-A runs (Fig. 5)
    confidence_epochs: tuple[int, ...] = (1,)  # Fig. 8/9 snapshots (traversal epochs)
    track_examples: int = 16  # examples followed in SB's runs (Fig. 15)
    seeds: tuple[int, ...] = (0,)
    device: str = "auto"
    threads: int | None = None


PROFILES: dict[str, JiangSettings] = {
    "smoke": JiangSettings(),
    # Fashion-MNIST, a third of the training set (20k), the whole test set, a 2-conv CNN of width 8,
    # 40 epochs of backprops per run, 3 seeds: 60 runs, sized from measured costs to about 3 hours
    # on 2 cores with one thread per run (see the chapter's cost table).
    "cpu": JiangSettings(train_fraction=1 / 3, test_fraction=1.0, epochs=40, eval_every=156, probe_every=78,
                         confidence_epochs=(5,), track_examples=64, seeds=(0, 1, 2), threads=1),
    # J's CIFAR-10 setup: WRN-28-10 (dropout 0.3), cutout 16, 200 epochs, lr 0.1 ÷ 5 at 60/120/160 (48/96/128).
    "paper": JiangSettings(dataset="cifar10", model="wrn", model_kwargs={"depth": 28, "widen": 10, "dropout": 0.3},
                           train_fraction=1.0, test_fraction=1.0, epochs=200, crop_padding=4, cutout=16, eval_every=391,
                           probe_every=391, confidence_epochs=(10,), track_examples=64, seeds=(0, 1, 2)),
}


def traversal_epochs(settings: JiangSettings, method: str) -> int:
    """Epochs a method may traverse: enough for its budget at its selectivity (the budget stops it)."""
    selector, kwargs, _ = METHODS[method]
    share = {"uniform": 1.0, "kath18": kwargs.get("selectivity", 1.0)}.get(selector, 1 / (1 + kwargs.get("beta", 0.0)))
    return 1 + math.ceil(1.25 * (settings.epochs - 1) / share)


def config(settings: JiangSettings, method: str, schedule: str, flips: float, seed: int) -> TrainConfig:
    """The run of ``method`` under ``schedule`` with ``flips`` of the labels flipped."""
    check_choice("method", method, list(METHODS))
    check_choice("schedule", schedule, list(SCHEDULES))
    selector, selector_kwargs, pool = METHODS[method]
    kwargs = {k: v for k, v in selector_kwargs.items() if v is not None}
    traditional = method == "Traditional"
    return TrainConfig(
        dataset=settings.dataset, data_root=settings.data_root, train_fraction=settings.train_fraction,
        test_fraction=settings.test_fraction, corruption="label_flip" if flips else None, corruption_fraction=flips,
        model=settings.model, model_kwargs=dict(settings.model_kwargs), selector=selector, selector_kwargs=kwargs,
        batch_size=settings.batch_size, candidate_batch=pool * settings.batch_size if pool > 1 else None,
        epochs=traversal_epochs(settings, method), budget=float(settings.epochs), optimizer="sgd", lr=settings.lr,
        momentum=0.9, nesterov=True, weight_decay=5e-4,
        lr_milestones=tuple(f * settings.epochs for f in SCHEDULES[schedule]), lr_gamma=settings.lr_gamma, lr_unit="backprop_epochs",
        crop_padding=settings.crop_padding, flip=settings.flip, cutout=settings.cutout, eval_every=settings.eval_every,
        probe_every=settings.probe_every if traditional and schedule == "A" and not flips else None,
        confidence_epochs=tuple(settings.confidence_epochs) if method in (SB, "Traditional") and schedule == "A" and not flips else (),
        track_examples=settings.track_examples if method == SB and schedule == "A" else 0,
        seed=seed, device=settings.device,
    )


def runs(settings: JiangSettings) -> dict[Run, TrainConfig]:
    """Every run: the main methods under both schedules, SB's β sweep, and label flips (schedule A)."""
    keys = []
    for seed in settings.seeds:
        keys += [Run(m, s, 0.0, seed) for s in SCHEDULES for m in MAIN_METHODS]
        keys += [Run(m, "A", 0.0, seed) for m in BETA_METHODS if m not in MAIN_METHODS]
        keys += [Run(m, "A", f, seed) for f in FLIPS for m in ("Traditional", SB)]
    return {k: config(settings, *k) for k in keys}


CHAPTER = register(Chapter("jiang2019", "Selective-Backprop (Jiang et al. 2019)", PROFILES, runs,
                           check=lambda records, settings, configs: claims(records)))


# ----------------------------------------------------------------------------- tables

def pick(records: Mapping[tuple, RunRecord], method: str, schedule: str = "A", flips: float = 0.0) -> list[RunRecord]:
    """The records of one method, schedule and flip share, in seed order."""
    return [records[k] for k in sorted(records, key=lambda k: k[3]) if tuple(k[:3]) == (method, schedule, flips)]


def speedup(records: Mapping[tuple, RunRecord], method: str, factor: float, x: str = "train_wall_s", schedule: str = "A", flips: float = 0.0):
    """Paper J's speedup: to ``factor`` × Traditional's final error, in ``x`` (median seed; for
    wall-clock, of the seeds timed on an idle machine)."""
    return speedup_over_seeds(fairly_timed(pick(records, "Traditional", schedule, flips), x), fairly_timed(pick(records, method, schedule, flips), x),
                              factor=factor, reference="final", x=x)


def table_1(records: Mapping[tuple, RunRecord]) -> pd.DataFrame:
    """Our Table 1 beside the paper's: speedup to 1.1 / 1.2 / 1.4 × Traditional's final error, in
    training wall-clock and in back-propagated examples; rows (method, measure)."""
    rows = {}
    for method in MAIN_METHODS[1:]:
        if not pick(records, method):
            continue
        for measure, x in (("ours, wall clock", "train_wall_s"), ("ours, backprops", "backprops")):
            rows[method, measure] = {f"{f} ×": str(speedup(records, method, f, x)) for f in TARGETS}
        if method in PAPER_ROW:
            paper = PAPER_TABLE_1[PAPER_ROW[method]]
            rows[method, "paper J, wall clock"] = {f"{f} ×": "—" if v is None else f"{v:.1f}x" for f, v in zip(TARGETS, paper)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["method", "measure"])


def final_errors(records: Mapping[tuple, RunRecord], methods: Sequence[str] = MAIN_METHODS, schedule: str = "A", flips: float = 0.0) -> pd.Series:
    """Final test error in % (mean over seeds) of each method."""
    return pd.Series({m: best_error_percent(pick(records, m, schedule, flips), final=True)[0] for m in methods if pick(records, m, schedule, flips)})


def per_example_times(records: Sequence[RunRecord]) -> dict[str, float]:
    """Seconds per example of the training forward and of the backward (with the optimizer step),
    and per candidate of the selection forward, measured in those of these runs timed on an idle
    machine (NaN when none was)."""
    records = fairly_timed(records)
    if not records:
        return {"train_forward": math.nan, "backward": math.nan, "selection_forward": math.nan}
    forward = sum(r.phase_seconds["train_forward"] for r in records) / sum(r.counters["training_forwards"] for r in records)
    backward = sum(r.phase_seconds["backward"] for r in records) / sum(r.counters["backprops"] for r in records)
    selecting = [r for r in records if r.counters["selection_forwards"]]
    selection = (sum(r.phase_seconds["selection_forward"] for r in selecting) / sum(r.counters["selection_forwards"] for r in selecting)
                 if selecting else float("nan"))
    return {"train_forward": forward, "backward": backward, "selection_forward": selection}


def modelled_wall_clock(record: RunRecord, times: Mapping[str, float], backward_ratio: float | None = None) -> float:
    """Training wall-clock predicted from the record's counts and per-example times; with
    ``backward_ratio``, the backward is taken as that multiple of the training forward instead
    (e.g. the 2.5 × that paper J measured on GPUs)."""
    backward = times["backward"] if backward_ratio is None else backward_ratio * times["train_forward"]
    c = record.counters
    return c["selection_forwards"] * times["selection_forward"] + c["training_forwards"] * times["train_forward"] + c["backprops"] * backward


def pareto_points(records: Mapping[tuple, RunRecord], factors: Sequence[float] = (1.0, 1.05, 1.1, 1.2, 1.4, 1.6, 2.0)) -> pd.DataFrame:
    """Fig. 14's points: for every strategy × schedule, the training wall-clock (median seed) to
    reach each target error (multiples of Traditional's final error under schedule A), and
    whether the point is on the Pareto frontier of (time, error)."""
    baseline = pick(records, "Traditional", "A")
    reference = statistics.fmean(r.final_test_error for r in baseline if r.status != "diverged")
    rows = []
    for (method, schedule, flips, _), _r in records.items():
        if flips or (method, schedule) in {(row["method"], row["schedule"]) for row in rows}:
            continue
        found = [r for r in fairly_timed(pick(records, method, schedule)) if r.status != "diverged"]
        for factor in factors:
            target = factor * reference
            times = [next((e["train_wall_s"] for e in r.evals if e["test_error"] <= target), math.inf) for r in found]
            time = statistics.median_low(times) if times else math.inf
            if math.isfinite(time):
                rows.append({"method": method, "schedule": schedule, "target_error": 100 * target, "wall_s": time})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame.assign(pareto=[])
    frontier = set(pareto_frontier(list(zip(frame["wall_s"], frame["target_error"]))))
    frame["pareto"] = [(t, e) in frontier for t, e in zip(frame["wall_s"], frame["target_error"])]
    return frame


def confidence_curves(record: RunRecord, epoch: int, points: int = 100) -> pd.DataFrame:
    """Fig. 8/9 from one snapshot: per percentile of the target-class confidence (sorted low to
    high), the confidence there and the accuracy of the examples in that percentile bin."""
    snapshot = record.confidences[str(epoch)]
    confidence, correct = np.asarray(snapshot["confidence"]), np.asarray(snapshot["correct"])
    order = np.argsort(confidence, kind="stable")
    bins = np.array_split(order, points)
    return pd.DataFrame({"percentile": (np.arange(points) + 0.5) * 100 / points,
                         "confidence": [confidence[b].mean() for b in bins],
                         "accuracy": [correct[b].mean() for b in bins]})


# ----------------------------------------------------------------------------- claims

def claims(records: Mapping[tuple, RunRecord]) -> list[Claim]:
    """Paper J's claims checked against our records, each with the numbers it rests on."""
    found = []
    wall = {(m, f): speedup(records, m, f) for m in MAIN_METHODS[1:] for f in TARGETS}

    faster = [f for f in TARGETS if speedup_value(wall[SB, f]) > 1.0]
    than_kath = [f for f in TARGETS if speedup_value(wall[SB, f]) > speedup_value(wall["Kath18", f])]
    found.append(Claim(
        "SB reaches 1.1 / 1.2 / 1.4 × Traditional's final error sooner in wall clock than Traditional and than Kath18 (paper, CIFAR-10: SB 1.4x / 1.2x / 1.5x, Kath18 1.4x / 1.1x / 1.3x).",
        f"SB β=2: {' / '.join(str(wall[SB, f]) for f in TARGETS)}; Kath18: {' / '.join(str(wall['Kath18', f]) for f in TARGETS)}",
        verdict(len(faster) + len(than_kath), 2 * len(TARGETS))))

    stale = [f for f in TARGETS if speedup_value(wall["Stale-SB n=3", f]) > speedup_value(wall[SB, f])]
    found.append(Claim(
        "Stale-SB is faster still: n = 3 reaches the targets 26 % sooner than SB on average (paper: 1.5x / 2.0x at 1.2 / 1.4 ×).",
        f"Stale-SB n=3: {' / '.join(str(wall['Stale-SB n=3', f]) for f in TARGETS)}; n=2: {' / '.join(str(wall['Stale-SB n=2', f]) for f in TARGETS)}; SB β=2: {' / '.join(str(wall[SB, f]) for f in TARGETS)}",
        verdict(len(stale), len(TARGETS))))

    excess = {f: best_error_percent(pick(records, SB, "A", f), final=True)[0] - best_error_percent(pick(records, "Traditional", "A", f), final=True)[0]
              for f in FLIPS}
    robust = [f for f in (0.01, 0.1) if excess[f] <= 1.0]
    fragile = excess[0.2] > 1.0
    found.append(Claim(
        "SB is robust to 1 % and 10 % flipped labels (final error close to Traditional's) but not to 20 %.",
        "SB β=2 final error minus Traditional's: " + ", ".join(f"{100 * f:g} % flips {excess[f]:+.2f} pts" for f in FLIPS)
        + " (robust taken as within 1 pt)",
        verdict(len(robust) + int(fragile), 3)))

    betas = [m for m in BETA_METHODS if pick(records, m)]
    speed = {m: speedup_value(speedup(records, m, 1.4, "backprops")) for m in betas}
    errors = final_errors(records, betas)
    pairs = list(zip(betas, betas[1:]))
    trade = [(a, b) for a, b in pairs if speed[b] >= speed[a] and errors[b] >= errors[a]]
    found.append(Claim(
        "Higher selectivity (larger β) trades final error for speed.",
        ", ".join(f"{m}: {speed[m]:.1f}x to 1.4 × in backprops, final error {errors[m]:.2f} %" for m in betas),
        verdict(len(trade), len(pairs))))
    return found
