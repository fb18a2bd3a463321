"""Where we differ from the authors' code: every difference found by reading each method against
its reference implementation, with what the reference does (repository, commit, file and line),
what we do and why, which chapters and claims it touches, and its effect — measured by a small
ablation where it can move a number, otherwise the reason none is measured.

An ablation runs the reference's behaviour (a setting, off by default) beside ours on a run of
the chapter whose claims it touches: the same config, seed for seed, with only the setting
changed. Our side is that chapter's own records where they exist; the wall-clock ablation runs
both sides itself, on seeds of its own, so that they are timed together on the same machine.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ..compare import Contrast, Difference, Estimate, Rule, welch
from ..config import TrainConfig
from ..records import RunRecord
from .base import Chapter, Headline, chapter, register
from .claims import Claim, decide
from .kit import error_difference, error_percents

OURS, REFERENCE = "ours", "reference"
VARIANTS = (OURS, REFERENCE)


# ----------------------------------------------------------------------------- the differences


@dataclass(frozen=True)
class Departure:
    """One way our code differs from a method's reference implementation.

    Attributes:
        method: the method (as the book names it).
        reference: what the reference code does.
        where: repository, commit and file:line of that code.
        ours: what we do instead, and why.
        touches: the chapters (and claims) whose numbers could move with it.
        effect: the ablation that measures it (its :attr:`Ablation.name`), or why none is measured.
        pinned_by: the test that fails if our behaviour silently changes (``file::test``).
        setting: the setting that runs the reference's behaviour instead (empty: none).
    """

    method: str
    reference: str
    where: str
    ours: str
    touches: str
    effect: str
    pinned_by: str
    setting: str = ""


SB_REPO = "angelajiang/pytorch-cifar"
RHO_REPO = "OATML/RHO-Loss@4c88851"
INFOBATCH_REPO = "NUS-HPC-AI-Lab/InfoBatch@8bbb012"
RS2_REPO = "PatrikOkanovic/RS2@99edfc8"

DEPARTURES: tuple[Departure, ...] = (
    Departure(
        "Kath18 / VR",
        "Takes one optimiser step per sampled pool, on that pool's unique draws (fewer than b wherever draws repeat).",
        f"{SB_REPO}@35e9c18 lib/trainer.py:327-338 (KathTrainer.train)",
        "Queues the draws into full batches of b across pools (one queue for every selector): fewer optimiser "
        "steps at the same backprops (the ablation counts them), and batches that mix two pools.",
        "chapter J (Kath18), chapter H (VR max 33 % / 50 %): errors and speedups",
        "kath18-steps, vr-steps",
        "tests/test_differences.py::test_kath18_queues_its_draws_into_full_batches_unless_told_to_step_per_pool",
        "selector_kwargs per_pool_steps=True",
    ),
    Departure(
        "Kath18 / VR",
        "While the τ switch is off, still runs an eval-mode forward over every batch and reads τ off it.",
        f"{SB_REPO}@35e9c18 lib/trainer.py:340-347, 380-403 (forward_pass, train_all)",
        "Runs no selection forward while the switch is off and reads τ off the training forwards: the same "
        "decision at a training forward's cost, so our VR wall clock is cheaper than the authors' code would be.",
        "chapter J (Kath18) and chapter H (VR): wall-clock speedups",
        "vr-forwards",
        "tests/test_differences.py::test_vr_runs_no_selection_forward_while_its_switch_is_off_unless_told_to",
        "selector_kwargs reference_forwards=True",
    ),
    Departure(
        "Kath18 / VR",
        "Which commit is paper J's Kath18: at the commit of the SysML '20 runs (131a294, 'Cutout code used for "
        "sysml20') KathTrainer passes its super().__init__ arguments shifted by one (no dataset) and "
        "crashes; the next commit (35e9c18) "
        "fixes the signature; earlier ones (6e51dbe and before) have no τ switch and sample without replacement.",
        f"{SB_REPO}@131a294 lib/trainer.py:64-74, 301-309; @6e51dbe lib/trainer.py:309",
        "Follows 35e9c18, the first commit that runs: τ switch read at each epoch's start, b drawn with "
        "replacement from the pool, unique draws trained.",
        "chapters J and H (every Kath18 / VR run)",
        "none: a choice of commit, not a setting that moves a number; the settings of 35e9c18 are pinned",
        "tests/test_selectors.py::test_kath18_as_paper_j_ran_it_decides_once_per_epoch_and_never_samples_in_the_first",
    ),
    Departure(
        "RHO-LOSS",
        "Trains the irreducible-loss model on the whole holdout and keeps the checkpoint with the lowest "
        "test-set loss.",
        f"{RHO_REPO} src/train_irreducible.py:89-92; configs/callbacks/val_loss.yaml (monitor val_loss_epoch)",
        "Trains it on 90 % of the holdout and keeps the checkpoint with the lowest loss on the other 10 %: "
        "the test set stays unseen until evaluation.",
        "chapter M, crosspaper, the tuned chapter (every RHO-LOSS and SB-on-reducible-loss run)",
        "il-checkpoint",
        "tests/test_differences.py::test_the_il_model_chooses_its_checkpoint_on_a_share_of_the_holdout_unless_told_the_test_set",
        "il_checkpoint='test'",
    ),
    Departure(
        "RHO-LOSS",
        "Trains the short last candidate batch of an epoch too (e.g. 40 candidates → max(1, int(0.1 · 40)) = 4 "
        "examples).",
        f"{RHO_REPO} src/models/MultiModels.py:119-122; src/datamodules/datamodules.py:325-332 (no drop_last)",
        "Drops an epoch's incomplete last candidate batch when candidates exceed the training batch, so every "
        "step trains n_b examples.",
        "chapter M, crosspaper, the tuned chapter",
        "none: at most one short candidate batch an epoch (fewer than n_B of the epoch's tens of thousands of "
        "candidates at cpu)",
        "tests/test_differences.py::test_a_short_last_candidate_batch_is_dropped_when_candidates_exceed_the_batch",
    ),
    Departure(
        "InfoBatch",
        "When δ · epochs is not a whole number, never resets the weights (its reset runs only at iteration "
        "stop_prune + 1), so in the annealing epochs the well-learned examples the last pruned epoch kept keep "
        "their weight 1 / (1 − prune ratio).",
        f"{INFOBATCH_REPO} infobatch/infobatch.py:179-190 (IBSampler.reset)",
        "Resets every weight to 1 when annealing starts, as the paper describes.",
        "the tuned chapter at smoke and paper (δ · epochs whole at cpu: 0.875 · 8 = 7)",
        "none: at cpu the two agree (δ · epochs is whole); the reset is pinned",
        "tests/test_differences.py::test_infobatch_resets_its_weights_when_annealing_starts_even_if_delta_epochs_is_not_whole",
    ),
    Departure(
        "InfoBatch",
        "Reseeds NumPy's global generator with the epoch number before pruning, so every seed prunes the same draws.",
        f"{INFOBATCH_REPO} infobatch/infobatch.py:180",
        "Draws from the run's own seed, so seeds differ in what they prune (the spread over seeds includes it).",
        "the tuned chapter (InfoBatch's intervals)",
        "none: it changes which examples are pruned, not how many; seed-to-seed spread is what the intervals measure",
        "tests/test_differences.py::test_infobatch_prunes_different_draws_under_different_seeds",
    ),
    Departure(
        "InfoBatch",
        "Its CIFAR example trains with label smoothing 0.1, so the losses it scores examples by are smoothed.",
        f"{INFOBATCH_REPO} examples/cifar_example.py:53, 93",
        "Trains every method with plain cross-entropy (one loss for every method the tuned chapter compares).",
        "the tuned chapter: InfoBatch's 'lossless' claim",
        "label-smoothing",
        "tests/test_differences.py::test_label_smoothing_reaches_the_training_loss_and_infobatchs_scores",
        "label_smoothing=0.1",
    ),
    Departure(
        "RS2",
        "Drops each round's partial batch (drop_last), wraps round the same permutation with modulus N + 1 "
        "(one example short when rounds do not divide N), and ends its cosine at 1e-4.",
        f"{RS2_REPO} src/DeepCore/main.py:99-107; deepcore/methods/uniform_no_replacement.py:26-31; "
        "src/DeepCore/utils.py:318-323 (eta_min = min_lr = 1e-4)",
        "Trains the partial batch, continues into a fresh permutation, and decays to 0 at the budget's end "
        "(the schedule every method of the tuned chapter shares).",
        "the tuned chapter (RS2)",
        "none: one partial batch a round, one example a pass, and a schedule that differs only in its last "
        "steps (a floor of 1e-4 against 0)",
        "tests/test_pruning.py::test_an_rs2_round_across_the_end_of_a_permutation_takes_its_rest_and_the_next_ones_start",
    ),
    Departure(
        "SVP",
        "Trains plain epochs over the core-set (every core-set example each epoch).",
        f"{RHO_REPO} src/train_svp.py:128-169",
        "Samples n_b of n_B candidates from the core-set each step, as every paper-M method is traversed, so "
        "SVP is compared with the others at the same steps and backprops.",
        "chapter M (SVP baseline)",
        "none: SVP is a baseline there, compared at equal backprops; the traversal is pinned",
        "tests/test_differences.py::test_svp_samples_its_picks_from_the_core_set_candidates",
    ),
)


# ----------------------------------------------------------------------------- the ablations


@dataclass(frozen=True)
class Ablation:
    """One difference run both ways.

    Attributes:
        name: short name (the :attr:`Departure.effect` that points here).
        question: what it asks, in words.
        chapter: the chapter whose runs it repeats (its records are our side).
        arms: label → the fields of that chapter's run keys that pick the run (seed aside; where
            several runs match, the one with the largest ``budget``).
        reference: the config changes that run the reference's behaviour (``selector_kwargs``
            are merged into the run's own).
        timed: whether it measures wall clock (both sides then run here, on :attr:`Settings.timing_seeds`).
    """

    name: str
    question: str
    chapter: str
    arms: Mapping[str, Mapping[str, Any]]
    reference: Mapping[str, Any]
    timed: bool = False


ABLATIONS: dict[str, Ablation] = {
    a.name: a
    for a in (
        Ablation(
            "kath18-steps",
            "Does one optimiser step per pool (paper J's code) move Kath18's error?",
            "jiang2019",
            {"Kath18": {"method": "Kath18", "schedule": "A", "flips": 0.0}},
            {"selector_kwargs": {"per_pool_steps": True}},
        ),
        Ablation(
            "vr-steps",
            "Does one optimiser step per pool move VR's error in chapter H's setting?",
            "hu2021",
            {"VR max 50 %": {"method": "VR max 50 %", "corruption": None}},
            {"selector_kwargs": {"per_pool_steps": True}},
        ),
        Ablation(
            "vr-forwards",
            "How much slower is VR with the reference's forward over every batch while its switch is off?",
            "hu2021",
            {"VR max 33 %": {"method": "VR max 33 %", "corruption": None}},
            {"selector_kwargs": {"reference_forwards": True}},
            timed=True,
        ),
        Ablation(
            "il-checkpoint",
            "Does choosing the IL checkpoint on the test set (trained on the whole holdout) move RHO-LOSS's error?",
            "mindermann2022",
            {"RHO-LOSS": {"experiment": "main", "method": "RHO-LOSS", "noise": "clean"}},
            {"il_checkpoint": "test"},
        ),
        Ablation(
            "label-smoothing",
            "Does label smoothing 0.1 (InfoBatch's CIFAR example) move InfoBatch's gap to tuned uniform?",
            "tuned",
            {
                "InfoBatch, its own epochs": {
                    "method": "InfoBatch, its own epochs",
                    "data": "pristine",
                    "stage": "final",
                },
                "uniform": {"method": "uniform", "data": "pristine", "stage": "final"},
            },
            {"label_smoothing": 0.1},
        ),
    )
}


@dataclass(frozen=True)
class DifferencesSettings:
    """The ablations at one profile: the chapters' runs at ``source_profile`` (with
    ``source_overrides`` per chapter, and ``data_root`` for all), repeated at ``seeds``; the
    wall-clock ablation at ``timing_seeds``."""

    source_profile: str = "smoke"
    ablations: tuple[str, ...] = tuple(ABLATIONS)
    seeds: tuple[int, ...] = (0,)
    timing_seeds: tuple[int, ...] = (10,)
    data_root: str | None = None
    source_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: int | None = None


PROFILES = {
    "smoke": DifferencesSettings(),
    # chapters J, H, M and the tuned chapter's cpu runs, 5 seeds a side (cpu records reused for ours):
    # about 30 new runs, 15 CPU-minutes, measured from those chapters' records
    "cpu": DifferencesSettings(
        "cpu",
        seeds=(0, 1, 2, 3, 4),
        timing_seeds=(10, 11, 12, 13, 14),
        threads=1,  # one thread a worker, as the chapters
    ),
    "paper": DifferencesSettings("paper", seeds=(0, 1, 2), timing_seeds=(10, 11, 12)),
    # About one T4-hour with chapter M's colab runs it shares (estimated on the Run-it-yourself page):
    # the IL checkpoint ablation on chapter M's colab RHO-LOSS run, one seed
    "colab": DifferencesSettings("colab", ablations=("il-checkpoint",), seeds=(0,), timing_seeds=()),
}


class Arm(NamedTuple):
    """One run of an ablation: which ablation, which of its arms, ours or the reference's, the seed."""

    ablation: str
    arm: str
    variant: str
    seed: int


