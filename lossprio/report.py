"""Tables and claim checks for the book, computed from run records (and the papers' numbers, labelled)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Mapping, Sequence

import pandas as pd

from .experiments import HU_SETTINGS, TABLE_METHODS
from .metrics import NEVER, SeedSpeedup, speedup_over_seeds
from .records import RunRecord

Key = tuple[str, str | None, float, int]  # (method, corruption, fraction, seed)

SETTING_LABELS = {
    (None, 0.0): "pristine",
    ("random_labels", 0.25): "labels 25 %", ("random_labels", 0.5): "labels 50 %",
    ("shuffle_pixels", 0.25): "shuffle 25 %", ("shuffle_pixels", 0.5): "shuffle 50 %",
    ("gaussian", 0.25): "gauss 25 %", ("gaussian", 0.5): "gauss 50 %",
}

# Paper H, Table 1 (CIFAR-10, WRN-28-10, 5 seeds): speedup in backprops to 1.2 × standard's best
# test error (None: never reached) and best test error in %.
PAPER_H_TABLE_1: dict[str, tuple[tuple[float | None, float], ...]] = {
    "standard": ((1.0, 4.28), (1.0, 8.53), (1.0, 13.27), (1.0, 4.98), (1.0, 6.88), (1.0, 5.27), (1.0, 6.72)),
    "SB 50 %": ((2.0, 4.26), (2.0, 9.03), (1.5, 14.66), (2.0, 5.48), (2.0, 7.71), (2.0, 5.68), (None, 8.47)),
    "SB 33 %": ((3.0, 4.39), (None, 12.28), (None, 33.73), (None, 6.31), (None, 9.95), (None, 7.18), (None, 17.92)),
    "VR max 33 %": ((1.7, 4.81), (1.0, 8.65), (1.0, 13.20), (1.1, 5.71), (1.0, 6.95), (1.0, 5.35), (1.0, 6.89)),
    "VR max 50 %": ((1.8, 4.87), (1.0, 8.74), (1.0, 13.14), (None, 6.27), (1.1, 7.69), (1.1, 6.30), (1.0, 6.70)),
}


def by_setting(records: Mapping[Key, RunRecord], method: str, corruption: str | None, fraction: float) -> list[RunRecord]:
    """The records of one method on one setting, one per seed, in seed order."""
    return [records[k] for k in sorted(records, key=lambda k: k[3]) if k[:3] == (method, corruption, fraction)]


def seed_speedup(records: Mapping[Key, RunRecord], method: str, corruption: str | None, fraction: float,
                 x: str = "backprops", factor: float = 1.2) -> SeedSpeedup:
    """Paper H's speedup of ``method`` over standard training on one setting."""
    return speedup_over_seeds(by_setting(records, "standard", corruption, fraction), by_setting(records, method, corruption, fraction),
                              factor=factor, x=x)


def best_error_percent(records: Sequence[RunRecord]) -> tuple[float, float]:
    """Mean and standard deviation (0 for one seed) of the best test error in %, over the runs
    that did not diverge (NaN when all did)."""
    errors = [100 * r.best_test_error for r in records if r.status != "diverged"]
    if not errors:
        return float("nan"), float("nan")
    return statistics.fmean(errors), statistics.stdev(errors) if len(errors) > 1 else 0.0


def diverged_note(records: Sequence[RunRecord]) -> str:
    """`` (k diverged)`` when k of the runs diverged, else nothing."""
    count = sum(r.status == "diverged" for r in records)
    return f" ({count} diverged)" if count else ""


def table_1(records: Mapping[Key, RunRecord], x: str = "backprops") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our Table 1 beside the paper's, as two tables with rows (method, source), columns settings.

    Returns (speedups to 1.2 × standard's best error in ``x``, best test error in % as mean ±
    standard deviation over seeds). Rows marked ``ours`` come from ``records``; rows marked
    ``paper H`` are the paper's (CIFAR-10, WRN-28-10; its errors are means over 5 seeds).
    """
    speedups, errors = {}, {}
    for method in TABLE_METHODS:
        for source in ("ours", "paper H"):
            speedups[method, source], errors[method, source] = {}, {}
        for column, (corruption, fraction) in enumerate(HU_SETTINGS):
            label = SETTING_LABELS[corruption, fraction]
            runs = by_setting(records, method, corruption, fraction)
            if runs:
                mean, spread = best_error_percent(runs)
                speedups[method, "ours"][label] = str(seed_speedup(records, method, corruption, fraction, x))
                errors[method, "ours"][label] = f"{mean:.2f} ± {spread:.2f}{diverged_note(runs)}"
            value, error = PAPER_H_TABLE_1[method][column]
            speedups[method, "paper H"][label] = "—" if value is None else f"{value:.1f}x"
            errors[method, "paper H"][label] = f"{error:.2f}"
    frame = lambda rows: pd.DataFrame.from_dict(rows, orient="index").rename_axis(["method", "source"])
    return frame(speedups), frame(errors)


@dataclass(frozen=True)
class Claim:
    """One of the paper's claims, what our records say, and whether they agree."""

    claim: str
    ours: str
    verdict: str  # "confirmed", "contradicted" or "mixed"


