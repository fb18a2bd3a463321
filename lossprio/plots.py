"""Figures computed from image sets and run records (matplotlib; imported lazily by notebooks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FuncFormatter
from torch import Tensor

from . import palette
from .data import ImageSet
from .records import RunRecord

if TYPE_CHECKING:
    import pandas as pd


def show_image(ax: plt.Axes, image: Tensor, title: str = "", fontsize: float = 7) -> None:
    """Draw one uint8 C×H×W image without axes."""
    if image.shape[0] == 1:
        ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(image.permute(1, 2, 0).numpy())
    ax.set_title(title, fontsize=fontsize)
    ax.axis("off")


def corruption_gallery(
    clean: ImageSet, corrupted: Mapping[str, tuple[ImageSet, Tensor]], per_kind: int = 8
) -> plt.Figure:
    """For each corruption kind, the first ``per_kind`` corrupted examples: clean row above, corrupted row below.

    Titles give the class name; a changed label reads ``old → new``.
    """
    # wide enough cells that an "old →\nnew" title reads at the book's width (≈ 9 pt rendered)
    fig, axes = plt.subplots(
        2 * len(corrupted), per_kind, figsize=(1.6 * per_kind, 3.4 * len(corrupted)), squeeze=False
    )
    for row, (kind, (image_set, mask)) in enumerate(corrupted.items()):
        positions = mask.nonzero().flatten()[:per_kind]
        for col in range(per_kind):
            top, bottom = axes[2 * row, col], axes[2 * row + 1, col]
            if col >= len(positions):
                top.axis("off"), bottom.axis("off")
                continue
            p = int(positions[col])
            old, new = clean.classes[int(clean.labels[p])], image_set.classes[int(image_set.labels[p])]
            show_image(top, clean.images[p], old, fontsize=10)
            show_image(bottom, image_set.images[p], new if new == old else f"{old} →\n{new}", fontsize=10)
        axes[2 * row, 0].annotate(
            f"{kind}\nclean", (-0.15, 0.5), xycoords="axes fraction", ha="right", va="center", fontsize=11
        )
        axes[2 * row + 1, 0].annotate(
            "corrupted", (-0.15, 0.5), xycoords="axes fraction", ha="right", va="center", fontsize=11
        )
    fig.tight_layout()
    return fig


def pixel_histograms(clean: ImageSet, corrupted: Mapping[str, tuple[ImageSet, Tensor]]) -> plt.Figure:
    """Histogram of pixel values of the corrupted examples, before and after, one panel per kind."""
    fig, axes = plt.subplots(1, len(corrupted), figsize=(3 * len(corrupted), 2.4), squeeze=False, sharey=True)
    bins = torch.linspace(0, 256, 33)
    for ax, (kind, (image_set, mask)) in zip(axes[0], corrupted.items()):
        for data, label in ((clean.images[mask], "clean"), (image_set.images[mask], "corrupted")):
            ax.hist(data.flatten().float().numpy(), bins=bins.numpy(), density=True, histtype="step", label=label)
        ax.set_title(kind, fontsize=9)
        ax.set_xlabel("pixel value")
    axes[0, 0].set_ylabel("density")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- one palette

_FALLBACK = plt.rcParams["axes.prop_cycle"].by_key()["color"]


#: the widest a figure's panels are drawn (inches at the book's 100 dpi): the pages scale wider figures
#: down to their text column, and their 10-point text with them
PAGE_WIDTH_INCHES = 10.0


def colour(method: str) -> str:
    """``method``'s colour, as its chapter registered it in :mod:`lossprio.palette` (the baseline
    black; SB's family blue to purple; the importance samplers green; paper M's functions warm;
    RHO-LOSS red), or a fixed colour of the default cycle for any other label."""
    return palette.colour(method, _FALLBACK)


# ----------------------------------------------------------------------------- curves from records


def mean_curve(
    records: Sequence[RunRecord], x: str = "backprops", y: str = "test_error", points: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeds' curves interpolated on a common grid: (grid, mean, min, max); the grid ends where
    the shortest run ends."""
    xs = [np.array([e[x] for e in r.evals], dtype=float) for r in records]
    ys = [np.array([e[y] for e in r.evals], dtype=float) for r in records]
    grid = np.linspace(max(v[0] for v in xs), min(v[-1] for v in xs), points)
    stacked = np.stack([np.interp(grid, a, b) for a, b in zip(xs, ys)])
    return grid, stacked.mean(0), stacked.min(0), stacked.max(0)


