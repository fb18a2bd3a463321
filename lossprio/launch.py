"""Sweeps beyond one machine: a chapter's unfinished runs as a submitit job array (SLURM, or
submitit's local executor), every job calling the same :func:`lossprio.train.run` into one
shared results folder.

Jobs coordinate only through that folder: the per-run lock means any mix of SLURM jobs, local
workers and notebook sessions never trains a run twice. A preempted or timed-out job is
requeued by submitit and resumes from the run's last epoch checkpoint, so it loses at most an
epoch. submitit is an optional dependency (``pip install 'lossprio[cluster]'``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import cli
from .config import TrainConfig
from .layout import CHECKPOINT, LOCK, RECORD, run_folder, unfinished
from .records import RunRecord
from .train import CHECKPOINT_EVERY_S, run

LAUNCHERS = cli.LAUNCHERS


def require_submitit() -> Any:
    """The submitit module, or an ``ImportError`` that says how to get it."""
    try:
        import submitit
    except ImportError as error:
        raise ImportError(
            "--launcher slurm and submitit-local need submitit: pip install 'lossprio[cluster]'"
        ) from error
    return submitit


@dataclass
class RunJob:
    """One job: train one config into the shared folder. Its :meth:`checkpoint` is submitit's
    preemption hook: it requeues the same call, which resumes from the run's checkpoint."""

    config: dict[str, Any]
    out_dir: str
    threads: int | None = None
    cache_dir: str | None = None
    checkpoint_every_s: float = CHECKPOINT_EVERY_S

    def __call__(self) -> str:
        import torch

        if self.threads is not None:
            torch.set_num_threads(self.threads)
        config = TrainConfig.from_dict(self.config)
        every = self.checkpoint_every_s
        return run(
            config, self.out_dir, progress=False, wait=True, cache_dir=self.cache_dir, checkpoint_every_s=every
        ).status

    def checkpoint(self) -> Any:
        from submitit.helpers import DelayedSubmission

        return DelayedSubmission(
            RunJob(self.config, self.out_dir, self.threads, self.cache_dir, self.checkpoint_every_s)
        )


def submit(
    configs: Mapping[Any, TrainConfig],
    out_dir: str | Path,
    launcher: str = "slurm",
    partition: str | None = None,
    gpus_per_run: int = 1,
    cpus_per_run: int = 4,
    max_parallel: int = 16,
    timeout_min: float = 24 * 60,
    threads: int | None = None,
    max_requeues: int = 5,
    cache_dir: str | None = None,
    checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    **executor_parameters: Any,
) -> list[Any]:
    """Submit every unfinished run of ``configs`` as one job of a submitit job array; returns the jobs.

    Args:
        launcher: ``slurm`` or ``submitit-local`` (separate processes on this machine: for tests).
        partition: the SLURM partition (``None``: the cluster's default).
        gpus_per_run, cpus_per_run: resources of each job.
        max_parallel: how many of the array's jobs run at once (SLURM's ``%`` limit).
        timeout_min: each job's time limit in minutes (whole minutes on SLURM); a job that
            reaches it is requeued and resumes.
        max_requeues: how often a job may be requeued after preemption or timeout.
        cache_dir: where the jobs cache IL models (default: each run's ``out_dir/cache``).
        checkpoint_every_s: seconds between a run's checkpoints (:func:`lossprio.train.run`).
        executor_parameters: passed to ``executor.update_parameters`` (e.g. ``slurm_mem`` for SLURM,
            ``signal_delay_s`` for the local executor).
    """
    if launcher not in LAUNCHERS[1:]:
        raise ValueError(f"launcher={launcher!r} is not allowed here; choose one of {list(LAUNCHERS[1:])}")
    submitit = require_submitit()
    folder = Path(out_dir) / "submitit" / "%j"
    name = f"lossprio-{Path(out_dir).name}"
    if launcher == "slurm":
        executor = submitit.AutoExecutor(folder=folder, cluster="slurm", slurm_max_num_timeout=max_requeues)
        executor.update_parameters(
            name=name,
            timeout_min=int(timeout_min),
            gpus_per_node=gpus_per_run,
            cpus_per_task=cpus_per_run,
            slurm_array_parallelism=max_parallel,
            **({"slurm_partition": partition} if partition else {}),
            **executor_parameters,
        )
    else:  # the local executor takes fractions of a minute and its own signal delay
        executor = submitit.LocalExecutor(folder=folder, max_num_timeout=max_requeues)
        executor.update_parameters(timeout_min=timeout_min, **executor_parameters)
    todo = unfinished(configs, out_dir).values()
    jobs = [RunJob(c.to_dict(), str(out_dir), threads, cache_dir, checkpoint_every_s) for c in todo]
    if not jobs:
        return []
    with executor.batch():
        submitted = [executor.submit(job) for job in jobs]
    return submitted


