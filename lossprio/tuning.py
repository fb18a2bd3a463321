"""Write the learning rates the tuned-baseline chapter's tuning stage chose at a profile, read from
its records, into the package (``lossprio/chapters/tuned_lrs.json``); the profile's runs then
include the final stage at those rates::

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
    settings = dataclasses.replace(tuned.PROFILES[args.profile], chosen_lrs=())
    chosen = tuned.choose_lrs(tuned.CHAPTER.done_records(tuned.runs(settings), args.out), settings)
    tuned.write_choices(args.profile, chosen)
    missing = len(tuned.tuned_cells(settings)) - len(chosen)
    print(
        f"{len(chosen)} learning rates chosen at profile {args.profile!r} into {tuned.CHOSEN_FILE}"
        + (f"; {missing} cells still lack tuning records" if missing else "")
    )


if __name__ == "__main__":
    main()