def error_curves(
    ax: plt.Axes,
    runs: Mapping[str, Sequence[RunRecord]],
    x: str = "backprops",
    target: float | None = None,
    title: str = "",
    target_label: str = "1.2 × standard's best",
) -> None:
    """Test error against ``x`` for each method: the mean over seeds, shaded between the seeds' extremes.

    Diverged runs are left out of the mean and counted in the legend ("k diverged").
    """
    for method, all_records in runs.items():
        records = [r for r in all_records if r.status != "diverged"]
        diverged = len(all_records) - len(records)
        label = method + (f" ({diverged} diverged)" if diverged else "")
        if not records:
            if diverged:
                ax.plot([], [], ls="none", label=label)
            continue
        grid, mean, low, high = mean_curve(records, x)
        (line,) = ax.plot(grid, 100 * mean, label=label, lw=1.4, color=colour(method))
        if len(records) > 1:
            ax.fill_between(grid, 100 * low, 100 * high, color=line.get_color(), alpha=0.15, lw=0)
    if target is not None:
        ax.axhline(100 * target, color="k", ls=":", lw=1, label=target_label)
    if x == "backprops":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:g}k"))
    ax.set_xlabel(
        {
            "backprops": "back-propagated examples",
            "train_wall_s": "training wall-clock (s)",
            "step": "optimizer steps",
        }.get(x, x)
    )
    ax.set_ylabel("test error (%)")
    ax.set_title(title, fontsize=10)


def error_curve_grid(
    panels: Mapping[str, Mapping[str, Sequence[RunRecord]]],
    targets: Mapping[str, float] | None = None,
    x: str = "backprops",
    columns: int = 4,
    ylim: tuple[float, float] | None = None,
    target_label: str = "1.2 × standard's best",
    logy: bool = False,
) -> plt.Figure:
    """One :func:`error_curves` panel per setting, a shared legend below; ``logy`` for a log
    error axis (the early errors are many times the late ones)."""
    rows = -(-len(panels) // columns)
    width = min(4.0, PAGE_WIDTH_INCHES / columns)  # no wider than the page: its text stays legible
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, 3.2 * rows), squeeze=False)
    for ax, (title, runs) in zip(axes.flat, panels.items()):
        error_curves(ax, runs, x, (targets or {}).get(title), title, target_label)
        if ylim:
            ax.set_ylim(*ylim)
        if logy:
            log_percent_axis(ax)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    per_row = min(len(labels), 2 * columns)  # about two entries per panel's width
    legend_rows = -(-len(labels) // max(1, per_row))
    fig.legend(handles, labels, loc="lower center", ncol=max(1, per_row), frameon=False)
    fig.tight_layout(rect=(0, 0.3 * legend_rows / fig.get_figheight(), 1, 1))  # about 0.3 inch a legend row
    return fig


def shared_legend(fig: plt.Figure, axes: Sequence[plt.Axes], fontsize: float = 8, below: bool = False) -> None:
    """One legend for every line drawn on ``axes`` (each label once), outside the data: to the
    right of the figure, or ``below`` it, up to four entries a row, as many as the figure's width
    holds (a wide figure that must not grow wider)."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if below:
        # an entry's width in points: its marker and gap, and its text at about 0.6 em a character
        entry = 3 * fontsize + 0.6 * fontsize * max((len(label) for label in handles), default=0)
        fits = int(fig.get_figwidth() * 72 // entry)
        where = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "frameon": False}
        where["ncol"] = max(1, min(len(handles), 4, fits))
    else:
        where = {"loc": "upper left", "bbox_to_anchor": (1.0, 0.95)}
    fig.legend(list(handles.values()), list(handles), fontsize=fontsize, **where)


def log_percent_axis(ax: plt.Axes) -> None:
    """A log y-axis of percentages with plain labels: every tick within one decade, else 1, 2 and 5 × 10^k."""
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    leading = "123456789" if high / max(low, 1e-9) < 10 else "125"
    label = lambda value, _: f"{value:g}" if f"{value:g}"[0] in leading else ""
    ax.yaxis.set_major_formatter(FuncFormatter(label))
    ax.yaxis.set_minor_formatter(FuncFormatter(label))


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over ``window`` values (shorter at the start)."""
    values = np.asarray(values, dtype=float)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.maximum(0, np.arange(1, len(values) + 1) - window)]) / counts


