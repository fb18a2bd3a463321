"""Advisory file locks, so that any number of processes can share one results folder.

A lock is ``flock`` on a small file that records who holds it (host, pid, since when). The
kernel releases it when the holder exits, killed or not, so a crashed worker never leaves a
run locked. (On network file systems ``flock`` works where the mount supports it, as NFSv4 does.)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class Busy(RuntimeError):
    """The lock is held by another process (and the caller asked not to wait)."""

    def __init__(self, path: Path, holder: dict[str, Any] | None) -> None:
        self.path, self.holder = path, holder
        since = holder.get("since") if holder else None
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(since)) if isinstance(since, (int, float)) else since
        who = f"host {holder.get('host')}, pid {holder.get('pid')}, since {when}" if holder else "another process"
        super().__init__(f"{path} is held by {who}")


def holder(path: Path) -> dict[str, Any] | None:
    """Who holds the lock at ``path`` (host, pid, since: epoch seconds), or ``None`` when it is free."""
    if not Path(path).exists():
        return None
    with open(path, "a+") as stream:
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            stream.seek(0)
            try:
                return json.loads(stream.read() or "{}")
            except json.JSONDecodeError:
                return {}
        fcntl.flock(stream.fileno(), fcntl.LOCK_UN)
        return None


@contextlib.contextmanager
def exclusive(path: str | Path, wait: bool = True, on_wait: Any = None) -> Iterator[None]:
    """Hold the lock at ``path`` for the ``with`` block.

    Args:
        path: the lock file (created if missing, never deleted: deleting lock files races).
        wait: block until the lock is free; ``False`` raises :class:`Busy` at once instead.
        on_wait: called with the :class:`Busy` error before blocking (e.g. to tell the user).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy = Busy(path, _read(descriptor))
            if not wait:
                raise busy from None
            if on_wait is not None:
                on_wait(busy)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.ftruncate(descriptor, 0)
        os.pwrite(
            descriptor, json.dumps({"host": platform.node(), "pid": os.getpid(), "since": time.time()}).encode(), 0
        )
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _read(descriptor: int) -> dict[str, Any] | None:
    try:
        return json.loads(os.pread(descriptor, 4096, 0) or b"{}")
    except json.JSONDecodeError:
        return None


def waiting_message(run_id: str, busy: Busy) -> str:
    """What a process says while it waits for the one training ``run_id`` (host, pid, since when),
    and how to stop waiting."""
    pid = busy.holder.get("pid") if busy.holder else None
    stop = f"`kill {pid}` on that host stops it, and the next sweep resumes the run from its checkpoint" if pid else ""
    return (
        f"{run_id}: waiting for the process training it ({busy}); its record is used once it finishes. "
        f"Ctrl-C stops waiting (the run stays with that process){'; ' + stop if stop else ''}"
    )
