"""lossprio: loss-based example prioritisation (Selective-Backprop, Hu et al. 2021, RHO-LOSS), side by side.

To select examples in your own training loop (see :mod:`lossprio.loop`)::

    from lossprio import Prioritizer, make_selector
    prioritizer = Prioritizer(make_selector("sb", beta=1.0), model, batch_size=128)
    for inputs, targets, indices in batches:
        prioritizer.step(inputs, targets, indices, optimizer)
    prioritizer.finish_epoch(optimizer)
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: the public API for your own training loop, imported on first use (``import lossprio`` stays light)
LOOP_API = (
    "EpochSampler",
    "IndexedDataset",
    "Prioritizer",
    "TrainBatch",
    "fit_irreducible_model",
    "make_selector",
    "per_example_cross_entropy",
    "per_example_losses",
)
__all__ = ["__version__", *LOOP_API]


def __getattr__(name: str) -> Any:
    if name in LOOP_API:
        from . import core, loop

        return getattr(core if name == "TrainBatch" else loop, name)
    raise AttributeError(f"module 'lossprio' has no attribute {name!r}")
