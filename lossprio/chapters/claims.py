"""A paper's claims checked against our records: each with the numbers it rests on and a verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Claim:
    """One of a paper's claims, what our records say, and whether they agree."""

    claim: str
    ours: str
    verdict: str  # "confirmed", "contradicted" or "mixed"


def verdict(agree: int, total: int) -> str:
    """``confirmed`` if every comparison agrees, ``contradicted`` if none does, else ``mixed``."""
    return "confirmed" if agree == total else "contradicted" if agree == 0 else "mixed"


def claims_frame(claims: Sequence[Claim], paper: str) -> pd.DataFrame:
    """Claims as a table for the book."""
    return pd.DataFrame([c.__dict__ for c in claims]).rename(
        columns={"claim": f"paper {paper} claims", "ours": "our runs"}
    )
