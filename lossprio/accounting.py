"""What a training run counts and times: work counters, wall-clock per phase, per-step logs."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor

#: ``backward`` includes the optimizer step; ``probe`` is measurement time (lossprio.probes);
#: ``checkpoint`` the writes of checkpoints and records
PHASES = ("selection_forward", "selection", "train_forward", "backward", "evaluation", "probe", "checkpoint", "other")
#: phases that are not training: training wall-clock is the total less these
NOT_TRAINING = ("evaluation", "probe", "checkpoint")


@dataclass
class SetupCost:
    """What a run trained before its loop (an IL model, a proxy): wall clock, back-propagated
    examples, and whether it was read from a cache instead (then the seconds and backprops are
    those the cached model cost to train, plus the time to read and use it)."""

    seconds: float = 0.0
    backprops: int = 0
    cached: bool = False


@dataclass
class Counters:
    """Work done so far. Forwards and backprops count examples; steps count optimizer steps."""

    epoch: int = 0
    step: int = 0
    backprops: int = 0
    selection_forwards: int = 0
    training_forwards: int = 0
    candidates: int = 0
    resumes: int = 0
    wall_s: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU, whose ops run synchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # GPU only: never run by this project's CPU-only CI
    elif device.type == "mps":
        torch.mps.synchronize()  # Apple GPUs only: never run by CI


class PhaseClock:
    """Adds wall-clock per phase into ``counters.phase_seconds``; with ``sync``, waits for the device at
    the edges so each phase's time is its own (asynchronous devices would bill it to the next)."""

    def __init__(self, counters: Counters, device: torch.device, sync: bool) -> None:
        self.counters, self.device, self.sync = counters, device, sync
        self.segment_start = time.perf_counter()
        self.wall_at_start = counters.wall_s

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        if self.sync:
            synchronize(self.device)
        start = time.perf_counter()
        yield
        if self.sync:
            synchronize(self.device)
        self.counters.phase_seconds[phase] += time.perf_counter() - start

    def update_wall(self) -> None:
        """Set the total wall-clock (this segment plus earlier ones) and 'other' as the remainder."""
        self.counters.wall_s = self.wall_at_start + time.perf_counter() - self.segment_start
        named = sum(v for k, v in self.counters.phase_seconds.items() if k != "other")
        self.counters.phase_seconds["other"] = max(0.0, self.counters.wall_s - named)


#: the step log's columns, in its order
STEP_COLUMNS = ("step", "backprops", "lr", "batch", "loss", "corrupted_share")


class StepLog:
    """Per-step metrics; device values are kept as tensors and copied to the host in one go."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in STEP_COLUMNS}
        self.pending: list[Tensor] = []

    def add(self, step: int, backprops: int, lr: float, batch: int, loss: Tensor, corrupted_share: Tensor) -> None:
        for key, value in (("step", step), ("backprops", backprops), ("lr", lr), ("batch", batch)):
            self.columns[key].append(value)
        self.pending.append(torch.stack([loss.float(), corrupted_share.float()]))

    def flush(self) -> dict[str, list]:
        if self.pending:
            values = torch.stack(self.pending).cpu()
            self.columns["loss"] += [round(v, 6) for v in values[:, 0].tolist()]
            self.columns["corrupted_share"] += [round(v, 6) for v in values[:, 1].tolist()]
            self.pending = []
        return self.columns