def source_settings(settings: DifferencesSettings, name: str) -> Any:
    """Chapter ``name``'s settings at the source profile, with its overrides and ``data_root``."""
    overrides = dict(settings.source_overrides.get(name, {}))
    if settings.data_root is not None:
        overrides["data_root"] = settings.data_root
    return chapter(name).profile(settings.source_profile, **overrides)


def source_run(runs: Mapping[Any, TrainConfig], fields: Mapping[str, Any], seed: int) -> TrainConfig:
    """The run of ``runs`` whose key has ``fields`` (the largest budget where several do), at
    ``seed``: that seed's own run where the chapter has one, else its first seed's, reseeded."""
    matching = [k for k in runs if all(getattr(k, name) == value for name, value in fields.items())]
    if not matching:
        raise ValueError(f"no run with {dict(fields)} at this profile")
    at_seed = [k for k in matching if k.seed == seed]
    chosen = at_seed or [k for k in matching if k.seed == min(m.seed for m in matching)]
    key = max(chosen, key=lambda k: getattr(k, "budget", 0.0))
    return runs[key] if at_seed else runs[key].replace(seed=seed)


def with_reference(config: TrainConfig, changes: Mapping[str, Any]) -> TrainConfig:
    """``config`` running the reference's behaviour: ``changes``, with ``selector_kwargs`` merged."""
    merged = dict(changes)
    if "selector_kwargs" in merged:
        merged["selector_kwargs"] = {**config.selector_kwargs, **merged["selector_kwargs"]}
    return config.replace(**merged)


