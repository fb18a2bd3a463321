"""Figures computed from image sets and run records (matplotlib; imported lazily by notebooks)."""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import torch
from torch import Tensor

from .data import ImageSet


def show_image(ax: plt.Axes, image: Tensor, title: str = "") -> None:
    """Draw one uint8 C×H×W image without axes."""
    if image.shape[0] == 1:
        ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(image.permute(1, 2, 0).numpy())
    ax.set_title(title, fontsize=7)
    ax.axis("off")


def corruption_gallery(clean: ImageSet, corrupted: Mapping[str, tuple[ImageSet, Tensor]], per_kind: int = 8) -> plt.Figure:
    """For each corruption kind, the first ``per_kind`` corrupted examples: clean row above, corrupted row below.

    Titles give the class name; a changed label reads ``old → new``.
    """
    fig, axes = plt.subplots(2 * len(corrupted), per_kind, figsize=(1.2 * per_kind, 2.7 * len(corrupted)), squeeze=False)
    for row, (kind, (image_set, mask)) in enumerate(corrupted.items()):
        positions = mask.nonzero().flatten()[:per_kind]
        for col in range(per_kind):
            top, bottom = axes[2 * row, col], axes[2 * row + 1, col]
            if col >= len(positions):
                top.axis("off"), bottom.axis("off")
                continue
            p = int(positions[col])
            old, new = clean.classes[int(clean.labels[p])], image_set.classes[int(image_set.labels[p])]
            show_image(top, clean.images[p], old)
            show_image(bottom, image_set.images[p], new if new == old else f"{old} → {new}")
        axes[2 * row, 0].annotate(f"{kind}\nclean", (-0.15, 0.5), xycoords="axes fraction", ha="right", va="center", fontsize=8)
        axes[2 * row + 1, 0].annotate("corrupted", (-0.15, 0.5), xycoords="axes fraction", ha="right", va="center", fontsize=8)
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
