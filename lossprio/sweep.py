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
from typing import TYPE_CHECKING, TypeVar

# only what the command line's --help needs is imported here; torch and the chapters on first use
from .checks import int_argument, path_argument
from .cli import LAUNCHERS, Parser, chapter_modules, command
from .locks import Busy, exclusive, holder, waiting_message

if TYPE_CHECKING:
    from .config import TrainConfig
    from .records import RunRecord

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
            passes :func:`lossprio.layout.shared_cache_dir`).
    """
    import torch
    from tqdm.auto import tqdm

    from .layout import LOCK, done_in_any, run_folder
    from .train import run

    if threads is not None:
        torch.set_num_threads(threads)
    chosen = list(configs) if only is None else [k for k in only if k in configs]
    records: dict[Key, RunRecord] = done_in_any({k: configs[k] for k in chosen}, reuse)
    failures: dict[Key, tuple[Path, BaseException]] = {}

    def attempt(key: Key, wait: bool) -> None:
        try:
            records[key] = run(
                configs[key], out_dir, progress=progress, wait=wait, cache_dir=cache_dir, leave_bar=False
            )
        except Busy:
            raise
        except Exception as error:  # reported with the others at the end; KeyboardInterrupt still stops
            failures[key] = (run_folder(out_dir, configs[key].run_id), error)

    held_elsewhere = []
    to_run = [k for k in chosen if k not in records]
    if progress and to_run:
        tqdm.write(expected_time(to_run, records.values()))
    for key in tqdm(to_run, desc=f"runs in {out_dir}", unit="run", disable=not progress):
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


def expected_time(to_run: Sequence[Key], finished: Iterable[RunRecord]) -> str:
    """How long ``to_run`` should take, from the wall clock of the runs already finished."""
    seconds = [r.counters["wall_s"] for r in finished if r.counters.get("wall_s")]
    if not seconds:
        return f"{len(to_run)} run(s) to run (no finished run yet to time them by)"
    each = sum(seconds) / len(seconds)
    return (
        f"{len(to_run)} run(s) to run; the {len(seconds)} finished took {each:.0f} s each on average, so about "
        f"{len(to_run) * each / 60:.0f} min more in this process"
    )


def set_aside_busy(configs: Iterable[TrainConfig], out_dir: str | Path, old_timing: bool = False) -> list[Path]:
    """Move aside the finished records of ``configs`` whose wall-clock was measured on a busy
    machine (:attr:`RunRecord.timed_busy`), and with ``old_timing`` those timed by an older
    definition (:data:`lossprio.records.TIMING`), so the next sweep reruns them (their metrics
    come out the same; only the clock changes); runs another process holds are left alone."""
    from .files import FileProblem
    from .layout import LOCK, RECORD, run_folder
    from .records import TIMING, RunRecord, set_aside_record

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


#: the cluster launchers' options: default, least value (None: any text) and what each sets
CLUSTER_OPTIONS = {
    "partition": (None, None, "SLURM partition"),
    "gpus_per_run": (1, 0, "GPUs per job"),
    "cpus_per_run": (4, 1, "CPUs per job"),
    "max_parallel": (16, 1, "jobs of the array running at once"),
    "timeout_min": (
        24 * 60,
        1,
        "each job's time limit in minutes; a job that reaches it is requeued and resumes from its checkpoint",
    ),
}
#: the cluster launcher's flags and their defaults (refused with the local launcher, which ignores them)
CLUSTER_FLAGS = {name: default for name, (default, _, _) in CLUSTER_OPTIONS.items()}


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
    if args.json and not args.status:
        parser.error("--json prints --status as JSON: give both")
    if args.retime_old_timing and not args.retime_busy:
        parser.error("--retime-old-timing works with --retime-busy: give both")
    if args.launcher == "slurm" and shutil.which("sbatch") is None:
        parser.error("--launcher slurm: no sbatch on this machine (not a SLURM login node); use --launcher local")


def machine_busy() -> str:
    """Why this machine would time a run busy now (:func:`lossprio.records.busy_load`), or ``""``
    when it is quiet."""
    from .records import busy_load

    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    return f"the machine is busy (1-minute load {load:.1f} on {cores} cores)" if busy_load(load, cores) else ""


#: what ``--help`` says after the options
EPILOG = """examples:
  python -m lossprio.sweep tuned --profile cpu --out results/tuned/cpu --worker 0/2 &   # and --worker 1/2
  python -m lossprio.sweep tuned --profile cpu --out results/tuned/cpu --status

