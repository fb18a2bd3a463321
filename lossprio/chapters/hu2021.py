"""Chapter H: Hu et al. 2021, "When does loss-based prioritization fail?".

Settings at the three profiles, the runs they expand to (Table 1's grid and Fig. 4's SBE
runs), Table 1 beside the paper's, and the paper's claims checked against the records.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

from ..checks import check_choice
from ..compare import LeftOut, Rule, Speedup, ratio
from ..config import TrainConfig
from ..records import RunRecord
from . import methods
from .base import Chapter, Headline, register
from .claims import Claim, decide
from .kit import (
    FASTER,
    HIGHER_ERROR,
    LOWER_ERROR,
    Method,
    Settings,
    best_error_percent,
    corrupted_share_after,
    diverged_note,
    error_difference,
    kept,
    pick,
    sampling_share,
    share_shift,
    speedup,
)
from .kit import (
    target_sensitivity as kit_target_sensitivity,
)

# Paper H's corruption settings: (kind, fraction); None = pristine.
SETTINGS: tuple[tuple[str | None, float], ...] = (
    (None, 0.0),
    ("random_labels", 0.25),
    ("random_labels", 0.5),
    ("shuffle_pixels", 0.25),
    ("shuffle_pixels", 0.5),
    ("gaussian", 0.25),
    ("gaussian", 0.5),
)
SETTING_LABELS = {
    (None, 0.0): "pristine",
    ("random_labels", 0.25): "labels 25 %",
    ("random_labels", 0.5): "labels 50 %",
    ("shuffle_pixels", 0.25): "shuffle 25 %",
    ("shuffle_pixels", 0.5): "shuffle 50 %",
    ("gaussian", 0.25): "gauss 25 %",
    ("gaussian", 0.5): "gauss 50 %",
}

METHODS: dict[str, Method] = methods.HU2021
BASELINE = {"method": "standard"}
TABLE_METHODS = ("standard", "SB 50 %", "SB 33 %", "VR max 33 %", "VR max 50 %")
VR_METHODS = ("VR max 33 %", "VR max 50 %")
SBE_SETTINGS = (("random_labels", 0.5), ("gaussian", 0.5), ("shuffle_pixels", 0.5))

# Paper H, Table 1 (CIFAR-10, WRN-28-10, 5 seeds): speedup in backprops to 1.2 × standard's best
# test error (None: never reached) and best test error in %.
PAPER_TABLE_1: dict[str, tuple[tuple[float | None, float], ...]] = {
    "standard": ((1.0, 4.28), (1.0, 8.53), (1.0, 13.27), (1.0, 4.98), (1.0, 6.88), (1.0, 5.27), (1.0, 6.72)),
    "SB 50 %": ((2.0, 4.26), (2.0, 9.03), (1.5, 14.66), (2.0, 5.48), (2.0, 7.71), (2.0, 5.68), (None, 8.47)),
    "SB 33 %": ((3.0, 4.39), (None, 12.28), (None, 33.73), (None, 6.31), (None, 9.95), (None, 7.18), (None, 17.92)),
    "VR max 33 %": ((1.7, 4.81), (1.0, 8.65), (1.0, 13.20), (1.1, 5.71), (1.0, 6.95), (1.0, 5.35), (1.0, 6.89)),
    "VR max 50 %": ((1.8, 4.87), (1.0, 8.74), (1.0, 13.14), (None, 6.27), (1.1, 7.69), (1.1, 6.30), (1.0, 6.70)),
}


class Run(NamedTuple):
    """A run of the chapter: (method, corruption, fraction, seed)."""

    method: str
    corruption: str | None
    fraction: float
    seed: int


@dataclass(frozen=True)
class HuSettings(Settings):
    """Size and recipe of the chapter on paper H (defaults: the smoke size): the shared size
    fields and paper H's step schedule."""

    epochs: int = 2
    eval_every: int = 4
    lr_milestones: tuple[float, ...] = (1,)  # lr × 0.2 at these epochs (paper: 60, 80 of 100)
    batch_size: int = 128


