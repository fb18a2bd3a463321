"""The catalogue of methods: every selection method each chapter runs, under the label its
chapter shows, defined once here so that chapters share methods without importing each other.
Each label's colour is filed in :mod:`lossprio.palette` when this module is imported."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import palette

#: how a method meets the training set: papers J and H's shuffled epochs of candidate batches of b
#: (SB's queue), or paper M's n_B candidates drawn without replacement, n_b trained on
EPOCH, CANDIDATES = "epoch traversal", "candidate sampling"


@dataclass(frozen=True)
class Method:
    """A selection method as a chapter runs it.

    Attributes:
        selector: its registry name in :mod:`lossprio.selectors`.
        kwargs: its settings (``None`` values are left to the selector's default).
        paper: the paper it comes from (for tables).
        colour: its colour in every figure (filed in :mod:`lossprio.palette` under its label).
        traversal: :data:`EPOCH` or :data:`CANDIDATES`.
        pool: with epoch traversal, the candidate batch in training batches (VR samples b from 3b).
    """

    selector: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    paper: str = ""
    colour: str = "#7f7f7f"
    traversal: str = EPOCH
    pool: int = 1

    @property
    def selector_kwargs(self) -> dict[str, Any]:
        """The settings to build its selector with."""
        return {k: v for k, v in self.kwargs.items() if v is not None}

    @property
    def share_trained(self) -> float:
        """About what share of its candidates it trains on (SB's family: 1/(β + 1))."""
        if "beta" in self.kwargs:
            return 1.0 / (self.kwargs["beta"] + 1.0)
        return self.kwargs.get("selectivity") or 1.0


def register_methods(methods: Mapping[str, Method]) -> Mapping[str, Method]:
    """File every method's colour under its label (one palette for the book); returns ``methods``."""
    for label, method in methods.items():
        palette.register(label, method.colour, method.paper)
    return methods


STANDARD = Method("uniform", {}, "standard training", "black")

#: paper J's methods (Jiang et al. 2019), as chapter J runs them
JIANG2019: dict[str, Method] = register_methods(
    {
        "Traditional": STANDARD,
        "SB β=1": Method("sb", {"beta": 1.0}, "J", "#56B4E9"),
        "SB β=2": Method("sb", {"beta": 2.0}, "J", "#0072B2"),
        "Stale-SB n=2": Method("stale_sb", {"beta": 2.0, "staleness": 2}, "J", "#CC79A7"),
        "Stale-SB n=3": Method("stale_sb", {"beta": 2.0, "staleness": 3}, "J", "#D55E00"),
        # as paper J's code ran it: loss score, no re-weighting, b sampled from a pool of 4b, the τ
        # switch read at epoch starts, unique draws trained (profiles without ``reference_baselines``
        # run idiap's per-pool reading, :func:`~lossprio.chapters.kit.idiap_kath18`)
        "Kath18": Method(
            "kath18",
            {
                "keep": None,
                "selectivity": 0.25,
                "score": "loss",
                "reweight": False,
                "tau_switch": True,
                "switch": "epoch",
                "unique": True,
            },
            "J",
            "#009E73",
            pool=4,
        ),
        "SB β=0.5": Method("sb", {"beta": 0.5}, "J", "#c6dbef"),
        "SB β=3": Method("sb", {"beta": 3.0}, "J", "#08306b"),
    }
)


def paper_j_vr(selectivity: float, colour: str, pool: int) -> Method:
    """VR as paper J's Kath18 code runs it (paper H's "VR max" methods): b drawn by loss from a
    pool of ``pool`` × b, no re-weighting, the τ switch read at epoch starts, unique draws trained."""
    kwargs = {"selectivity": selectivity, "score": "loss", "reweight": False, "tau_switch": True}
    return Method("kath18", {**kwargs, "switch": "epoch", "unique": True}, "J, H", colour, pool=pool)


#: paper H's methods (Hu et al. 2021); VR is paper J's Kath18 code, which paper H used: loss score, no
#: re-weighting, the τ switch read at each epoch's start, b drawn from a pool of 3b / 2b, unique draws trained
HU2021: dict[str, Method] = register_methods(
    {
        "standard": STANDARD,
        "SB 50 %": Method("sb", {"beta": 1.0}, "J", "#56B4E9"),
        "SB 33 %": Method("sb", {"beta": 2.0}, "J", "#0072B2"),
        "VR max 33 %": paper_j_vr(1 / 3, "#009E73", pool=3),
        "VR max 50 %": paper_j_vr(1 / 2, "#a1d99b", pool=2),
        "SBE 50 %": Method("sbe", {"beta": 1.0}, "H", "#8e0152"),  # apart from SB's blues
    }
)

RHO = "RHO-LOSS"
#: paper M's methods (Mindermann et al. 2022): n_B candidates drawn, n_b trained on
MINDERMANN2022: dict[str, Method] = register_methods(
    {
        "uniform": dataclasses.replace(STANDARD, traversal=CANDIDATES),
        "loss": Method("loss", {}, "M", "#ff7f0e", CANDIDATES),
        "gradient norm": Method("grad_norm", {}, "M", "#8c564b", CANDIDATES),
        "gradient norm IS": Method("grad_norm_is", {}, "M", "#e7ba52", CANDIDATES),
        "irreducible loss": Method("irreducible", {}, "M", "#7f7f7f", CANDIDATES),
        "SVP": Method("svp", {}, "M", "#e377c2", CANDIDATES),
        RHO: Method("rho", {}, "M", "#d62728", CANDIDATES),
    }
)
palette.register("reducible loss (RHO-LOSS)", "#d62728", "M")  # Fig. 1's name for RHO-LOSS's selection function

NEW = "SB on reducible loss"
#: the cross-paper grid: papers J's and H's methods as their chapters run them (SBE β = 1 is chapter
#: H's "SBE 50 %"), this book's SB on reducible loss, and paper M's methods as chapter M runs them
CROSSPAPER: dict[str, Method] = register_methods(
    {
        "uniform": STANDARD,
        **{label: JIANG2019[label] for label in ("SB β=1", "SB β=2", "Stale-SB n=2")},
        "SBE β=1": HU2021["SBE 50 %"],
        "VR max 33 %": HU2021["VR max 33 %"],
        NEW: Method("sb_rho", {"beta": 1.0}, "this book", "#6a3d9a"),
        "uniform, n_B → n_b": dataclasses.replace(MINDERMANN2022["uniform"], paper="M", colour="#525252"),
        **{label: method for label, method in MINDERMANN2022.items() if label != "uniform"},
    }
)

RS2, INFOBATCH = "RS2", "InfoBatch"
#: the tuned-baseline chapter: tuned uniform against the per-epoch prunings and the selectors
TUNED: dict[str, Method] = register_methods(
    {
        "uniform": STANDARD,
        RS2: Method("rs2", {"fraction": 0.1}, "Okanovic et al. 2024", "#E69F00"),
        # at a fixed budget the epochs are not known in advance: δ is read as a share of the budget
        INFOBATCH: Method(
            "infobatch", {"prune_ratio": 0.5, "delta": 0.875, "anneal": "budget"}, "Qin et al. 2024", "#009E73"
        ),
        "SB β=1": JIANG2019["SB β=1"],
        "Stale-SB n=2": JIANG2019["Stale-SB n=2"],
        RHO: MINDERMANN2022[RHO],
        NEW: CROSSPAPER[NEW],
    }
)
#: InfoBatch as its paper runs it (a fixed number of epochs, some pruned: fewer backprops), for its own claim
NATIVE = "InfoBatch, its own epochs"
NATIVE_INFOBATCH = register_methods(
    {NATIVE: Method("infobatch", {"prune_ratio": 0.5, "delta": 0.875}, "Qin et al. 2024", "#009E73")}
)[NATIVE]

#: the scaling chapter: tuned uniform against the two selectors whose savings the papers report
SCALING: dict[str, Method] = register_methods(
    {"uniform": STANDARD, "SB β=1": JIANG2019["SB β=1"], RHO: MINDERMANN2022[RHO]}
)