Records go to --out/<run id>/; IL models are cached in --cache-dir. A killed sweep resumes where it
stopped: rerun the same command."""


def build_parser() -> Parser:
    """The command line (light: chapter names are read off the package's files, torch is not imported)."""
    parser = Parser("lossprio.sweep", __doc__.split("\n\n")[0], EPILOG)
    parser.add_argument("chapter", choices=chapter_modules(), help="the chapter whose runs to run")
    parser.add_argument("--profile", default="smoke", help="one of the chapter's profiles: smoke, cpu or paper")
    parser.add_argument(
        "--out", required=True, type=path_argument(), help="records folder, e.g. results/<chapter>/<profile>"
    )
    parser.add_argument(
        "--cache-dir",
        type=path_argument(),
        default=None,
        help="where IL models are cached; default: in the book's layout (--out ROOT/<chapter>/<profile>) "
        "ROOT/cache, shared by the chapters on purpose, else --out/cache",
    )
    parser.add_argument(
        "--worker", default="0/1", type=worker_share, help="K/N: run every N-th run of the list, from the K-th"
    )
    parser.add_argument(
        "--seeds", type=int_argument(0), nargs="+", default=None, help="only these seeds of the profile (default: all)"
    )
    parser.add_argument(
        "--launcher",
        default="local",
        choices=list(LAUNCHERS),
        help="local: run here, in this process; slurm: submit a submitit job array; submitit-local: the same "
        "array as processes on this machine",
    )
    for name, (default, minimum, what) in CLUSTER_OPTIONS.items():
        shown = "the cluster default partition" if default is None else default
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=str if minimum is None else int_argument(minimum),
            default=None,  # given only with a cluster launcher (check_flags fills in the default)
            help=f"{what} (slurm and submitit-local launchers; default: {shown})",
        )
    parser.add_argument(
        "--status",
        action="store_true",
        help="print a table of the runs' states (finished, running, interrupted, diverged, missing), the runs not "
        "finished and the command that resumes them; run nothing",
    )
    parser.add_argument("--json", action="store_true", help="with --status: the table as JSON, for scripts")
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
    return parser


def resume_command(args: argparse.Namespace) -> str:
    """The command line that resumes this sweep (the same runs, the same folder)."""
    parts = ["python -m lossprio.sweep", args.chapter, "--profile", args.profile, "--out", str(args.out)]
    if args.worker != (0, 1):
        parts += ["--worker", "/".join(map(str, args.worker))]
    if args.seeds:
        parts += ["--seeds", *map(str, args.seeds)]
    if args.cache_dir is not None:
        parts += ["--cache-dir", str(args.cache_dir)]
    return " ".join(parts)


@command
def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_flags(parser, args)
    from . import chapters, launch
    from .layout import done_in_any, orphans, shared_cache_dir

    chapter = chapters.chapter(args.chapter)
    profiles = list(chapter.profiles)
    if args.profile not in profiles:
        parser.error(f"--profile {args.profile!r}: chapter {args.chapter} has profiles {profiles}")
    settings = chapter.profile(args.profile)
    configs = chapter.expand(settings)
    seeds = sorted({key.seed for key in configs})  # the settings' seeds, and any others its runs use (timing seeds)
    unknown_seeds = sorted(set(args.seeds or ()) - set(seeds))
    if unknown_seeds:
        parser.error(f"--seeds {unknown_seeds}: profile {args.profile!r} has seeds {seeds}")
    cache_dir = args.cache_dir or shared_cache_dir(args.out, args.chapter)
    k, n = args.worker
    keys = [key for key in list(configs)[k::n] if args.seeds is None or key.seed in args.seeds]
    reuse = chapter.reuse_dirs(args.out)
    reused = done_in_any({key: configs[key] for key in keys}, reuse)
    if reused and not args.json:
        print(f"{len(reused)} of the {len(keys)} runs are read from {', '.join(map(str, reuse))} (the same runs)")
    keys = [key for key in keys if key not in reused]
    chosen = {key: configs[key] for key in keys}
    if args.status:
        if not args.out.is_dir():
            parser.error(f"--out {str(args.out)!r} is not a folder: no run of this sweep has started there")
        rows = launch.status(chosen, args.out)
        others = orphans(configs, args.out) if args.worker == (0, 1) else []
        if args.json:
            print(launch.status_json(rows, reused=len(reused), resume=resume_command(args), orphans=others))
        else:
            print(launch.summarize(rows, args.out, resume_command(args), reused=len(reused), orphans=others))
        return
    if args.retime_busy:
        busy = machine_busy()
        if busy:
            parser.error(f"--retime-busy: {busy}; the runs would be timed busy again. Rerun it on a quiet machine")
        timed = [configs[k] for k in keys if chapter.reports_time(k)]
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
            cache_dir=str(cache_dir),
        )
        print(
            f"submitted {len(jobs)} job(s) for the {len(chosen)} runs ({len(chosen) - len(jobs)} already done); logs "
            f"in {Path(args.out) / 'submitit'}; watch with: {resume_command(args)} --status"
        )
        return
    start = time.perf_counter()
    try:
        run_all(configs, args.out, threads=settings.threads, only=keys, cache_dir=cache_dir)
    except SweepError as error:
        sys.exit(f"{error}\nrerun the same command to retry them: {resume_command(args)}")
    print(f"{len(keys)} runs finished or found in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