PROFILES: dict[str, HuSettings] = {
    "smoke": HuSettings(),
    # Fashion-MNIST at a size this project's 2-core CPU machines run in hours, one run per core
    # (one thread each), with paper H's schedule shape: lr × 0.2 at 60 % and 80 % of training.
    # Evaluated on the whole test set every 40 steps (about half an epoch).
    "cpu": HuSettings(
        train_fraction=1 / 6,
        test_fraction=1.0,
        epochs=12,
        lr_milestones=(7, 10),
        eval_every=40,
        seeds=(0, 1, 2, 3, 4),
        threads=1,
    ),
    # Paper H's own setup, for a GPU: CIFAR-10, WRN-28-10, 100 epochs, lr × 0.2 at 60 and 80, 5 seeds.
    "paper": HuSettings(
        dataset="cifar10",
        model="wrn",
        model_kwargs={"depth": 28, "widen": 10},
        train_fraction=1.0,
        test_fraction=1.0,
        epochs=100,
        lr_milestones=(60, 80),
        crop_padding=4,
        eval_every=391,
        seeds=(0, 1, 2, 3, 4),
    ),
}


# About one T4-hour (estimated on the Run-it-yourself page): paper H's CIFAR-10 and WRN-28-10 cut to the
# headline, standard training against SB at 33 % on pristine data and with 25 % of the labels
# randomised, 3 epochs (lr × 0.2 at 60 % and 80 % of them, as the paper's), one seed
PROFILES["colab"] = dataclasses.replace(
    PROFILES["paper"],
    epochs=3,
    lr_milestones=(1.8, 2.4),
    seeds=(0,),
    keep_runs={"method": ("standard", "SB 33 %"), "corruption": (None, "random_labels"), "fraction": (0.0, 0.25)},
)
HEADLINE_SETTINGS = ((None, 0.0), ("random_labels", 0.25))


def base_config(settings: HuSettings) -> TrainConfig:
    """Paper H's recipe at ``settings``' size: standard training on pristine data, seed 0 (every
    run changes only what differs, :func:`config`)."""
    return TrainConfig(
        **settings.run_fields(),
        selector=METHODS["standard"].selector,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        optimizer="sgd",
        momentum=0.9,
        nesterov=False,
        weight_decay=5e-4,
        lr_milestones=settings.lr_milestones,
        lr_gamma=0.2,
        flip=True,
    )


def config(settings: HuSettings, method: str, corruption: str | None, fraction: float, seed: int) -> TrainConfig:
    """The run of ``method`` on one corruption setting with one seed."""
    check_choice("method", method, list(METHODS))
    chosen = METHODS[method]
    return base_config(settings).replace(
        corruption=corruption,
        corruption_fraction=fraction,
        selector=chosen.selector,
        selector_kwargs=chosen.selector_kwargs,
        candidate_batch=chosen.pool * settings.batch_size if chosen.pool > 1 else None,
        seed=seed,
    )


def runs(settings: HuSettings) -> dict[Run, TrainConfig]:
    """Every run of the chapter: Table 1's grid and Fig. 4's SBE runs."""
    grid = {}
    for seed in settings.seeds:
        for corruption, fraction in SETTINGS:
            for method in TABLE_METHODS:
                grid[Run(method, corruption, fraction, seed)] = config(settings, method, corruption, fraction, seed)
        for corruption, fraction in SBE_SETTINGS:
            grid[Run("SBE 50 %", corruption, fraction, seed)] = config(settings, "SBE 50 %", corruption, fraction, seed)
    return kept(grid, settings.keep_runs)


# ----------------------------------------------------------------------------- tables


