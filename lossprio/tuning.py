"""Write what a chapter's tuning stage decided at a profile, read from its records, beside them,
where the chapter's profiles read it. The tuned-baseline chapter (``results/tuned/tuned_lrs.json``
for ``--out results/tuned/<profile>``): the chosen rates, the rates still to try beyond the grid's
edges, uniform's runner-up rates; the profile's runs then include those; sweep and run this again
until every cell is chosen. The scaling chapter (``results/scaling/chosen_lrs.json``): each model
rung's rate, chosen by its pilot; the profile's grid then runs at those::

    python -m lossprio.tuning --profile cpu --out results/tuned/cpu
    python -m lossprio.tuning --chapter scaling --profile cpu --out results/scaling/cpu
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from .checks import path_argument
from .cli import PROFILE_NAMES, Parser, command


@command
def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser("lossprio.tuning", __doc__.split("\n\n")[0])
    parser.add_argument("--chapter", default="tuned", choices=["tuned", "scaling"], help="the chapter tuned")
    parser.add_argument("--profile", default="cpu", choices=list(PROFILE_NAMES), help="the profile tuned")
    parser.add_argument(
        "--out", required=True, type=path_argument(), help="the tuning records' folder: results/<chapter>/<profile>"
    )
    args = parser.parse_args(argv)
    if args.chapter == "scaling":
        choose_scaling(args.profile, args.out)
        return
    from .chapters import tuned

    target = args.out.parent / tuned.CHOSEN_FILE.name
    empty = dataclasses.replace(tuned.PROFILES[args.profile], chosen_lrs=(), runner_up_lrs=())
    settings = tuned.settle(empty, lambda s: tuned.CHAPTER.done_records(tuned.runs(s), args.out))
    tuned.write_choices(
        args.profile, settings.chosen_lrs, target, extended=settings.extended_lrs, runner_up=settings.runner_up_lrs
    )
    missing = len(tuned.tuned_cells(settings)) - len(settings.chosen_lrs)
    print(
        f"{len(settings.chosen_lrs)} learning rates chosen at profile {args.profile!r} into {target}"
        + (f"; {len(settings.extended_lrs)} rates tried beyond the grid" if settings.extended_lrs else "")
        + (f"; {missing} cells still lack tuning records (run the sweep, then this again)" if missing else "")
        + ("" if target.resolve() == tuned.CHOSEN_FILE else f" (the chapter's profiles read {tuned.CHOSEN_FILE})")
    )


def choose_scaling(profile: str, out: Path) -> None:
    """The scaling chapter's pilot choices at ``profile``, from the records in ``out``."""
    from .chapters import scaling

    target = out.parent / scaling.CHOSEN_FILE.name
    empty = dataclasses.replace(scaling.PROFILES[profile], chosen_lrs=())
    records = scaling.CHAPTER.done_records(scaling.runs(empty), out)
    chosen = scaling.choose_lrs(records, empty)
    scaling.write_choices(profile, chosen, target)
    missing = len(empty.rungs) - len(chosen)
    print(
        f"{len(chosen)} learning rates chosen at profile {profile!r} into {target}"
        + (f"; {missing} rungs still lack pilot records (run the sweep, then this again)" if missing else "")
    )


if __name__ == "__main__":
    main()