def corrupted_share(
    ax: plt.Axes, runs: Mapping[str, Sequence[RunRecord]], fraction: float, window: int = 20, title: str = ""
) -> None:
    """Share of corrupted examples in each training batch over training (moving average, mean over seeds)."""
    for method, records in runs.items():
        curves = []
        for record in records:
            steps_per_epoch = record.counters["step"] / record.counters["epoch"]
            epochs = np.asarray(record.steps["step"], dtype=float) / steps_per_epoch
            curves.append((epochs, moving_average(record.steps["corrupted_share"], window)))
        grid = np.linspace(0, min(c[0][-1] for c in curves), 300)
        mean = np.mean([np.interp(grid, e, s) for e, s in curves], axis=0)
        ax.plot(grid, 100 * mean, label=method, lw=1.3, color=colour(method))
    ax.axhline(100 * fraction, color="k", ls=":", lw=1, label=f"{100 * fraction:.0f} % corrupted in the data")
    ax.set_xlabel("epoch")
    ax.set_ylabel("corrupted examples in batch (%)")
    ax.set_title(title, fontsize=10)


def picked_gallery(
    rows: Sequence[tuple[str, ImageSet, Sequence[int]]],
    class_ids: Sequence[int],
    per_class: int = 6,
    pool_share: float = 0.04,
    seed: int = 0,
) -> plt.Figure:
    """Paper H's Fig. 1/2: images drawn from each class's most and least often selected examples.

    Args:
        rows: (row label, the training set the run saw, its per-example selection counts).
        class_ids: classes to show, side by side.
        per_class: images per class and row.
        pool_share: draw from the top (bottom) this share of the class by selection count
            (paper H: 2000 of CIFAR-10's 50,000, 4 %).
    """
    generator = torch.Generator().manual_seed(seed)
    fig, axes = plt.subplots(
        2 * len(rows),
        per_class * len(class_ids),
        figsize=(0.9 * per_class * len(class_ids), 2.0 * len(rows)),
        squeeze=False,
    )
    for r, (label, image_set, counts) in enumerate(rows):
        counts_t = torch.as_tensor(counts)
        for extreme, row in (("most", 2 * r), ("least", 2 * r + 1)):
            for c, class_id in enumerate(class_ids):
                members = (image_set.labels == class_id).nonzero().flatten()
                order = counts_t[members].argsort(descending=extreme == "most", stable=True)
                pool = members[order[: max(per_class, round(pool_share * len(members)))]]
                shown = pool[torch.randperm(len(pool), generator=generator)[:per_class]]
                for k, position in enumerate(shown.tolist()):
                    show_image(axes[row, c * per_class + k], image_set.images[position], f"×{int(counts_t[position])}")
            axes[row, 0].annotate(
                f"{label}\n{extreme} picked", (-0.2, 0.5), xycoords="axes fraction", ha="right", va="center", fontsize=8
            )
    for c, class_id in enumerate(class_ids):
        axes[0, c * per_class].annotate(
            rows[0][1].classes[class_id], (0, 1.35), xycoords="axes fraction", fontsize=10, weight="bold"
        )
    fig.tight_layout()
    return fig


def phase_bars(ax: plt.Axes, phases: pd.DataFrame, title: str = "") -> None:
    """Horizontal stacked bars of seconds per phase (columns), one bar per method (rows)."""
    left = np.zeros(len(phases))
    for column in phases.columns:
        ax.barh(phases.index, phases[column], left=left, label=column.replace("_", " "))
        left += phases[column].to_numpy()
    ax.invert_yaxis()
    ax.set_xlabel("seconds (mean over seeds)")
    ax.set_title(title, fontsize=10)


