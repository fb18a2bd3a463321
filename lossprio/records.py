"""Run records: a run's config, seed, commit, machine and measurements, written atomically as JSON."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
import warnings
import zipfile
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import packing
from .accounting import NOT_TRAINING, STEP_COLUMNS
from .checks import path_argument
from .cli import command
from .files import FileProblem, atomic_write_bytes, atomic_write_json, read_json, require_regular, set_aside
from .identity import config_hash
from .schedules import budget_rates

PACKAGE_DIR = Path(__file__).resolve().parent
#: Version of the record layout. 2: ``format``, ``config_hash`` and ``diverged`` were added.
#: 4: long lists in a compressed sidecar (``record.npz``), a checksum over every measurement,
#: set-up costs and the timing definition.
#: 3: ``config_hash`` (and the run id) leave out the settings the selector never reads.
RECORD_FORMAT = 4
#: the mark in ``record.npz`` that the step log's rates are the config's schedule's, recomputed on reading
DERIVED_RATES = "steps/lr@derived"
#: How a record's wall clock was taken. 1: epoch-end checkpoint and record writes inside the
#: training wall clock (records before format 4); 2: writes are their own ``checkpoint`` phase,
#: left out of training wall clock like evaluation.
TIMING = 2
#: the record's long lists, kept in the sidecar ``record.npz`` beside ``record.json``
ARRAY_FIELDS = ("steps", "selection_counts", "corrupted", "confidences", "tracked")
#: the columns of a tracked example's rows
TRACKED_COLUMNS = ("epoch", "step", "score", "p", "chosen")


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
    ``setup_seconds`` / ``setup_backprops`` are what the run trained before its loop (an IL model,
    a proxy; ``setup_cached`` when it was read from a cache instead; ``None``: not recorded, as in
    records older than format 4); ``timing`` is the wall-clock definition (:data:`TIMING`);
    ``checksum`` is the SHA-256 of every field and of the sidecar's arrays, so an edited
    measurement is noticed.
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
    # training position → [epoch, step, score, p, times chosen]
    tracked: dict[str, list[list]] = field(default_factory=dict)
    selector_stats: dict[str, float] = field(default_factory=dict)  # what the selector did (Kath18: sampling_share)
    setup_seconds: float | None = None
    setup_backprops: int | None = None
    setup_cached: bool | None = None
    timing: int = TIMING
    config_hash: str = ""
    checksum: str = ""
    format: int = RECORD_FORMAT

    def __post_init__(self) -> None:
        if not self.config_hash:
            self.config_hash = config_hash(self.config)

    def state(self) -> dict[str, Any]:
        """Every field by name, shallowly (the lists are the record's own, not copies)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def arrays(self) -> dict[str, np.ndarray]:
        """The long lists (:data:`ARRAY_FIELDS`) packed exactly (:mod:`lossprio.packing`)."""
        steps = dict(self.steps)
        derived = self.steps.get("lr") and steps["lr"] == self.recomputed_rates()
        if derived:  # the config recomputes every rate exactly: stored as a mark, not as floats
            del steps["lr"]
        lists: dict[str, Any] = {f"steps/{name}": values for name, values in steps.items()}
        lists.update(selection_counts=self.selection_counts, corrupted=self.corrupted)
        for epoch, snapshot in self.confidences.items():
            lists.update({f"confidences/{epoch}/{name}": values for name, values in snapshot.items()})
        if self.tracked:  # one column per field over every tracked example's rows, and where each one's rows end
            rows = [row for entries in self.tracked.values() for row in entries]
            lists["tracked/positions"] = [int(position) for position in self.tracked]
            lists["tracked/rows"] = [len(entries) for entries in self.tracked.values()]
            lists.update({f"tracked/{name}": [row[i] for row in rows] for i, name in enumerate(TRACKED_COLUMNS)})
        arrays = packing.pack_lists(lists)
        if derived:
            arrays[DERIVED_RATES] = np.zeros(0, dtype=np.uint8)
        return arrays

    def recomputed_rates(self) -> list[float] | None:
        """Every step's learning rate as the config's schedule gives it (:func:`lossprio.schedules.budget_rates`),
        or ``None`` where the schedule does not decay over a budget."""
        return budget_rates(
            self.config, self.steps.get("backprops", []), self.steps.get("batch", []), len(self.selection_counts)
        )

    def summary(self) -> dict[str, Any]:
        """The fields ``record.json`` holds: all but the long lists."""
        return {k: v for k, v in self.state().items() if k not in ARRAY_FIELDS}

    def save(self, path: Path) -> None:
        """Write the long lists to ``record.npz.next``, then ``record.json`` (the rest and the
        checksum over both), then rename the first to ``record.npz``, each step atomic: a kill at
        any moment leaves a ``record.json`` whose checksum one of the two sidecars matches
        (:func:`read_arrays` reads that one; :func:`settle_sidecar` keeps it)."""
        path = Path(path)
        arrays = self.arrays()
        summary = self.summary()
        self.checksum = summary["checksum"] = checksum(summary, arrays)
        atomic_write_bytes(next_sidecar(path), packing.to_npz(arrays))
        atomic_write_json(path, summary)
        os.replace(next_sidecar(path), sidecar(path))

    @classmethod
    def from_dict(cls, values: Any, path: str | Path = "<record>") -> RunRecord:
        """A record from its JSON form; :class:`~lossprio.files.FileProblem` naming ``path`` if it is not one."""
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
        """Read and check a ``record.json`` and its sidecar; :class:`~lossprio.files.FileProblem`
        naming it if unusable: damaged, of another format, edited (its checksum fails) or holding
        implausible measurements (:func:`check_measurements`)."""
        path = Path(path)
        values = read_json(path)
        if isinstance(values, dict) and values.get("format") == RECORD_FORMAT:
            if values.get("config_hash") != config_hash(values.get("config") or {}):
                raise FileProblem(path, "its config_hash does not match its config (edited or damaged)", RERUN)
            values = {**values, **read_arrays(path, values)}
        record = cls.from_dict(values, path)
        check_measurements(record, path)
        return record

    @property
    def done(self) -> bool:
        """Finished or diverged: nothing more to run."""
        return self.status in ("finished", "diverged")

    @property
    def timed_busy(self) -> bool:
        """Whether the 1-minute load exceeded the machine's cores (+ 0.5) at any evaluation, start
        or end: its wall-clock was then shared with other work and is not a fair measurement."""
        cores = self.machine.get("cpu_count") or 1
        loads = [e["load"] for e in self.evals if "load" in e] + [sample[0] for sample in self.load_average]
        return any(busy_load(load, cores) for load in loads)

    @property
    def train_wall_s(self) -> float:
        """Training wall-clock of the whole run: its wall clock less evaluation, probes and (from
        :data:`TIMING` 2 on) checkpoint writes."""
        return self.counters["wall_s"] - sum(self.phase_seconds.get(p, 0.0) for p in NOT_TRAINING)

    @property
    def best_test_error(self) -> float:
        return min(e["test_error"] for e in self.evals)

    @property
    def final_test_error(self) -> float:
        return self.evals[-1]["test_error"]


def busy_load(load: float, cores: int) -> bool:
    """Whether a 1-minute load average means a machine of ``cores`` was doing other work beside
    one run per core: above its cores + 0.5, the rule every wall-clock measure is held to."""
    return load > cores + 0.5


STATUSES = ("running", "finished", "diverged")
RERUN = "delete it (or move it aside) to rerun the run"


def sidecar(path: Path) -> Path:
    """The ``record.npz`` beside a ``record.json``."""
    return Path(path).with_suffix(".npz")


def next_sidecar(path: Path) -> Path:
    """Where :meth:`RunRecord.save` writes a record's sidecar before the ``record.json`` that names it."""
    return sidecar(path).with_name(f"{sidecar(path).name}.next")


def settle_sidecar(path: Path) -> None:
    """Finish or undo a save a kill interrupted: a ``record.npz.next`` that the ``record.json``'s
    checksum names becomes ``record.npz``; one it does not name is removed. Call it only while
    holding the run's lock."""
    pending = next_sidecar(path)
    if not pending.exists():
        return
    try:
        named = matching_arrays(pending, path, read_json(path)) is not None
    except (FileProblem, FileNotFoundError):
        named = False
    if named:
        os.replace(pending, sidecar(path))
    else:
        pending.unlink(missing_ok=True)


def set_aside_record(path: Path, reason: str) -> Path:
    """Move a ``record.json`` and its sidecar aside (``*.rejected-<time>``, one warning); returns
    the record's new path."""
    moved = set_aside(Path(path), reason)
    stamp = moved.name.rpartition(".rejected-")[2]
    if sidecar(path).exists():
        os.replace(sidecar(path), sidecar(path).with_name(f"{sidecar(path).name}.rejected-{stamp}"))
    return moved


def checksum(summary: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of a record's summary (less its checksum) and of its packed arrays."""
    text = json.dumps({k: v for k, v in summary.items() if k != "checksum"}, sort_keys=True, default=str)
    return hashlib.sha256((text + packing.digest(arrays)).encode()).hexdigest()


def matching_arrays(file: Path, path: Path, summary: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The packed arrays in ``file`` if the record ``path``'s ``summary`` checksums them, else None;
    :class:`FileProblem` naming the record if ``file`` is damaged (None if it is absent)."""
    try:
        arrays = packing.from_npz(require_regular(file).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise FileProblem(path, f"its measurements file {file.name} is damaged ({error})", RERUN) from error
    return arrays if checksum(summary, arrays) == summary.get("checksum") else None


def read_arrays(path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """The long lists of the record ``path``, from its sidecar, checked against ``summary``'s
    checksum (from ``record.npz.next`` if a save was killed after writing ``record.json``)."""
    arrays = None
    # record.npz once more last: a save may rename record.npz.next to it while this reads
    for candidate in (sidecar(path), next_sidecar(path), sidecar(path)):
        if (arrays := matching_arrays(candidate, path, summary)) is not None:
            break
    if arrays is None and not sidecar(path).exists() and not next_sidecar(path).exists():
        raise FileProblem(path, f"its measurements file {sidecar(path).name} is missing", RERUN)
    if arrays is None:
        raise FileProblem(path, "its measurements do not match their checksum (edited or damaged)", RERUN)
    derived = arrays.pop(DERIVED_RATES, None) is not None
    lists = packing.unpack_lists(arrays)
    values: dict[str, Any] = {"steps": {}, "selection_counts": [], "corrupted": [], "confidences": {}, "tracked": {}}
    tracked = {}
    for name, found in lists.items():
        parts = name.split("/")
        if parts[0] == "steps":
            values["steps"][parts[1]] = found
        elif parts[0] == "confidences":
            values["confidences"].setdefault(parts[1], {})[parts[2]] = found
        elif parts[0] == "tracked":
            tracked[parts[1]] = found
        else:
            values[parts[0]] = found
    if derived:  # rebuilt in the step log's own column order
        steps = values["steps"]
        steps["lr"] = budget_rates(
            summary["config"], steps["backprops"], steps["batch"], len(values["selection_counts"])
        )
        values["steps"] = {name: steps[name] for name in STEP_COLUMNS if name in steps} | steps
    if tracked:
        rows = [list(row) for row in zip(*(tracked[name] for name in TRACKED_COLUMNS))]
        ends = np.cumsum([0, *tracked["rows"]]).tolist()
        values["tracked"] = {str(p): rows[a:b] for p, a, b in zip(tracked["positions"], ends[:-1], ends[1:])}
    return values


def check_measurements(record: RunRecord, path: str | Path = "<record>") -> None:
    """:class:`~lossprio.files.FileProblem` naming ``path`` unless the measurements are plausible:
    a finished run has evaluations; test errors lie in [0, 1]; counters are non-negative; the
    evaluations' steps never decrease and stay within the run's; the step log's columns agree."""

    def refuse(problem: str) -> None:
        raise FileProblem(path, f"implausible measurements: {problem}", RERUN)

    if record.status == "finished" and not record.evals:
        refuse("a finished run without evaluations")
    for name, value in record.counters.items():
        if not isinstance(value, (int, float)) or not value >= 0:
            refuse(f"counters[{name!r}]={value!r} is not a non-negative number")
    last_step = -1
    for position, entry in enumerate(record.evals):
        error, step = entry.get("test_error"), entry.get("step")
        if not isinstance(error, (int, float)) or not 0.0 <= error <= 1.0:
            refuse(f"evals[{position}]['test_error']={error!r} is not an error rate in [0, 1]")
        if not isinstance(step, int) or step < last_step or step > record.counters.get("step", step):
            limit = record.counters.get("step")
            refuse(f"evals[{position}]['step']={step!r} is out of order or past the run's {limit} steps")
        last_step = step
    lengths = {name: len(column) for name, column in record.steps.items()}
    if len(set(lengths.values())) > 1:
        refuse(f"the step log's columns differ in length {lengths}")


def load_records(folder: str | Path, finished_only: bool = True) -> list[RunRecord]:
    """Every ``record.json`` under ``folder`` (only finished ones by default).

    Raises :class:`~lossprio.files.FileProblem` naming every unusable record at once.
    A run found in two folders (a copy, or a run two chapters both hold) is read once, from the
    first in path order, with one warning naming every copy left out.
    """
    records, problems, seen, twice = [], [], {}, []
    for path in sorted(Path(folder).glob("**/record.json")):
        try:
            record = RunRecord.load(path)
        except FileProblem as problem:
            problems.append(str(problem))
            continue
        if record.run_id in seen:
            twice.append(f"{record.run_id}: read from {seen[record.run_id]}, left out {path.parent}")
            continue
        seen[record.run_id] = path.parent
        records.append(record)
    if twice:
        warnings.warn(
            f"{len(twice)} record(s) left out, their runs already read from another folder (each run is read "
            "once, from the first folder in path order):\n  " + "\n  ".join(twice),
            RuntimeWarning,
            stacklevel=2,
        )
    if problems:
        raise FileProblem(folder, f"{len(problems)} unusable record(s):\n  " + "\n  ".join(problems))
    return [r for r in records if r.status == "finished" or not finished_only]


def migrate(folder: str | Path) -> int:
    """Bring every older ``record.json`` under ``folder`` to the current format; returns how many.

    Formats 1 and 2 hashed every setting into the run id; format 3 leaves out the settings the
    run's selector never reads (:func:`lossprio.identity.read_settings`), so such a record gets its
    new id and its folder that name (format 1 also lacked ``config_hash``, ``diverged`` and
    ``format``); a record whose config does not give its old id (edited or damaged) is refused.
    Format 4 moves the long lists into ``record.npz`` and adds the checksum, ``timing`` 1 (its
    wall clock included checkpoint writes) and unknown set-up costs. A format 4 record that stores
    the learning rate of every step where its config's schedule gives each exactly is repacked with
    the rates recomputed instead (:data:`DERIVED_RATES`). No measurement changes: each migrated
    record is read back and compared with what was read.
    """
    changed = 0
    for path in sorted(Path(folder).glob("**/record.json")):
        values = read_json(path)
        if not isinstance(values, dict):
            raise FileProblem(path, "not a run record", RERUN)
        missing = [k for k, kind in (("run_id", str), ("config", dict)) if not isinstance(values.get(k), kind)]
        if missing:
            raise FileProblem(path, f"has no {' and no '.join(missing)}: not a run record this can migrate", RERUN)
        if values.get("format", 1) == RECORD_FORMAT:
            changed += repack(path)
            continue
        if values.get("format", 1) < 3:
            values, path = to_format_3(values, path)
        values.update(format=RECORD_FORMAT, timing=1)
        record = RunRecord.from_dict(values, path)
        check_measurements(record, path)
        record.save(path)
        if RunRecord.load(path).state() != record.state():
            raise FileProblem(path, "did not read back as it was written: nothing was changed but this file", RERUN)
        changed += 1
    return changed


def repack(path: Path) -> bool:
    """Rewrite a current-format record whose stored rates its schedule recomputes (see :func:`migrate`)."""
    if DERIVED_RATES in packing.from_npz(require_regular(sidecar(path)).read_bytes()):
        return False
    record = RunRecord.load(path)
    if record.recomputed_rates() != record.steps.get("lr"):
        return False
    state = {k: v for k, v in record.state().items() if k != "checksum"}
    record.save(path)
    if {k: v for k, v in RunRecord.load(path).state().items() if k != "checksum"} != state:
        raise FileProblem(path, "did not read back as it was written: nothing was changed but this file", RERUN)
    return True


def to_format_3(values: dict[str, Any], path: Path) -> tuple[dict[str, Any], Path]:
    """A format 1 or 2 record as format 3 has it, in the folder named by its new run id."""
    from .config import TrainConfig

    every_setting = hashlib.sha256(json.dumps(values["config"], sort_keys=True, default=str).encode()).hexdigest()
    if not values["run_id"].endswith(every_setting[:10]):
        raise FileProblem(path, f"its config does not give its run id {values['run_id']}", RERUN)
    run_id = TrainConfig.from_dict(values["config"]).run_id
    values = {**values, "config_hash": config_hash(values["config"]), "run_id": run_id}
    values.setdefault("diverged", None)
    target = path.parent.parent / run_id
    if target != path.parent:
        if target.exists():
            raise FileProblem(path, f"its new run id {run_id} is taken by {target}", "keep one of the two")
        path.parent.rename(target)
    return values, target / path.name


@command
def main(argv: list[str] | None = None) -> None:
    """``python -m lossprio.records migrate FOLDER``: update old records in place."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["migrate"])
    parser.add_argument("folder", type=path_argument("dir"), help="a results folder (searched recursively)")
    args = parser.parse_args(argv)
    if not any(args.folder.glob("**/record.json")):
        parser.error(f"{str(args.folder)!r} holds no record.json (not a results folder?)")
    print(f"{migrate(args.folder)} record(s) migrated to format {RECORD_FORMAT} or repacked under {args.folder}")


if __name__ == "__main__":
    main()
