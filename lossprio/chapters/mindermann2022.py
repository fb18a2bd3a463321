"""Chapter M: Mindermann et al. 2022, "Prioritized training on points that are learnable, worth
learning, and not yet learnt" (RHO-LOSS).

Each step draws n_B candidates without replacement, scores them and trains on the top n_b (or,
for gradient-norm IS, samples n_b), with AdamW and no schedule, on paper M's even half of the
training set; the odd half is the holdout the irreducible-loss (IL) model learns from. Every
method runs the same number of steps (a shared backprop budget). The grid: every selection
function under four kinds of data (clean, uniform label noise, structured noise, ambiguous
inputs), on a relevance split (holdout and test hold half of the classes), and RHO-LOSS with
cheap IL models, other target architectures and learning rates (Fig. 5).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..checks import check_choice
from ..compare import Rule, Speedup, difference, ratio, shift
from ..config import TrainConfig
from ..metrics import NEVER, WITH_SETUP, steps_to_accuracy
from ..records import RunRecord
from . import methods, papers
from .base import Chapter, Headline, register
from .claims import Claim, decide
from .kit import (
    FASTER,
    Method,
    corrupted_share_after,
    kept,
    mean_shares,
    pick,
    relevant_shares_of,
    trained_before_loop,
)
from .kit import speedup as kit_speedup
from .kit import target_sensitivity as kit_target_sensitivity
from .recipes import (
    CLEAN,
    LOOPS,
    NOISES,
    NOISY,
    LoopSettings,
    loop_config,
    loop_fields,
    noisy_data,
)

RHO = methods.RHO
METHODS: dict[str, Method] = methods.MINDERMANN2022
BASELINE = "uniform"
TARGET_SHARES = (0.90, 0.95, 0.98, 1.0)  # Fig. 3's targets: these shares of uniform's best accuracy

PAPER_SPEEDUPS = papers.MINDERMANN2022_SPEEDUPS

# the kinds of experiment: every method on the main data or the relevance split; RHO-LOSS with a
# cheaper IL model (Fig. 5, against the main uniform runs); uniform and RHO-LOSS with the default IL
# model reused for another target or learning rate (Fig. 5)
MAIN, RELEVANCE, CHEAP_IL, REUSED_IL = "main", "relevance", "cheap IL model", "IL model reused"


@dataclass(frozen=True)
class Experiment:
    """One experiment of the chapter: its kind and what it changes in the main recipe
    (:class:`~lossprio.config.TrainConfig` fields)."""

    kind: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods it runs."""
        return {CHEAP_IL: (RHO,), REUSED_IL: (BASELINE, RHO)}.get(self.kind, tuple(METHODS))

    def baseline(self, name: str) -> str:
        """The experiment whose uniform runs this one (called ``name``) is measured against."""
        return MAIN if self.kind == CHEAP_IL else name


class Run(NamedTuple):
    """A run of the chapter: (experiment, method, noise, seed)."""

    experiment: str
    method: str
    noise: str
    seed: int


@dataclass(frozen=True)
class MindermannSettings(LoopSettings):
    """Chapter M's settings: paper M's loop and Fig. 5's cheaper IL models, targets and learning rates."""

    cheap_il_models: dict[str, list] = field(default_factory=lambda: {"MLP 8": ["mlp", {"hidden": [8]}]})  # Fig. 5
    holdout_fractions: tuple[float, ...] = (0.5, 0.25)  # Fig. 5: IL models on less holdout data
    other_targets: dict[str, list] = field(
        default_factory=lambda: {"MLP 64×2": ["mlp", {"hidden": [64, 64]}]}
    )  # Fig. 5: IL reused
    lr_grid: tuple[float, ...] = (3e-4, 3e-3)  # Fig. 5: the IL model reused across learning rates


def sized(loop: LoopSettings, **changes: Any) -> MindermannSettings:
    """Chapter M's settings: paper M's loop at ``loop``'s size with ``changes``."""
    return MindermannSettings(**{**loop_fields(loop), **changes})


