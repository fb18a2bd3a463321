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


# ----------------------------------------------------------------------------- telling colours apart

#: Machado et al. (2009) simulation matrices (severity 1) on linear RGB, per colour-vision deficiency
VISION: dict[str, tuple[tuple[float, float, float], ...]] = {
    "normal": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
_TO_XYZ = ((0.4124, 0.3576, 0.1805), (0.2126, 0.7152, 0.0722), (0.0193, 0.1192, 0.9505))
_WHITE = (0.95047, 1.0, 1.08883)  # D65


def lab(named: str, vision: str = "normal") -> tuple[float, float, float]:
    """CIE L*a*b* of a colour (hex or a matplotlib name) as a viewer with ``vision`` (a key of
    :data:`VISION`) sees it."""
    from matplotlib.colors import to_rgb

    srgb = to_rgb(named)
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in srgb]
    seen = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, linear)))) for row in VISION[vision]]
    xyz = [sum(m * c for m, c in zip(row, seen)) / white for row, white in zip(_TO_XYZ, _WHITE)]
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def difference(first: str, second: str, vision: str = "normal") -> float:
    """CIE76 ΔE between two colours as a viewer with ``vision`` sees them (about 10: told apart at a glance)."""
    return sum((a - b) ** 2 for a, b in zip(lab(first, vision), lab(second, vision))) ** 0.5


def closest_pair(labels: Sequence[str], vision: str = "normal") -> tuple[float, str, str]:
    """(ΔE, label, label) of the two registered labels whose colours are hardest to tell apart."""
    pairs = [(difference(colour(a), colour(b), vision), a, b) for i, a in enumerate(labels) for b in labels[i + 1 :]]
    return min(pairs)
