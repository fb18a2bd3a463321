"""Files that survive a kill and are checked before use.

Every write is atomic (a reader, or a process killed mid-write, sees the old file or the new,
never half of one); tensor files carry a SHA-256 of their payload and load with
``torch.load(weights_only=True)``, so a damaged file is detected rather than used and a planted
one cannot run code; a file that cannot be used is moved aside, never deleted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

TEMPORARY_SUFFIX = ".tmp"
TENSOR_MAGIC = b"LOSSPRIO-TENSORS\n"


class FileProblem(ValueError):
    """A file that cannot be used: damaged, of another format, or belonging to another run.

    Attributes:
        path: the file.
        problem: what is wrong with it.
        advice: what to do about it.
    """

    def __init__(self, path: str | Path, problem: str, advice: str = "") -> None:
        self.path, self.problem, self.advice = Path(path), problem, advice
        super().__init__(f"{path}: {problem}" + (f"; {advice}" if advice else ""))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader (or a kill) sees the old file or the new, never half.

    The temporary file is ``.<name>.<random>.tmp`` beside the target; one left by a killed
    write is removed by :func:`remove_temporaries` the next time its folder is used.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    try:
        os.fchmod(handle, FILE_MODE & ~current_umask())  # mkstemp's 0600 would hide records from a group
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


#: what a written file's mode is before the umask: readable by everyone the umask allows (a
#: shared results folder on a cluster), as ``open()`` would create it
FILE_MODE = 0o666


def current_umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def require_regular(path: Path) -> Path:
    """``path``, or :class:`FileProblem` if it exists and is not a regular file (a FIFO would
    block the reader forever, a device would feed it garbage)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "a FIFO" if stat.S_ISFIFO(path.stat().st_mode) else "a special file"
        raise FileProblem(path, f"is {kind}, not a regular file", "remove it; a run writes its own files there")
    return path


def atomic_write_json(path: Path, obj: Any) -> None:
    """Atomic JSON write (UTF-8, compact separators)."""
    atomic_write_bytes(path, json.dumps(obj, separators=(",", ":")).encode())


def remove_temporaries(folder: Path, name: str = "*") -> list[Path]:
    """Delete what killed :func:`atomic_write_bytes` calls left in ``folder`` for files matching ``name``.

    Call it only while holding the lock that guards those files, so no live write is removed.
    """
    removed = [p for p in Path(folder).glob(f".{name}.*{TEMPORARY_SUFFIX}") if p.is_file()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def read_json(path: Path) -> Any:
    """Parsed JSON; :class:`FileProblem` naming the file if it is empty, truncated or garbled."""
    try:
        return json.loads(require_regular(path).read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FileProblem(path, f"not valid JSON ({type(error).__name__}: {error})") from error


def save_tensors(obj: Any, path: Path, **meta: Any) -> None:
    """Atomically write ``obj`` (plain containers of tensors, numbers and strings) with a checksum.

    The file is a magic line, a JSON header (``meta`` and the payload's SHA-256) and the
    ``torch.save`` payload; :func:`load_tensors` checks all three.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    payload = buffer.getvalue()
    header = json.dumps({**meta, "sha256": hashlib.sha256(payload).hexdigest()}, sort_keys=True).encode()
    atomic_write_bytes(path, TENSOR_MAGIC + header + b"\n" + payload)


def read_tensor_header(path: Path) -> tuple[dict[str, Any], bytes]:
    """(header, payload) of a :func:`save_tensors` file, the payload verified against its checksum."""
    data = require_regular(path).read_bytes()
    if not data.startswith(TENSOR_MAGIC):
        raise FileProblem(path, "not a lossprio tensor file (empty, truncated, or written by another program)")
    header_line, newline, payload = data[len(TENSOR_MAGIC) :].partition(b"\n")
    try:
        header = json.loads(header_line)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FileProblem(path, f"damaged header ({error})") from error
    if not newline or not isinstance(header, dict) or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise FileProblem(path, "damaged: its contents do not match their checksum (truncated or altered)")
    return header, payload


def load_tensors(path: Path, map_location: str | torch.device = "cpu") -> tuple[dict[str, Any], Any]:
    """(header, object) of a :func:`save_tensors` file, loaded with ``weights_only=True``."""
    header, payload = read_tensor_header(path)
    try:
        obj = torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for unsafe or unreadable payloads
        lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [""]
        reason = next((line for line in lines if "Unsupported global" in line), lines[0])
        raise FileProblem(path, f"cannot be loaded safely ({type(error).__name__}: {reason})") from error
    return header, obj


def set_aside(path: Path, reason: str) -> Path:
    """Rename an unusable file to ``<name>.rejected-<UTC time>`` beside it, warn, and return the new path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.rejected-{stamp}")
    os.replace(path, target)
    warnings.warn(f"{path}: {reason}; moved aside to {target.name} and recomputing", RuntimeWarning, stacklevel=2)
    return target
