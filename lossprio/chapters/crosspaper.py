"""The cross-paper chapter: every selection method of papers J, H and M (and one of this book's)
against every kind of bad data the three papers use, at one shared budget.

Each method runs with its own paper's traversal, on one training set (paper M's even half of
the training split; the odd half is the holdout the irreducible-loss models learn from), one
model, one optimiser (AdamW, no schedule) and one budget of back-propagated examples:

- J/H methods traverse the training set in epochs of shuffled batches of b (SB's queue; the
  VR pool is 3b), and train on what they select until the budget is spent;
- M methods draw n_B candidates without replacement and train on n_b of them per step.

Where a run coincides with one of chapter M's (its selection functions on clean data, 10 %
label noise, structured noise and the relevance split), its settings and so its record are
the same: :data:`CHAPTER` names ``mindermann2022`` in ``reuses`` and the sweep reads them from
there instead of training them twice.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..checks import check_choice
from ..compare import Rule, Speedup, difference, shift
from ..config import TrainConfig
from ..metrics import WITH_SETUP
from ..records import RunRecord
from . import methods, papers, recipes
from .base import Chapter, Headline, register
from .claims import Claim, decide
from .kit import (
    CANDIDATES,
    FASTER,
    TOLERANCE_POINTS,
    Data,
    Method,
    best_error_percent,
    corrupted_share_after,
    fairly_timed,
    idiap_kath18,
    kept,
    mean_shares,
    pick,
    relevant_shares_of,
    sampling_share,
    trained_before_loop,
)
from .kit import speedup as kit_speedup
from .kit import target_sensitivity as kit_target_sensitivity

BASELINE = "uniform"
NEW = methods.NEW
CLEAN, LABEL_NOISE, INPUT_NOISE, IRRELEVANT = (
    recipes.CLEAN_DATA,
    recipes.LABEL_NOISE,
    recipes.INPUT_NOISE,
    recipes.IRRELEVANT,
)
LABEL_NOISE_10, PRISTINE, RELEVANCE = recipes.LABEL_NOISE_10, recipes.PRISTINE, recipes.RELEVANCE
DATA: dict[str, Data] = recipes.DATA
METHODS: dict[str, Method] = methods.CROSSPAPER

#: the methods the test-error curves draw: one of each family (the tables and heatmaps have them all), few
#: enough that every line's colour tells it apart, also to colour-blind readers
CURVE_METHODS = (BASELINE, "SB β=1", "SBE β=1", "VR max 33 %", NEW, "loss", "RHO-LOSS")


class Run(NamedTuple):
    """A run of the grid: (method, data, seed)."""

    method: str
    data: str
    seed: int


@dataclass(frozen=True)
class CrossSettings(recipes.LoopSettings):
    """Size and recipe of the grid (defaults: the smoke size): paper M's loop as chapter M runs it
    (keeping them equal to chapter M's profile is what lets the two chapters share records),
    and the common target."""

    target_factor: float = 1.1  # the common target: this multiple of uniform's best test error on the same data


def from_loop(settings: recipes.LoopSettings, **changes: Any) -> CrossSettings:
    """The grid at the size of paper M's loop as chapter M runs it (so the runs both chapters have
    are the same runs)."""
    return CrossSettings(**{**recipes.loop_fields(settings), **changes})


PROFILES: dict[str, CrossSettings] = {
    "smoke": from_loop(recipes.LOOPS["smoke"]),
    # Chapter M's cpu size (Fashion-MNIST, MLP 784-512-512-10, n_B = 320 → n_b = 32, a budget of 4
    # epochs of backprops, 5 seeds, paper M's label noise, the reference baselines, paper J's Kath18
    # for VR, evaluations from step 10): 560 runs, 140 of them chapter M's (read from its records),
    # the other 420 sized from measured costs to about 2.5 hours on 2 cores, one thread per run.
    "cpu": from_loop(recipes.LOOPS["cpu"]),
    # Paper M's CIFAR-10 setup (ResNet-18, crop and flip, 3 seeds), for a GPU.
    "paper": from_loop(recipes.LOOPS["paper"]),
}
# About one T4-hour (estimated on the Run-it-yourself page): paper M's CIFAR-10 loop and ResNet-18 cut to
# the headline, uniform, SB (paper J) and RHO-LOSS (paper M) on pristine data and with 10 % label noise
# (paper H's question), 40 % of the traversals and an IL model trained for 40 epochs, one seed
HEADLINE_METHODS = (BASELINE, "SB β=1", methods.RHO)
HEADLINE_DATA = ("pristine", "label noise 10 %")
PROFILES["colab"] = dataclasses.replace(
    PROFILES["paper"],
    epochs=40,
    il_epochs=40,
    seeds=(0,),
    keep_runs={"method": HEADLINE_METHODS, "data": HEADLINE_DATA},
)


def budget(settings: CrossSettings) -> float:
    """The shared budget in epochs of back-propagated examples (training-set sizes)."""
    return recipes.budget(settings)


def config(settings: CrossSettings, method: str, data: str, seed: int) -> TrainConfig:
    """The run of ``method`` on ``data``: paper M's loop (so chapter M's run where chapter M has
    it), with a J/H method's own epoch traversal."""
    check_choice("method", method, list(METHODS))
    check_choice("data", data, list(DATA))
    chosen, setting = as_run(settings, METHODS[method]), DATA[data]
    if setting.same_data(DATA[LABEL_NOISE_10]):  # as chapter M runs its label noise (shared runs)
        setting = dataclasses.replace(setting, corruption=recipes.noisy_data(settings).corruption)
    if chosen.traversal == CANDIDATES:
        return recipes.loop_config(settings, chosen, setting, seed)
    epochs = (
        1 + chosen.kwargs.get("warmup_epochs", 1) + math.ceil(1.5 * budget(settings) / chosen.share_trained)
    )  # the budget stops it
    return recipes.loop_config(settings, methods.MINDERMANN2022["uniform"], setting, seed).replace(
        selector=chosen.selector,
        selector_kwargs=chosen.selector_kwargs,
        candidate_batch=chosen.pool * settings.keep if chosen.pool > 1 else None,
        epochs=epochs,
    )


