"""A paper's claims checked against our records: each with the comparisons it rests on, the rule
that decides them (stated before any result), and a verdict, raw and Holm-adjusted over the
chapter's family of comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..compare import Found, Outcome, Rule, outcome, verdict
from ..compare import adjusted_verdicts as adjusted


@dataclass(frozen=True)
class Claim:
    """One of a paper's claims, what our records say, whether they agree, and by what rule."""

    claim: str
    ours: str
    verdict: str  # "confirmed", "contradicted", "mixed" or "inconclusive"
    rule: str = ""  # how the verdict is decided, in words (its rules, thresholds and margins)
    outcomes: tuple[Outcome, ...] = field(default=(), repr=False)  # the comparisons it rests on


def decide(claim: str, legs: Sequence[tuple[Rule, Mapping[str, Found | None]]], note: str = "") -> Claim:
    """A claim decided by its ``legs``: each a rule and the comparisons (label → estimate) it
    decides. Every comparison's decision is listed in ``ours``, then ``note``; the verdict is
    :func:`lossprio.compare.verdict` of them all."""
    outcomes = [outcome(label, found, rule) for rule, found_by_label in legs for label, found in found_by_label.items()]
    ours = "; ".join(f"{o.label}: {o.text} ({o.left_out or o.decided()})" for o in outcomes) + (
        f"; {note}" if note else ""
    )
    rules = "; ".join(dict.fromkeys(rule.describe() for rule, _ in legs))
    return Claim(claim, ours, verdict([o.decided() for o in outcomes]), rules, tuple(outcomes))


def deciding(claim: Claim) -> Outcome | None:
    """The comparison that decides ``claim``'s verdict (``None`` if none has an estimate): for a
    confirmed claim, the one least sure of it (the largest p-value for it, which the
    intersection-union test goes by); for a contradicted claim, the one least sure against it; for
    any other, again the one least sure of it, so the figure shows what stands in the way."""
    counted = [o for o in claim.outcomes if not o.identical and not o.left_out and o.value is not None]
    if not counted:
        return None
    if claim.verdict == "contradicted":
        return max(counted, key=lambda o: o.p_opposite)
    return max(counted, key=lambda o: o.p_claim)


def adjusted_verdicts(claims: Sequence[Claim]) -> list[str]:
    """Each claim's verdict once ``claims`` (one family: a chapter's) are Holm-adjusted
    (:func:`lossprio.compare.adjusted_verdicts`)."""
    return adjusted([c.outcomes for c in claims])


def claims_frame(claims: Sequence[Claim], paper: str) -> pd.DataFrame:
    """Claims as a table for the book, with the verdict after Holm's adjustment over the table's
    comparisons beside the raw one."""
    frame = pd.DataFrame([{k: v for k, v in c.__dict__.items() if k != "outcomes"} for c in claims])
    if len(frame):
        frame.insert(3, "adjusted (Holm)", adjusted_verdicts(claims))
    return frame.rename(columns={"claim": f"paper {paper} claims", "ours": "our runs", "rule": "how it is decided"})


def verdict_changes(claims: Sequence[Claim], before: Mapping[str, str]) -> pd.DataFrame:
    """The claims whose verdict differs from ``before`` (the start of each claim's text → its
    verdict on the chapter's previous page), and those ``before`` did not have."""
    rows = []
    for claim in claims:
        earlier = next((v for start, v in before.items() if claim.claim.startswith(start)), "(not checked)")
        if earlier != claim.verdict:
            rows.append({"claim": claim.claim, "before": earlier, "now": claim.verdict})
    return pd.DataFrame(rows, columns=["claim", "before", "now"])


def rules_table(modules: Sequence[str]) -> pd.DataFrame:
    """Every rule the named modules of :mod:`lossprio.chapters` state (module-level
    :class:`~lossprio.compare.Rule` constants, written before any record is read), as a table."""
    import importlib

    rows = [
        {
            "where (its family)": module,
            "rule": name,
            "kind": rule.kind,
            "threshold or margin": f"{rule.threshold:g}{'×' if rule.scale == 'ratio' else ' pts'}",
            "better": rule.better,
            "why": rule.why,
        }
        for module in modules
        for name, rule in vars(importlib.import_module(f"lossprio.chapters.{module}")).items()
        if isinstance(rule, Rule)
    ]
    return pd.DataFrame(rows, columns=["where (its family)", "rule", "kind", "threshold or margin", "better", "why"])