def steps_to_target_lines(
    ax: plt.Axes, table: pd.DataFrame, title: str = "", ylabel: str = "steps to reach it"
) -> None:
    """Paper M's Fig. 3: one line per method (rows) of the cost to reach each target accuracy
    (columns, e.g. ``"85.0 %"``); a method that never reached a target has no point there."""
    targets = [float(str(c).rstrip(" %")) for c in table.columns]
    for method, row in table.iterrows():
        if row.isna().all():  # never reached a target: no line, and so no legend entry
            continue
        ax.plot(targets, row.to_numpy(dtype=float), marker="o", ms=3, lw=1.3, label=method, color=colour(str(method)))
    ax.set_xlabel("target test accuracy (%)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)


def share_bars(
    ax: plt.Axes, shares: pd.Series, reference: float | None = None, reference_label: str = "", title: str = ""
) -> None:
    """Horizontal bars of shares in % (index: labels), with an optional dotted reference line."""
    labels = [str(k) for k in shares.index]
    ax.barh(labels, 100 * shares.to_numpy(dtype=float), color=[colour(k) for k in labels], alpha=0.85)
    if reference is not None:
        ax.axvline(100 * reference, color="k", ls=":", lw=1, label=reference_label)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)  # below the axis label
    ax.invert_yaxis()
    ax.set_xlabel("%")
    ax.set_title(title, fontsize=10)


def method_lines(
    ax: plt.Axes,
    frame: pd.DataFrame,
    x: str,
    y: str,
    title: str = "",
    interval: tuple[str, str] | None = None,
    dodge: float = 0.0,
) -> None:
    """One line with markers per ``method`` of ``frame`` (columns ``method``, ``x``, ``y`` and,
    with ``interval``, the columns of each point's low and high ends, drawn as error bars), on a
    log2 x axis; ``dodge`` shifts each method's points sideways by that share of a doubling, so
    that bars at the same x do not hide each other."""
    methods = list(dict.fromkeys(frame["method"]))
    for position, method in enumerate(methods):
        part = frame[frame["method"] == method].sort_values(x)
        shift = 2 ** (dodge * (position - (len(methods) - 1) / 2))
        xs, ys = part[x].to_numpy(dtype=float) * shift, part[y].to_numpy(dtype=float)
        bars = None
        if interval is not None:
            bars = [ys - part[interval[0]].to_numpy(dtype=float), part[interval[1]].to_numpy(dtype=float) - ys]
        ax.errorbar(xs, ys, yerr=bars, label=method, color=colour(method), marker="o", ms=4, lw=1.4, capsize=2)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title, fontsize=10)