def runs(settings: DifferencesSettings) -> dict[Arm, TrainConfig]:
    """Every ablation's runs: each arm ours and the reference's, at every seed."""
    found: dict[Arm, TrainConfig] = {}
    for name in settings.ablations:
        ablation = ABLATIONS[name]
        source = chapter(ablation.chapter)
        planned = source.planned(source_settings(settings, ablation.chapter))
        for seed in settings.timing_seeds if ablation.timed else settings.seeds:
            for arm, fields in ablation.arms.items():
                ours = source_run(planned, fields, seed)
                for variant in VARIANTS:  # ours, then the reference's: A, B, A, B in time
                    config = ours if variant == OURS else with_reference(ours, ablation.reference)
                    found[Arm(name, arm, variant, seed)] = config
    return found


# ----------------------------------------------------------------------------- measures


def side(records: Mapping[Arm, RunRecord], ablation: str, arm: str, variant: str) -> list[RunRecord]:
    """One side's records, in seed order."""
    keys = sorted(
        (k for k in records if (k.ablation, k.arm, k.variant) == (ablation, arm, variant)), key=lambda k: k.seed
    )
    return [records[k] for k in keys]


def error_change(records: Mapping[Arm, RunRecord], ablation: str, arm: str) -> Difference | None:
    """The reference's final error minus ours (points), over seeds; ``±0`` (identical) where the
    two sides end at the same errors seed by seed (the setting changed nothing these runs did)."""
    reference, ours = side(records, ablation, arm, REFERENCE), side(records, ablation, arm, OURS)
    return error_difference(reference, ours, final=True)


