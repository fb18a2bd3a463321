"""Command lines that report a known failure as one message and exit status 2 (argparse's
convention for a bad invocation), with no traceback: a bad setting, a missing or damaged file, a
folder that cannot be written, a missing optional package. Anything else is a bug and keeps its
traceback."""

from __future__ import annotations

import argparse
import functools
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

#: failures a user can act on: bad values and files (``ValueError``, which ``FileProblem`` and
#: ``DataProblem`` are), the file system (``OSError``: missing, a folder, no space, no permission)
#: and optional packages (``ImportError``)
KNOWN_FAILURES = (ValueError, OSError, ImportError)

Main = TypeVar("Main", bound=Callable[..., Any])


def command(main: Main) -> Main:
    """Wrap a ``main(argv)``: a :data:`KNOWN_FAILURES` error becomes ``<prog>: error: <message>``
    on stderr and ``SystemExit(2)``; Ctrl-C becomes exit status 130 with one line."""

    @functools.wraps(main)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        spec = getattr(sys.modules.get(main.__module__), "__spec__", None)  # run as -m: the module is __main__
        prog = f"python -m {spec.name if spec is not None else main.__module__}"
        try:
            return main(*args, **kwargs)
        except KNOWN_FAILURES as error:
            print(f"{prog}: error: {describe(error)}", file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=sys.stderr)
            raise SystemExit(130) from None

    return guarded  # type: ignore[return-value]


def describe(error: BaseException) -> str:
    """The error's message, with its type where the message alone would not say what failed."""
    text = str(error) or type(error).__name__
    if isinstance(error, OSError) and error.filename is not None and str(error.filename) not in text:
        text = f"{error.filename}: {text}"
    return text if isinstance(error, ValueError) else f"{type(error).__name__}: {text}"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help as written (paragraphs kept), every option with its default (unless its help says it)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """The book's command lines: named as they are run (``python -m lossprio.sweep``), every option's
    default in its help, and a refusal as one line and a hint, without the usage (exit status 2)."""

    def __init__(self, module: str, description: str, epilog: str | None = None) -> None:
        super().__init__(
            prog=f"python -m {module}", description=description, epilog=epilog, formatter_class=HelpFormatter
        )

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}\n  (all options: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


#: the profiles every chapter has: tiny (the tests), this project's CPU machines, the paper's setup on a GPU
PROFILE_NAMES = ("smoke", "cpu", "paper")
#: the modules of ``lossprio/chapters`` that are the chapters' kit, not chapters
CHAPTER_KIT = ("base", "claims", "kit", "methods", "papers", "recipes")
#: where a sweep's runs run: here, as a SLURM job array, or as that array's processes on this machine
LAUNCHERS = ("local", "slurm", "submitit-local")


def chapter_modules() -> list[str]:
    """The chapters' names, read off the files of ``lossprio/chapters`` without importing them
    (so that a command line's ``--help`` needs no torch)."""
    folder = Path(__file__).with_name("chapters")
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if m.name not in CHAPTER_KIT)