def status(configs: Mapping[Any, TrainConfig], out_dir: str | Path) -> list[dict[str, Any]]:
    """Per run: its key, run id and state — ``finished``, ``diverged``, ``running`` (with the lock
    holder and its age in seconds), ``interrupted`` (a checkpoint, nobody running it),
    ``unreadable`` (damaged, edited or implausible: the checks the sweep makes), ``foreign``
    (another config's record) or ``missing``."""
    import time

    from .locks import holder

    rows = []
    for key, config in configs.items():
        folder = run_folder(out_dir, config.run_id)
        row: dict[str, Any] = {"run": key, "run_id": config.run_id, "state": "missing", "detail": ""}
        held = holder(folder / LOCK)
        if held is not None:
            row.update(
                state="running",
                detail=f"host {held.get('host')}, pid {held.get('pid')}, "
                f"lock held {time.time() - held.get('since', time.time()):.0f} s",
            )
        elif (folder / RECORD).exists():
            try:
                record = RunRecord.load(folder / RECORD)
                row.update(
                    state=record.status if record.done else "interrupted", detail=f"{record.epochs_done} epochs done"
                )
                if record.status == "diverged":
                    row["detail"] = record.diverged["message"]
                if record.config_hash != config.config_hash:
                    row.update(state="foreign", detail=f"the record is run {record.run_id}'s (the sweep sets it aside)")
            except ValueError as problem:
                row.update(state="unreadable", detail=f"{problem} (the sweep sets it aside and reruns)")
        elif (folder / CHECKPOINT).exists():
            row.update(state="interrupted")
        rows.append(row)
    return rows


def state_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many of :func:`status`'s rows are in each state, in the order states first appear."""
    return dict(Counter(row["state"] for row in rows))


def summarize(
    rows: Sequence[Mapping[str, Any]],
    out_dir: str | Path = "",
    resume: str = "",
    reused: int = 0,
    orphans: Sequence[Path] = (),
) -> str:
    """A table of counts by state, the runs that are not finished (state, run id, detail), and
    what to do next: the command that resumes them."""
    counts = state_counts(rows)
    width = max([len(state) for state in counts] + [len("state")])
    lines = [f"runs in {out_dir}" if out_dir else "runs", f"  {'state':<{width}}  runs"]
    lines += [f"  {state:<{width}}  {n}" for state, n in sorted(counts.items())]
    if reused:
        lines.append(f"  {'shared':<{width}}  {reused}  (finished, read from the chapters this one reuses)")
    waiting = [row for row in rows if row["state"] != "finished"]
    if waiting:
        lines.append(f"not finished ({len(waiting)}):")
        lines += [f"  {row['state']:<{width}}  {row['run_id']}  {row['detail']}".rstrip() for row in waiting]
        if resume:
            lines.append(f"resume them with: {resume}")
    else:
        lines.append("every run is finished")
    if orphans:
        names = ", ".join(p.name for p in orphans[:5]) + (" …" if len(orphans) > 5 else "")
        lines.append(
            f"{len(orphans)} record(s) here are not runs of this profile (an earlier grid, or another "
            f"profile's): {names}"
        )
    return "\n".join(lines)


def status_json(
    rows: Sequence[Mapping[str, Any]], reused: int = 0, resume: str = "", orphans: Sequence[Path] = ()
) -> str:
    """:func:`status` as JSON for scripts: counts by state, every run (key, run id, state, detail),
    the runs read from other chapters' folders, the resume command and the orphaned records."""
    import json

    counts = state_counts(rows)
    runs = [
        {
            "key": list(row["run"]) if isinstance(row["run"], tuple) else str(row["run"]),
            "run_id": row["run_id"],
            "state": row["state"],
            "detail": row["detail"],
        }
        for row in rows
    ]
    return json.dumps(
        {"counts": counts, "shared": reused, "runs": runs, "resume": resume, "orphans": [p.name for p in orphans]},
        indent=1,
        default=str,
    )