def as_run(settings: CrossSettings, method: Method) -> Method:
    """``method`` as ``settings`` run it: without ``reference_baselines``, Kath18 (VR) as the first
    cpu sweep ran it (:func:`~lossprio.chapters.kit.idiap_kath18`)."""
    return method if settings.reference_baselines else idiap_kath18(method)


def runs(settings: CrossSettings) -> dict[Run, TrainConfig]:
    """Every method on every data setting with every seed."""
    grid = {Run(m, d, s): config(settings, m, d, s) for s in settings.seeds for d in DATA for m in METHODS}
    return kept(grid, settings.keep_runs)


# ----------------------------------------------------------------------------- record lookups


def speedup(
    records: Mapping[Run, RunRecord],
    method: str,
    data: str,
    factor: float,
    x: str = "backprops",
    target_share: float = 1.0,
    versus: str = BASELINE,
) -> Speedup:
    """``method``'s speedup over ``versus`` (uniform, or another method) to ``factor`` × uniform's
    best test error on the same data (its worst seed's), in ``x`` (backprops; ``train_wall_s`` of
    the seeds timed on an idle machine)."""
    target = None if versus == BASELINE else {"method": BASELINE}
    return kit_speedup(
        records, {"method": versus}, factor, x, target_share=target_share, target=target, method=method, data=data
    )


def grid(records: Mapping[Run, RunRecord], value: Any, data: Sequence[str] = tuple(DATA)) -> pd.DataFrame:
    """``value(method, data)`` for every method (rows) and data setting (columns) with records."""
    rows = {m: {d: value(m, d) for d in data if pick(records, method=m, data=d)} for m in METHODS}
    return pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(data)).rename_axis("method")


def speedup_grid(records: Mapping[Run, RunRecord], factor: float, x: str = "backprops") -> pd.DataFrame:
    """Speedups as numbers: 0 where most seeds never reached the target, NaN where there are
    no records (of the method or of uniform)."""
    return grid(
        records,
        lambda m, d: speedup(records, m, d, factor, x).number if pick(records, method=BASELINE, data=d) else np.nan,
    )


def speedup_table(records: Mapping[Run, RunRecord], factor: float, x: str = "backprops") -> pd.DataFrame:
    """The speedup grid as the book prints speedups (:class:`lossprio.compare.Speedup`), with their
    95 % intervals ("" where there are no records)."""
    return grid(
        records,
        lambda m, d: str(speedup(records, m, d, factor, x)) if pick(records, method=BASELINE, data=d) else "",
    )


#: the measures a method that trains something before its loop (an IL model, a proxy) is shown in
SETUP_MEASURES = (("backprops", "backprops"), ("training wall clock", "train_wall_s"), ("+ one-off set-up", WITH_SETUP))


