"""Run the book's notebooks with papermill at a named profile, into a folder of their own.

``python -m lossprio.reproduce --profile cpu`` (or ``make reproduce PROFILE=cpu``) executes every
notebook of ``notebooks/``, giving each the parameters it declares of ``profile``, ``progress``,
``results_dir`` (its chapter's records) and ``results_root`` (every chapter's), writes the
executed copies into ``reproduced/<profile>/`` (atomically: a killed run leaves the old page; with
``--in-place``, or ``make reproduce-in-place``, into the book's own ``book/``) and the run records
into ``results/<chapter>/<profile>/``. Runs whose records exist are read, not retrained, so a killed
reproduction resumes where it stopped.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# only what the command line's --help needs is imported here; the chapters and papermill on first use
from .checks import check_choice, path_argument
from .cli import PROFILE_NAMES, Parser, chapter_modules, command
from .locks import Busy, exclusive

ROOT = Path(__file__).resolve().parents[1]
#: pages that read every chapter's records: executed after the chapters
SUMMARIES = ("intro", "run_it_yourself")


def notebook_parameters(path: Path) -> set[str]:
    """Names in a notebook's ``parameters`` cell."""
    import papermill

    return set(papermill.inspect_notebook(str(path)))


def execution_order(notebook: Path) -> tuple[bool, bool, str]:
    """Sort key: chapters first, those that reuse other chapters' records after them, then the summaries."""
    from . import chapters

    reuses = notebook.stem in chapters.chapter_names() and bool(chapters.chapter(notebook.stem).reuses)
    return notebook.stem in SUMMARIES, reuses, notebook.stem


def reproduce(
    profile: str,
    notebooks: Sequence[str] | None = None,
    notebook_dir: Path = ROOT / "notebooks",
    book_dir: Path = ROOT / "book",
    results_dir: Path = ROOT / "results",
    progress: bool = True,
) -> list[Path]:
    """Execute the notebooks (all, or those named) at ``profile``; returns the executed copies' paths."""
    import nbformat
    import papermill

    from .notebook import fold_injected_parameters

    check_choice("profile", profile, list(PROFILE_NAMES))  # before any kernel starts
    sources = (
        sorted(notebook_dir.glob("*.ipynb"), key=execution_order)
        if not notebooks
        else [notebook_dir / f"{n}.ipynb" for n in notebooks]
    )
    missing = [str(p) for p in sources if not p.exists()]
    if missing:
        raise ValueError(
            f"notebooks={list(notebooks or [])}: no such notebook {missing}; have "
            f"{sorted(p.stem for p in notebook_dir.glob('*.ipynb'))}"
        )
    book_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_copies(book_dir)
    written = []
    for source in sources:
        names = notebook_parameters(source)
        # paths relative to the notebook's folder, so no machine's absolute path is written into the page
        root = os.path.relpath(Path(results_dir).resolve(), notebook_dir.resolve())
        offered = {
            "profile": profile,
            "progress": False,
            "results_dir": os.path.join(root, source.stem),
            "results_root": root,
        }
        parameters = {k: v for k, v in offered.items() if k in names}
        target = book_dir / source.name
        temporary = target.with_suffix(".tmp.ipynb")
        start = time.perf_counter()
        print(f"{source.name}: {parameters.get('profile', 'defaults')} → {target}", flush=True)
        with exclusive(book_dir / f".{source.stem}.lock"):  # one writer per page; a killed one's partial copy goes
            temporary.unlink(missing_ok=True)
            try:
                papermill.execute_notebook(
                    str(source),
                    str(temporary),
                    parameters=parameters,
                    cwd=str(notebook_dir),
                    progress_bar=progress,
                    kernel_name="python3",
                )
                executed = nbformat.read(str(temporary), as_version=4)
                nbformat.write(fold_injected_parameters(executed), str(temporary))
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
        print(f"{source.name}: done in {time.perf_counter() - start:.0f} s", flush=True)
        written.append(target)
    return written


def remove_stale_copies(book_dir: Path) -> list[Path]:
    """Delete the partial ``<page>.tmp.ipynb`` copies killed reproductions left in ``book_dir``
    (a copy whose page another reproduction is writing is left alone)."""
    removed = []
    for temporary in book_dir.glob("*.tmp.ipynb"):
        stem = temporary.name.removesuffix(".tmp.ipynb")
        try:
            with exclusive(book_dir / f".{stem}.lock", wait=False):
                temporary.unlink(missing_ok=True)
                removed.append(temporary)
        except Busy:
            continue
    return removed


#: where executed pages go unless the user asks to update the book
REPRODUCED = ROOT / "reproduced"


def build_parser() -> Parser:
    """The command line (light: no torch, no papermill)."""
    parser = Parser(
        "lossprio.reproduce",
        __doc__.split("\n\n")[0],
        "example:\n  python -m lossprio.reproduce --profile smoke --notebooks hu2021   # into reproduced/smoke/",
    )
    parser.add_argument("--profile", default="cpu", choices=list(PROFILE_NAMES), help="the profile every page runs at")
    pages = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")) or chapter_modules()
    parser.add_argument(
        "--notebooks", nargs="+", default=None, help=f"notebook names (default: all of notebooks/: {', '.join(pages)})"
    )
    parser.add_argument(
        "--book-dir",
        type=path_argument(),
        default=None,
        help="where the executed pages go (default: reproduced/<profile>/, beside the book; --in-place: book/)",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="update the book's own pages in book/ (what a commit of new records does)",
    )
    parser.add_argument(
        "--results-dir",
        type=path_argument(),
        default=ROOT / "results",
        help="the run records: read where they exist, written by the runs that train",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs, CI)")
    return parser


@command
def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.in_place and args.book_dir is not None:
        parser.error("--in-place writes into book/: give it or --book-dir, not both")
    if args.book_dir is None:
        args.book_dir = ROOT / "book" if args.in_place else REPRODUCED / args.profile
    for flag, folder in (("--book-dir", args.book_dir), ("--results-dir", args.results_dir)):
        if folder.exists() and not folder.is_dir():
            parser.error(f"{flag} {str(folder)!r} is a file, not a folder")
    from papermill.exceptions import PapermillExecutionError

    try:
        reproduce(
            args.profile,
            args.notebooks,
            book_dir=args.book_dir,
            results_dir=args.results_dir,
            progress=not args.no_progress,
        )
    except PapermillExecutionError as error:
        sys.exit(
            f"python -m lossprio.reproduce: a notebook failed in cell {error.exec_count}: {error.ename}: "
            f"{error.evalue} (the page in --book-dir is unchanged; the traceback is in the cell's output above)"
        )


if __name__ == "__main__":
    main()
