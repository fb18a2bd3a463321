"""Run records: a run's config, seed, commit, machine and measurements, written atomically as JSON."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from .accounting import NOT_TRAINING
from .identity import config_hash
from .storage import FileProblem, atomic_write_json, read_json

PACKAGE_DIR = Path(__file__).resolve().parent
#: Version of the record layout. 2: ``format``, ``config_hash`` and ``diverged`` were added.
#: 3: ``config_hash`` (and the run id) leave out the settings the selector never reads.
RECORD_FORMAT = 3


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the checkout lossprio is imported from (``+dirty`` if it has changes), or ``unknown``.

    Read once per process, at the first run: the code a long sweep runs is the code it loaded,
    even if the checkout moves on while it runs.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "lossprio"],
            cwd=PACKAGE_DIR.parent,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_name(device: torch.device) -> str:
    """The GPU's name on CUDA, else the CPU's (or the machine architecture)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)  # GPU only: never run in CI
    return platform.processor() or platform.machine()


def machine_info(device: torch.device) -> dict[str, Any]:
    """Where a run ran: device name, CPU, threads, library versions."""
    import torchvision

    from . import __version__

    return {
        "device": str(device),
        "device_name": device_name(device),
        "hostname": platform.node(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torchvision": str(torchvision.__version__),
        "lossprio": __version__,
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunRecord:
    """Everything a figure or table needs from one run.

    ``evals`` holds one dict per evaluation (step, epoch, backprops, counters, wall-clock,
    test error and loss); ``steps`` holds per-optimizer-step columns (backprops, loss, lr, batch,
    corrupted_share); ``phase_seconds`` the wall-clock per phase; ``selection_counts`` how often
    each training example was chosen; ``corrupted`` the positions of corrupted training examples.
    ``status`` is ``running``, ``finished`` or ``diverged`` (then ``diverged`` says where and why).
    ``load_average`` tells whether the machine was busy with other work while the run was timed.
    ``config_hash`` is the SHA-256 of ``config``: a record counts as a config's only if both match.
    """

    run_id: str
    config: dict[str, Any]
    commit: str
    machine: dict[str, Any]
    started: str = field(default_factory=now)
    finished: str | None = None
    status: str = "running"
    epochs_done: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    evals: list[dict[str, float]] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)
    selection_counts: list[int] = field(default_factory=list)
    corrupted: list[int] = field(default_factory=list)
    diverged: dict[str, Any] | None = None
    epoch_ends: list[int] = field(default_factory=list)  # optimizer steps done at the end of each epoch
    load_average: list[list[float]] = field(default_factory=list)  # 1/5/15-min load at each start, resume and end
    score_probes: list[dict[str, float]] = field(default_factory=list)  # paper M's Fig. 1 measures, see lossprio.probes
    probes: list[dict[str, float]] = field(default_factory=list)  # gradient-similarity probes (step, epoch, measures)
    confidences: dict[str, dict[str, list]] = field(default_factory=dict)  # epoch → test confidences and correctness
    tracked: dict[str, list[list]] = field(
        default_factory=dict
    )  # training position → [epoch, step, score, p, times chosen]
    config_hash: str = ""
    format: int = RECORD_FORMAT

    def __post_init__(self) -> None:
        if not self.config_hash:
            self.config_hash = config_hash(self.config)

    def save(self, path: Path) -> None:
        atomic_write_json(path, asdict(self))

    @classmethod
    def from_dict(cls, values: Any, path: str | Path = "<record>") -> RunRecord:
        """A record from its JSON form; :class:`~lossprio.storage.FileProblem` naming ``path`` if it is not one."""
        if not isinstance(values, dict):
            raise FileProblem(path, f"not a run record (a JSON {type(values).__name__}, not an object)", RERUN)
        if values.get("format", 1) != RECORD_FORMAT:
            raise FileProblem(
                path,
                f"record format {values.get('format', 1)}, this lossprio reads format {RECORD_FORMAT}",
                "migrate it with `python -m lossprio.records migrate FOLDER` or delete it to rerun the run",
            )
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        if set(values) - names or required - set(values):
            raise FileProblem(
                path,
                f"not a run record: unexpected fields {sorted(set(values) - names)}, "
                f"missing fields {sorted(required - set(values))}",
                RERUN,
            )
        record = cls(**values)
        if record.config_hash != config_hash(record.config):
            raise FileProblem(path, "its config_hash does not match its config (edited or damaged)", RERUN)
        if record.status not in STATUSES:
            raise FileProblem(path, f"status={record.status!r}, not one of {list(STATUSES)}", RERUN)
        return record

    @classmethod
    def load(cls, path: str | Path) -> RunRecord:
        """Read and check a ``record.json``; :class:`~lossprio.storage.FileProblem` naming it if unusable."""
        return cls.from_dict(read_json(Path(path)), path)

    @property
    def done(self) -> bool:
        """Finished or diverged: nothing more to run."""
        return self.status in ("finished", "diverged")

    @property
    def timed_busy(self) -> bool:
        """Whether the 1-minute load exceeded the machine's cores (+ 0.5) at any evaluation, start
        or end: its wall-clock was then shared with other work and is not a fair measurement."""
        limit = (self.machine.get("cpu_count") or 1) + 0.5
        loads = [e["load"] for e in self.evals if "load" in e] + [sample[0] for sample in self.load_average]
        return any(load > limit for load in loads)

    @property
    def train_wall_s(self) -> float:
        """Training wall-clock of the whole run: its wall clock less evaluation and probes."""
        return self.counters["wall_s"] - sum(self.phase_seconds.get(p, 0.0) for p in NOT_TRAINING)

    @property
    def best_test_error(self) -> float:
        return min(e["test_error"] for e in self.evals)

    @property
    def final_test_error(self) -> float:
        return self.evals[-1]["test_error"]


STATUSES = ("running", "finished", "diverged")
RERUN = "delete it (or move it aside) to rerun the run"


def load_records(folder: str | Path, finished_only: bool = True) -> list[RunRecord]:
    """Every ``record.json`` under ``folder`` (only finished ones by default).

    Raises :class:`~lossprio.storage.FileProblem` naming every unusable record at once.
    """
    records, problems = [], []
    for path in sorted(Path(folder).glob("**/record.json")):
        try:
            records.append(RunRecord.load(path))
        except FileProblem as problem:
            problems.append(str(problem))
    if problems:
        raise FileProblem(folder, f"{len(problems)} unusable record(s):\n  " + "\n  ".join(problems))
    return [r for r in records if r.status == "finished" or not finished_only]


def migrate(folder: str | Path) -> int:
    """Bring every older ``record.json`` under ``folder`` to the current format; returns how many.

    Formats 1 and 2 hashed every setting into the run id; format 3 leaves out the settings the
    run's selector never reads (:func:`lossprio.identity.read_settings`), so a migrated record
    gets its new id and its folder that name. Format 1 also lacked ``config_hash``, ``diverged``
    and ``format``. No measurement changes; a record whose config does not give its old id
    (edited or damaged) is refused.
    """
    from .config import TrainConfig

    changed = 0
    for path in sorted(Path(folder).glob("**/record.json")):
        values = read_json(path)
        if values.get("format", 1) == RECORD_FORMAT:
            continue
        every_setting = hashlib.sha256(json.dumps(values["config"], sort_keys=True, default=str).encode()).hexdigest()
        if not values["run_id"].endswith(every_setting[:10]):
            raise FileProblem(path, f"its config does not give its run id {values['run_id']}", RERUN)
        run_id = TrainConfig.from_dict(values["config"]).run_id
        values.update(format=RECORD_FORMAT, config_hash=config_hash(values["config"]), run_id=run_id)
        values.setdefault("diverged", None)
        target = path.parent.parent / run_id
        if target != path.parent:
            if target.exists():
                raise FileProblem(path, f"its new run id {run_id} is taken by {target}", "keep one of the two")
            path.parent.rename(target)
        RunRecord.from_dict(values, target / "record.json").save(target / "record.json")
        changed += 1
    return changed


def main(argv: list[str] | None = None) -> None:
    """``python -m lossprio.records migrate FOLDER``: update old records in place."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["migrate"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    print(f"{migrate(args.folder)} record(s) migrated to format {RECORD_FORMAT} under {args.folder}")


if __name__ == "__main__":
    main()
