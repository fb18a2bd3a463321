"""The tuned-baseline chapter: do the savings of loss-based selection survive a baseline whose
learning rate is tuned and decays to zero at the end of a fixed budget?

Kaddour et al. (2023) found that at fixed compute budgets the gains of Selective-Backprop and
RHO-LOSS vanish against such a baseline; RS2 (Okanovic et al. 2024) argues that a random subset
drawn without replacement each round, with the schedule set over the whole budget, beats most
selection methods at small budgets; InfoBatch (Qin et al. 2024) prunes part of the well-learned
examples each epoch and up-weights the losses of those it keeps, claiming full accuracy at ~40 %
less cost.

Every method runs one recipe: paper M's training half and model (so chapter M's IL model learns
from the odd half), AdamW, and a cosine learning rate that reaches 0 exactly when the run's budget
of back-propagated examples is spent, at the learning rate that did best for that method, data and
budget on a validation split carved from the training half (never the test set). Runs come in two
stages: two seeds of every learning rate on the validation split, the grid extended past an edge
where the best rate sits there (``tuning``), then every seed at the chosen rate on the test set
(``final``, and tuned uniform at its runner-up rate: ``runner-up``); the chosen rates are data (:func:`choose_lrs`,
committed per profile in ``results/tuned/tuned_lrs.json``, beside the records).
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ..checks import check_choice
from ..compare import CONFIRMED, CONTRADICTED, SAME, Difference, Rule, adjusted_decisions, mean_interval, outcome, shift
from ..config import TrainConfig
from ..metrics import WITH_SETUP
from ..records import RunRecord
from . import methods, recipes
from .base import Chapter, Headline, register
from .claims import Claim, decide
from .kit import LOWER_ERROR, TOLERANCE_POINTS, Method, error_difference, error_percents, fairly_timed, kept

BASELINE = "uniform"
RS2, INFOBATCH, RHO = methods.RS2, methods.INFOBATCH, methods.RHO
NATIVE = methods.NATIVE

METHODS: dict[str, Method] = methods.TUNED
NATIVE_METHOD = methods.NATIVE_INFOBATCH

PRISTINE, LABEL_NOISE, RANDOM_LABELS = recipes.PRISTINE, recipes.LABEL_NOISE_10, "random labels 25 %"
DATA = {name: recipes.DATA[name] for name in (PRISTINE, LABEL_NOISE, RANDOM_LABELS)}

TUNING, FINAL, RUNNER_UP = "tuning", "final", "runner-up"


class Run(NamedTuple):
    """A run: a method on a data setting at a budget (epochs of back-propagated examples), one
    seed and learning rate, in the tuning stage (evaluated on the validation split), the final
    one (on the test set), or uniform's runner-up rate at every seed (on the test set)."""

    method: str
    data: str
    budget: float
    seed: int
    lr: float
    stage: str


@dataclass(frozen=True)
class TunedSettings(recipes.BudgetSettings):
    """Size and recipe (defaults: the smoke size). From paper M's loop it takes the data, model,
    n_B → n_b (RHO-LOSS's candidate sampling), the IL model and AdamW's weight decay; its ``lr``
    and ``epochs`` are not used (each run's come from the grid and its budget)."""

    methods: tuple[str, ...] = tuple(METHODS)  # the methods compared (uniform always among them)
    data: tuple[str, ...] = tuple(DATA)
    budgets: tuple[float, ...] = (0.5, 1.0)  # epochs of back-propagated examples; the last is the full budget
    pilot_factor: float = 2.0  # tuned uniform is also tuned at this multiple of the full budget: is "full" full?
    lr_grid: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
    #: seeds of every tuning run: a rate is chosen by its mean validation error over them
    tuning_seeds: tuple[int, ...] = (0, 1)
    #: where the best rate of a cell sits at an edge of the rates tried, the next half-decade
    #: beyond it is tried too (within ``lr_bounds``), until the best is inside
    extend_edges: bool = True
    #: uniform's second-best rate of each final cell also runs at every seed (:data:`RUNNER_UP`)
    run_runner_up: bool = True
    lr_bounds: tuple[float, float] = (1e-5, 1e-1)
    native_infobatch: bool = True  # InfoBatch also as its paper runs it, at the full budget's epochs
    # (method, data, budget, lr): the tuning stage's choices (:func:`choose_lrs`); the final stage runs these
    chosen_lrs: tuple[tuple[str, str, float, float], ...] = field(
        default=(), metadata={"shown_as": "the table of chosen learning rates (the tuning stage)"}
    )
    # (method, data, budget, lr): rates tried beyond ``lr_grid`` where a cell's best sat at an edge
    extended_lrs: tuple[tuple[str, str, float, float], ...] = field(
        default=(), metadata={"shown_as": "the tuning table (rates tried beyond the grid)"}
    )
    # (method, data, budget, lr): uniform's second-best rate per final cell, run at every seed so that
    # each verdict can be read against it too (is it the rate's luck?)
    runner_up_lrs: tuple[tuple[str, str, float, float], ...] = field(
        default=(), metadata={"shown_as": "the table of chosen learning rates (runner-up)"}
    )

    @property
    def full_budget(self) -> float:
        """The largest budget: where tuned uniform should have stopped improving."""
        return max(self.budgets)


