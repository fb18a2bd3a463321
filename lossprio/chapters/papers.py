"""The papers' own reported numbers that more than one chapter shows (each labelled as the
paper's wherever it appears, never as ours), with the setups they were measured on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Paper J, Table 1, CIFAR-10 (WRN-28-10, Traditional's final error 2.96 %): wall-clock speedup to
# 1.1 / 1.2 / 1.4 × Traditional's final error (None: not reached). Its Stale-SB row is n = 3.
JIANG2019_TABLE_1: dict[str, tuple[float | None, ...]] = {
    "SB": (1.4, 1.2, 1.5),
    "Stale-SB": (None, 1.5, 2.0),
    "Kath18": (1.4, 1.1, 1.3),
}

# Paper M (Fig. 3 and text): RHO-LOSS's speedup over uniform in steps to the target, clean / 10 % label noise.
MINDERMANN2022_SPEEDUPS: dict[str, tuple[float, float]] = {
    "CIFAR-10": (3.82, 5.15),
    "CIFAR-100": (1.76, 2.34),
    "CINIC-10": (2.88, 4.17),
}


@dataclass(frozen=True)
class PaperSetup:
    """The setup a paper's number was measured on, as far as the paper states it: the model, the
    dataset, the training examples and the epochs uniform (standard) training ran."""

    model: str
    model_kwargs: dict[str, Any]
    dataset: str
    training_examples: int
    epochs: float
    source: str


#: paper J's CIFAR-10 runs (WRN-28-10, 50,000 images, 200 epochs: lr ÷ 5 at 60/120/160) and paper
#: M's (ResNet-18 on half the CIFAR-10 training set, the other half its holdout; uniform's best
#: accuracy within 100 epochs)
SETUPS: dict[str, PaperSetup] = {
    "J": PaperSetup("wrn", {"depth": 28, "widen": 10}, "cifar10", 50_000, 200, "paper J, Table 1"),
    "M": PaperSetup("resnet18", {}, "cifar10", 25_000, 100, "paper M, Fig. 3"),
}