PROFILES: dict[str, MindermannSettings] = {
    "smoke": sized(LOOPS["smoke"]),
    # the cpu loop (recipes.LOOPS); Fig. 5's cheap IL models and the IL model reused for another target
    "cpu": sized(
        LOOPS["cpu"],
        cheap_il_models={
            "small CNN (paper M's)": ["small_cnn", {}],
            "MLP 64 (13× fewer parameters)": ["mlp", {"hidden": [64]}],
        },
        other_targets={"CNN (fast_cnn, width 8)": ["fast_cnn", {"width": 8}]},
    ),
    # Paper M's CIFAR-10 loop; the small CNN as cheap IL model, the ResNet-18 IL model reused for a
    # WRN-28-2 target and two other learning rates.
    "paper": sized(
        LOOPS["paper"],
        cheap_il_models={"small CNN": ["small_cnn", {}]},
        other_targets={"WRN-28-2": ["wrn", {"depth": 28, "widen": 2}]},
    ),
}
# About one T4-hour (estimated on the Run-it-yourself page): paper M's CIFAR-10 loop and ResNet-18 cut to
# the headline, uniform against RHO-LOSS on clean data and with 10 % label noise, half the traversals and
# an IL model trained for 40 epochs, one seed
PROFILES["colab"] = dataclasses.replace(
    PROFILES["paper"],
    epochs=50,
    il_epochs=40,
    seeds=(0,),
    keep_runs={"experiment": (MAIN,), "method": (BASELINE, RHO), "noise": (CLEAN, NOISY)},
)
#: the cpu size as its first sweep ran it (3 seeds, label flips, our gradient-norm IS and SVP, the
#: regular evaluation grid): the cross-paper chapter's cpu page is still built on it until that
#: chapter's own 5-seed sweep is complete (its records hold the runs it shared with this chapter)
CPU_THREE_SEEDS = dataclasses.replace(
    PROFILES["cpu"], seeds=(0, 1, 2), label_noise="label_flip", reference_baselines=False, eval_first=None
)


def holdout_label(fraction: float) -> str:
    """``1/2 of the holdout`` for 0.5."""
    return f"{Fraction(fraction).limit_denominator(1000)} of the holdout"


def experiments(settings: MindermannSettings) -> dict[str, Experiment]:
    """The experiments of the chapter, by name."""
    found = {
        MAIN: Experiment(MAIN),
        RELEVANCE: Experiment(RELEVANCE, {"relevant_classes": tuple(settings.relevant_classes)}),
    }
    for name, (model, kwargs) in settings.cheap_il_models.items():
        found[f"IL: {name}"] = Experiment(CHEAP_IL, {"il_model": model, "il_model_kwargs": dict(kwargs)})
    for fraction in settings.holdout_fractions:
        found[f"IL: {holdout_label(fraction)}"] = Experiment(CHEAP_IL, {"il_holdout_fraction": fraction})
    found["IL: no holdout"] = Experiment(CHEAP_IL, {"il_holdout": "no_holdout"})
    for name, (model, kwargs) in settings.other_targets.items():
        found[f"target: {name}"] = Experiment(REUSED_IL, {"model": model, "model_kwargs": dict(kwargs)})
    for lr in settings.lr_grid:
        found[f"lr {lr:g}"] = Experiment(REUSED_IL, {"lr": lr})
    return found


def config(settings: MindermannSettings, experiment: str, method: str, noise: str, seed: int) -> TrainConfig:
    """The run of ``method`` in ``experiment`` on data with ``noise``."""
    check_choice("method", method, list(METHODS))
    check_choice("noise", noise, list(NOISES))
    known = experiments(settings)
    check_choice("experiment", experiment, list(known))
    data = noisy_data(settings) if noise == NOISY else NOISES[noise]
    probed = (experiment, method, noise) == (MAIN, RHO, NOISY)
    return loop_config(settings, METHODS[method], data, seed, probed).replace(**known[experiment].changes)


def runs(settings: MindermannSettings) -> dict[Run, TrainConfig]:
    """Every run: all methods on the four kinds of data and on the relevance split; RHO-LOSS with
    cheap IL models (against the main uniform runs); uniform and RHO-LOSS on other targets and
    learning rates, with the default IL model."""
    keys = []
    for seed in settings.seeds:
        for name, experiment in experiments(settings).items():
            noises = NOISES if name == MAIN else (CLEAN,)
            keys += [Run(name, m, n, seed) for n in noises for m in experiment.methods]
    return kept({k: config(settings, *k) for k in keys}, settings.keep_runs)