#: the committed outcome of the tuning stage, per profile: data beside the chapter's records (written
#: by ``python -m lossprio.tuning``); an installed package without the book's records has none, and
#: its notebook tunes at any profile before its final stage
CHOSEN_FILE = Path(__file__).resolve().parents[2] / "results" / "tuned" / "tuned_lrs.json"
#: the settings fields the tuning stage's records decide (:func:`tuning_outcome`), as stored per profile
TUNING_FIELDS = ("chosen_lrs", "extended_lrs", "runner_up_lrs")
Cells = tuple[tuple[str, str, float, float], ...]


def committed_tuning(profile: str, path: Path = CHOSEN_FILE) -> dict[str, Cells]:
    """What the tuning stage decided at ``profile``, as committed: each of :data:`TUNING_FIELDS`
    (empty where nothing is committed; a plain list is the chosen rates alone)."""
    stored = json.loads(path.read_text()).get(profile, []) if path.exists() else []
    if isinstance(stored, list):
        stored = {"chosen_lrs": stored}
    return {name: tuple(tuple(row) for row in stored.get(name, [])) for name in TUNING_FIELDS}


def committed_choices(profile: str, path: Path = CHOSEN_FILE) -> Cells:
    """The learning rates the tuning stage chose at ``profile``, as committed (none if not yet)."""
    return committed_tuning(profile, path)["chosen_lrs"]


def from_loop(loop: recipes.LoopSettings, **changes: Any) -> TunedSettings:
    """The chapter at the size of chapter M's ``loop`` (data, model, IL model, n_B → n_b), its
    evaluation grid and probes left out, with ``changes``."""
    left_out = ("eval_every", "eval_first", "score_probe_every")
    return TunedSettings(**{**recipes.loop_fields(loop, left_out), **changes})


PROFILES: dict[str, TunedSettings] = {
    # (a full budget of 3 epochs: the least at which InfoBatch's own epochs prune one; pristine data,
    # the methods of the three claims it can decide without noise, one tuning seed, two final seeds
    # (an interval), a fixed grid: smoke checks the machinery, not the choice; RHO-LOSS and label
    # noise run in the shrunk paper-path test)
    "smoke": from_loop(
        recipes.LOOPS["smoke"],
        methods=(BASELINE, RS2, INFOBATCH, "SB β=1"),
        data=(PRISTINE,),
        budgets=(1.0, 3.0),
        lr_grid=(1e-3, 3e-3),
        eval_every=10,
        seeds=(0, 1),
        tuning_seeds=(0,),
        extend_edges=False,
        run_runner_up=False,
    ),
    # Chapter M's cpu data and model (Fashion-MNIST's even half less a 10 % validation split: 27k
    # examples; MLP 784-512-512-10; its IL model, 15 epochs on the odd half), batches of 32, budgets
    # of 1, 2, 4 and 8 epochs of backprops, three learning rates, 5 seeds: sized from measured costs
    # (chapter M's and crosspaper's records) to about 2 hours on 2 cores, one thread per run.
    "cpu": from_loop(recipes.LOOPS["cpu"], budgets=(1.0, 2.0, 4.0, 8.0), eval_every=422),  # 2 evaluations an epoch
    # Paper M's CIFAR-10 setup (ResNet-18 target and IL model, crop and flip, n_B = 320 → n_b = 32):
    # budgets up to its 10 epochs of backprops, 3 seeds, for a GPU.
    "paper": from_loop(recipes.LOOPS["paper"], budgets=(1.25, 2.5, 5.0, 10.0), eval_every=700),
}
# About one T4-hour (estimated on the Run-it-yourself page): paper M's CIFAR-10 loop and ResNet-18 cut to
# the headline, RHO-LOSS against tuned uniform on pristine data at the two smallest budgets, two rates
# tuned on one seed, an IL model trained for 40 epochs, one final seed
PROFILES["colab"] = dataclasses.replace(
    PROFILES["paper"],
    methods=(BASELINE, methods.RHO),
    data=(PRISTINE,),
    budgets=(1.25, 2.5),
    lr_grid=(1e-3, 3e-3),
    il_epochs=40,
    seeds=(0,),
    tuning_seeds=(0,),
    extend_edges=False,
    run_runner_up=False,
)
PROFILES = {name: dataclasses.replace(s, **committed_tuning(name)) for name, s in PROFILES.items()}


def method_of(label: str) -> Method:
    """The method a run key names (:data:`METHODS` or :data:`NATIVE`)."""
    check_choice("method", label, [*METHODS, NATIVE])
    return NATIVE_METHOD if label == NATIVE else METHODS[label]


