"""A chapter as data: settings at named profiles → runs, and the tables and claims computed from
their records. Chapter modules register themselves here; ``chapter(name)`` finds one."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..checks import check_annotated, check_choice
from ..config import TrainConfig
from ..layout import done_in_any, sibling_dirs
from ..records import RunRecord
from ..registry import Registry
from .claims import Claim

Settings = TypeVar("Settings")
Key = Hashable


@dataclass(frozen=True)
class Headline:
    """The one comparison a chapter's ``colab`` profile keeps, and how ``notebooks/colab.ipynb``
    shows it.

    Attributes:
        question: what the comparison asks, in words.
        paper: the paper's own answer, labelled as the paper's (never computed here).
        estimates: (records, settings) → label → the estimates that answer it
            (``lossprio.compare`` objects, or ``None`` where the records hold none).
        panels: (records, settings) → panel title → method → that method's records (seed order):
            the error curves drawn.
    """

    question: str
    paper: str
    estimates: Callable[[Mapping[Key, RunRecord], Any], Mapping[str, Any]]
    panels: Callable[[Mapping[Key, RunRecord], Any], Mapping[str, Mapping[str, list[RunRecord]]]]


@dataclass(frozen=True)
class Chapter(Generic[Settings]):
    """One chapter of the book.

    Attributes:
        name: the notebook's stem and the results sub-folder (``hu2021``).
        title: what the chapter reproduces.
        profiles: ``smoke`` (seconds, what the tests run), ``cpu`` (this project's 2-core
            machines, hours), ``paper`` (the paper's own setup, a GPU) and ``colab`` (the paper's
            dataset and model, cut to :attr:`headline`'s runs, about an hour of a T4) as settings
            dataclasses.
        expand: settings → every run of the chapter, as :class:`~lossprio.config.TrainConfig` by key.
        check: (records, settings, configs) → the paper's claims checked against the records.
        tables: (records, settings, configs) → the chapter's tables by name, as the page shows
            them (what ``tests/test_book_tables.py`` holds every change to).
        reuses: chapters whose records at the same profile hold some of this chapter's runs (same
            config, same record); sweeps and notebooks read those instead of training them again.
        short: what the book calls the chapter in running text (chapter "M"); default its name.
        plan: settings → every run a sweep at those settings will make, its later stages
            included (a stage that waits on an earlier one's records: the tuned chapter's final
            stage), for sizing a sweep before it runs; default :attr:`expand`.
        twin: (run key at one profile, those settings, another profile's settings) → the key of
            the same run at the other profile (the same method, data and seed; its budget and
            grid point at the same place), or ``None``; default the same key. The paper-cost
            estimate reads each paper run's counts off its ``cpu`` twin.
        timed: run key → whether the page reports that run's wall clock (default: every run's).
            Runs it does not time (a tuning stage) may run on a busy machine: ``--retime-busy``
            leaves them alone and the page does not count them as waiting for a re-timing.
        headline: the comparison the ``colab`` profile keeps (see :class:`Headline`).
        next_stage: (settings, records) → the settings of the stage those records settle (rates a
            tuning stage or a pilot chose), the same settings when none is left; ``None``: one stage.
    """

    name: str
    title: str
    profiles: Mapping[str, Settings]
    expand: Callable[[Settings], dict[Key, TrainConfig]]
    check: Callable[[Mapping[Key, RunRecord], Settings, Mapping[Key, TrainConfig]], list[Claim]] | None = None
    tables: Callable[[Mapping[Key, RunRecord], Settings, Mapping[Key, TrainConfig]], dict[str, Any]] | None = None
    reuses: tuple[str, ...] = ()
    short: str = ""
    plan: Callable[[Settings], dict[Key, TrainConfig]] | None = None
    twin: Callable[[Key, Settings, Settings], Key | None] | None = None
    timed: Callable[[Key], bool] | None = None
    headline: Headline | None = None
    next_stage: Callable[[Settings, Mapping[Key, RunRecord]], Settings] | None = None

    def planned(self, settings: Settings) -> dict[Key, TrainConfig]:
        """Every run a sweep at ``settings`` will make, later stages included (see :attr:`plan`)."""
        return (self.plan or self.expand)(settings)

    def twin_key(self, key: Key, settings: Settings, other: Settings) -> Key | None:
        """The key at ``other``'s profile of the run at ``key`` (see :attr:`twin`)."""
        return key if self.twin is None else self.twin(key, settings, other)

    def reports_time(self, key: Key) -> bool:
        """Whether the page reports the wall clock of the run at ``key`` (see :attr:`timed`)."""
        return self.timed is None or self.timed(key)

    @property
    def called(self) -> str:
        """ "chapter M": how running text names the chapter."""
        return f"chapter {self.short or self.name}"

    def profile(self, name: str, **overrides: Any) -> Settings:
        """The named profile with ``overrides`` (settings field → value) applied."""
        check_choice("profile", name, list(self.profiles))
        base = self.profiles[name]
        known = {f.name for f in dataclasses.fields(base)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown {type(base).__name__} {unknown}; allowed: {sorted(known)}")
        hints = typing.get_type_hints(type(base))
        for name_, value in overrides.items():  # JSON (papermill) gives lists where the settings hold tuples
            check_annotated(f"overrides[{name_!r}]", value, hints.get(name_, Any))
            if isinstance(getattr(base, name_), tuple) and isinstance(value, list):
                overrides[name_] = tuple(value)
        settings = dataclasses.replace(base, **overrides)
        if not settings.seeds:
            raise ValueError(f"seeds={list(settings.seeds)}: give at least one seed")
        return settings

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

    def claims(self, records: Mapping[Key, RunRecord], settings: Settings) -> list[Claim]:
        """The paper's claims checked against ``records`` of the runs of ``settings``."""
        if self.check is None:
            raise ValueError(f"chapter {self.name!r} checks no claims")
        return self.check(records, settings, self.expand(settings))

    def computed_tables(self, records: Mapping[Key, RunRecord], settings: Settings) -> dict[str, Any]:
        """The chapter's tables from ``records`` of the runs of ``settings``."""
        if self.tables is None:
            raise ValueError(f"chapter {self.name!r} has no tables")
        return self.tables(records, settings, self.expand(settings))


CHAPTERS: Registry[Chapter] = Registry("chapter")
#: chapters whose ``cpu`` sweep is under way: their sweeps and notebooks run, the book does not list them yet
DRAFTS: dict[str, Chapter] = {}


def register(chapter: Chapter, draft: bool = False) -> Chapter:
    """File ``chapter`` under its name (chapter modules call this at import); a ``draft`` is
    found by :func:`chapter` and swept, but is not among the book's :func:`chapter_names`."""
    if draft:
        DRAFTS[chapter.name] = chapter
    else:
        CHAPTERS.register(chapter.name)(lambda: chapter)
    return chapter


def chapter(name: str) -> Chapter:
    """The chapter called ``name`` (one of :func:`chapter_names` or :func:`draft_names`)."""
    if name in DRAFTS:
        return DRAFTS[name]
    return CHAPTERS.build(name)


def chapter_names() -> list[str]:
    """The book's chapters' names, sorted."""
    return CHAPTERS.names()


def draft_names() -> list[str]:
    """The draft chapters' names, sorted (:data:`DRAFTS`)."""
    return sorted(DRAFTS)


#: the book's table of contents, beside the package in a checkout
TOC = Path(__file__).resolve().parents[2] / "_toc.yml"


def book_order(toc: Path = TOC) -> list[str]:
    """The chapters' names in the order the book's table of contents lists them (those it does not
    list, or all where there is no ``_toc.yml``, as in an installed package, at the end, sorted)."""
    text = toc.read_text() if toc.exists() else ""
    listed = {name: text.find(f"book/{name}") for name in chapter_names()}
    return sorted(listed, key=lambda name: (listed[name] < 0, listed[name], name))
