"""Figure helpers: what a page's figures must keep whatever their labels."""

import io
import struct

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lossprio import plots  # noqa: E402


def png_width(fig: plt.Figure) -> int:
    """The width in px of ``fig`` saved as the book's pages save it (100 dpi, tight box)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return struct.unpack(">I", buffer.getvalue()[16:20])[0]


def test_a_legend_below_a_figure_never_makes_it_wider_whatever_its_labels():
    long = [f"paper M: RHO-LOSS, CIFAR-10 + 10 % noise, steps ({i})" for i in range(5)]
    for labels in (["a", "b", "c", "d", "e"], long):
        fig, axes = plt.subplots(1, 2, figsize=(6.8, 2.9))
        for i, label in enumerate(labels):
            axes[i % 2].plot([0, 1], [i, i + 1], label=label)
        plots.shared_legend(fig, list(axes), below=True)
        fig.tight_layout()
        assert png_width(fig) <= 6.8 * 100 + 20, labels[0]  # the tight box's pad at most
        legend = fig.legends[0]
        assert legend._ncols == (4 if labels[0] == "a" else 1)
        plt.close(fig)
