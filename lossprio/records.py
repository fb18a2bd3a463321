"""Run records: a run's config, seed, commit, machine and measurements, written atomically as JSON."""
from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

PACKAGE_DIR = Path(__file__).resolve().parent


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader (or a kill) sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Atomic JSON write (UTF-8, compact separators)."""
    atomic_write_bytes(path, json.dumps(obj, separators=(",", ":")).encode())


def atomic_torch_save(obj: Any, path: Path) -> None:
    """Atomic ``torch.save``."""
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the checkout lossprio is imported from (``+dirty`` if it has changes), or ``unknown``.

    Read once per process, at the first run: the code a long sweep runs is the code it loaded,
    even if the checkout moves on while it runs.
    """
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lossprio"], cwd=PACKAGE_DIR.parent, capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_name(device: torch.device) -> str:
    """The GPU's name on CUDA, else the CPU's (or the machine architecture)."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()


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
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
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

    def save(self, path: Path) -> None:
        atomic_write_json(path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> "RunRecord":
        return cls(**json.loads(Path(path).read_text()))

    @property
    def best_test_error(self) -> float:
        return min(e["test_error"] for e in self.evals)

    @property
    def final_test_error(self) -> float:
        return self.evals[-1]["test_error"]


def load_records(folder: str | Path, finished_only: bool = True) -> list[RunRecord]:
    """Every ``record.json`` under ``folder``."""
    records = [RunRecord.load(p) for p in sorted(Path(folder).glob("**/record.json"))]
    return [r for r in records if r.status == "finished" or not finished_only]
