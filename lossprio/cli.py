"""Command lines that report a known failure as one message and exit status 2 (argparse's
convention for a bad invocation), with no traceback: a bad setting, a missing or damaged file, a
folder that cannot be written, a missing optional package. Anything else is a bug and keeps its
traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

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