def setup_cost_table(records: Mapping[Run, RunRecord], factor: float) -> pd.DataFrame:
    """The methods that train something first (paper M's IL model, SVP's proxy): speedup in
    backprops, in training wall clock, and in wall clock with that one-off set-up added, per data
    setting; uniform against itself first (the noise floor)."""
    prepared = []
    for method in METHODS:
        found = [r for d in DATA for r in pick(records, method=method, data=d)]
        if trained_before_loop(found):
            prepared.append(method)
    rows = {}
    for method in [BASELINE, *prepared]:
        label = f"{BASELINE} (against itself: the noise floor)" if method == BASELINE else method
        for measure, x in SETUP_MEASURES:
            if method == BASELINE and x == WITH_SETUP:
                continue
            compared = [d for d in DATA if pick(records, method=BASELINE, data=d)]
            rows[label, measure] = {d: str(speedup(records, method, d, factor, x)) for d in compared}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["method", "speedup in"])


def target_sensitivity(records: Mapping[Run, RunRecord], factor: float) -> pd.DataFrame:
    """The grid's headline speedups (per kind of data, the method with the highest median speedup
    over the kind's settings, on its fastest one) at 100 / 99 / 98 % of the target error: how much
    they rest on where the target sits."""
    speeds = speedup_grid(records, factor)
    headlines = {}
    for group in (CLEAN, LABEL_NOISE, INPUT_NOISE, IRRELEVANT):
        scores = group_scores(records, factor, group)
        if scores.empty:
            continue
        method = scores["median speedup"].idxmax()
        settings = [d for d, s in DATA.items() if s.group == group]
        data = speeds.loc[method, settings].idxmax()
        headlines[f"{method}, {data}"] = functools.partial(speedup, records, method, data, factor)
    return kit_target_sensitivity(headlines)


def vr_sampling(records: Mapping[Run, RunRecord]) -> pd.Series:
    """Per data setting, how much of VR's training was importance sampling (where none was, its
    cells above are uniform training's)."""
    return pd.Series(
        {d: sampling_share(pick(records, method="VR max 33 %", data=d)) for d in DATA}, name="VR max 33 %"
    ).rename_axis("data")