def config(
    settings: TunedSettings, method: str, data: str, budget: float, lr: float, seed: int, stage: str
) -> TrainConfig:
    """One run: ``method`` on ``data`` with a cosine rate from ``lr`` to 0 over ``budget`` epochs
    of back-propagated examples (:data:`NATIVE`: over ``budget`` epochs, pruned ones included, as
    InfoBatch's paper runs it), evaluated on the validation split (``tuning``) or the test set."""
    check_choice("data", data, list(DATA))
    check_choice("stage", stage, [TUNING, FINAL, RUNNER_UP])
    chosen, setting = method_of(method), DATA[data]
    if setting.same_data(DATA[LABEL_NOISE]):  # paper M's draw, as chapter M runs it
        setting = dataclasses.replace(setting, corruption=recipes.noisy_data(settings).corruption)
    return recipes.budget_config(
        settings,
        chosen,
        setting,
        None if method == NATIVE else budget,
        lr,
        seed,
        evaluate_on="validation" if stage == TUNING else "test",
        epochs=round(budget) if method == NATIVE else None,
    )


def tuned_cells(settings: TunedSettings) -> list[tuple[str, str, float]]:
    """Every (method, data, budget) whose learning rate is tuned: each method at each budget,
    uniform also at ``pilot_factor`` × the full budget, InfoBatch's own epochs at the full budget."""
    pilot = settings.pilot_factor * settings.full_budget
    cells = [(BASELINE, d, b) for d in settings.data for b in (*settings.budgets, pilot)]  # first: they size the rest
    cells += [(m, d, b) for d in settings.data for m in settings.methods if m != BASELINE for b in settings.budgets]
    if settings.native_infobatch:
        cells += [(NATIVE, d, settings.full_budget) for d in settings.data]
    return cells


def final_cells(settings: TunedSettings) -> list[tuple[str, str, float]]:
    """The tuned cells the final stage runs: all but the pilot (uniform beyond the full budget,
    which only checks that the full budget is full)."""
    pilot = settings.pilot_factor * settings.full_budget
    return [(m, d, b) for m, d, b in tuned_cells(settings) if not (m == BASELINE and b == pilot)]


def runs(settings: TunedSettings) -> dict[Run, TrainConfig]:
    """The tuning stage (every learning rate of every tuned cell at each tuning seed, on the
    validation split) and the final stage (every seed at the chosen rates, and uniform's runner-up
    rates, on the test set)."""
    for name, values, allowed in (("methods", settings.methods, METHODS), ("data", settings.data, DATA)):
        for value in values:
            check_choice(name, value, list(allowed))
    if BASELINE not in settings.methods:
        raise ValueError(f"methods={list(settings.methods)}: uniform is the baseline every method is compared with")
    found = {}
    for seed in settings.tuning_seeds:  # seed by seed, so a sweep's workers (every N-th run) share each seed's runs
        for method, data, budget in tuned_cells(settings):
            for lr in tried_lrs(settings, method, data, budget):
                found[Run(method, data, budget, seed, lr, TUNING)] = config(
                    settings, method, data, budget, lr, seed, TUNING
                )
    cells = set(final_cells(settings))
    for stage, rows in ((FINAL, settings.chosen_lrs), (RUNNER_UP, settings.runner_up_lrs)):
        for method, data, budget, lr in rows:
            if (method, data, budget) in cells:
                for seed in settings.seeds:
                    found[Run(method, data, budget, seed, lr, stage)] = config(
                        settings, method, data, budget, lr, seed, stage
                    )
    return kept(found, settings.keep_runs)