def seed_speedup(
    records: Mapping[Run, RunRecord],
    method: str,
    corruption: str | None,
    fraction: float,
    x: str = "backprops",
    factor: float = 1.2,
    target_share: float = 1.0,
) -> Speedup:
    """Paper H's speedup of ``method`` over standard training on one setting, to ``factor`` ×
    standard training's best error (its worst seed's); for wall-clock, of the seeds timed on an
    idle machine."""
    return speedup(
        records,
        BASELINE,
        factor,
        x,
        target_share=target_share,
        method=method,
        corruption=corruption,
        fraction=fraction,
    )


def table_1(records: Mapping[Run, RunRecord], x: str = "backprops") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our Table 1 beside the paper's, as two tables with rows (method, source), columns settings.

    Returns (speedups to 1.2 × standard's best error in ``x`` (:func:`lossprio.compare.speedup`),
    with "(k/n seeds)" when only k seeds got there; best test error in % as mean ± standard deviation over
    seeds). Rows marked ``ours`` come from ``records``; rows marked ``paper H`` are the paper's
    (CIFAR-10, WRN-28-10; its errors are means over 5 seeds).
    """
    speedups, errors = {}, {}
    for method in TABLE_METHODS:
        for source in ("ours", "paper H"):
            speedups[method, source], errors[method, source] = {}, {}
        for column, (corruption, fraction) in enumerate(SETTINGS):
            label = SETTING_LABELS[corruption, fraction]
            found = pick(records, method=method, corruption=corruption, fraction=fraction)
            if found:
                mean, spread = best_error_percent(found)
                speedups[method, "ours"][label] = str(seed_speedup(records, method, corruption, fraction, x))
                errors[method, "ours"][label] = f"{mean:.2f} ± {spread:.2f}{diverged_note(found)}"
            value, error = PAPER_TABLE_1[method][column]
            speedups[method, "paper H"][label] = "—" if value is None else f"{value:.1f}x"
            errors[method, "paper H"][label] = f"{error:.2f}"
    frame = lambda rows: pd.DataFrame.from_dict(rows, orient="index").rename_axis(["method", "source"])
    return frame(speedups), frame(errors)


def steps_per_epoch(records: Mapping[Run, RunRecord]) -> list[int]:
    """The optimizer steps of standard training's first epoch, as its records count them (one
    value per distinct count): what one evaluation every ``eval_every`` steps resolves."""
    return sorted({r.epoch_ends[0] for r in pick(records, **BASELINE) if r.epoch_ends})


def target_sensitivity(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """The headline speedups (in backprops, to 1.2 × standard's best error) at 100 / 99 / 98 % of
    the target error: SB 33 % and VR max 33 % on pristine data, SBE 50 % on half random labels."""
    cases = (("SB 33 %", (None, 0.0)), ("VR max 33 %", (None, 0.0)), ("SBE 50 %", ("random_labels", 0.5)))
    headlines = {
        f"{method}, {SETTING_LABELS[setting]}": functools.partial(seed_speedup, records, method, *setting)
        for method, setting in cases
        if pick(records, method=method, corruption=setting[0], fraction=setting[1])
    }
    return kit_target_sensitivity(headlines)


def phase_table(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """Mean seconds per phase of each method's pristine runs (to 0.1 s), and their sum without
    evaluation and probes: the training wall clock."""
    runs = {m: pick(records, method=m, corruption=None, fraction=0.0) for m in TABLE_METHODS + ("SBE 50 %",)}
    phases = pd.DataFrame(
        {m: pd.DataFrame([r.phase_seconds for r in found]).mean() for m, found in runs.items() if found}
    ).T.round(1)
    training = ["selection_forward", "selection", "train_forward", "backward", "other"]
    phases["training wall-clock"] = phases[training].sum(axis=1).round(1)
    return phases


def vr_sampling_table(records: Mapping[Run, RunRecord]) -> pd.DataFrame:
    """How often VR importance-sampled, per VR method and data setting (its τ switch keeps it
    uniform until the losses are uneven enough): where no pool was sampled, VR's numbers are
    uniform training's."""
    rows = {
        method: {
            SETTING_LABELS[s]: sampling_share(pick(records, method=method, corruption=s[0], fraction=s[1]))
            for s in SETTINGS
            if pick(records, method=method, corruption=s[0], fraction=s[1])
        }
        for method in VR_METHODS
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("VR: pools importance-sampled")


#: each claim's verdict on the page before #33 (intervals that cover, rules stated as data, Holm): the
#: start of its text → its verdict, so the page can name the verdicts that moved
PREVIOUS_VERDICTS: dict[str, str] = {
    "On pristine data SB and VR reach 1.2 × standard's best error": "confirmed",
    "Corruption derails SB: on corrupted data SB 33 % loses its s": "confirmed",
    "VR degrades less than SB under corruption.": "confirmed",
    "SB and VR over-sample corrupted examples: more than the 25 %": "mixed",
    "SBE (entropy instead of loss) fixes random labels (paper: 2.": "confirmed",
}


# ----------------------------------------------------------------------------- claims


#: the rules of this chapter's claims, stated before any result
LOST_SPEEDUP = Rule("superiority", 1.0, "lower", "corrupted ÷ pristine speedup: 1× is no loss", scale="ratio")
OVER_SAMPLES = Rule("superiority", 0.0, "higher", "0: the data's own share of corrupted examples")


def claims(records: Mapping[Run, RunRecord]) -> list[Claim]:
    """Paper H's claims checked against our records, each decided by its rule."""
    corrupted = [s for s in SETTINGS if s[0] is not None]
    speed = {(m, s): seed_speedup(records, m, *s) for m in TABLE_METHODS for s in SETTINGS}

    def runs(method: str, setting: tuple[str | None, float]) -> list[RunRecord]:
        return pick(records, method=method, corruption=setting[0], fraction=setting[1])

    def excess(method: str, other: str, setting: tuple[str | None, float]) -> Any:
        return error_difference(runs(method, setting), runs(other, setting))

    def vr_excess(vr: str, sb: str, setting: tuple[str | None, float]) -> Any:
        found = excess(vr, sb, setting)
        if all(r.selector_stats.get("sampling_share", 1.0) == 0 for r in runs(vr, setting)):
            return LeftOut(found, "VR never sampled in any seed: uniform training, no test of VR")
        return found

    def vr_sampling(methods: Sequence[str], settings: Sequence[tuple[str | None, float]]) -> str:
        found = [r for m in methods for s in settings for r in runs(m, s)]
        return f"VR on these runs: {sampling_share(found)}"

    pristine = (None, 0.0)
    found = [
        decide(
            "On pristine data SB and VR reach 1.2 × standard's best error with fewer backprops (paper: SB 2.0x / "
            "3.0x, VR 1.7x / 1.8x).",
            [(FASTER, {m: speed[m, pristine] for m in TABLE_METHODS[1:]})],
        ),
        decide(
            "Corruption derails SB: on corrupted data SB 33 % loses its speedup and ends at a higher best error than "
            "standard training.",
            [
                (
                    HIGHER_ERROR,
                    {
                        f"{SETTING_LABELS[s]}, best error − standard's": excess("SB 33 %", "standard", s)
                        for s in corrupted
                    },
                ),
                (
                    LOST_SPEEDUP,
                    {
                        f"{SETTING_LABELS[s]}, speedup ÷ pristine's": ratio(
                            speed["SB 33 %", s], speed["SB 33 %", pristine]
                        )
                        for s in corrupted
                    },
                ),
            ],
            f"SB 33 % pristine speedup {speed['SB 33 %', pristine]}",
        ),
        decide(
            "VR degrades less than SB under corruption.",
            [
                (
                    LOWER_ERROR,
                    {
                        f"{SETTING_LABELS[s]}, {vr} − {sb} best error": vr_excess(vr, sb, s)
                        for vr, sb in (("VR max 33 %", "SB 33 %"), ("VR max 50 %", "SB 50 %"))
                        for s in corrupted
                    },
                )
            ],
            vr_sampling(VR_METHODS, corrupted),
        ),
    ]

    def over(method: str, setting: tuple[str | None, float]) -> Any:
        found = share_shift([100 * corrupted_share_after(r) for r in runs(method, setting)], 100 * setting[1])
        if method in VR_METHODS and all(
            r.selector_stats.get("sampling_share", 1.0) == 0 for r in runs(method, setting)
        ):
            return LeftOut(found, "VR never sampled in any seed: uniform training, no test of VR")
        return found

    quarter = [s for s in corrupted if s[1] == 0.25]
    shares = {
        f"{m}, {SETTING_LABELS[s]} (pts above {100 * s[1]:g} %)": over(m, s)
        for m in ("SB 50 %", "VR max 33 %")
        for s in quarter
    }
    if all(isinstance(found, LeftOut) for label, found in shares.items() if label.startswith("VR")):
        shares["VR max 33 %, as a method that samples"] = None  # the claim names VR: untested is undecided
    found.append(
        decide(
            "SB and VR over-sample corrupted examples: more than the 25 % standard training sees (Fig. 3).",
            [(OVER_SAMPLES, shares)],
            "share of corrupted examples among those trained on after epoch 1; "
            + vr_sampling(["VR max 33 %"], quarter),
        )
    )
    labels50, gauss50 = ("random_labels", 0.5), ("gaussian", 0.5)
    found.append(
        decide(
            "SBE (entropy instead of loss) fixes random labels (paper: 2.0x on 50 % random labels) but is slightly "
            "worse than SB on 50 % Gaussian images.",
            [
                (FASTER, {"SBE speedup, labels 50 %": seed_speedup(records, "SBE 50 %", *labels50)}),
                (HIGHER_ERROR, {"SBE − SB best error, gauss 50 %": excess("SBE 50 %", "SB 50 %", gauss50)}),
            ],
            f"SB 50 % on labels 50 %: {speed['SB 50 %', labels50]}",
        )
    )
    return found


# ----------------------------------------------------------------------------- the chapter


def tables(
    records: Mapping[Run, RunRecord], settings: HuSettings, configs: Mapping[Run, TrainConfig]
) -> dict[str, Any]:
    """The chapter's tables: Table 1 in backprops and in wall clock (speedups and errors), the
    phases, and the claims."""
    found: dict[str, Any] = {}
    for x in ("backprops", "train_wall_s"):
        found[f"table_1 {x} speedups"], found[f"table_1 {x} errors"] = table_1(records, x)
    found["phase_table"] = phase_table(records)
    found["target_sensitivity"] = target_sensitivity(records)
    found["claims"] = claims(records)
    return found


def paper_speedup(method: str, setting: tuple[str | None, float]) -> str:
    """Paper H's Table 1 speedup of ``method`` on ``setting`` as text ("never" where it never got there)."""
    value = PAPER_TABLE_1[method][SETTINGS.index(setting)][0]
    return "never" if value is None else f"{value:g}×"


HEADLINE = Headline(
    "Does SB at 33 % still reach 1.2 × standard training's best error sooner once labels are corrupted?",
    "paper H, CIFAR-10 (Table 1), SB 33 % in backprops: "
    + ", ".join(f"{SETTING_LABELS[s]} {paper_speedup('SB 33 %', s)}" for s in HEADLINE_SETTINGS),
    lambda records, settings: {SETTING_LABELS[s]: seed_speedup(records, "SB 33 %", *s) for s in HEADLINE_SETTINGS},
    lambda records, settings: {
        SETTING_LABELS[c, f]: {m: pick(records, method=m, corruption=c, fraction=f) for m in ("standard", "SB 33 %")}
        for c, f in HEADLINE_SETTINGS
    },
)

CHAPTER = register(
    Chapter(
        "hu2021",
        "When does loss-based prioritization fail? (Hu et al. 2021)",
        PROFILES,
        runs,
        check=lambda records, settings, configs: claims(records),
        tables=tables,
        short="H",
        headline=HEADLINE,
    )
)