def gap_change(records: Mapping[Arm, RunRecord], ablation: str) -> Difference | None:
    """For an ablation of two arms: how the reference's behaviour moves the first arm's error gap
    to the second's (a difference of differences, points, with both intervals' widths)."""
    first, second = list(ABLATIONS[ablation].arms)
    gaps = [
        error_difference(side(records, ablation, first, v), side(records, ablation, second, v), final=True)
        for v in VARIANTS
    ]
    if None in gaps:
        return None
    ours, reference = gaps
    estimate = reference.estimate.minus(ours.estimate)
    return Difference(estimate.centre, estimate, (len(side(records, ablation, first, OURS)),) * 2)


def mean_final_error(found: Sequence[RunRecord]) -> float:
    """The mean final test error (%) of runs that did not diverge (NaN without any)."""
    errors = list(error_percents(found, final=True).values())
    return statistics.fmean(errors) if errors else math.nan


def cost_ratio(reference: Sequence[float], ours: Sequence[float]) -> Contrast | None:
    """The reference's geometric mean cost over ours, with a Welch t interval on the log scale."""
    if not reference or not ours or min(*reference, *ours) <= 0:
        return None
    centre, se, df = welch([math.log(v) for v in reference], [math.log(v) for v in ours])
    return Contrast(math.exp(centre), Estimate(centre, se, df))