def _verdict(agree: int, total: int) -> str:
    return "confirmed" if agree == total else "contradicted" if agree == 0 else "mixed"


def _speedup_value(s: SeedSpeedup) -> float:
    return 0.0 if s.value is NEVER else float(s.value)


def corrupted_share_after_warmup(record: RunRecord, warmup_epochs: int = 1) -> float:
    """Mean share of corrupted examples among trained ones, after the first epoch(s)."""
    steps_per_epoch = record.counters["step"] / record.counters["epoch"]
    start = int(warmup_epochs * steps_per_epoch)
    shares, sizes = record.steps["corrupted_share"][start:], record.steps["batch"][start:]
    return sum(s * n for s, n in zip(shares, sizes)) / max(1, sum(sizes))


def hu2021_claims(records: Mapping[Key, RunRecord]) -> list[Claim]:
    """Paper H's claims checked against our records, each with the numbers it rests on."""
    corrupted = [s for s in HU_SETTINGS if s[0] is not None]
    speed = {(m, s): seed_speedup(records, m, *s) for m in TABLE_METHODS for s in HU_SETTINGS}
    error = {(m, s): best_error_percent(by_setting(records, m, *s))[0] for m in TABLE_METHODS + ("SBE 50 %",) for s in HU_SETTINGS
             if by_setting(records, m, *s)}
    claims = []

    pristine = (None, 0.0)
    fast = [m for m in TABLE_METHODS[1:] if _speedup_value(speed[m, pristine]) > 1.05]
    claims.append(Claim(
        "On pristine data SB and VR reach 1.2 × standard's best error with fewer backprops (paper: SB 2.0x / 3.0x, VR 1.7x / 1.8x).",
        ", ".join(f"{m}: {speed[m, pristine]}" for m in TABLE_METHODS[1:]), _verdict(len(fast), 4)))

    worse = [s for s in corrupted if error["SB 33 %", s] > error["standard", s]]
    lost = [s for s in corrupted if _speedup_value(speed["SB 33 %", s]) < _speedup_value(speed["SB 33 %", pristine])]
    claims.append(Claim(
        "Corruption derails SB: on corrupted data SB 33 % loses its speedup and ends at a higher best error than standard training.",
        f"best error above standard's in {len(worse)}/6 corrupted settings; speedup below its pristine one in {len(lost)}/6 "
        f"(pristine {speed['SB 33 %', pristine]}; corrupted: " + ", ".join(f"{SETTING_LABELS[s]} {speed['SB 33 %', s]}" for s in corrupted) + ")",
        _verdict(min(len(worse), len(lost)), 6)))

    def excess(method: str) -> float:
        return statistics.fmean(error[method, s] - error["standard", s] for s in corrupted)

    vr_milder = [v for v in ("VR max 33 %", "VR max 50 %") if excess(v) < excess("SB 33 %")]
    claims.append(Claim(
        "VR degrades less than SB under corruption.",
        f"mean excess best error over standard across the 6 corrupted settings: SB 33 % {excess('SB 33 %'):+.2f} pts, "
        f"SB 50 % {excess('SB 50 %'):+.2f} pts, VR max 33 % {excess('VR max 33 %'):+.2f} pts, VR max 50 % {excess('VR max 50 %'):+.2f} pts",
        _verdict(len(vr_milder), 2)))

    quarter = [s for s in corrupted if s[1] == 0.25]
    shares = {(m, s): statistics.fmean(corrupted_share_after_warmup(r) for r in by_setting(records, m, *s))
              for m in ("SB 50 %", "VR max 33 %") for s in quarter}
    over = [k for k, v in shares.items() if v > 0.25 + 0.01]
    claims.append(Claim(
        "SB and VR over-sample corrupted examples: more than the 25 % standard training sees (Fig. 3).",
        "share of corrupted examples among trained ones after epoch 1: " + ", ".join(f"{m} {SETTING_LABELS[s]} {100 * v:.1f} %" for (m, s), v in shares.items()),
        _verdict(len(over), len(shares))))

    labels50, gauss50 = ("random_labels", 0.5), ("gaussian", 0.5)
    sbe_labels = seed_speedup(records, "SBE 50 %", *labels50)
    sbe_vs_sb = error["SBE 50 %", gauss50] - error["SB 50 %", gauss50]
    agree = int(_speedup_value(sbe_labels) > 1.05) + int(sbe_vs_sb > 0)
    claims.append(Claim(
        "SBE (entropy instead of loss) fixes random labels (paper: 2.0x on 50 % random labels) but is slightly worse than SB on 50 % Gaussian images.",
        f"SBE speedup on labels 50 %: {sbe_labels} (SB 50 %: {speed['SB 50 %', labels50]}); best error on gauss 50 %: SBE {error['SBE 50 %', gauss50]:.2f} % vs SB {error['SB 50 %', gauss50]:.2f} %",
        _verdict(agree, 2)))
    return claims


def claims_frame(claims: Sequence[Claim]) -> pd.DataFrame:
    """Claims as a table for the book."""
    return pd.DataFrame([c.__dict__ for c in claims]).rename(columns={"claim": "paper H claims", "ours": "our runs", "verdict": "verdict"})
