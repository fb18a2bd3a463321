"""The results layout, in one place: ``<root>/<chapter>/<profile>/<run id>/`` holds a run's
``record.json`` and ``record.npz`` (and, while it runs, ``checkpoint.pt`` and ``lock``; for a
moment in each save, ``record.npz.next``); ``<root>/cache/`` the IL models every chapter's runs
share; finished records are found in a chapter's folder, or in the folders of the chapters whose
runs it shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .files import FileProblem
from .records import RunRecord, set_aside_record

RECORD, CHECKPOINT, LOCK = "record.json", "checkpoint.pt", "lock"


def chapter_dir(root: str | Path, chapter: str, profile: str) -> Path:
    """Where a chapter keeps the records of one profile: ``root/chapter/profile``."""
    return Path(root) / chapter / profile


def sibling_dirs(out_dir: str | Path, chapters: Sequence[str]) -> list[Path]:
    """The folders of ``chapters`` at the same profile as ``out_dir`` (``root/<chapter>/<profile>``
    → ``root/<other>/<profile>``)."""
    out_dir = Path(out_dir)
    return [chapter_dir(out_dir.parent.parent, name, out_dir.name) for name in chapters]


def shared_cache_dir(out_dir: str | Path, chapter: str | None = None) -> Path:
    """Where runs cache what several of them learn from (IL models): in the book's layout,
    ``out_dir`` = ``root/<chapter>/<profile>``, ``root/cache``, shared by the chapters of that
    results tree; any other ``out_dir`` (or no ``chapter`` named) keeps its own, ``out_dir/cache``."""
    out = Path(out_dir)
    return out.parent.parent / "cache" if chapter is not None and out.parent.name == chapter else out / "cache"


def run_folder(out_dir: str | Path, run_id: str) -> Path:
    """``out_dir/<run_id>``; ``ValueError`` if the id would leave ``out_dir`` (ids from
    :class:`TrainConfig` never do)."""
    root = Path(out_dir).resolve()
    folder = (root / run_id).resolve()
    if folder.parent != root:
        raise ValueError(f"run_id={run_id!r} is not a plain folder name inside {root}")
    return folder


def record_path(out_dir: str | Path, run_id: str) -> Path:
    """A run's ``record.json``."""
    return run_folder(out_dir, run_id) / RECORD


def finished_record(path: Path, config: TrainConfig) -> RunRecord | None:
    """The run's record if it is done and is this config's; an unusable or foreign one is moved aside."""
    if not path.exists():
        return None
    try:
        record = RunRecord.load(path)
    except FileProblem as problem:
        set_aside_record(path, problem.problem)
        return None
    if record.config_hash != config.config_hash:
        differences = {k: (record.config.get(k), v) for k, v in config.to_dict().items() if record.config.get(k) != v}
        set_aside_record(path, f"a record of another config (record's vs this run's: {differences})")
        return None
    return record if record.done else None


def done_records(configs: Mapping[Any, TrainConfig], out_dir: str | Path) -> dict[Any, RunRecord]:
    """The finished or diverged records of ``configs`` under ``out_dir``, read only (no run is
    started, nothing is moved); unreadable records and records of another config are left out."""
    found = {}
    for key, config in configs.items():
        path = record_path(out_dir, config.run_id)
        try:
            record = RunRecord.load(path) if path.exists() else None
        except ValueError:
            continue
        if record is not None and record.done and record.config_hash == config.config_hash:
            found[key] = record
    return found


def done_in_any(configs: Mapping[Any, TrainConfig], folders: Sequence[str | Path]) -> dict[Any, RunRecord]:
    """:func:`done_records` over several folders, the first folder holding a run winning (a
    chapter's own folder, then those of the chapters whose runs it shares)."""
    found: dict[Any, RunRecord] = {}
    for folder in folders:
        found.update(done_records({k: c for k, c in configs.items() if k not in found}, folder))
    return found


def unfinished(configs: Mapping[Any, TrainConfig], out_dir: str | Path) -> dict[Any, TrainConfig]:
    """The configs whose record is not yet finished or diverged (unreadable records count as unfinished)."""
    done = done_records(configs, out_dir)
    return {key: config for key, config in configs.items() if key not in done}


def orphans(configs: Mapping[Any, TrainConfig], out_dir: str | Path) -> list[Path]:
    """Run folders under ``out_dir`` holding a record that none of ``configs`` is (runs of an
    earlier grid, or of another profile sharing the folder)."""
    ids = {config.run_id for config in configs.values()}
    return sorted(p.parent for p in Path(out_dir).glob(f"*/{RECORD}") if p.parent.name not in ids)
