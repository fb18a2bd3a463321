"""Argument checks whose errors name the parameter, the value and what is allowed."""

from __future__ import annotations

import argparse
import math
import types
import typing
from collections.abc import Callable, Iterable
from numbers import Real
from pathlib import Path
from typing import Any


def check_finite(name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is a real number other than NaN and ±inf.

    Comparisons with NaN are all false, so a range check alone lets NaN through.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name}={value!r} must be a number")
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number (not NaN or infinite)")


def check_finite_tree(name: str, value: Any) -> None:
    """:func:`check_finite` on every number inside nested dicts, lists and tuples (strings, bools and None pass)."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_finite_tree(f"{name}[{key!r}]", item)
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            check_finite_tree(f"{name}[{position}]", item)
    elif isinstance(value, Real) and not isinstance(value, bool):
        check_finite(name, value)


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise ``ValueError`` unless ``value`` is finite and ``low (<|<=) value (<|<=) high``."""
    check_finite(name, value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name}={value!r} is outside the allowed range {left}{lo}, {hi}{right}")


def check_fraction(name: str, value: float, *, allow_zero: bool = True) -> None:
    """Raise ``ValueError`` unless ``0 <= value <= 1`` (``0 < value`` without ``allow_zero``)."""
    check_range(name, value, 0.0, 1.0, low_open=not allow_zero)


def check_positive_int(name: str, value: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer >= 1."""
    check_int(name, value, 1)


def check_int(name: str, value: int, low: int | None = None) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer (not a bool) and at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        allowed = "an integer" if low is None else "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{name}={value!r} must be {allowed}")


def check_bool(name: str, value: Any, optional: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is True or False (or None when ``optional``): the
    string ``"False"`` is truthy, so a bool setting never accepts a string."""
    if not (isinstance(value, bool) or (optional and value is None)):
        allowed = "True, False or None" if optional else "True or False"
        raise ValueError(f"{name}={value!r} must be {allowed} (a bool, not {type(value).__name__})")


def check_type(name: str, value: Any, kinds: type | tuple[type, ...], what: str) -> None:
    """Raise ``ValueError`` unless ``value`` is an instance of ``kinds`` (described as ``what``)."""
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise ValueError(f"{name}={value!r} must be {what}, not a bool")
    if not isinstance(value, kinds):
        raise ValueError(f"{name}={value!r} must be {what}, not {type(value).__name__}")


def check_mapping(name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is a dict with string keys (settings by name)."""
    if not isinstance(value, dict):
        raise ValueError(f"{name}={value!r} must be a dict of settings by name, not {type(value).__name__}")
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        raise ValueError(f"{name} has non-string keys {bad}: settings are named by strings")


def check_known(name: str, given: Iterable[str], allowed: Iterable[str], owner: str) -> None:
    """Raise ``ValueError`` naming the keys of ``given`` that ``owner`` does not take, and the allowed ones."""
    allowed = sorted(allowed)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{name}: {owner} has no setting(s) {unknown}; allowed: {allowed}")


def check_annotated(name: str, value: Any, hint: Any) -> None:
    """Raise ``ValueError`` unless ``value`` fits the type annotation ``hint`` (``int``, ``float``,
    ``str``, ``bool``, ``dict[...]``, ``tuple[X, ...]`` given as a list or tuple, unions and
    ``None``; ``Any`` and other hints pass): for settings read from JSON or a notebook cell."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return
    if origin in (typing.Union, types.UnionType):
        problems = []
        for option in args:
            try:
                check_annotated(name, value, option)
                return
            except ValueError as error:
                problems.append(error)
        allowed = " or ".join("None" if a is type(None) else getattr(a, "__name__", str(a)) for a in args)
        raise ValueError(f"{name}={value!r} must be {allowed}, not {type(value).__name__}")
    if hint is type(None):
        if value is not None:
            raise ValueError(f"{name}={value!r} must be None")
    elif hint is bool:
        check_bool(name, value)
    elif hint is int:
        check_type(name, value, int, "an integer")
    elif hint is float:
        check_type(name, value, (int, float), "a number")
    elif hint is str:
        check_type(name, value, str, "a string")
    elif origin is dict or hint is dict:
        check_type(name, value, dict, "a dict")
    elif origin is tuple or hint is tuple:
        check_type(name, value, (list, tuple), "a list")
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        if item is not None:
            for position, element in enumerate(value):
                check_annotated(f"{name}[{position}]", element, item)


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of {allowed}")


DEVICE_TYPES = ("cpu", "cuda", "mps")


def check_device(value: str, name: str = "device") -> None:
    """Raise ``ValueError`` unless ``value`` is ``auto`` or a device string torch parses, of a
    type this library runs on (whether that device exists here is checked when a run starts)."""
    if value == "auto":
        return
    import torch

    try:
        kind = torch.device(value).type
    except (RuntimeError, TypeError):
        kind = None
    if kind not in DEVICE_TYPES:
        raise ValueError(f"{name}={value!r} is not allowed; choose 'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps'")


def int_argument(low: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= ``low``, refused with a message naming the value."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} is below {low}; give a whole number >= {low}")
        return value

    parse.__name__ = f"integer >= {low}"  # argparse shows the type's name in some messages
    return parse


def path_argument(must_exist: str | None = None) -> Callable[[str], Path]:
    """An argparse ``type``: a non-empty path; with ``must_exist`` ``"dir"`` or ``"file"``, one that is there."""

    def parse(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError("an empty path; give a folder or file name")
        path = Path(text)
        if must_exist == "dir" and not path.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
        if must_exist == "file" and not path.is_file():
            raise argparse.ArgumentTypeError(f"{text!r} is not a file")
        return path

    parse.__name__ = "path"
    return parse
