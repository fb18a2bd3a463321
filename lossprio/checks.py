"""Argument checks whose errors name the parameter, the value and what is allowed."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from numbers import Real
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


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of {allowed}")


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