# ----------------------------------------------------------------------------- record lookups


def speedup(
    records: Mapping[Run, RunRecord],
    method: str,
    noise: str = CLEAN,
    experiment: str = MAIN,
    x: str = "step",
    against: str | None = None,
    target_share: float = 1.0,
    versus: str = "uniform",
) -> Speedup:
    """Speedup of ``method`` over ``versus`` (uniform, or another method) to uniform's best test
    accuracy (its worst seed's) in ``x`` (``step``, or ``train_wall_s`` of the seeds timed on an
    idle machine), as :func:`lossprio.compare.speedup`. ``against``: the experiment whose runs are
    the baseline (default: ``experiment``'s own; :meth:`Experiment.baseline`)."""
    baseline_experiment = against or experiment
    return kit_speedup(
        records,
        {"method": versus, "experiment": baseline_experiment},
        1.0,
        x,
        target_share=target_share,
        target=None if versus == BASELINE else {"method": BASELINE, "experiment": baseline_experiment},
        method=method,
        noise=noise,
        experiment=experiment,
    )


def best_accuracy(found: Sequence[RunRecord]) -> float:
    """The best test accuracy of the worst of the seeds (every seed reaches it; the book's target
    rule, :data:`~lossprio.compare.TARGET_RULE`)."""
    return min(1 - r.best_test_error for r in found)


def target_accuracies(records: Mapping[Run, RunRecord], noise: str, experiment: str = MAIN) -> list[float]:
    """Fig. 3's targets: :data:`TARGET_SHARES` of uniform's best accuracy on that data (its worst seed's)."""
    best = best_accuracy(pick(records, method=BASELINE, noise=noise, experiment=experiment))
    return [share * best for share in TARGET_SHARES]


def steps_to_targets(
    records: Mapping[Run, RunRecord],
    noise: str,
    experiment: str = MAIN,
    x: str = "step",
    methods: Sequence[str] = tuple(METHODS),
) -> pd.DataFrame:
    """Fig. 3 as a table: median over seeds of the first ``x`` at each target accuracy (NaN:
    the median seed never got there); rows methods, columns targets in %."""
    rows = {}
    for method in methods:
        found = pick(records, method=method, noise=noise, experiment=experiment)
        if not found:
            continue
        rows[method] = {}
        for target in target_accuracies(records, noise, experiment):
            costs = [steps_to_accuracy(r, target, x) for r in found]
            median = statistics.median_low([math.inf if c is NEVER else c for c in costs])
            rows[method][f"{100 * target:.1f} %"] = np.nan if median == math.inf else median
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


def speedup_table(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """RHO-LOSS's (and every method's) speedup over uniform to uniform's best accuracy, in steps
    and in training wall-clock (and, for methods that train an IL model or proxy first, in wall
    clock with that one-off set-up added), clean and with label noise, beside paper M's numbers.
    Its first rows are the noise floor: uniform against its own seeds, what "no effect" looks like
    at these seeds."""
    rows = {}
    for measure, x in (("ours, steps", "step"), ("ours, wall clock", "train_wall_s")):
        floor = {noise: str(speedup(records, BASELINE, noise, x=x)) for noise in (CLEAN, NOISY)}
        rows[f"{BASELINE} (against itself: the noise floor)", measure] = floor
    for method in [m for m in METHODS if m != BASELINE]:
        for measure, x in (("ours, steps", "step"), ("ours, wall clock", "train_wall_s")):
            rows[method, measure] = {noise: str(speedup(records, method, noise, x=x)) for noise in (CLEAN, NOISY)}
        runs = [r for noise in (CLEAN, NOISY) for r in pick(records, method=method, noise=noise, experiment=MAIN)]
        if trained_before_loop(runs):
            with_setup = {noise: str(speedup(records, method, noise, x=WITH_SETUP)) for noise in (CLEAN, NOISY)}
            rows[method, "ours, wall clock + one-off set-up"] = with_setup
    for dataset, (clean, noisy) in PAPER_SPEEDUPS.items():
        rows[RHO, f"paper M, {dataset}, steps"] = {CLEAN: f"{clean:.2f}x", NOISY: f"{noisy:.2f}x"}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["method", "source"])