def method_panels(
    frame: pd.DataFrame,
    panels: Sequence[str],
    x: str,
    y: str,
    interval: tuple[str, str] | None = None,
    dodge: float = 0.0,
    zero_line: bool = False,
    ylabel: str | None = None,
    height: float = 3.6,
) -> plt.Figure:
    """One :func:`method_lines` panel per data setting in ``panels`` (``frame``'s ``data`` column),
    side by side, one legend below; ``zero_line``: a y axis shared by the panels, labelled on the
    first, with a line at 0 (for differences from a baseline)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), height), squeeze=False, sharey=zero_line)
    for position, (ax, panel) in enumerate(zip(axes.flat, panels)):
        if zero_line:
            ax.axhline(0, color="black", lw=0.8)
        method_lines(ax, frame[frame["data"] == panel], x, y, panel, interval, dodge)
        ax.set_ylabel("" if zero_line and position else ylabel or y)
    shared_legend(fig, list(axes.flat), fontsize=9, below=True)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- grids of methods × data


def cell_text(value: float, fmt: str) -> str:
    """``value`` in ``fmt``, a value that rounds to zero shown without a sign (no "-0.0")."""
    text = format(value, fmt)
    return text.lstrip("+-") if float(text) == 0 else text


def grid_heatmap(
    ax: plt.Axes,
    values: pd.DataFrame,
    fmt: str,
    title: str = "",
    cmap: str = "RdBu",
    center: float | None = None,
    log2: bool = False,
    never: pd.DataFrame | None = None,
) -> None:
    """A methods × settings heatmap (seaborn), each cell annotated with ``fmt``. Cells marked in
    ``never`` (a target never reached) are hatched grey and labelled "never", so they cannot pass
    for a value; NaN cells (no records yet) are hatched and labelled "no runs".

    Args:
        log2: colour by log2 of the values (speedups: 2x and 0.5x equally far from 1x); ``center``
            is then on the values' own scale.
    """
    import pandas as pd
    import seaborn as sns

    never = (
        pd.DataFrame(False, index=values.index, columns=values.columns)
        if never is None
        else never.reindex_like(values).fillna(False).astype(bool)
    )
    hidden = values.isna() | never
    numbers = values.astype(float).mask(hidden)
    shade = np.log2(numbers) if log2 else numbers
    middle = None if center is None else (np.log2(center) if log2 else center)
    limits = {}
    if middle is not None and np.isfinite(shade.to_numpy()).any():  # symmetric about the centre
        reach = np.nanmax(np.abs(shade.to_numpy() - middle))
        limits = {"vmin": middle - reach, "vmax": middle + reach} if reach > 0 else {}
    sns.heatmap(
        shade,
        mask=hidden,
        annot=numbers.map(lambda v: cell_text(v, fmt) if np.isfinite(v) else ""),
        fmt="",
        cmap=cmap,
        center=middle,
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        ax=ax,
        annot_kws={"fontsize": 7.5},
        **limits,
    )
    ax.patch.set_facecolor("0.88")
    ax.patch.set_hatch("///")
    ax.patch.set_edgecolor("0.6")
    for row, column in zip(*np.nonzero(hidden.to_numpy())):
        text = "never" if never.to_numpy()[row, column] else "no runs"
        ax.text(column + 0.5, row + 0.5, text, ha="center", va="center", fontsize=7, color="0.25", style="italic")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    ax.tick_params(axis="y", labelsize=8)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")


def cost_and_savings(axes: Sequence[plt.Axes], table: pd.DataFrame) -> None:
    """One row per method. Left: the share of its training time spent selecting. Right: its
    median speedup over uniform in backprops (dot) and in wall clock (square), joined by a line
    (the gap is what selecting costs), on a log scale; a median of 0 (the target never reached)
    is drawn at the left edge as "never"."""
    cost, speed = axes
    methods = [str(m) for m in table.index]
    rows = np.arange(len(methods))
    colours = [colour(m) for m in methods]
    cost.barh(rows, table["selecting (% of training time)"], color=colours)
    cost.set_yticks(rows, methods, fontsize=8)
    cost.invert_yaxis()
    cost.set_xlabel("time spent selecting (% of training wall clock)")
    pairs = table[["speedup in backprops (median setting)", "speedup in wall clock (median setting)"]].to_numpy(
        dtype=float
    )
    reached = pairs[pairs > 0]
    floor = min(0.5, reached.min() / 1.5) if reached.size else 0.5
    shown = np.where(pairs > 0, pairs, floor)
    for row, (backprops, wall), c in zip(rows, shown, colours):
        speed.plot([backprops, wall], [row, row], color=c, lw=1.5, alpha=0.6)
        speed.scatter([backprops], [row], color=c, marker="o", s=28, zorder=3)
        speed.scatter([wall], [row], color=c, marker="s", s=28, zorder=3, facecolors="none")
    for row in rows[(pairs == 0).any(axis=1)]:
        speed.annotate(
            "never", (floor, row), textcoords="offset points", xytext=(6, -3), fontsize=7, style="italic", color="0.3"
        )
    speed.set_xscale("log", base=2)
    speed.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}x"))
    speed.axvline(1.0, color="k", ls=":", lw=1)
    speed.set_ylim(cost.get_ylim())
    speed.set_yticks(rows, [])
    speed.scatter([], [], color="0.3", marker="o", s=28, label="in backprops")
    speed.scatter([], [], color="0.3", marker="s", s=28, facecolors="none", label="in wall clock")
    speed.legend(fontsize=8, loc="upper left", title="speedup", title_fontsize=8)
    speed.set_xlabel("speedup over uniform (median over data settings)")


def interval_forest(ax: plt.Axes, frame: pd.DataFrame, margin: float, xlabel: str) -> None:
    """One row per comparison (``frame``: a label per row in its index, ``value``, ``low``,
    ``high``): the estimate and its 95 % interval, with the ±``margin`` band of "no difference"
    shaded; an interval inside the band is an equivalence, one clear of zero a difference."""
    rows = np.arange(len(frame))
    ax.axvspan(-margin, margin, color="0.9", zorder=0, label=f"±{margin:g}: no difference")
    ax.axvline(0.0, color="k", ls=":", lw=1)
    inside = (frame["low"] >= -margin) & (frame["high"] <= margin)
    colours = np.where(inside, "#009E73", np.where((frame["low"] > 0) | (frame["high"] < 0), "#D55E00", "0.4"))
    for row, (_, entry), c in zip(rows, frame.iterrows(), colours):
        ax.plot([entry["low"], entry["high"]], [row, row], color=c, lw=2)
        ax.scatter([entry["value"]], [row], color=c, s=30, zorder=3)
    ax.set_yticks(rows, [str(label) for label in frame.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8, loc="lower right")


#: one colour per verdict in every figure of claims
VERDICT_COLOURS = {"confirmed": "#009E73", "contradicted": "#D55E00", "mixed": "#CC79A7", "inconclusive": "0.55"}


def claims_forest(axes: Sequence[plt.Axes], rows: pd.DataFrame) -> None:
    """Each claim's deciding comparison, its estimate and 95 % interval, coloured by the claim's
    verdict, against its rule's threshold (a tick): differences in points on the left axis,
    speedups and ratios on a log scale on the right. ``rows``: ``label``, ``verdict``, ``value``,
    ``low``, ``high``, ``scale`` and ``threshold`` per claim, in reading order."""
    import pandas as pd

    for ax, scale in zip(axes, ("difference", "ratio")):
        part = rows[rows["scale"] == scale].reset_index(drop=True)
        if scale == "ratio":
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}×"))
        ax.axvline(1.0 if scale == "ratio" else 0.0, color="k", ls=":", lw=1)
        for row, entry in part.iterrows():
            c = VERDICT_COLOURS.get(entry["verdict"], "0.3")
            low = entry["low"] if pd.notna(entry["low"]) else entry["value"]
            high = entry["high"] if pd.notna(entry["high"]) else entry["value"]
            ax.plot([low, high], [row, row], color=c, lw=2)
            ax.scatter([entry["value"]], [row], color=c, s=24, zorder=3)
            if pd.notna(entry["threshold"]):
                ax.scatter([entry["threshold"]], [row], marker="|", color="k", s=60, zorder=2)
        ax.set_yticks(range(len(part)), list(part["label"]), fontsize=7)
        ax.set_ylim(len(part) - 0.5, -0.5)
        ax.set_xlabel("speedup or ratio (×)" if scale == "ratio" else "difference (points)", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=v) for v, c in VERDICT_COLOURS.items()]
    handles.append(plt.Line2D([], [], color="k", marker="|", ls="", ms=9, label="the rule's threshold"))
    axes[0].legend(handles=handles, fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=5, frameon=False)


def speedup_trend(
    ax: plt.Axes,
    series: Mapping[str, Sequence[tuple[float, float, float, float]]],
    fits: Mapping[str, tuple[float, float]],
    papers: Sequence[tuple[str, float, float, str]] = (),
    xlabel: str = "compute per run (FLOPs)",
    title: str = "",
) -> None:
    """Speedups against a scale on log-log axes: per label, its cells as points ``(x, speedup,
    low, high)`` with interval bars, its fitted line ``(slope, intercept)`` on (log10 x, ln
    speedup) over the cells' range, dashed beyond it up to the papers' points ``(label, x,
    speedup, colour)``, drawn hollow and labelled as the papers'."""
    for label, found in series.items():
        if not found:
            continue
        colour = palette.colour(label)
        xs, values, lows, highs = (np.array(column, dtype=float) for column in zip(*found))
        below = np.clip(values - np.where(np.isfinite(lows), lows, values), 0, None)
        above = np.clip(np.where(np.isfinite(highs), highs, values) - values, 0, None)
        ax.errorbar(xs, values, yerr=[below, above], fmt="o", ms=4, capsize=2, color=colour, label=label)
        if label in fits:
            slope, intercept = fits[label]
            inside = np.linspace(np.log10(xs.min()), np.log10(xs.max()), 20)
            ax.plot(10**inside, np.exp(intercept + slope * inside), color=colour, lw=1.2)
            reach = [x for _, x, _, c in papers if c == colour]
            if reach:
                beyond = np.linspace(np.log10(xs.max()), np.log10(max(reach)), 20)
                ax.plot(10**beyond, np.exp(intercept + slope * beyond), color=colour, lw=1, ls="--")
    for label, x, value, colour in papers:
        ax.plot([x], [value], marker="D", ms=6, mfc="none", mec=colour, ls="none", label=label)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("speedup over uniform (×)", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
