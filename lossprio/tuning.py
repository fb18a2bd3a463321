"""Write what the tuned-baseline chapter's tuning stage decided at a profile, read from its records,
into the package (``lossprio/chapters/tuned_lrs.json``): the chosen rates, the rates still to try
beyond the grid's edges, uniform's runner-up rates. The profile's runs then include those; sweep
and run this again until every cell is chosen::

    python -m lossprio.tuning --profile cpu --out results/tuned/cpu
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

from .chapters import tuned
from .checks import path_argument
from .cli import command


@command
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", choices=list(tuned.PROFILES))
    parser.add_argument(
        "--out", required=True, type=path_argument(), help="the records' folder (results/tuned/<profile>)"
    )
    args = parser.parse_args(argv)
    empty = dataclasses.replace(tuned.PROFILES[args.profile], chosen_lrs=(), runner_up_lrs=())
    settings = tuned.settle(empty, lambda s: tuned.CHAPTER.done_records(tuned.runs(s), args.out))
    tuned.write_choices(
        args.profile, settings.chosen_lrs, extended=settings.extended_lrs, runner_up=settings.runner_up_lrs
    )
    missing = len(tuned.tuned_cells(settings)) - len(settings.chosen_lrs)
    print(
        f"{len(settings.chosen_lrs)} learning rates chosen at profile {args.profile!r} into {tuned.CHOSEN_FILE}"
        + (f"; {len(settings.extended_lrs)} rates tried beyond the grid" if settings.extended_lrs else "")
        + (f"; {missing} cells still lack tuning records (run the sweep, then this again)" if missing else "")
    )


if __name__ == "__main__":
    main()