def final_error_grid(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """Final test error in %, mean over the seeds that did not diverge."""
    return grid(records, lambda m, d: best_error_percent(pick(records, method=m, data=d), final=True)[0])


#: the row of :func:`corrupted_share_grid` that holds the data's own corrupted share
DATA_ROW = "(the training data)"


def corrupted_share_grid(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """Share (%) of corrupted examples among all each method trained on (mean over seeds), with
    the corrupted share of the training data as the first row."""
    corrupted = [d for d, s in DATA.items() if s.corruption is not None]
    frame = grid(
        records,
        lambda m, d: 100 * statistics.fmean(corrupted_share_after(r, 0) for r in pick(records, method=m, data=d)),
        corrupted,
    )
    data_share = {
        d: 100 * len(r[0].corrupted) / len(r[0].selection_counts)
        for d in corrupted
        if (r := pick(records, method=BASELINE, data=d))
    }
    return pd.concat([pd.DataFrame(data_share, index=[DATA_ROW]), frame]).rename_axis("method")


#: a cell is an anomaly the page explains when a method ends this many points above uniform's error
ANOMALY_POINTS = 10.0

#: why a method can end far above uniform, by selector: what its rule does that explains it
MECHANISMS = {
    "loss": ("it trains on the candidates with the highest loss, and under label noise those are the mislabeled ones"),
    "grad_norm": (
        "it trains on the candidates with the largest gradient norm, and under label noise those are the "
        "mislabeled ones"
    ),
    "svp": (
        "it trains only within its core-set, the tenth of the data on which the proxy's prediction has the "
        "highest entropy: a tenth of the data, and where the corrupted examples are the most uncertain, mostly them"
    ),
    "irreducible": (
        "it trains on the candidates with the lowest irreducible loss, the ones the holdout model already gets "
        "right, so it spends its budget on the easiest examples and never learns the rest"
    ),
}


def anomalies(records: Mapping[Run, RunRecord]) -> list[str]:
    """Per method, the data settings where it ends more than :data:`ANOMALY_POINTS` above
    uniform's final error, each with what it trained on (its corrupted share against the data's)
    and, where known, why (:data:`MECHANISMS`)."""
    finals, shares = final_error_grid(records), corrupted_share_grid(records)
    found = []
    for method in finals.index.drop(BASELINE, errors="ignore"):
        cells = []
        for data in finals.columns:
            error, reference = finals.loc[method, data], finals.loc[BASELINE, data]
            if not error - reference > ANOMALY_POINTS:
                continue
            cell = f"{data} ({error:.1f} % against {reference:.1f} %"
            if data in shares.columns and method in shares.index:
                corrupted = shares.loc[method, data]
                cell += f"; {corrupted:.1f} % of its training corrupted, the data {shares.loc[DATA_ROW, data]:.1f} %"
            cells.append(cell + ")")
        if cells:
            reason = MECHANISMS.get(METHODS[method].selector)
            found.append(f"**{method}**: {'; '.join(cells)}." + (f" Why: {reason}." if reason else ""))
    return found


def relevant_shares(
    records: Mapping[Run, RunRecord], configs: Mapping[Run, TrainConfig], settings: CrossSettings
) -> pd.Series:
    """Share (%) of each method's selections from the relevant classes in the low-relevance runs,
    and under ``(the training data)`` those classes' share of the training set."""
    shares = mean_shares(
        relevant_shares_of(
            configs[Run(BASELINE, RELEVANCE, settings.seeds[0])],
            {m: pick(records, method=m, data=RELEVANCE) for m in METHODS},
            settings.relevant_classes,
        )
    )
    shares = {DATA_ROW: shares.pop("training set"), **shares}
    return pd.Series({k: 100 * v for k, v in shares.items()}, name="relevant share of selections (%)")


SELECTION_PHASES = ("selection_forward", "selection")
COST_COLUMNS = (
    "selecting (% of training time)",
    "training time per run (s)",
    "speedup in backprops (median setting)",
    "speedup in wall clock (median setting)",
    "runs timed on an idle machine",
)


def selection_cost(records: Mapping[Run, RunRecord], factor: float) -> pd.DataFrame:
    """Per method, over all data settings: the share of training wall-clock spent selecting
    (selection forwards and the selector's own work), training seconds per run, and the median
    over settings of the speedup in backprops and in training wall-clock (idle-machine runs only)."""
    speeds = {x: speedup_grid(records, factor, x) for x in ("backprops", "train_wall_s")}
    rows = {}
    for method in METHODS:
        timed = fairly_timed([r for d in DATA for r in pick(records, method=method, data=d)], "train_wall_s")
        if not timed:
            continue
        selecting = [sum(r.phase_seconds[p] for p in SELECTION_PHASES) / r.train_wall_s for r in timed]
        values = (
            100 * statistics.fmean(selecting),
            statistics.fmean(r.train_wall_s for r in timed),
            speeds["backprops"].loc[method].median(),
            speeds["train_wall_s"].loc[method].median(),
            len(timed),
        )
        rows[method] = dict(zip(COST_COLUMNS, values))
    # (with no run timed on an idle machine, an empty table of the same columns)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(COST_COLUMNS)).rename_axis("method")


# ----------------------------------------------------------------------------- the guide


def group_scores(records: Mapping[Run, RunRecord], factor: float, group: str) -> pd.DataFrame:
    """Per method over one group's data settings: the median speedup in backprops ("never" as 0),
    whether any of them is only a lower bound (a seed reached the target at its first evaluation:
    ``≥``), the settings where it never reached the target, and its mean final error's excess over
    uniform's."""
    settings = [d for d, s in DATA.items() if s.group == group]
    found = {
        (m, d): speedup(records, m, d, factor)
        for m in METHODS
        for d in settings
        if pick(records, method=m, data=d) and pick(records, method=BASELINE, data=d)
    }
    methods = [m for m in METHODS if m != BASELINE and all((m, d) in found for d in settings)]
    final = final_error_grid(records)[settings]
    rows = {}
    for m in methods:
        values = [found[m, d].number for d in settings]
        rows[m] = {
            "median speedup": statistics.median(values),
            "at least": any(found[m, d].at_least and not found[m, d].at_most for d in settings),
            "never reached": sum(v == 0 for v in values),
            "final error vs uniform (pts)": float((final.loc[m] - final.loc[BASELINE]).mean()),
        }
    columns = ["median speedup", "at least", "never reached", "final error vs uniform (pts)"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def with_setup(records: Mapping[Run, RunRecord], method: str, settings: Sequence[str], factor: float) -> str:
    """For a method that trains a model before its loop (an IL model, a proxy): its median speedup
    over ``settings`` in wall clock with that one-off set-up counted (``""`` for other methods)."""
    found = [r for d in settings for r in pick(records, method=method, data=d)]
    if not trained_before_loop(found):
        return ""
    values = [speedup(records, method, d, factor, WITH_SETUP).number for d in settings]
    return f"; {statistics.median(values):.1f}x in wall clock once its one-off set-up is counted"


#: the guide recommends no method whose final test error is more than this many points above uniform's
#: the guide picks its methods on this many of the first seeds and reports them on the others, so a
#: headline is not the luck of the seeds that chose it
CHOOSING_SEEDS = 2


def seed_split(records: Mapping[Run, RunRecord]) -> tuple[dict[Run, RunRecord], dict[Run, RunRecord], str]:
    """(the records that choose, those that report, the split in words): the first
    :data:`CHOOSING_SEEDS` seeds choose, the rest report; with too few seeds, all do both."""
    seeds = sorted({k.seed for k in records})
    if len(seeds) <= CHOOSING_SEEDS:
        return dict(records), dict(records), "chosen and reported on the same seeds (too few to split)"
    chosen = set(seeds[:CHOOSING_SEEDS])
    choose = {k: r for k, r in records.items() if k.seed in chosen}
    report = {k: r for k, r in records.items() if k.seed not in chosen}
    names = lambda found: ", ".join(map(str, sorted(found)))  # noqa: E731
    return choose, report, f"chosen on seeds {names(chosen)}, reported on seeds {names(set(seeds) - chosen)}"


def guide(records: Mapping[Run, RunRecord], factor: float) -> list[str]:
    """ "Which method when": per kind of data, a sentence computed from the records naming the
    (up to three) fastest methods that reach the target sooner than uniform (median over the
    kind's settings, in backprops) and in every setting, without ending more than
    :data:`TOLERANCE_POINTS` worse than uniform, with the wall-clock speedup of those that train a
    model first once that set-up is counted; and those that fail to reach it. The methods are
    chosen on some seeds and their numbers reported on the others (:func:`seed_split`)."""
    sentences = []
    choose, report, split = seed_split(records)
    for group in (CLEAN, LABEL_NOISE, INPUT_NOISE, IRRELEVANT):
        settings = [d for d, s in DATA.items() if s.group == group]
        scores = group_scores(choose, factor, group)
        if scores.empty:
            continue
        safe = scores[
            (scores["never reached"] == 0)
            & (scores["final error vs uniform (pts)"] <= TOLERANCE_POINTS)
            & (scores["median speedup"] > 1.0)
        ]
        best = safe.sort_values("median speedup", ascending=False).head(3).index.tolist()
        reported = group_scores(report, factor, group)
        failing = reported[reported["never reached"] > 0].index.tolist()
        where = ", ".join(settings)
        if not best:
            text = (
                f"**{group.capitalize()}** ({where}): no method reached uniform's target sooner (median over these "
                "settings) and in every "
                f"setting without ending more than {TOLERANCE_POINTS:g} points worse; stay with uniform."
            )
        else:
            picks = "; ".join(
                f"{m} ({'≥ ' if row['at least'] else ''}{row['median speedup']:.1f}x in backprops, final error "
                f"{row['final error vs uniform (pts)']:+.1f} pts{with_setup(report, m, settings, factor)})"
                for m, row in reported.loc[best].iterrows()
            )
            text = (
                f"**{group.capitalize()}** ({where}): fastest to uniform's target without ending more than "
                f"{TOLERANCE_POINTS:g} points worse ({split}): {picks}."
            )
        if failing:
            text += f" Never reached it in at least one of these settings: {', '.join(failing)}."
        sentences.append(text)
    return sentences


#: each claim's verdict on the page before #33 (intervals that cover, rules stated as data, Holm): the
#: start of its text → its verdict, so the page can name the verdicts that moved
PREVIOUS_VERDICTS: dict[str, str] = {
    "Paper M: RHO-LOSS trains on fewer corrupted points than the ": "mixed",
    "Paper H: SB over-samples corrupted examples — also under pap": "confirmed",
    "This book: SB's rule on the reducible loss trains on fewer c": "confirmed",
    "Paper M: RHO-LOSS is faster than loss selection on noisy or ": "confirmed",
}


# ----------------------------------------------------------------------------- claims


#: the rules of this chapter's claims, stated before any result
FEWER_THAN_DATA = Rule("superiority", 0.0, "lower", "0: the data's own share of corrupted examples")
MORE_THAN_DATA = Rule("superiority", 0.0, "higher", "0: the data's own share of corrupted examples")
FEWER_THAN_SB = Rule("superiority", 0.0, "lower", "0: SB β=1's share of corrupted examples")


def corrupted_shares(records: Mapping[Run, RunRecord], method: str, data: str) -> list[float]:
    """Per seed, the share (%) of corrupted examples among all ``method`` trained on."""
    return [100 * corrupted_share_after(r, 0) for r in pick(records, method=method, data=data)]


def claims(records: Mapping[Run, RunRecord], settings: CrossSettings) -> list[Claim]:
    """The three papers' claims carried to the data settings their papers did not test, each
    decided by its rule."""
    factor = settings.target_factor
    data_share = corrupted_share_grid(records).loc[DATA_ROW]
    corrupted = list(data_share.index)

    def against_data(method: str) -> dict[str, Any]:
        return {
            f"{d} (pts vs the data's {data_share[d]:.1f} %)": shift(found, data_share[d])
            if (found := corrupted_shares(records, method, d))
            else None
            for d in corrupted
        }

    def new_vs_sb(d: str) -> Any:
        new, sb = corrupted_shares(records, NEW, d), corrupted_shares(records, "SB β=1", d)
        return difference(new, sb) if new and sb else None

    noisy = [d for d in DATA if d != PRISTINE]
    return [
        decide(
            "Paper M: RHO-LOSS trains on fewer corrupted points than the data holds — also under paper H's "
            "corruptions (random labels, shuffled pixels, Gaussian images).",
            [(FEWER_THAN_DATA, against_data("RHO-LOSS"))],
        ),
        decide(
            "Paper H: SB over-samples corrupted examples — also under paper M's structured noise and ambiguous inputs.",
            [(MORE_THAN_DATA, against_data("SB β=1"))],
        ),
        decide(
            "This book: SB's rule on the reducible loss trains on fewer corrupted points than SB on the loss (same "
            "selectivity, β = 1).",
            [(FEWER_THAN_SB, {f"{d} (pts)": new_vs_sb(d) for d in corrupted})],
        ),
        decide(
            "Paper M: RHO-LOSS is faster than loss selection on noisy or low-relevance data — every kind here, not "
            "just paper M's.",
            [(FASTER, {f"{d}, over loss": speedup(records, "RHO-LOSS", d, factor, versus="loss") for d in noisy})],
        ),
    ]


# ----------------------------------------------------------------------------- the chapter


def tables(
    records: Mapping[Run, RunRecord], settings: CrossSettings, configs: Mapping[Run, TrainConfig]
) -> dict[str, Any]:
    """The grid's tables: speedups (backprops, wall clock), final errors, corrupted and relevant
    shares, the cost of selecting, the guide and the claims."""
    factor = settings.target_factor
    return {
        "speedup_grid backprops": speedup_grid(records, factor),
        "speedup_grid train_wall_s": speedup_grid(records, factor, "train_wall_s"),
        "speedup_table": speedup_table(records, factor),
        "setup_cost_table": setup_cost_table(records, factor),
        "target_sensitivity": target_sensitivity(records, factor),
        "anomalies": anomalies(records),
        "final_error_grid": final_error_grid(records),
        "corrupted_share_grid": corrupted_share_grid(records),
        "relevant_shares": relevant_shares(records, configs, settings),
        "selection_cost": selection_cost(records, factor),
        "guide": guide(records, factor),
        "claims": claims(records, settings),
    }


HEADLINE = Headline(
    "Does a loss-based method (SB) or RHO-LOSS reach 1.1 × uniform's best test error sooner, on pristine data "
    "and with 10 % label noise?",
    "paper M, CIFAR-10 (Fig. 3, to uniform's best accuracy, not this chapter's target): RHO-LOSS "
    + ", ".join(f"{v:g}×" for v in papers.MINDERMANN2022_SPEEDUPS["CIFAR-10"])
    + " fewer steps clean / with 10 % label noise",
    lambda records, settings: {
        f"{m}, {d}": speedup(records, m, d, settings.target_factor) for d in HEADLINE_DATA for m in HEADLINE_METHODS[1:]
    },
    lambda records, settings: {
        d: {m: pick(records, method=m, data=d) for m in HEADLINE_METHODS} for d in HEADLINE_DATA
    },
)

CHAPTER = register(
    Chapter(
        "crosspaper",
        "Every method against every kind of bad data",
        PROFILES,
        runs,
        check=lambda records, settings, configs: claims(records, settings),
        tables=tables,
        reuses=("mindermann2022",),
        headline=HEADLINE,
    )
)