def planned_rate(settings: TunedSettings, method: str, data: str, budget: float) -> float:
    """The rate a cell's final runs use: the one the tuning stage chose, or before it has, the
    grid's middle rate as a placeholder (what a run costs does not depend on its rate)."""
    chosen = {(m, d, b): lr for m, d, b, lr in settings.chosen_lrs}
    return chosen.get((method, data, budget), settings.lr_grid[len(settings.lr_grid) // 2])


def planned_runs(settings: TunedSettings) -> dict[Run, TrainConfig]:
    """Both stages' runs, a cell not yet tuned at its :func:`planned_rate` (and with
    ``run_runner_up``, uniform's runner-up at another grid rate): for sizing a sweep; :func:`runs`
    is what it runs. Rates beyond the grid's edges are not foreseen."""
    filled = tuple((m, d, b, planned_rate(settings, m, d, b)) for m, d, b in tuned_cells(settings))
    runner_up = settings.runner_up_lrs
    if settings.run_runner_up:
        known = {row[:3] for row in runner_up}
        runner_up += tuple(
            (m, d, b, next(lr for lr in settings.lr_grid if lr != rate))
            for m, d, b, rate in filled
            if m == BASELINE and (m, d, b) in set(final_cells(settings)) and (m, d, b) not in known
        )
    return runs(dataclasses.replace(settings, chosen_lrs=filled, runner_up_lrs=runner_up))


def twin(key: Run, settings: TunedSettings, other: TunedSettings) -> Run | None:
    """The same run at ``other``'s size: the budget at the same share of the full budget, the
    tuning rate at the same place in the grid, a final run at ``other``'s :func:`planned_rate`;
    ``None`` where ``other`` has no such run."""
    budget = key.budget * other.full_budget / settings.full_budget
    if key.stage == TUNING:
        if key.lr not in settings.lr_grid or key.seed not in settings.tuning_seeds:
            return None
        place, seat = settings.lr_grid.index(key.lr), settings.tuning_seeds.index(key.seed)
        if place >= len(other.lr_grid) or seat >= len(other.tuning_seeds):
            return None
        return key._replace(budget=budget, lr=other.lr_grid[place], seed=other.tuning_seeds[seat])
    if key.seed not in other.seeds:
        return None
    if key.stage == RUNNER_UP:
        found = [lr for m, d, b, lr in other.runner_up_lrs if (m, d, b) == (key.method, key.data, budget)]
        return key._replace(budget=budget, lr=found[0]) if found else None
    return key._replace(budget=budget, lr=planned_rate(other, key.method, key.data, budget))


# ----------------------------------------------------------------------------- the tuning stage


def validation_error(record: RunRecord) -> float:
    """A tuning run's error on the validation split at the end of its budget (infinite if it diverged)."""
    return math.inf if record.status == "diverged" else record.final_test_error


def half_decade(lr: float, steps: int) -> float:
    """The rate ``steps`` half-decades from ``lr`` on the 1-3-10 series (3e-4 → 1e-3 → 3e-3 …)."""
    place = round(2 * math.log10(lr)) + steps
    return float(f"{1 if place % 2 == 0 else 3}e{place // 2}")


def tried_lrs(settings: TunedSettings, method: str, data: str, budget: float) -> tuple[float, ...]:
    """The rates a cell's tuning stage runs: the grid and the half-decades tried beyond its edges."""
    extra = [lr for m, d, b, lr in settings.extended_lrs if (m, d, b) == (method, data, budget)]
    return tuple(sorted({*settings.lr_grid, *extra}))


def mean_validation_error(
    records: Mapping[Run, RunRecord], settings: TunedSettings, cell: tuple[str, str, float], lr: float
) -> float | None:
    """A rate's validation error averaged over the tuning seeds (``None`` until every seed has a
    record; infinite if any diverged)."""
    found = [records.get(Run(*cell, seed, lr, TUNING)) for seed in settings.tuning_seeds]
    if any(record is None for record in found):
        return None
    return statistics.fmean(validation_error(record) for record in found)


class CellTuning(NamedTuple):
    """What the tuning records say of one cell: the rates tried (the grid and any half-decades
    beyond it), and once every one has its records and the best is inside them (or at
    ``lr_bounds``), the chosen rate and the runner-up."""

    tried: tuple[float, ...]
    chosen: float | None
    runner_up: float | None


def tune_cell(records: Mapping[Run, RunRecord], settings: TunedSettings, cell: tuple[str, str, float]) -> CellTuning:
    """Rank a cell's rates by mean validation error over the tuning seeds (the smaller rate on a
    tie); with ``extend_edges``, while the best is the smallest or largest rate tried, try the next
    half-decade beyond it (within ``lr_bounds``)."""
    tried = sorted(settings.lr_grid)
    while True:
        errors = {lr: mean_validation_error(records, settings, cell, lr) for lr in tried}
        if any(error is None for error in errors.values()):
            return CellTuning(tuple(tried), None, None)
        ranked = sorted(tried, key=lambda lr: (errors[lr], lr))
        best = ranked[0]
        if settings.extend_edges and best in (tried[0], tried[-1]):
            beyond = half_decade(best, -1 if best == tried[0] else 1)
            low, high = settings.lr_bounds
            if low <= beyond <= high and beyond not in tried:
                tried = sorted([*tried, beyond])
                continue
        return CellTuning(tuple(tried), best, ranked[1] if len(ranked) > 1 else None)


def tuning_outcome(records: Mapping[Run, RunRecord], settings: TunedSettings) -> dict[str, Cells]:
    """What the tuning ``records`` decide, as :data:`TUNING_FIELDS`: each cell's chosen rate, the
    rates tried beyond the grid, and uniform's runner-up rate in the cells the final stage runs."""
    chosen, extended, runner_up = [], [], []
    final = set(final_cells(settings))
    for cell in tuned_cells(settings):
        found = tune_cell(records, settings, cell)
        extended += [(*cell, lr) for lr in found.tried if lr not in settings.lr_grid]
        if found.chosen is not None:
            chosen.append((*cell, found.chosen))
            if settings.run_runner_up and cell[0] == BASELINE and cell in final and found.runner_up is not None:
                runner_up.append((*cell, found.runner_up))
    return {"chosen_lrs": tuple(chosen), "extended_lrs": tuple(extended), "runner_up_lrs": tuple(runner_up)}


def choose_lrs(records: Mapping[Run, RunRecord], settings: TunedSettings) -> Cells:
    """Per tuned cell whose tuning is complete (:func:`tune_cell`), the learning rate with the
    lowest mean validation error at the end of the budget (the smaller rate on a tie)."""
    return tuning_outcome(records, settings)["chosen_lrs"]


def write_choices(
    profile: str,
    chosen: Sequence[tuple[str, str, float, float]],
    path: Path = CHOSEN_FILE,
    extended: Sequence[tuple[str, str, float, float]] = (),
    runner_up: Sequence[tuple[str, str, float, float]] = (),
) -> None:
    """Store ``chosen`` (:func:`choose_lrs`), and any rates tried beyond the grid and runner-up
    rates, as ``profile``'s committed tuning in ``path``, one row a line, the other profiles' kept."""
    stored = json.loads(path.read_text()) if path.exists() else {}
    fields = dict(zip(TUNING_FIELDS, (chosen, extended, runner_up)))
    stored[profile] = list(chosen) if not extended and not runner_up else fields

    def rows(found: Sequence[Sequence[Any]], indent: str) -> str:
        lines = ",\n".join(f"{indent}  {json.dumps(list(row), ensure_ascii=False)}" for row in found)
        return "[\n" + lines + f"\n{indent}]" if found else "[]"

    def block(value: Any) -> str:
        if isinstance(value, list):
            return rows(value, "  ")
        inner = ",\n".join(f"    {json.dumps(name)}: {rows(value[name], '    ')}" for name in TUNING_FIELDS)
        return "{\n" + inner + "\n  }"

    blocks = [f"  {json.dumps(name)}: {block(value)}" for name, value in sorted(stored.items())]
    path.write_text("{\n" + ",\n".join(blocks) + "\n}\n")


def with_choices(settings: TunedSettings, records: Mapping[Run, RunRecord]) -> TunedSettings:
    """``settings`` with what the tuning ``records`` decide (:func:`tuning_outcome`): the rates
    chosen (so the final stage), those still to try beyond the grid, and uniform's runner-ups."""
    return dataclasses.replace(settings, **tuning_outcome(records, settings))


def settle(settings: TunedSettings, records_of: Callable[[TunedSettings], Mapping[Run, RunRecord]]) -> TunedSettings:
    """``settings`` with what the tuning records that exist decide, the rates tried beyond the grid
    followed as far as their records go (``records_of`` reads a settings' records)."""
    settings = dataclasses.replace(settings, **dict.fromkeys(TUNING_FIELDS, ()))
    while True:
        found = with_choices(settings, records_of(settings))
        if found.extended_lrs == settings.extended_lrs:
            return found
        settings = dataclasses.replace(settings, extended_lrs=found.extended_lrs)


def tuning_table(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """Every tuned cell's validation error (%, the mean over the tuning seeds) by learning rate
    (blank where a rate was not tried), the rate chosen, and by how much it beat the runner-up
    (points: a margin of a few examples is a choice noise could have made)."""
    rows = {}
    rates = sorted({*settings.lr_grid, *(row[3] for row in settings.extended_lrs)})
    for cell in tuned_cells(settings):
        method, data, budget = cell
        found = tune_cell(records, settings, cell)
        row = {}
        for lr in rates:
            error = mean_validation_error(records, settings, cell, lr) if lr in found.tried else None
            row[f"lr {lr:g}"] = 100 * error if error is not None else math.nan
        row["chosen"] = f"{found.chosen:g}" if found.chosen is not None else "—"
        row["margin (pts)"] = (
            row[f"lr {found.runner_up:g}"] - row[f"lr {found.chosen:g}"] if found.runner_up is not None else math.nan
        )
        rows[method, data, f"{budget:g}"] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["method", "data", "budget (epochs)"])


def chosen_lr_table(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """The chosen learning rate per method (rows) and data × budget (columns)."""
    frame = tuning_table(records, settings)["chosen"].unstack(["data", "budget (epochs)"])
    return frame.reindex(columns=[(d, f"{b:g}") for d in settings.data for b in settings.budgets]).fillna("—")


def pilot(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """Tuned uniform's validation error (%, at its chosen rate) at every budget and at
    ``pilot_factor`` × the full budget, per data setting, with the change from the full budget
    to the larger one (points; negative: it still improves)."""
    table = tuning_table(records, settings)
    errors = table.drop(columns=["chosen", "margin (pts)"]).min(axis=1)
    rows = {}
    for data in settings.data:
        budgets = [*settings.budgets, settings.pilot_factor * settings.full_budget]
        row = {f"{b:g} epochs": errors.get((BASELINE, data, f"{b:g}"), math.nan) for b in budgets}
        row["beyond the full budget (pts)"] = row[f"{budgets[-1]:g} epochs"] - row[f"{settings.full_budget:g} epochs"]
        rows[data] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("data")


# ----------------------------------------------------------------------------- the final stage


def finals(records: Mapping[Run, RunRecord], method: str, data: str, budget: float) -> list[RunRecord]:
    """The final stage's records of one cell, in seed order."""
    keys = [k for k in records if k.stage == FINAL and (k.method, k.data, k.budget) == (method, data, budget)]
    return [records[k] for k in sorted(keys, key=lambda k: k.seed)]


def errors_of(records: Sequence[RunRecord]) -> list[float]:
    """Final test errors (%) of the runs that did not diverge."""
    return list(error_percents(records, final=True).values())


def compare(first: Sequence[RunRecord], second: Sequence[RunRecord]) -> Difference | None:
    """``first``'s mean final test error minus ``second``'s (points), with its interval over both
    sides' seeds; ``identical`` where they are the same runs seed by seed; ``None`` where either
    has no run left."""
    return error_difference(first, second, final=True)


def runner_ups(records: Mapping[Run, RunRecord], data: str, budget: float) -> list[RunRecord]:
    """Uniform's runs at its runner-up rate (every seed) in one cell, in seed order."""
    keys = [k for k in records if k.stage == RUNNER_UP and (k.data, k.budget) == (data, budget)]
    return [records[k] for k in sorted(keys, key=lambda k: k.seed)]


def against_uniform(
    records: Mapping[Run, RunRecord], method: str, data: str, budget: float, runner_up: bool = False
) -> Difference | None:
    """``method`` against tuned uniform at the same budget on the same data (``runner_up``:
    against uniform at its second-best rate)."""
    uniform = runner_ups(records, data, budget) if runner_up else finals(records, BASELINE, data, budget)
    return compare(finals(records, method, data, budget), uniform)


ANSWERS = {CONFIRMED: "yes", CONTRADICTED: "no", SAME: "same runs"}


def answer(found: Difference | None) -> str:
    """``yes`` (its interval lies below 0), ``no`` (above), ``inconclusive`` or ``same runs``."""
    return ANSWERS.get(outcome("", found, LOWER_ERROR).decided(), "inconclusive")


def final_error_table(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """Mean final test error (%) per method (rows) and data × budget (columns)."""
    rows = {
        m: {
            (d, f"{b:g}"): statistics.fmean(e) if (e := errors_of(finals(records, m, d, b))) else math.nan
            for d in settings.data
            for b in settings.budgets
        }
        for m in settings.methods
    }
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["data", "budget (epochs)"])
    return frame


def by_budget(
    settings: TunedSettings,
    column: str,
    measure: Callable[[str, str, float], tuple[float, float, float] | None],
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per method, data and budget: ``measure``'s value (in ``column``) and the low and high ends
    of its interval; cells it returns ``None`` for are left out."""
    rows = []
    for method in settings.methods if methods is None else methods:
        for data in settings.data:
            for budget in settings.budgets:
                found = measure(method, data, budget)
                if found is None:
                    continue
                value, low, high = found
                rows.append(
                    {"method": method, "data": data, "budget (epochs)": budget, column: value, "low": low, "high": high}
                )
    return pd.DataFrame(rows, columns=["method", "data", "budget (epochs)", column, "low", "high"])


def error_by_budget(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """Per method, data and budget: mean final test error (%) and the 95 % t interval of that
    mean over seeds (the figures' error bars)."""

    def mean_error(method: str, data: str, budget: float) -> tuple[float, float, float] | None:
        errors = errors_of(finals(records, method, data, budget))
        return mean_interval(errors) if errors else None

    return by_budget(settings, "test error (%)", mean_error)


def difference_by_budget(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """Per method (not uniform), data and budget: its mean final test error minus tuned uniform's
    (points) and the 95 % interval of that difference (the figure of the beats table; identical
    runs as 0 without a bar)."""

    def found(method: str, data: str, budget: float) -> tuple[float, float, float] | None:
        found = against_uniform(records, method, data, budget)
        if found is None:
            return None
        return (found.value, found.value, found.value) if found.identical else (found.value, found.low, found.high)

    return by_budget(settings, "difference (pts)", found, [m for m in settings.methods if m != BASELINE])


def beats_table(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """Per method and budget (rows) and data setting (columns): does it beat tuned uniform there?
    ``yes`` / ``no`` / ``inconclusive`` (:data:`~lossprio.chapters.kit.LOWER_ERROR`), its error
    minus uniform's (points) and the 95 % interval; ``same runs`` where the method's runs are
    uniform's own. The table is one family: where Holm's adjustment over its cells changes an
    answer, the adjusted one follows. Where uniform's runner-up rate was run, each cell also
    gives its answer against uniform at that rate."""
    cells = [
        (method, budget, data)
        for method in settings.methods
        if method != BASELINE
        for budget in settings.budgets
        for data in settings.data
    ]
    found = {cell: against_uniform(records, cell[0], cell[2], cell[1]) for cell in cells}
    adjusted = dict(zip(cells, adjusted_decisions([outcome("", found[cell], LOWER_ERROR) for cell in cells])))
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for cell in cells:
        method, budget, data = cell
        comparison = found[cell]
        text = f"{answer(comparison)}: {comparison.numbers}" if comparison is not None else ""
        holm = ANSWERS.get(adjusted[cell], "inconclusive")
        if comparison is not None and holm != answer(comparison):
            text += f" (Holm: {holm})"
        other = against_uniform(records, method, data, budget, runner_up=True)
        if other is not None:
            text += f"; vs runner-up rate: {answer(other)}"
        rows.setdefault((method, f"{budget:g}"), {})[data] = text
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["method", "budget (epochs)"])


def wall_clock(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """Per method, data and budget: mean final test error (%) and mean seconds per run, training
    wall clock with the one-off set-up (an IL model) added, over the runs timed on an idle machine."""
    rows = []
    for method in settings.methods:
        for data in settings.data:
            for budget in settings.budgets:
                found = finals(records, method, data, budget)
                timed = fairly_timed(found, WITH_SETUP)
                if not found or not timed:
                    continue
                rows.append(
                    {
                        "method": method,
                        "data": data,
                        "budget (epochs)": budget,
                        "test error (%)": statistics.fmean(errors_of(found)),
                        "seconds with set-up": statistics.fmean(r.train_wall_s + (r.setup_seconds or 0) for r in timed),
                        "of which set-up": statistics.fmean(r.setup_seconds or 0 for r in timed),
                        "runs timed": len(timed),
                    }
                )
    return pd.DataFrame(rows)


class NativeInfoBatch(NamedTuple):
    """InfoBatch as its paper runs it against tuned uniform at the full budget, on one data
    setting: backprops saved (%, mean over seeds, and as a shift from its paper's saving) and the
    comparison of final test errors."""

    saved: float
    saving: Difference
    comparison: Difference


#: InfoBatch's paper: about 40 % of the cost saved on CIFAR (Qin et al. 2024)
PAPER_SAVING = 40.0


def native_infobatch(records: Mapping[Run, RunRecord], settings: TunedSettings) -> dict[str, NativeInfoBatch]:
    """Per data setting, InfoBatch as its paper runs it (the full budget's epochs, pruned ones
    shorter) against tuned uniform at the full budget."""
    full, found = settings.full_budget, {}
    for data in settings.data:
        ours, uniform = finals(records, NATIVE, data, full), finals(records, BASELINE, data, full)
        comparison = compare(ours, uniform)
        if comparison is not None:
            spent = statistics.fmean(r.counters["backprops"] for r in uniform)
            saved = [100 * (1 - r.counters["backprops"] / spent) for r in ours]
            found[data] = NativeInfoBatch(statistics.fmean(saved), shift(saved, PAPER_SAVING), comparison)
    return found


def native_infobatch_table(records: Mapping[Run, RunRecord], settings: TunedSettings) -> pd.DataFrame:
    """:func:`native_infobatch` as a table."""
    rows = {
        data: {
            "backprops saved (%)": found.saved,
            "error minus uniform's (pts)": found.comparison.value,
            "with its 95 % interval": found.comparison.numbers,
        }
        for data, found in native_infobatch(records, settings).items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("data")


#: InfoBatch is lossless where its error is at most this many points above tuned uniform's (the
#: tolerance of the cross-paper guide)

#: the rules of this chapter's claims, stated before any result
VANISH = Rule(
    "equivalence",
    TOLERANCE_POINTS,
    "lower",
    f"±{TOLERANCE_POINTS:g} points: the book's tolerance; Kaddour et al. state none",
)
LOSSLESS = Rule("non-inferiority", TOLERANCE_POINTS, "lower", "lossless: within the book's tolerance of tuned uniform")
SAVES = Rule("non-inferiority", -10.0, "higher", f"its paper's ~{PAPER_SAVING:g} % saving, less a 10-point margin")


#: each claim's verdict on the page before #33 (intervals that cover, rules stated as data, Holm): the
#: start of its text → its verdict, so the page can name the verdicts that moved
PREVIOUS_VERDICTS: dict[str, str] = {
    "Kaddour et al.: at a fixed budget, the gains of Selective-Ba": "inconclusive",
    "Paper M: RHO-LOSS trains to a lower error than uniform on no": "confirmed",
    "Okanovic et al.: at small budgets, RS2 (a random subset each": "inconclusive",
    "Qin et al.: InfoBatch saves training cost (about 40 % on CIF": "confirmed",
}


# ----------------------------------------------------------------------------- claims and the guide


#: the methods a claim about "selection methods" compares with (not uniform, not RS2's random subsets)
SELECTING = ("SB β=1", "Stale-SB n=2", RHO, methods.NEW, INFOBATCH)


def claims(records: Mapping[Run, RunRecord], settings: TunedSettings) -> list[Claim]:
    """Kaddour et al.'s, RS2's and InfoBatch's claims, and paper M's at a fixed budget against a
    tuned baseline, each decided by its rule; comparisons of runs that are uniform's own (a
    method still in its warm-up) are left out."""
    found = []
    budgets = settings.budgets
    if PRISTINE in settings.data and any(m in settings.methods for m in ("SB β=1", RHO)):
        vanish = {
            f"{m}, {b:g} ep.": against_uniform(records, m, PRISTINE, b)
            for m in ("SB β=1", RHO)
            if m in settings.methods
            for b in budgets
        }
        found.append(
            decide(
                "Kaddour et al.: at a fixed budget, the gains of Selective-Backprop and RHO-LOSS vanish against "
                "uniform training with a tuned, fully decayed learning rate (clean data).",
                [(VANISH, vanish)],
                "error minus tuned uniform's (pts)",
            )
        )
    noisy = [d for d in settings.data if d != PRISTINE]
    if RHO in settings.methods and noisy:
        gains = {f"{d}, {b:g} ep.": against_uniform(records, RHO, d, b) for d in noisy for b in budgets}
        found.append(
            decide(
                "Paper M: RHO-LOSS trains to a lower error than uniform on noisy labels — still at a fixed budget "
                "against a tuned, fully decayed uniform.",
                [(LOWER_ERROR, gains)],
                "error minus tuned uniform's (pts)",
            )
        )
    small = budgets[:2]
    if RS2 in settings.methods and PRISTINE in settings.data:
        versus = {
            f"vs {m}, {b:g} ep.": compare(finals(records, RS2, PRISTINE, b), finals(records, m, PRISTINE, b))
            for m in SELECTING
            if m in settings.methods
            for b in small
            if not getattr(against_uniform(records, m, PRISTINE, b), "identical", False)  # uniform's own runs
        }
        found.append(
            decide(
                "Okanovic et al.: at small budgets, RS2 (a random subset each round, without replacement, the "
                "schedule over the whole budget) reaches a lower error than data-selection methods.",
                [(LOWER_ERROR, versus)],
                f"RS2's error minus the method's (pts), budgets {', '.join(f'{b:g}' for b in small)}; methods whose "
                "runs there are uniform's own left out",
            )
        )
    native = native_infobatch(records, settings) if settings.native_infobatch else {}
    if native:
        found.append(
            decide(
                "Qin et al.: InfoBatch saves training cost (about 40 % on CIFAR) at no loss of accuracy against "
                "full training of the same epochs.",
                [
                    (SAVES, {f"{d}, backprops saved − {PAPER_SAVING:g} % (pts)": n.saving for d, n in native.items()}),
                    (LOSSLESS, {f"{d}, error − tuned uniform's (pts)": n.comparison for d, n in native.items()}),
                ],
                "; ".join(f"{d}: {n.saved:.0f} % fewer backprops" for d, n in native.items()),
            )
        )
    return found


def guide(records: Mapping[Run, RunRecord], settings: TunedSettings) -> list[str]:
    """Per data setting, a sentence computed from the records: at which budgets which methods beat
    tuned uniform (their intervals lie below 0), and at which they do worse (above 0)."""
    sentences = []
    for data in settings.data:
        better, worse = [], []
        for method in settings.methods:
            if method == BASELINE:
                continue
            found = {b: against_uniform(records, method, data, b) for b in settings.budgets}
            wins = [f"{b:g}" for b, c in found.items() if answer(c) == "yes"]
            losses = [f"{b:g}" for b, c in found.items() if answer(c) == "no"]
            if wins:
                better.append(f"{method} (at {', '.join(wins)} epochs)")
            if losses:
                worse.append(f"{method} (at {', '.join(losses)} epochs)")
        text = f"**{data.capitalize()}, against tuned uniform at the same budget**: "
        text += f"lower error: {'; '.join(better)}." if better else "no method reaches a lower error at any budget."
        text += f" Higher error: {'; '.join(worse)}." if worse else " No method ends higher at any budget."
        sentences.append(text)
    return sentences


# ----------------------------------------------------------------------------- the chapter


def tables(
    records: Mapping[Run, RunRecord], settings: TunedSettings, configs: Mapping[Run, TrainConfig]
) -> dict[str, Any]:
    """The chapter's tables: the tuning grid and its choices, the budget check, final errors, the
    comparisons with tuned uniform, InfoBatch as its paper runs it, the guide and the claims."""
    return {
        "tuning_table": tuning_table(records, settings),
        "chosen_lr_table": chosen_lr_table(records, settings),
        "pilot": pilot(records, settings),
        "final_error_table": final_error_table(records, settings),
        "beats_table": beats_table(records, settings),
        "native_infobatch": native_infobatch_table(records, settings),
        "guide": guide(records, settings),
        "claims": claims(records, settings),
    }


HEADLINE = Headline(
    "Against uniform tuned and fully decayed at the same budget, does RHO-LOSS still end with a lower test error?",
    "Kaddour et al. (2023), language-model pre-training: the gains of Selective-Backprop and RHO-LOSS vanish "
    "against such a baseline; paper M compares with uniform at its own schedule",
    lambda records, settings: {
        f"{m} − tuned uniform, {d}, budget {b:g} epochs (points)": against_uniform(records, m, d, b)
        for m, d, b in final_cells(settings)
        if m != BASELINE
    },
    lambda records, settings: {
        f"{d}, budget {b:g} epochs": {m: finals(records, m, d, b) for m in settings.methods}
        for d in settings.data
        for b in settings.budgets
    },
)

CHAPTER = register(
    Chapter(
        "tuned",
        "Do the savings survive a tuned baseline?",
        PROFILES,
        runs,
        check=lambda records, settings, configs: claims(records, settings),
        tables=tables,
        short="T",
        plan=planned_runs,
        twin=twin,
        timed=lambda key: key.stage == FINAL,  # the tuning stage's clock is never shown
        headline=HEADLINE,
        next_stage=with_choices,
    )
)