def time_ratio(records: Mapping[Arm, RunRecord], ablation: str, arm: str) -> Contrast | None:
    """The reference's training wall clock over ours, from runs timed together on an idle machine
    (``None`` if any was timed busy)."""
    ours, reference = side(records, ablation, arm, OURS), side(records, ablation, arm, REFERENCE)
    if not ours or any(r.timed_busy for r in ours + reference):
        return None
    return cost_ratio([r.train_wall_s for r in reference], [r.train_wall_s for r in ours])


def mean_count(found: Sequence[RunRecord], counter: str) -> float:
    """A counter's mean over runs."""
    return statistics.fmean(r.counters[counter] for r in found) if found else math.nan


def ablation_table(records: Mapping[Arm, RunRecord], settings: DifferencesSettings) -> pd.DataFrame:
    """Per ablation and arm: our final error and the reference's (mean over seeds, %), the change
    (points, 95 % interval), optimiser steps, selection forwards and (where timed) the wall-clock ratio."""
    rows = []
    for name in settings.ablations:
        ablation = ABLATIONS[name]
        for arm in ablation.arms:
            ours, reference = side(records, name, arm, OURS), side(records, name, arm, REFERENCE)
            change = error_change(records, name, arm)
            ratio = time_ratio(records, name, arm) if ablation.timed else None
            rows.append(
                {
                    "ablation": name,
                    "arm": arm,
                    "seeds": len(ours),
                    "error, ours (%)": mean_final_error(ours),
                    "error, reference (%)": mean_final_error(reference),
                    "reference − ours (pts)": "±0 (the same errors, seed by seed)"
                    if change and change.identical
                    else str(change)
                    if change
                    else "—",
                    "steps, ours": mean_count(ours, "step"),
                    "steps, reference": mean_count(reference, "step"),
                    "selection forwards, ours": mean_count(ours, "selection_forwards"),
                    "selection forwards, reference": mean_count(reference, "selection_forwards"),
                    "training wall clock, reference ÷ ours": str(ratio) if ratio else "—",
                }
            )
    return pd.DataFrame(rows).set_index(["ablation", "arm"])


def departures_table() -> pd.DataFrame:
    """Every difference from the authors' code, one row each."""
    frame = pd.DataFrame([dataclasses.asdict(d) for d in DEPARTURES])
    return frame.rename(
        columns={
            "method": "method",
            "reference": "the reference code",
            "where": "where (repository@commit file:line)",
            "ours": "what we do, and why",
            "touches": "chapters it touches",
            "effect": "effect: ablation, or why none",
            "pinned_by": "pinned by",
            "setting": "the reference's behaviour as a setting",
        }
    )


def error_changes(records: Mapping[Arm, RunRecord], settings: DifferencesSettings) -> pd.DataFrame:
    """Every error change with its interval (for the figure): ablation, arm, value, low, high."""
    rows = []
    for name in settings.ablations:
        found = {arm: error_change(records, name, arm) for arm in ABLATIONS[name].arms}
        if len(found) == 2:
            found["gap between them"] = gap_change(records, name)
        for arm, change in found.items():
            if change is not None and change.has_interval and not change.identical:
                rows.append(
                    {"ablation": name, "arm": arm, "value": change.value, "low": change.low, "high": change.high}
                )
    return pd.DataFrame(rows, columns=["ablation", "arm", "value", "low", "high"])


