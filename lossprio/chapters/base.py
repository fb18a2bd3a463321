"""What every chapter shares: a chapter as data (settings at named profiles → runs), profile
lookup with overrides, and the claims table. Chapter modules register themselves here."""
from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, Hashable, Mapping, Sequence, TypeVar

import pandas as pd

from ..checks import check_choice
from ..config import TrainConfig
from ..metrics import NEVER, SeedSpeedup, speedup_over_seeds
from ..records import RunRecord
from ..registry import Registry
from ..store import done_in_any, sibling_dirs

PROFILE_NAMES = ("smoke", "cpu", "paper")
Settings = TypeVar("Settings")
Key = Hashable


@dataclass(frozen=True)
class Chapter(Generic[Settings]):
    """One chapter of the book.

    Attributes:
        name: the notebook's stem and the results sub-folder (``hu2021``).
        title: what the chapter reproduces.
        profiles: ``smoke`` (seconds, what the tests run), ``cpu`` (this project's 2-core
            machines, hours) and ``paper`` (the paper's own setup, a GPU) as settings dataclasses.
        expand: settings → every run of the chapter, as :class:`~lossprio.config.TrainConfig` by key.
        check: (records, settings, configs) → the paper's claims checked against the records.
        reuses: chapters whose records at the same profile hold some of this chapter's runs (same
            config, same record); sweeps and notebooks read those instead of training them again.
    """

    name: str
    title: str
    profiles: Mapping[str, Settings]
    expand: Callable[[Settings], dict[Key, TrainConfig]]
    check: Callable[[Mapping[Key, RunRecord], Settings, Mapping[Key, TrainConfig]], list["Claim"]] | None = None
    reuses: tuple[str, ...] = ()

    def profile(self, name: str, **overrides: Any) -> Settings:
        """The named profile with ``overrides`` (settings field → value) applied."""
        check_choice("profile", name, list(self.profiles))
        base = self.profiles[name]
        known = {f.name for f in dataclasses.fields(base)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown {type(base).__name__} {unknown}; allowed: {sorted(known)}")
        for name_, value in overrides.items():  # JSON (papermill) gives lists where the settings hold tuples
            if isinstance(getattr(base, name_), tuple) and isinstance(value, list):
                overrides[name_] = tuple(value)
        return dataclasses.replace(base, **overrides)

    def runs(self, profile: str, **overrides: Any) -> dict[Key, TrainConfig]:
        """Every run of the chapter at ``profile`` with ``overrides``."""
        return self.expand(self.profile(profile, **overrides))

    def reuse_dirs(self, out_dir: str | Path) -> list[Path]:
        """Where the chapters this one reuses keep their records, beside ``out_dir``
        (``results/<chapter>/<profile>`` → ``results/<reused>/<profile>``)."""
        return sibling_dirs(out_dir, self.reuses)

    def done_records(self, configs: Mapping[Key, TrainConfig], out_dir: str | Path) -> dict[Key, RunRecord]:
        """The finished records of ``configs`` (read only, nothing is run): in ``out_dir``, or for
        the runs this chapter shares, in the folders of the chapters it reuses."""
        return done_in_any(configs, [Path(out_dir), *self.reuse_dirs(out_dir)])

    def claims(self, records: Mapping[Key, RunRecord], settings: Settings) -> list["Claim"]:
        """The paper's claims checked against ``records`` of the runs of ``settings``."""
        if self.check is None:
            raise ValueError(f"chapter {self.name!r} checks no claims")
        return self.check(records, settings, self.expand(settings))


CHAPTERS: Registry[Chapter] = Registry("chapter")


def register(chapter: Chapter) -> Chapter:
    """File ``chapter`` under its name (chapter modules call this at import)."""
    CHAPTERS.register(chapter.name)(lambda: chapter)
    return chapter


def chapter(name: str) -> Chapter:
    """The chapter called ``name`` (one of :func:`chapter_names`)."""
    return CHAPTERS.build(name)


def chapter_names() -> list[str]:
    return CHAPTERS.names()


# ----------------------------------------------------------------------------- claims

@dataclass(frozen=True)
class Claim:
    """One of a paper's claims, what our records say, and whether they agree."""

    claim: str
    ours: str
    verdict: str  # "confirmed", "contradicted" or "mixed"


def verdict(agree: int, total: int) -> str:
    """``confirmed`` if every comparison agrees, ``contradicted`` if none does, else ``mixed``."""
    return "confirmed" if agree == total else "contradicted" if agree == 0 else "mixed"


def claims_frame(claims: Sequence[Claim], paper: str) -> pd.DataFrame:
    """Claims as a table for the book."""
    return pd.DataFrame([c.__dict__ for c in claims]).rename(columns={"claim": f"paper {paper} claims", "ours": "our runs"})


# ----------------------------------------------------------------------------- record helpers

def speedup_value(speedup: SeedSpeedup) -> float:
    """A speedup as a number, "never reached" as 0 (for comparisons in claims)."""
    return 0.0 if speedup.value is NEVER else float(speedup.value)


def best_error_percent(records: Sequence[RunRecord], final: bool = False) -> tuple[float, float]:
    """Mean and standard deviation (0 for one seed) of the best (or final) test error in %, over
    the runs that did not diverge (NaN when all did)."""
    errors = [100 * (r.final_test_error if final else r.best_test_error) for r in records if r.status != "diverged"]
    if not errors:
        return float("nan"), float("nan")
    return statistics.fmean(errors), statistics.stdev(errors) if len(errors) > 1 else 0.0


#: cost measures read off a clock, which a busy machine distorts (steps and backprops it does not)
WALL_CLOCK = ("train_wall_s", "wall_s")


def fairly_timed(records: Sequence[RunRecord], x: str = "train_wall_s") -> list[RunRecord]:
    """``records`` fit to measure cost ``x``: for a wall-clock measure, those timed on an
    otherwise idle machine (not :attr:`~lossprio.records.RunRecord.timed_busy`); all for counts."""
    return [r for r in records if not r.timed_busy] if x in WALL_CLOCK else list(records)


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


__all__ = ["CHAPTERS", "Chapter", "Claim", "PROFILE_NAMES", "best_error_percent", "chapter", "chapter_names", "claims_frame",
           "corrupted_share_after", "diverged_note", "fairly_timed", "register", "speedup_over_seeds", "speedup_value", "verdict"]
