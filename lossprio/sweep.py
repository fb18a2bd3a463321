"""Run many configs one after another, skipping finished ones: a killed sweep resumes where it stopped.

``python -m lossprio.sweep hu2021 --profile cpu --out results/hu2021/cpu`` runs a chapter's whole
grid; run it in the background and commit the records as they finish.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence, TypeVar

import torch
from tqdm.auto import tqdm

from . import experiments
from .config import TrainConfig
from .records import RunRecord
from .train import run

Key = TypeVar("Key")


def run_all(configs: Mapping[Key, TrainConfig], out_dir: str | Path, progress: bool = True, threads: int | None = None,
            only: Iterable[Key] | None = None) -> dict[Key, RunRecord]:
    """Run (or load, when finished) every config; returns the records by the same keys.

    Args:
        configs: runs by any key.
        out_dir: records folder.
        progress: a bar over the runs (each run's own bar is left off).
        threads: torch CPU threads to use (``None``: leave as is).
        only: keys to run, e.g. one worker's share; the others are skipped.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    chosen = list(configs) if only is None else [k for k in only if k in configs]
    records = {}
    for key in tqdm(chosen, desc=f"runs in {out_dir}", disable=not progress):
        records[key] = run(configs[key], out_dir, progress=False)
    return records


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", choices=["hu2021"])
    parser.add_argument("--profile", default="smoke", choices=list(experiments.PROFILES))
    parser.add_argument("--out", required=True)
    parser.add_argument("--worker", default="0/1", help="K/N: run every N-th config starting at the K-th")
    parser.add_argument("--seeds", type=int, nargs="*", default=None, help="only these seeds of the profile")
    args = parser.parse_args(argv)
    settings = experiments.hu2021_profile(args.profile)
    configs = experiments.hu2021_runs(settings)
    k, n = (int(v) for v in args.worker.split("/"))
    keys = [key for key in list(configs)[k::n] if args.seeds is None or key[-1] in args.seeds]
    start = time.perf_counter()
    run_all(configs, args.out, threads=settings.threads, only=keys)
    print(f"{len(keys)} runs finished or found in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
