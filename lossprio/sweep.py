"""Run many configs one after another, skipping finished ones: a killed sweep resumes where it stopped.

``python -m lossprio.sweep jiang2019 --profile cpu --out results/jiang2019/cpu`` runs a chapter's whole
grid; run it in the background and commit the records as they finish. Any number of sweeps
(``--worker K/N`` splits, or the same grid twice) can share one folder: a run another process
holds is skipped and read once that process has finished it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import torch
from tqdm.auto import tqdm

from . import chapters, launch
from .checks import int_argument, path_argument
from .cli import command
from .config import TrainConfig
from .locks import Busy, exclusive, holder
from .records import TIMING, RunRecord, busy_load, set_aside_record
from .storage import FileProblem
from .store import LOCK, RECORD, done_in_any, orphans, run_folder, shared_cache_dir
from .train import run, waiting_message

Key = TypeVar("Key")


class SweepError(RuntimeError):
    """Some runs of a sweep failed; every other run was still run. ``failures`` maps keys to errors."""

    def __init__(self, failures: Mapping[object, tuple[Path, BaseException]]) -> None:
        self.failures = dict(failures)
        lines = [f"{path}: {type(error).__name__}: {error}" for path, error in self.failures.values()]
        super().__init__(f"{len(lines)} run(s) failed (the others finished):\n  " + "\n  ".join(lines))


def run_all(
    configs: Mapping[Key, TrainConfig],
    out_dir: str | Path,
    progress: bool = True,
    threads: int | None = None,
    only: Iterable[Key] | None = None,
    reuse: Sequence[str | Path] = (),
    cache_dir: str | Path | None = None,
) -> dict[Key, RunRecord]:
    """Run (or load, when finished) every config; returns the records by the same keys.

    A run that fails does not stop the others: :class:`SweepError` lists every failure, with
    its folder, once all have been tried. Diverged runs are not failures; they are returned
    (status ``diverged``) and listed at the end.

    Args:
        configs: runs by any key.
        out_dir: records folder.
        progress: a bar over the runs (each run's own bar is left off).
        threads: torch CPU threads to use (``None``: leave as is).
        only: keys to run, e.g. one worker's share; the others are skipped.
        reuse: other records folders (another chapter's): a config whose finished record is
            there is read from there, not run again.
        cache_dir: where the runs cache IL models (default ``out_dir/cache``; a chapter's sweep
            passes :func:`lossprio.store.shared_cache_dir`).
    """
    if threads is not None:
        torch.set_num_threads(threads)
    chosen = list(configs) if only is None else [k for k in only if k in configs]
    records: dict[Key, RunRecord] = done_in_any({k: configs[k] for k in chosen}, reuse)
    failures: dict[Key, tuple[Path, BaseException]] = {}

    def attempt(key: Key, wait: bool) -> None:
        try:
            records[key] = run(configs[key], out_dir, progress=False, wait=wait, cache_dir=cache_dir)
        except Busy:
            raise
        except Exception as error:  # reported with the others at the end; KeyboardInterrupt still stops
            failures[key] = (run_folder(out_dir, configs[key].run_id), error)

    held_elsewhere = []
    for key in tqdm([k for k in chosen if k not in records], desc=f"runs in {out_dir}", disable=not progress):
        try:
            attempt(key, wait=False)
        except Busy:
            held_elsewhere.append(key)  # another process trains it: come back when the rest are done
    for key in tqdm(held_elsewhere, desc="runs other processes hold", disable=not progress or not held_elsewhere):
        lock = run_folder(out_dir, configs[key].run_id) / LOCK
        held = holder(lock)
        if held is not None:  # said with or without bars: a wait must never be silent
            tqdm.write(waiting_message(configs[key].run_id, Busy(lock, held)))
        attempt(key, wait=True)
    diverged = [records[k] for k in chosen if k in records and records[k].status == "diverged"]
    if diverged and progress:
        tqdm.write(f"{len(diverged)} run(s) diverged:\n  " + "\n  ".join(r.diverged["message"] for r in diverged))
    if failures:
        raise SweepError(failures)
    return {k: records[k] for k in chosen}


def set_aside_busy(configs: Iterable[TrainConfig], out_dir: str | Path, old_timing: bool = False) -> list[Path]:
    """Move aside the finished records of ``configs`` whose wall-clock was measured on a busy
    machine (:attr:`RunRecord.timed_busy`), and with ``old_timing`` those timed by an older
    definition (:data:`lossprio.records.TIMING`), so the next sweep reruns them (their metrics
    come out the same; only the clock changes); runs another process holds are left alone."""
    moved = []
    for config in configs:
        folder = run_folder(out_dir, config.run_id)
        path = folder / RECORD
        if not path.exists():
            continue
        try:
            with exclusive(folder / LOCK, wait=False):
                record = RunRecord.load(path)
                if record.timed_busy:
                    moved.append(set_aside_record(path, "timed while the machine was busy (load above its cores)"))
                elif old_timing and record.timing < TIMING:
                    moved.append(set_aside_record(path, f"timed by an older definition (timing {record.timing})"))
        except (Busy, FileProblem):
            continue
    return moved


def worker_share(text: str) -> tuple[int, int]:
    """argparse type for ``--worker K/N``: 0 <= K < N."""
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected K/N with whole numbers, e.g. 0/2") from None
    if n < 1 or not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"{text!r}: need N >= 1 and 0 <= K < N (worker K of N), e.g. 0/2 and 1/2")
    return k, n


#: the cluster launcher's flags and their defaults (refused with the local launcher, which ignores them)
CLUSTER_FLAGS = {"partition": None, "gpus_per_run": 1, "cpus_per_run": 4, "max_parallel": 16, "timeout_min": 24 * 60}


def check_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, by name, flags that do not apply together (``parser.error``: one line, exit 2);
    fill in the cluster flags' defaults."""
    given = [name for name in CLUSTER_FLAGS if getattr(args, name) is not None]
    if args.launcher == "local" and given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        parser.error(f"{flags}: only for --launcher slurm or submitit-local (the local launcher runs here)")
    for name, default in CLUSTER_FLAGS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.status and (args.retime_busy or args.launcher != "local"):
        parser.error("--status only lists the runs: give it without --retime-busy and --launcher")
    if args.retime_old_timing and not args.retime_busy:
        parser.error("--retime-old-timing works with --retime-busy: give both")
    if args.launcher == "slurm" and shutil.which("sbatch") is None:
        parser.error("--launcher slurm: no sbatch on this machine (not a SLURM login node); use --launcher local")


def machine_busy() -> str:
    """Why this machine would time a run busy now (:func:`lossprio.records.busy_load`), or ``""``
    when it is quiet."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    return f"the machine is busy (1-minute load {load:.1f} on {cores} cores)" if busy_load(load, cores) else ""


@command
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", choices=chapters.chapter_names() + chapters.draft_names())
    parser.add_argument("--profile", default="smoke", help="one of the chapter's profiles (smoke, cpu, paper, …)")
    parser.add_argument("--out", required=True, type=path_argument())
    parser.add_argument(
        "--worker", default=(0, 1), type=worker_share, help="K/N: run every N-th config starting at the K-th"
    )
    parser.add_argument(
        "--seeds", type=int_argument(0), nargs="+", default=None, help="only these seeds of the profile"
    )
    parser.add_argument(
        "--launcher",
        default="local",
        choices=list(launch.LAUNCHERS),
        help="local: run here, in this process; slurm: submit a submitit job array; submitit-local: the same "
        "array as processes on this machine",
    )
    parser.add_argument("--partition", default=None, help="SLURM partition (slurm launcher)")
    parser.add_argument("--gpus-per-run", type=int_argument(0), default=None, help="GPUs per job (slurm launcher)")
    parser.add_argument("--cpus-per-run", type=int_argument(1), default=None, help="CPUs per job (slurm launcher)")
    parser.add_argument(
        "--max-parallel", type=int_argument(1), default=None, help="jobs of the array running at once (slurm launcher)"
    )
    parser.add_argument(
        "--timeout-min",
        type=int_argument(1),
        default=None,
        help="each job's time limit in minutes; a job that reaches it is requeued and resumes from its checkpoint",
    )
    parser.add_argument(
        "--status", action="store_true", help="list finished, running, interrupted, diverged and missing runs, and stop"
    )
    parser.add_argument(
        "--retime-busy",
        action="store_true",
        help="move aside finished records timed while the machine was busy (load above its cores) and rerun them "
        "(only runs whose wall clock the chapter reports)",
    )
    parser.add_argument(
        "--retime-old-timing",
        action="store_true",
        help="with --retime-busy: also rerun records timed by an older wall-clock definition (checkpoint writes "
        "inside training time), so that a chapter's comparisons use one definition",
    )
    args = parser.parse_args(argv)
    check_flags(parser, args)
    profiles = list(chapters.chapter(args.chapter).profiles)
    if args.profile not in profiles:
        parser.error(f"--profile {args.profile!r}: chapter {args.chapter} has profiles {profiles}")
    settings = chapters.chapter(args.chapter).profile(args.profile)
    configs = chapters.chapter(args.chapter).expand(settings)
    unknown_seeds = sorted(set(args.seeds or ()) - set(settings.seeds))
    if unknown_seeds:
        parser.error(f"--seeds {unknown_seeds}: profile {args.profile!r} has seeds {list(settings.seeds)}")
    k, n = args.worker
    keys = [key for key in list(configs)[k::n] if args.seeds is None or key.seed in args.seeds]
    reuse = chapters.chapter(args.chapter).reuse_dirs(args.out)
    reused = done_in_any({key: configs[key] for key in keys}, reuse)
    if reused:
        print(f"{len(reused)} of the {len(keys)} runs are read from {', '.join(map(str, reuse))} (the same runs)")
        keys = [key for key in keys if key not in reused]
    chosen = {key: configs[key] for key in keys}
    if args.status:
        if not args.out.is_dir():
            parser.error(f"--out {str(args.out)!r} is not a folder: no run of this sweep has started there")
        print(launch.summarize(launch.status(chosen, args.out)))
        others = orphans(configs, args.out)
        if others and args.worker == (0, 1):
            print(
                f"{len(others)} record(s) in {args.out} are not runs of this profile (an earlier grid, or another "
                "profile's): " + ", ".join(p.name for p in others[:5]) + (" …" if len(others) > 5 else "")
            )
        return
    if args.retime_busy:
        busy = machine_busy()
        if busy:
            parser.error(f"--retime-busy: {busy}; the runs would be timed busy again. Rerun it on a quiet machine")
        timed = [configs[k] for k in keys if chapters.chapter(args.chapter).reports_time(k)]
        moved = set_aside_busy(timed, args.out, args.retime_old_timing)
        print(f"{len(moved)} record(s) moved aside to be rerun (re-timed)")
    if args.launcher != "local":
        jobs = launch.submit(
            chosen,
            args.out,
            args.launcher,
            args.partition,
            args.gpus_per_run,
            args.cpus_per_run,
            args.max_parallel,
            args.timeout_min,
            threads=settings.threads,
            cache_dir=str(shared_cache_dir(args.out)),
        )
        print(
            f"submitted {len(jobs)} job(s) for the {len(chosen)} runs ({len(chosen) - len(jobs)} already done); logs "
            "in "
            f"{Path(args.out) / 'submitit'}; watch with: python -m lossprio.sweep {args.chapter} --profile "
            f"{args.profile} "
            f"--out {args.out} --status"
        )
        return
    start = time.perf_counter()
    try:
        run_all(configs, args.out, threads=settings.threads, only=keys, cache_dir=shared_cache_dir(args.out))
    except SweepError as error:
        sys.exit(f"{error}\nrerun the same command to retry them")
    print(f"{len(keys)} runs finished or found in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
