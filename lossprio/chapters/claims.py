"""A paper's claims checked against our records: each with the numbers it rests on and a verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Claim:
    """One of a paper's claims, what our records say, whether they agree, and by what rule."""

    claim: str
    ours: str
    verdict: str  # "confirmed", "contradicted", "mixed" or "inconclusive"
    rule: str = ""  # how the verdict is decided, in words (its comparisons and thresholds)


#: the rule of a claim decided by speedup intervals (:func:`lossprio.chapters.kit.beats`,
#: :func:`~lossprio.chapters.kit.faster_than`); the pages explain it once
INTERVAL_RULE = "95 % intervals over seeds, against 1× or against each other"
#: the rule of a claim decided by counting comparisons of means over seeds
COUNT_RULE = "means over seeds"


def verdict(agree: int, total: int) -> str:
    """``confirmed`` if every comparison agrees, ``contradicted`` if none does, else ``mixed``."""
    return "confirmed" if agree == total else "contradicted" if agree == 0 else "mixed"


def interval_verdict(outcomes: Sequence[bool | None]) -> str:
    """A verdict from comparisons decided by intervals (``None``: an interval straddles its
    threshold): see :func:`lossprio.intervals.verdict`."""
    from ..intervals import verdict as decide

    return decide(outcomes)


def claims_frame(claims: Sequence[Claim], paper: str) -> pd.DataFrame:
    """Claims as a table for the book."""
    return pd.DataFrame([c.__dict__ for c in claims]).rename(
        columns={"claim": f"paper {paper} claims", "ours": "our runs", "rule": "how it is decided"}
    )


def verdict_changes(claims: Sequence[Claim], before: Mapping[str, str]) -> pd.DataFrame:
    """The claims whose verdict differs from ``before`` (the start of each claim's text → its
    verdict on the chapter's previous page), and those ``before`` did not have."""
    rows = []
    for claim in claims:
        earlier = next((v for start, v in before.items() if claim.claim.startswith(start)), "(not checked)")
        if earlier != claim.verdict:
            rows.append({"claim": claim.claim, "before": earlier, "now": claim.verdict})
    return pd.DataFrame(rows, columns=["claim", "before", "now"])
