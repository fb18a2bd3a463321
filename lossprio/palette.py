"""One colour per method across the book. Chapters register their methods' labels here (with the
paper each comes from) when they are imported; figures read :func:`colour` and never need to know
a chapter's labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: matplotlib's default cycle, for labels no chapter registered (fixed per label)
FALLBACK = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


@dataclass(frozen=True)
class Style:
    """How one method label is drawn and credited."""

    label: str
    colour: str
    paper: str = ""


STYLES: dict[str, Style] = {}


def register(label: str, colour: str, paper: str = "") -> Style:
    """File ``label``'s colour; a label registered twice must keep its colour (one palette for the book)."""
    style = Style(label, colour, paper)
    known = STYLES.get(label)
    if known is not None and known.colour != colour:
        raise ValueError(
            f"method {label!r} is registered with colour {known.colour} already, not {colour}: one colour per label"
        )
    STYLES.setdefault(label, style)
    return STYLES[label]


def colour(label: str, fallback: Sequence[str] = FALLBACK) -> str:
    """``label``'s registered colour (matching a label's start, e.g. "RHO-LOSS, IL: …"), or a fixed
    colour of ``fallback`` (the default cycle) for any other label."""
    for name, style in sorted(STYLES.items(), key=lambda item: -len(item[0])):
        if label == name or label.startswith(name + " ") or label.startswith(name + ","):
            return style.colour
    return fallback[sum(map(ord, label)) % len(fallback)]
