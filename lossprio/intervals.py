"""Whether a verdict survives dropping any one seed (the dashboard's robustness column); the
intervals themselves are :mod:`lossprio.compare`'s."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

from .records import RunRecord


def without_seed(records: Mapping[Hashable, RunRecord], seed: int) -> dict[Hashable, RunRecord]:
    """``records`` less the runs of ``seed`` (run keys with a ``seed`` field)."""
    return {key: record for key, record in records.items() if key.seed != seed}


def seed_drops(
    records: Mapping[Hashable, RunRecord], verdicts: Callable[[Mapping[Hashable, RunRecord]], Sequence[str]]
) -> list[tuple[int, int]]:
    """Per claim: (how many of the single-seed drops keep its verdict, how many seeds there are).
    ``verdicts`` maps records to the claims' verdicts (e.g. a chapter's claims)."""
    seeds = sorted({key.seed for key in records})
    full = list(verdicts(records))
    kept = [0] * len(full)
    for seed in seeds:
        for position, found in enumerate(verdicts(without_seed(records, seed))):
            kept[position] += found == full[position]
    return [(k, len(seeds)) for k in kept]


def describe_drops(kept: int, seeds: int) -> str:
    """``"5/5 seed drops"``: how many single-seed drops keep a verdict."""
    return f"{kept}/{seeds} seed drops"
