"""Chapter "How the savings scale": Selective-Backprop's and RHO-LOSS's savings over tuned,
fully decayed uniform training across a ladder of model sizes × training-set sizes.

Every run is paper M's loop at a fixed budget of back-propagated examples with a cosine rate to 0
(the tuned-baseline chapter's recipe): uniform and SB traverse epochs of batches of n_b, RHO-LOSS
draws n_B candidates and trains on n_b. The IL model is the rung's own architecture trained on the
odd half at the same share (it scales with the target and the data), and its training is the
run's one-off set-up, counted in wall clock. Two stages: a pilot runs uniform on clean data at the
middle data size over a grid of rates at the budget and at ``pilot_factor`` × it (seed 0,
validation split): it sizes each rung's cost, chooses each rung's rate, and shows whether the
budget is one where uniform has stopped improving. The grid then runs every method on clean data
and paper M's 10 % label noise at the chosen rates, every seed, on the test set.

Speedups are kit speedups (to ``target_factor`` × uniform's best test error) in backprops and in
wall clock with the one-off set-up; a trend is the least-squares slope of the cells' log
speedups against the log of compute per run (uniform's training FLOPs: 3 × forward FLOPs ×
back-propagated examples) or of the training-set size, with its t interval over the cells.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from .. import palette
from ..checks import check_choice
from ..compare import Difference, Rule, Speedup, slope
from ..config import TrainConfig
from ..metrics import WITH_SETUP
from ..records import RunRecord
from . import methods, papers, recipes
from .base import Chapter, Headline, register
from .claims import Claim, decide
from .kit import fairly_timed, kept, pick
from .kit import speedup as kit_speedup

BASELINE, SB, RHO = "uniform", "SB β=1", methods.RHO
METHODS = methods.SCALING
PRISTINE, LABEL_NOISE = recipes.PRISTINE, recipes.LABEL_NOISE_10
DATA = {name: recipes.DATA[name] for name in (PRISTINE, LABEL_NOISE)}
PILOT, GRID = "pilot", "grid"
#: the measures a speedup is taken in: back-propagated examples, and wall clock with the one-off set-up
MEASURES = {"backprops": "backprops", "wall clock with set-up": WITH_SETUP}

#: where each profile's pilot choices are kept, beside the records (data, read by the profiles)
CHOSEN_FILE = Path(__file__).resolve().parents[2] / "results" / "scaling" / "chosen_lrs.json"


class Run(NamedTuple):
    """A run: its stage, model rung, training-set share, method, data, rate, budget and seed."""

    stage: str
    model: str
    size: float
    method: str
    data: str
    lr: float
    budget: float
    seed: int


@dataclass(frozen=True)
class ScalingSettings(recipes.BudgetSettings):
    """The ladder and the recipe (defaults: the smoke size).

    ``rungs``: model label → [registry name, settings], smallest first (the IL model is the same
    architecture); ``sizes``: class-balanced shares of the training split (its even half trains,
    the odd half is the IL model's holdout); ``budget``: epochs of back-propagated examples."""

    rungs: dict[str, list] = field(
        default_factory=lambda: {"MLP 32": ["mlp", {"hidden": [32]}], "MLP 128": ["mlp", {"hidden": [128]}]}
    )
    sizes: tuple[float, ...] = (0.04, 0.08)
    methods: tuple[str, ...] = tuple(METHODS)
    data: tuple[str, ...] = tuple(DATA)
    budget: float = 2.0
    pilot_factor: float = 2.0  # the pilot also runs uniform at this multiple of the budget: has it stopped improving?
    lr_grid: tuple[float, ...] = (1e-3, 3e-3)
    target_factor: float = 1.1  # a speedup's target: this multiple of uniform's best test error on the same cell
    # (rung, lr): the pilot's choices (:func:`choose_lrs`); the grid runs at these
    chosen_lrs: tuple[tuple[str, float], ...] = field(
        default=(), metadata={"shown_as": "the table of chosen learning rates (the pilot)"}
    )

    def __post_init__(self) -> None:
        for name in self.methods:
            check_choice("methods", name, list(METHODS))
        for name in self.data:
            check_choice("data", name, list(DATA))
        if BASELINE not in self.methods:
            raise ValueError(f"methods={list(self.methods)}: uniform is every speedup's baseline, keep it")
        if not self.rungs or not self.sizes:
            raise ValueError("rungs and sizes: give at least one model and one training-set share")

    @property
    def pilot_size(self) -> float:
        """The training-set share the pilot runs at: the middle one."""
        return self.sizes[len(self.sizes) // 2]

    def chosen(self) -> dict[str, float]:
        return dict(self.chosen_lrs)


def committed_choices(profile: str, path: Path = CHOSEN_FILE) -> dict[str, Any]:
    """The pilot's choices committed for ``profile`` (none where the file or the profile has none)."""
    if not path.exists():
        return {}
    chosen = json.loads(path.read_text()).get(profile, {})
    return {"chosen_lrs": tuple((rung, float(lr)) for rung, lr in chosen.items())}


def write_choices(profile: str, chosen: Mapping[str, float], path: Path = CHOSEN_FILE) -> None:
    """File ``profile``'s chosen rates in ``path`` (other profiles' entries kept)."""
    known = json.loads(path.read_text()) if path.exists() else {}
    known[profile] = dict(chosen)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")


def sized(loop: recipes.LoopSettings, **changes: Any) -> ScalingSettings:
    """The chapter at the size of paper M's ``loop`` (data, n_B → n_b, AdamW), with ``changes``."""
    left_out = ("eval_every", "eval_first", "score_probe_every", "model", "model_kwargs", "il_model", "il_model_kwargs")
    return ScalingSettings(**{**recipes.loop_fields(loop, left_out), **changes})


PROFILES: dict[str, ScalingSettings] = {
    # (clean data only: smoke checks the machinery; label noise runs at cpu and in the paper path's test)
    "smoke": sized(recipes.LOOPS["smoke"], eval_every=25, data=(PRISTINE,)),
    # Fashion-MNIST: three rungs from an MLP to the widest CNN the sweep's budget allows, three
    # shares of the training half (1/8, 1/4, 1/2 of it: the IL model's holdout scales alike), a
    # budget of 16 epochs of back-propagated examples (earlier pilots at 4 and 8, in the git history
    # of results/scaling/cpu, found uniform still gaining about a point from doubling it on the CNN),
    # n_B = 320 → n_b = 32, 5 seeds, clean
    # data and paper M's 10 % label noise; the rungs and seeds sized from the pilot's measured
    # costs to about 7 run-hours.
    "cpu": sized(
        recipes.LOOPS["cpu"],
        rungs={
            "MLP 256": ["mlp", {"hidden": [256]}],
            "MLP 512×2": ["mlp", {"hidden": [512, 512]}],
            "CNN width 16": ["fast_cnn", {"width": 16}],
        },
        sizes=(1 / 8, 1 / 4, 1 / 2),
        budget=16.0,
        lr_grid=(1e-3, 3e-3, 1e-2),
        il_epochs=10,
        eval_every=100,
    ),
    # CIFAR-10 at paper M's recipe (crop and flip, n_B = 320 → n_b = 32): ResNet-18 at three
    # widths, three shares of the training half, a budget of 10 epochs of backprops, 3 seeds.
    "paper": sized(
        recipes.LOOPS["paper"],
        rungs={
            "ResNet-18 width 16": ["resnet18", {"width": 16}],
            "ResNet-18 width 32": ["resnet18", {"width": 32}],
            "ResNet-18": ["resnet18", {}],
        },
        sizes=(1 / 4, 1 / 2, 1.0),
        budget=10.0,
        lr_grid=(3e-4, 1e-3, 3e-3),
        il_epochs=50,
        eval_every=200,
    ),
}
# About one T4-hour (estimated on the Run-it-yourself page): the paper ladder cut to the headline, every
# method on pristine data at the two smaller shares of the training half, one seed
PROFILES["colab"] = dataclasses.replace(PROFILES["paper"], sizes=(1 / 4, 1 / 2), data=(PRISTINE,), seeds=(0,))
PROFILES = {name: dataclasses.replace(s, **committed_choices(name)) for name, s in PROFILES.items()}


def config(settings: ScalingSettings, key: Run) -> TrainConfig:
    """The run at ``key``: the rung's model (and IL model) on its share of the data."""
    check_choice("model", key.model, list(settings.rungs))
    check_choice("method", key.method, list(METHODS))
    check_choice("data", key.data, list(DATA))
    check_choice("stage", key.stage, [PILOT, GRID])
    model, kwargs = settings.rungs[key.model]
    rung = dataclasses.replace(
        settings,
        train_fraction=key.size,
        model=model,
        model_kwargs=dict(kwargs),
        il_model=model,
        il_model_kwargs=dict(kwargs),
    )
    setting = DATA[key.data]
    if setting.same_data(DATA[LABEL_NOISE]):
        setting = dataclasses.replace(setting, corruption=recipes.noisy_data(settings).corruption)
    return recipes.budget_config(
        rung,
        METHODS[key.method],
        setting,
        key.budget,
        key.lr,
        key.seed,
        evaluate_on="validation" if key.stage == PILOT else "test",
    )


def pilot_keys(settings: ScalingSettings) -> list[Run]:
    """The pilot: uniform on clean data at the middle share, every rate, at the budget and at
    ``pilot_factor`` × it, on the first seed."""
    budgets = (settings.budget, settings.pilot_factor * settings.budget)
    return [
        Run(PILOT, rung, settings.pilot_size, BASELINE, PRISTINE, lr, budget, settings.seeds[0])
        for rung in settings.rungs
        for budget in budgets
        for lr in settings.lr_grid
    ]


def grid_keys(settings: ScalingSettings) -> list[Run]:
    """The grid: every rung with a chosen rate × share × method × data × seed, at the budget."""
    chosen = settings.chosen()
    return [
        Run(GRID, rung, size, method, data, chosen[rung], settings.budget, seed)
        for seed in settings.seeds
        for rung in settings.rungs
        if rung in chosen
        for size in settings.sizes
        for data in settings.data
        for method in settings.methods
    ]


def runs(settings: ScalingSettings) -> dict[Run, TrainConfig]:
    """The pilot, and the grid of every rung the pilot has chosen a rate for."""
    grid = {key: config(settings, key) for key in (*pilot_keys(settings), *grid_keys(settings))}
    return kept(grid, settings.keep_runs)


def planned(settings: ScalingSettings) -> dict[Run, TrainConfig]:
    """Every run a sweep will make, the grid included before the pilot has chosen (at the
    grid's middle rate, for sizing)."""
    middle = settings.lr_grid[len(settings.lr_grid) // 2]
    guessed = {rung: settings.chosen().get(rung, middle) for rung in settings.rungs}
    return runs(dataclasses.replace(settings, chosen_lrs=tuple(guessed.items())))


# ----------------------------------------------------------------------------- the pilot


def choose_lrs(records: Mapping[Run, RunRecord], settings: ScalingSettings) -> dict[str, float]:
    """Each rung's rate: the lowest final validation error of the pilot's runs at the budget (a
    rung whose pilot is unfinished is left out)."""
    chosen = {}
    for rung in settings.rungs:
        found = {lr: pick(records, stage=PILOT, model=rung, budget=settings.budget, lr=lr) for lr in settings.lr_grid}
        if all(found.values()):
            chosen[rung] = min(found, key=lambda lr: found[lr][0].final_test_error)
    return chosen


def with_choices(settings: ScalingSettings, records: Mapping[Run, RunRecord]) -> ScalingSettings:
    """``settings`` with the rates its pilot records choose."""
    return dataclasses.replace(settings, chosen_lrs=tuple(choose_lrs(records, settings).items()))


def pilot_table(records: Mapping[Run, RunRecord], settings: ScalingSettings) -> pd.DataFrame:
    """Per rung: its forward FLOPs, the pilot's validation error at each rate (at the budget and at
    ``pilot_factor`` × it), the chosen rate, how much more the longer budget gained, and the
    measured seconds per run of uniform at the budget."""
    longer = settings.pilot_factor * settings.budget
    rows = {}
    for rung, (model, kwargs) in settings.rungs.items():
        row: dict[str, Any] = {"forward MFLOPs": round(forward_flops(model, kwargs, settings.dataset) / 1e6, 2)}
        for budget in (settings.budget, longer):
            for lr in settings.lr_grid:
                found = pick(records, stage=PILOT, model=rung, budget=budget, lr=lr)
                row[f"{budget:g} epochs, lr {lr:g} (%)"] = round(100 * found[0].final_test_error, 2) if found else None
        lr = settings.chosen().get(rung)
        row["chosen lr"] = lr
        if lr is not None:
            short = pick(records, stage=PILOT, model=rung, budget=settings.budget, lr=lr)
            long = pick(records, stage=PILOT, model=rung, budget=longer, lr=lr)
            if short and long:
                gain = 100 * (short[0].final_test_error - long[0].final_test_error)
                row[f"gained by {settings.pilot_factor:g}× the budget (pts)"] = round(gain, 2)
            if short and not short[0].timed_busy:  # a busy machine's seconds are not the rung's cost
                row["seconds a run (uniform, budget)"] = round(short[0].counters["wall_s"])
        rows[rung] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


# ----------------------------------------------------------------------------- compute


@functools.lru_cache(maxsize=64)
def _forward_flops(model: str, kwargs: str, dataset: str) -> float:
    from ..cost import DATASET_SHAPES
    from ..cost import forward_flops as count

    _, _, channels, side, classes = DATASET_SHAPES[dataset]
    return count(model, json.loads(kwargs), channels, side, classes)


def forward_flops(model: str, kwargs: Mapping[str, Any], dataset: str) -> float:
    """One example's forward FLOPs of a model on a dataset's images (:func:`lossprio.cost.forward_flops`)."""
    return _forward_flops(model, json.dumps(dict(kwargs), sort_keys=True), dataset)


def compute_per_run(config: TrainConfig, records: Sequence[RunRecord] = ()) -> float:
    """Uniform's training compute at a cell: 3 × forward FLOPs (a backward counted as two
    forwards) × the examples back-propagated (``budget`` × the training-set size, read off a
    record's counts where one is given)."""
    flops = forward_flops(config.model, config.model_kwargs, config.dataset)
    if records:
        return 3 * flops * records[0].counters["backprops"]
    raise ValueError("compute per run needs a record of the cell (its training-set size)")


def training_examples(record: RunRecord) -> int:
    """The training-set size of a run (its per-example selection counts)."""
    return len(record.selection_counts)


def paper_points() -> pd.DataFrame:
    """The papers' speedups at their own compute per run, labelled as the papers': paper J's SB
    (β for 33 %) in wall clock to 1.1 × Traditional's final error, paper M's RHO-LOSS in steps to
    uniform's best accuracy on CIFAR-10, clean and with 10 % label noise."""
    rows = []
    for name, setup in papers.SETUPS.items():
        flops = forward_flops(setup.model, setup.model_kwargs, setup.dataset)
        compute = 3 * flops * setup.training_examples * setup.epochs
        if name == "J":
            rows.append(("paper J: SB, CIFAR-10, wall clock", SB, PRISTINE, papers.JIANG2019_TABLE_1["SB"][0], compute))
        else:
            clean, noisy = papers.MINDERMANN2022_SPEEDUPS["CIFAR-10"]
            rows.append(("paper M: RHO-LOSS, CIFAR-10, steps", RHO, PRISTINE, clean, compute))
            rows.append(("paper M: RHO-LOSS, CIFAR-10 + 10 % noise, steps", RHO, LABEL_NOISE, noisy, compute))
    frame = pd.DataFrame(rows, columns=["paper", "method", "data", "speedup", "compute per run (FLOPs)"])
    frame["training examples"] = [
        papers.SETUPS["J" if label.startswith("paper J") else "M"].training_examples for label in frame["paper"]
    ]
    return frame.set_index("paper")


# ----------------------------------------------------------------------------- speedups and trends


class Cell(NamedTuple):
    """One cell of the grid: a rung, a share of the data, a kind of data."""

    model: str
    size: float
    data: str


def cells(records: Mapping[Run, RunRecord], settings: ScalingSettings) -> list[Cell]:
    """The grid's cells with uniform's runs recorded."""
    found = {Cell(k.model, k.size, k.data) for k in records if k.stage == GRID and k.method == BASELINE}
    order = {rung: i for i, rung in enumerate(settings.rungs)}
    return sorted(found, key=lambda c: (order.get(c.model, 99), c.size, settings.data.index(c.data)))


def cell_speedup(
    records: Mapping[Run, RunRecord], cell: Cell, method: str, measure: str, factor: float
) -> Speedup | None:
    """``method``'s speedup over uniform at ``cell`` in ``measure`` (a key of :data:`MEASURES`)."""
    fields = {"stage": GRID, "model": cell.model, "size": cell.size, "data": cell.data}
    if not pick(records, method=method, **fields) or not pick(records, method=BASELINE, **fields):
        return None
    x = MEASURES[measure]
    if not fairly_timed(pick(records, method=method, **fields), x):
        return None
    return kit_speedup(records, {"method": BASELINE}, factor, x, method=method, **fields)


def speedup_table(records: Mapping[Run, RunRecord], settings: ScalingSettings) -> pd.DataFrame:
    """Every cell's speedups, per method and measure, with uniform's best test error and the
    cell's compute per run and training-set size."""
    rows = {}
    for cell in cells(records, settings):
        uniform = pick(records, stage=GRID, model=cell.model, size=cell.size, data=cell.data, method=BASELINE)
        row: dict[str, Any] = {
            "training examples": training_examples(uniform[0]),
            "compute per run (GFLOPs)": float(f"{compute_of(uniform) / 1e9:.3g}"),
            "uniform's best error (%)": round(100 * min(r.best_test_error for r in uniform), 2),
        }
        for method in settings.methods:
            if method == BASELINE:
                continue
            for measure in MEASURES:
                found = cell_speedup(records, cell, method, measure, settings.target_factor)
                row[f"{method}, {measure}"] = "" if found is None else str(found)
        rows[(cell.model, f"{cell.size:.3g}", cell.data)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["model", "share of the training split", "data"])
    return frame


def compute_of(uniform: Sequence[RunRecord]) -> float:
    """Uniform's training compute at a cell (FLOPs), from one of its records."""
    config = TrainConfig.from_dict(uniform[0].config)
    return compute_per_run(config, uniform)


class Point(NamedTuple):
    """A cell's speedup placed for a trend: log10 compute per run, log2 training examples, log speedup."""

    cell: Cell
    log_compute: float
    log_examples: float
    speedup: Speedup


def reached(speedup: Speedup | None) -> bool:
    """Whether a cell's speedup is a number to fit: the method reached the target (fairly timed)."""
    return speedup is not None and math.isfinite(speedup.number) and speedup.number > 0


class Ladder(NamedTuple):
    """A method's cells on one kind of data in one measure: a :class:`Point` for each cell where it
    reached the target, and the cells where it ran but has no speedup to fit (it never reached the
    target, or was not fairly timed). A slope over the points alone is not the ladder's when
    ``unreached`` is not empty."""

    points: list[Point]
    unreached: list[Cell]


def ladder(records: Mapping[Run, RunRecord], settings: ScalingSettings, method: str, data: str, measure: str) -> Ladder:
    """``method``'s speedups on ``data`` in ``measure`` over the grid's cells (each computed once)."""
    found, unreached = [], []
    for cell in cells(records, settings):
        fields = {"stage": GRID, "model": cell.model, "size": cell.size, "data": cell.data}
        if cell.data != data or not pick(records, method=method, **fields):
            continue
        speedup = cell_speedup(records, cell, method, measure, settings.target_factor)
        if not reached(speedup):
            unreached.append(cell)
            continue
        uniform = pick(records, method=BASELINE, **fields)
        found.append(Point(cell, math.log10(compute_of(uniform)), math.log2(training_examples(uniform[0])), speedup))
    return Ladder(found, unreached)


#: the axes a trend is fitted along
AXES = {
    "compute per run": "log_compute",
    "training examples": "log_examples",
}


def trend(found: Sequence[Point], axis: str) -> Difference | None:
    """The slope of the cells' log speedups along ``axis`` (natural log of the speedup per decade
    of compute, or per doubling of the training set), with its t interval over the cells."""
    if len(found) < 2:
        return None
    xs = [getattr(p, AXES[axis]) for p in found]
    return slope(xs, [math.log(p.speedup.number) for p in found])


def trend_table(records: Mapping[Run, RunRecord], settings: ScalingSettings) -> pd.DataFrame:
    """Per method, data and measure: the fitted slope along each axis with its interval, and the
    factor it implies per decade of compute (or per doubling of the data)."""
    rows = {}
    for method in settings.methods:
        if method == BASELINE:
            continue
        for data in settings.data:
            for measure in MEASURES:
                found, unreached = ladder(records, settings, method, data, measure)
                row: dict[str, Any] = {"cells": len(found), "cells that never reached the target": len(unreached)}
                for axis in AXES:
                    fitted = trend(found, axis)
                    row[f"slope along {axis}"] = "" if fitted is None else fitted.numbers
                    if fitted is not None:
                        row[f"× per {'decade' if axis == 'compute per run' else 'doubling'}"] = round(
                            math.exp(fitted.value), 2
                        )
                rows[(method, data, measure)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["method", "data", "measure"])
    return frame


def extrapolation(records: Mapping[Run, RunRecord], settings: ScalingSettings) -> pd.DataFrame:
    """Each paper point's method on its data, the fitted compute trend carried to the paper's
    compute per run: the speedup the fit predicts there, with the interval of the fitted line
    (an extrapolation beyond the ladder, resting on the log-linear trend continuing)."""
    rows = {}
    for label, paper in paper_points().iterrows():
        measure = "wall clock with set-up" if "wall clock" in label else "backprops"
        found, unreached = ladder(records, settings, paper["method"], paper["data"], measure)
        if len(found) < 3:
            continue
        xs = [p.log_compute for p in found]
        ys = [math.log(p.speedup.number) for p in found]
        fitted = slope(xs, ys)
        x0 = math.log10(paper["compute per run (FLOPs)"])
        centre_x, centre_y = sum(xs) / len(xs), sum(ys) / len(ys)
        predicted = centre_y + fitted.value * (x0 - centre_x)
        spread = sum((x - centre_x) ** 2 for x in xs)
        residual = sum((y - centre_y - fitted.value * (x - centre_x)) ** 2 for x, y in zip(xs, ys)) / (len(xs) - 2)
        se = math.sqrt(residual * (1 / len(xs) + (x0 - centre_x) ** 2 / spread))
        low, high = dataclasses.replace(fitted.estimate, centre=predicted, se=se).bounds()
        rows[label] = {
            "the paper's speedup": paper["speedup"],
            "our fit at its compute": round(math.exp(predicted), 2),
            "interval": f"{math.exp(low):.2g}–{math.exp(high):.2g}",
            "decades beyond our largest run": round(x0 - max(xs), 1),
            "measure": measure,
            "cells that never reached the target": len(unreached),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("paper point")


def figure_data(
    records: Mapping[Run, RunRecord], settings: ScalingSettings, data: str, measure: str, axis: str
) -> tuple[dict, dict, list]:
    """What :func:`lossprio.plots.speedup_trend` draws for ``data`` and ``measure`` along
    ``axis``: each method's cells ``(x, speedup, low, high)``, its fit ``(slope, intercept)`` on
    (log10 x, ln speedup), and (along compute) the papers' points on that data and measure."""
    series, fits = {}, {}
    for method in settings.methods:
        if method == BASELINE:
            continue
        found = ladder(records, settings, method, data, measure).points
        xs = [10**p.log_compute if axis == "compute per run" else 2**p.log_examples for p in found]
        series[method] = [(x, p.speedup.number, p.speedup.low, p.speedup.high) for x, p in zip(xs, found)]
        if len(found) >= 2:
            logs = [math.log10(x) for x in xs]
            ys = [math.log(p.speedup.number) for p in found]
            fitted = slope(logs, ys)
            fits[method] = (fitted.value, sum(ys) / len(ys) - fitted.value * sum(logs) / len(logs))
    papers_here = []
    if axis == "compute per run":
        for label, paper in paper_points().iterrows():
            paper_measure = "wall clock with set-up" if "wall clock" in label else "backprops"
            if paper["data"] == data and paper_measure == measure and paper["method"] in series:
                colour = palette.colour(paper["method"])
                papers_here.append((f"{label} (reported)", paper["compute per run (FLOPs)"], paper["speedup"], colour))
    return series, fits, papers_here


# ----------------------------------------------------------------------------- claims


#: a trend is an effect when the slope's interval clears 0, fitted over every cell of the ladder: where the
#: method never reached the target in some cells, the slope over the others is shown, not decided (the cells
#: that drop out are not a random few). Both stated before any result.
GROWS = Rule(
    "superiority",
    0.0,
    "higher",
    "the slope of the log speedup over every cell; 0: the same speedup at every scale; a cell that never "
    "reached the target leaves the trend undecided",
    unit="",
)


def claims(records: Mapping[Run, RunRecord], settings: ScalingSettings) -> list[Claim]:
    """The questions the papers' critique raises, decided by the trend's rule."""
    found = []
    for method, why in (
        (RHO, "Paper M reports larger speedups on larger datasets and models than on small ones"),
        (SB, "Paper J's wall-clock savings come from backward passes that cost more than forwards"),
    ):
        if method not in settings.methods:
            continue
        for measure, rule, text in (
            ("backprops", GROWS, f"{method}'s speedup in backprops grows with compute per run. {why}."),
            (
                "wall clock with set-up",
                GROWS,
                f"{method}'s wall-clock speedup (set-up counted) grows with compute per run.",
            ),
        ):
            comparisons, notes = {}, []
            for data in settings.data:
                reached_points, missing = ladder(records, settings, method, data, measure)
                fitted = trend(reached_points, "compute per run")
                comparisons[data] = None if missing else fitted
                if missing:
                    over = "no slope" if fitted is None else f"the slope over the rest is {fitted.numbers}"
                    notes.append(
                        f"{data}: {len(missing)} cells never reached the target "
                        f"({', '.join(dict.fromkeys(c.model for c in missing))}); {over}, not decided"
                    )
            found.append(decide(text, [(rule, comparisons)], note="; ".join(notes)))
    return found


def tables(records: Mapping[Run, RunRecord], settings: ScalingSettings, configs: Mapping[Run, TrainConfig]) -> dict:
    """The page's tables."""
    return {
        "pilot": pilot_table(records, settings),
        "speedups": speedup_table(records, settings),
        "trends": trend_table(records, settings),
        "extrapolation": extrapolation(records, settings),
        "claims": claims(records, settings),
    }


def check(records: Mapping[Run, RunRecord], settings: ScalingSettings, configs: Mapping[Run, TrainConfig]) -> list:
    return claims(records, settings)


def twin(key: Run, settings: ScalingSettings, other: ScalingSettings) -> Run | None:
    """The same run at ``other``'s profile: the rung and share at the same place on its ladder."""
    try:
        rung = list(other.rungs)[list(settings.rungs).index(key.model)]
        size = other.sizes[list(settings.sizes).index(key.size)]
    except (ValueError, IndexError):
        return None
    lr = other.chosen().get(rung, other.lr_grid[len(other.lr_grid) // 2]) if key.stage == GRID else key.lr
    budget = other.budget * key.budget / settings.budget
    return key._replace(model=rung, size=size, lr=lr, budget=budget)


HEADLINE = Headline(
    "Does the speedup in backprops grow from the narrowest ResNet-18 to the widest, and with the data?",
    f"paper J (WRN-28-10, CIFAR-10): SB {papers.JIANG2019_TABLE_1['SB'][0]:g}× in wall clock to 1.1 × "
    "Traditional's final error; paper M (ResNet-18, CIFAR-10): RHO-LOSS "
    + ", ".join(f"{v:g}×" for v in papers.MINDERMANN2022_SPEEDUPS["CIFAR-10"])
    + " fewer steps clean / with 10 % label noise",
    lambda records, settings: {
        f"{m}, {cell.model}, {cell.size:.3g} of the data, {cell.data}": cell_speedup(
            records, cell, m, "backprops", settings.target_factor
        )
        for cell in cells(records, settings)
        for m in settings.methods
        if m != BASELINE
    },
    lambda records, settings: {
        f"{cell.model}, {cell.size:.3g} of the data": {
            m: pick(records, stage=GRID, model=cell.model, size=cell.size, data=cell.data, method=m)
            for m in settings.methods
        }
        for cell in cells(records, settings)
    },
)

CHAPTER = register(
    Chapter(
        name="scaling",
        title="How the savings scale",
        profiles=PROFILES,
        expand=runs,
        check=check,
        tables=tables,
        short="S",
        plan=planned,
        twin=twin,
        timed=lambda key: key.stage == GRID,
        headline=HEADLINE,
        next_stage=with_choices,
    ),
)