def target_sensitivity(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """RHO-LOSS's headline speedups (in steps, to uniform's best accuracy) at 100 / 99 / 98 % of
    the target error, on clean data, with label noise and on the relevance split."""
    cases = ((CLEAN, MAIN), (NOISY, MAIN), (CLEAN, RELEVANCE))
    headlines = {
        f"{RHO}, {noise if experiment == MAIN else experiment}": functools.partial(
            speedup, records, RHO, noise, experiment
        )
        for noise, experiment in cases
        if pick(records, method=RHO, noise=noise, experiment=experiment)
    }
    return kit_target_sensitivity(headlines)


def phase_table(records: Mapping[Run, RunRecord], noise: str = CLEAN) -> pd.DataFrame:
    """Mean seconds per phase of each method's main runs on data with ``noise``."""
    return pd.DataFrame(
        {
            m: pd.DataFrame([r.phase_seconds for r in pick(records, method=m, noise=noise, experiment=MAIN)]).mean()
            for m in METHODS
        }
    ).T


# ----------------------------------------------------------------------------- Fig. 1


def score_concentration(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """Fig. 1 from the score probes of the RHO-LOSS runs with label noise: per selection
    function, the share of each candidate batch's summed score held by its top 20 %, and the
    share of corrupted points among its top 10 % (mean over probes, then seeds)."""
    found = [r for r in pick(records, method=RHO, noise=NOISY, experiment=MAIN) if r.score_probes]
    functions = {
        "reducible": "reducible loss (RHO-LOSS)",
        "irreducible": "irreducible loss",
        "loss": "loss",
        "grad_norm": "gradient norm",
    }
    rows = {}
    for key, label in functions.items():
        rows[label] = {
            "top 20 % share of the summed score": statistics.fmean(
                statistics.fmean(p[f"top_{key}"] for p in r.score_probes) for r in found
            ),
            "corrupted share of the top 10 %": statistics.fmean(
                statistics.fmean(p[f"noisy_{key}"] for p in r.score_probes) for r in found
            ),
        }
    rows["the whole batch"] = {
        "top 20 % share of the summed score": np.nan,
        "corrupted share of the top 10 %": statistics.fmean(
            statistics.fmean(p["noisy_batch"] for p in r.score_probes) for r in found
        ),
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("selection function")


def corrupted_share_trained(records: Mapping[Run, RunRecord], noise: str = NOISY, experiment: str = MAIN) -> pd.Series:
    """Each method's share of corrupted points among all it trained on, in its own runs (mean over seeds)."""
    runs = {m: pick(records, method=m, noise=noise, experiment=experiment) for m in METHODS}
    return pd.Series(
        {m: statistics.fmean(corrupted_share_after(r, 0) for r in found) for m, found in runs.items() if found},
        name="corrupted share of trained points",
    )


# ----------------------------------------------------------------------------- Fig. 4 and 5


def relevant_shares(
    records: Mapping[Run, RunRecord], configs: Mapping[Run, TrainConfig], settings: MindermannSettings
) -> dict[str, list[float]]:
    """Fig. 4: each method's share of selections from the relevant classes in the relevance runs
    (per seed), and under ``"training set"`` those classes' share of the training set (one value)."""
    return relevant_shares_of(
        configs[Run(RELEVANCE, BASELINE, CLEAN, settings.seeds[0])],
        {m: pick(records, method=m, noise=CLEAN, experiment=RELEVANCE) for m in METHODS},
        settings.relevant_classes,
    )


def cheap_il_table(records: Mapping[Run, RunRecord], settings: MindermannSettings) -> pd.DataFrame:
    """Fig. 5: RHO-LOSS's speedup over uniform to uniform's best accuracy per experiment, and the
    traversals (epochs of candidates) it saves there, per seed."""
    rows = []
    fig5 = {name: e for name, e in experiments(settings).items() if e.kind in (MAIN, CHEAP_IL, REUSED_IL)}
    for experiment, kind in fig5.items():
        against = kind.baseline(experiment)
        baseline = pick(records, method=BASELINE, noise=CLEAN, experiment=against)
        found = pick(records, method=RHO, noise=CLEAN, experiment=experiment)
        if not baseline or not found:
            continue
        result = speedup(records, RHO, CLEAN, experiment, against=against)
        uniform_costs = [c for c in (steps_to_accuracy(b, 1 - result.target_error) for b in baseline) if c is not NEVER]
        for record in found:
            cost = steps_to_accuracy(record, 1 - result.target_error)
            per_traversal = record.epoch_ends[0] if record.epoch_ends else math.nan
            saved = (
                (statistics.fmean(uniform_costs) - cost) / per_traversal
                if cost is not NEVER and uniform_costs
                else math.nan
            )
            rows.append(
                {
                    "experiment": "default" if experiment == MAIN else experiment,
                    "seed": record.config["seed"],
                    "speedup": str(result),
                    "traversals saved": saved,
                }
            )
    return pd.DataFrame(rows)


#: each claim's verdict on the page before #33 (intervals that cover, rules stated as data, Holm): the
#: start of its text → its verdict, so the page can name the verdicts that moved
PREVIOUS_VERDICTS: dict[str, str] = {
    "Under 10 % label noise, loss and gradient norm put more corr": "confirmed",
    "RHO-LOSS reaches uniform's best accuracy in fewer steps, cle": "confirmed",
    "RHO-LOSS's speedup over uniform grows with label noise.": "inconclusive",
    "On noisy data (label noise, structured noise, ambiguous inpu": "confirmed",
    "RHO-LOSS still beats uniform with cheap IL models: a small m": "confirmed",
    "One IL model serves other target architectures and learning ": "confirmed",
    "With half of the classes absent from holdout and test, RHO-L": "confirmed",
}


# ----------------------------------------------------------------------------- claims


#: the rules of this chapter's claims, stated before any result
MORE_CORRUPTED = Rule("superiority", 0.0, "higher", "0: the whole batch's share of corrupted points")
FEWER_CORRUPTED = Rule("superiority", 0.0, "lower", "0: the whole batch's share of corrupted points")
GROWS = Rule("superiority", 1.0, "higher", "noisy ÷ clean speedup: 1× is no growth", scale="ratio")
PREFERS = Rule("superiority", 0.0, "higher", "0: uniform's share of selections from the relevant classes")


def top_share_shift(records: Mapping[Run, RunRecord], function: str) -> Any:
    """Per seed, the corrupted share (points) of ``function``'s top 10 % of each probed candidate
    batch less the whole batch's (same batches, so paired), over seeds (Fig. 1's claim)."""
    found = [r for r in pick(records, method=RHO, noise=NOISY, experiment=MAIN) if r.score_probes]
    values = [100 * statistics.fmean(p[f"noisy_{function}"] - p["noisy_batch"] for p in r.score_probes) for r in found]
    return shift(values, 0.0) if values else None


def claims(
    records: Mapping[Run, RunRecord], settings: MindermannSettings, relevant_shares: Mapping[str, Sequence[float]]
) -> list[Claim]:
    """Paper M's claims checked against our records, each decided by its rule.

    ``relevant_shares``: each method's share of selections from the relevant classes per seed
    (Fig. 4), and under ``"training set"`` the relevant classes' share of the training set.
    """
    speed = {noise: speedup(records, RHO, noise) for noise in (CLEAN, NOISY)}
    noisy = [n for n in NOISES if n != CLEAN]
    known = experiments(settings)
    cheap = {e: speedup(records, RHO, CLEAN, e, against=MAIN) for e, kind in known.items() if kind.kind == CHEAP_IL}
    reused = {e: speedup(records, RHO, CLEAN, e) for e, kind in known.items() if kind.kind == REUSED_IL}
    shares = relevant_shares
    relevant = (
        difference([100 * v for v in shares[RHO]], [100 * v for v in shares["uniform"]])
        if shares.get(RHO) and shares.get("uniform")
        else None
    )
    return [
        decide(
            "Under 10 % label noise, loss and gradient norm put more corrupted points in their top 10 % than the "
            "batch holds; reducible and irreducible loss fewer (Fig. 1).",
            [
                (
                    MORE_CORRUPTED,
                    {
                        f"{f} (pts above the batch)": top_share_shift(records, k)
                        for f, k in (("loss", "loss"), ("gradient norm", "grad_norm"))
                    },
                ),
                (
                    FEWER_CORRUPTED,
                    {
                        f"{f} (pts above the batch)": top_share_shift(records, k)
                        for f, k in (("reducible loss", "reducible"), ("irreducible loss", "irreducible"))
                    },
                ),
            ],
        ),
        decide(
            "RHO-LOSS reaches uniform's best accuracy in fewer steps, clean and with 10 % label noise (CIFAR-10: "
            "3.82x / 5.15x).",
            [(FASTER, {"clean": speed[CLEAN], "label noise": speed[NOISY]})],
        ),
        decide(
            "RHO-LOSS's speedup over uniform grows with label noise.",
            [(GROWS, {"label noise ÷ clean": ratio(speed[NOISY], speed[CLEAN])})],
            f"clean {speed[CLEAN]}, label noise {speed[NOISY]}",
        ),
        decide(
            "On noisy data (label noise, structured noise, ambiguous inputs) RHO-LOSS needs fewer steps than loss "
            "and gradient-norm selection (Fig. 2).",
            [
                (
                    FASTER,
                    {
                        f"{n}, over {m}": speedup(records, RHO, n, versus=m)
                        for n in noisy
                        for m in ("loss", "gradient norm")
                    },
                )
            ],
        ),
        decide(
            "RHO-LOSS still beats uniform with cheap IL models: a small model, less holdout data, no holdout at all "
            "(Fig. 5).",
            [(FASTER, {e.removeprefix("IL: "): s for e, s in cheap.items()})],
        ),
        decide(
            "One IL model serves other target architectures and learning rates (Fig. 5).",
            [(FASTER, dict(reused))],
        ),
        decide(
            "With half of the classes absent from holdout and test, RHO-LOSS prefers the relevant classes and "
            "reaches uniform's accuracy sooner (Fig. 4).",
            [
                (PREFERS, {"relevant share of selections, RHO-LOSS − uniform (pts)": relevant}),
                (FASTER, {"speedup": speedup(records, RHO, CLEAN, RELEVANCE)}),
            ],
            f"the training set's relevant share {100 * statistics.fmean(shares['training set']):.1f} %",
        ),
    ]


# ----------------------------------------------------------------------------- the chapter


def tables(
    records: Mapping[Run, RunRecord], settings: MindermannSettings, configs: Mapping[Run, TrainConfig]
) -> dict[str, Any]:
    """The chapter's tables: speedups beside paper M's, Fig. 3's steps to each target per kind of
    data, Fig. 1's score concentration, corrupted and relevant shares, Fig. 5, and the claims."""
    found: dict[str, Any] = {"speedup_table": speedup_table(records), "target_sensitivity": target_sensitivity(records)}
    for noise in NOISES:
        found[f"steps_to_targets {noise}"] = steps_to_targets(records, noise)
    found["score_concentration"] = score_concentration(records)
    found["corrupted_share_trained"] = corrupted_share_trained(records)
    found["cheap_il_table"] = cheap_il_table(records, settings)
    found["phase_table"] = phase_table(records)
    shares = relevant_shares(records, configs, settings)
    found["relevant_shares"] = mean_shares(shares)
    found["claims"] = claims(records, settings, shares)
    return found


HEADLINE = Headline(
    "How many fewer steps does RHO-LOSS need to reach uniform's best test accuracy, on clean data and with "
    "10 % label noise?",
    "paper M, CIFAR-10 (Fig. 3): RHO-LOSS "
    + ", ".join(f"{v:g}× {noise}" for noise, v in zip((CLEAN, NOISY), PAPER_SPEEDUPS["CIFAR-10"]))
    + " fewer steps",
    lambda records, settings: {noise: speedup(records, RHO, noise) for noise in (CLEAN, NOISY)},
    lambda records, settings: {
        noise: {m: pick(records, method=m, noise=noise, experiment=MAIN) for m in (BASELINE, RHO)}
        for noise in (CLEAN, NOISY)
    },
)

CHAPTER = register(
    Chapter(
        "mindermann2022",
        "RHO-LOSS (Mindermann et al. 2022)",
        PROFILES,
        runs,
        check=lambda records, settings, configs: claims(records, settings, relevant_shares(records, configs, settings)),
        tables=tables,
        short="M",
        headline=HEADLINE,
    )
)