def reference_forwards_table(settings: DifferencesSettings, results_root: str | Path) -> pd.DataFrame:
    """Chapters J's Kath18 and H's VR as their records at the source profile have them: mean
    training wall clock (runs timed on an idle machine), the share of pools importance-sampled,
    and the forward work the reference's forward over every batch while the switch is off would
    add (the candidates of the pools not sampled, as a share of the forward examples ours runs)."""
    rows = []
    for name in ("jiang2019", "hu2021"):
        source = chapter(name)
        configs = source.expand(source_settings(settings, name))
        records = source.done_records(configs, Path(results_root) / name / settings.source_profile)
        by_method: dict[str, list[RunRecord]] = {}
        for key, record in records.items():
            if configs[key].selector == "kath18":
                by_method.setdefault(key.method, []).append(record)
        for method, found in by_method.items():
            timed = [r for r in found if not r.timed_busy]
            ours = [r.counters["training_forwards"] + r.counters["selection_forwards"] for r in found]
            added = [r.counters["candidates"] - r.counters["selection_forwards"] for r in found]
            rows.append(
                {
                    "chapter": source.called,
                    "method": method,
                    "runs": len(found),
                    "training wall clock (s)": statistics.fmean(r.train_wall_s for r in timed) if timed else math.nan,
                    "pools sampled (%)": 100
                    * statistics.fmean(r.selector_stats.get("sampling_share", 0.0) for r in found),
                    "forwards the reference adds (% of ours)": 100 * sum(added) / max(1, sum(ours)),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "chapter",
            "method",
            "runs",
            "training wall clock (s)",
            "pools sampled (%)",
            "forwards the reference adds (% of ours)",
        ],
    )


# ----------------------------------------------------------------------------- claims

#: "no difference" in final error: within ±0.5 points, the book's tolerance (as for Kaddour et al.'s "gains vanish")
SAME_ERROR = Rule("equivalence", 0.5, "lower", "±0.5 points: the book's tolerance for 'no difference' in error")
#: slower: the reference's wall clock above ours (any amount)
SLOWER = Rule("superiority", 1.0, "higher", "1×: no effect", scale="ratio")


def claims(
    records: Mapping[Arm, RunRecord], settings: DifferencesSettings, configs: Mapping[Arm, TrainConfig]
) -> list[Claim]:
    """What each ablation decides, each by its rule (stated before the runs)."""
    del configs
    found = []
    texts = {
        "kath18-steps": "Kath18 stepping once per pool (paper J's code) ends at the same error as ours (full batches)",
        "vr-steps": "VR stepping once per pool ends at the same error as ours, in chapter H's setting",
        "il-checkpoint": "RHO-LOSS ends at the same error with the IL checkpoint chosen on the test set (the "
        "reference's)",
    }
    for name, text in texts.items():
        if name in settings.ablations:
            [arm] = ABLATIONS[name].arms
            found.append(decide(text, [(SAME_ERROR, {arm: error_change(records, name, arm)})]))
    if "vr-forwards" in settings.ablations:
        [arm] = ABLATIONS["vr-forwards"].arms
        found.append(
            decide(
                "The reference's forward over every batch while VR's switch is off makes VR slower than ours",
                [(SLOWER, {f"{arm}, training wall clock": time_ratio(records, "vr-forwards", arm)})],
            )
        )
    if "label-smoothing" in settings.ablations:
        found.append(
            decide(
                "Label smoothing 0.1 (InfoBatch's CIFAR example) leaves InfoBatch's error gap to tuned uniform as "
                "it is",
                [(SAME_ERROR, {"InfoBatch − uniform, smoothed − plain": gap_change(records, "label-smoothing")})],
            )
        )
    return found


def tables(
    records: Mapping[Arm, RunRecord], settings: DifferencesSettings, configs: Mapping[Arm, TrainConfig]
) -> dict[str, Any]:
    """The page's tables, as the tables test holds them."""
    return {
        "ablation_table": ablation_table(records, settings),
        "claims": claims(records, settings, configs),
    }


HEADLINE = Headline(
    "Does choosing the IL model's checkpoint on the test set, as the authors' code does, move RHO-LOSS's "
    "final test error?",
    f"{RHO_REPO} picks the checkpoint on the test set; paper M reports no ablation of the choice",
    lambda records, settings: {
        f"{arm}, the reference's − ours (points)": error_change(records, "il-checkpoint", arm)
        for arm in ABLATIONS["il-checkpoint"].arms
    },
    lambda records, settings: {
        arm: {variant: side(records, "il-checkpoint", arm, variant) for variant in VARIANTS}
        for arm in ABLATIONS["il-checkpoint"].arms
    },
)

CHAPTER = register(
    Chapter(
        name="differences",
        title="Where we differ from the authors' code",
        profiles=PROFILES,
        expand=runs,
        check=claims,
        tables=tables,
        reuses=("jiang2019", "hu2021", "mindermann2022", "tuned"),
        short="'differences'",
        timed=lambda key: ABLATIONS[key.ablation].timed,
        headline=HEADLINE,
    )
)
