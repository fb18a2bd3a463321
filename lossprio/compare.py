"""Comparisons that decide: one estimate per comparison (a speedup, a difference of means), its
interval, and the rule a claim states before any result (superiority, non-inferiority or
equivalence, with its threshold or margin); a chapter's claims are one family, adjusted together.

Both sides of a comparison are summarised the same way, so identical arms give exactly 1.0× and
±0. Intervals are Welch t intervals over seed-level values (log costs for a speedup), whose
coverage at the book's seed counts is measured on planted data (``tests/test_compare.py``). A
speedup read off a coarse evaluation grid only knows each seed's cost to within the step between
two evaluations; its interval is widened by that bracket on each side, so the grid cannot push it
off the truth. Each decision is a one-sided test at :data:`ALPHA` (the 95 % interval clearing its
threshold); a family of decisions is adjusted by Holm's step-down procedure (:func:`holm`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from .checks import check_choice, check_range
from .metrics import NEVER, NeverReached, curve, first_reaching, previous_point
from .records import RunRecord

#: the level of every one-sided test (so the 95 % two-sided interval decides it)
ALPHA = 0.025
LEVEL = 1 - 2 * ALPHA
#: the kinds of rule a claim can state
KINDS = ("superiority", "non-inferiority", "equivalence")


# ----------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class Estimate:
    """A comparison on its working scale (a difference of means; a speedup's log), as a Welch t
    statistic: ``centre`` ± ``t·se`` with ``df`` degrees of freedom, widened by ``slack_low`` /
    ``slack_high`` where the values are only known to within a bracket (a coarse evaluation grid;
    ``inf``: unbounded on that side). ``se`` is ``inf`` with fewer than two seeds a side."""

    centre: float
    se: float
    df: float
    slack_low: float = 0.0
    slack_high: float = 0.0

    def bounds(self, level: float = LEVEL) -> tuple[float, float]:
        """The two-sided ``level`` interval on the working scale."""
        if not math.isfinite(self.se):
            return -math.inf, math.inf
        spread = float(stats.t.ppf(0.5 + level / 2, self.df)) * self.se if self.se > 0 else 0.0
        return self.centre - self.slack_low - spread, self.centre + self.slack_high + spread

    def p_above(self, threshold: float) -> float:
        """One-sided p-value of "the true value is above ``threshold``" (small: it is)."""
        return self._p(self.centre - self.slack_low - threshold)

    def p_below(self, threshold: float) -> float:
        """One-sided p-value of "the true value is below ``threshold``" (small: it is)."""
        return self._p(threshold - (self.centre + self.slack_high))

    def minus(self, other: Estimate) -> Estimate:
        """This estimate less an independent ``other`` (e.g. two speedups' logs: their ratio);
        the smaller degrees of freedom, so the interval errs wide."""
        return Estimate(
            self.centre - other.centre,
            math.sqrt(self.se**2 + other.se**2),
            min(self.df, other.df),
            self.slack_low + other.slack_high,
            self.slack_high + other.slack_low,
        )

    def _p(self, distance: float) -> float:
        if math.isnan(distance) or not math.isfinite(self.se):
            return 1.0
        if self.se == 0:
            return 0.0 if distance > 0 else 1.0
        return float(stats.t.sf(distance / self.se, self.df))


def welch(first: Sequence[float], second: Sequence[float]) -> tuple[float, float, float]:
    """``mean(first) − mean(second)``, its Welch standard error and degrees of freedom (``inf``
    standard error with fewer than two values a side)."""
    centre = statistics.fmean(first) - statistics.fmean(second)
    if len(first) < 2 or len(second) < 2:
        return centre, math.inf, 1.0
    a, b = statistics.variance(first) / len(first), statistics.variance(second) / len(second)
    se = math.sqrt(a + b)
    if se == 0:
        return centre, 0.0, float(len(first) + len(second) - 2)
    df = (a + b) ** 2 / (a**2 / (len(first) - 1) + b**2 / (len(second) - 1))
    return centre, se, df


def mean_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """A mean and its t interval over seeds: ``(mean, low, high)`` (the mean itself at both ends
    with one value)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1)) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class Difference:
    """A difference of means over seeds (e.g. a method's final error minus the baseline's, in
    points): ``value``, its interval, the seeds a side, and whether the two sides are the same
    runs seed by seed (then it is no comparison: ±0, never decided)."""

    value: float
    estimate: Estimate
    seeds: tuple[int, int]
    identical: bool = False

    @property
    def low(self) -> float:
        return self.estimate.bounds()[0]

    @property
    def high(self) -> float:
        return self.estimate.bounds()[1]

    @property
    def has_interval(self) -> bool:
        """Both sides have two seeds or more."""
        return math.isfinite(self.estimate.se)

    @property
    def numbers(self) -> str:
        """``+0.12 [-0.10, +0.31]`` (``±0`` for identical runs)."""
        if self.identical:
            return "±0"
        return f"{self.value:+.2f}" + (f" [{self.low:+.2f}, {self.high:+.2f}]" if self.has_interval else "")

    def __str__(self) -> str:
        return self.numbers


def difference(first: Sequence[float], second: Sequence[float], identical: bool = False) -> Difference:
    """``mean(first) − mean(second)`` with its Welch t interval (``identical``: the same runs)."""
    if not first or not second:
        raise ValueError("a difference needs at least one value a side")
    centre, se, df = welch(first, second)
    if identical:
        centre, se = 0.0, 0.0
    return Difference(centre, Estimate(centre, se, df), (len(first), len(second)), identical)


def shift(values: Sequence[float], reference: float) -> Difference:
    """``mean(values) − reference`` with its one-sample t interval (e.g. a method's share of
    corrupted examples trained on, over seeds, against the data's own share)."""
    if not values:
        raise ValueError("a shift needs at least one value")
    centre = statistics.fmean(values) - reference
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.inf
    return Difference(centre, Estimate(centre, se, float(max(1, len(values) - 1))), (len(values), 0))


def slope(xs: Sequence[float], ys: Sequence[float]) -> Difference:
    """The least-squares slope of ``ys`` on ``xs`` (e.g. log speedups on log compute, one point a
    cell) with its t interval on ``n − 2`` degrees of freedom (``inf`` standard error with fewer
    than three points or no spread in ``xs``); ``seeds`` holds the number of points."""
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"a slope needs as many ys as xs, at least one: got {len(xs)} and {len(ys)}")
    x_mean, y_mean = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - x_mean) ** 2 for x in xs)
    if spread == 0:
        return Difference(0.0, Estimate(0.0, math.inf, 1.0), (len(xs), 0))
    value = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys)) / spread
    if len(xs) < 3:
        return Difference(value, Estimate(value, math.inf, 1.0), (len(xs), 0))
    residuals = [y - y_mean - value * (x - x_mean) for x, y in zip(xs, ys)]
    se = math.sqrt(sum(r * r for r in residuals) / (len(xs) - 2) / spread)
    return Difference(value, Estimate(value, se, float(len(xs) - 2)), (len(xs), 0))


# ----------------------------------------------------------------------------- speedups


#: how every speedup in the book sets its target and summarises its seeds (the pages print it)
TARGET_RULE = (
    "The target of a speedup is a multiple (the target factor; 1 where none is named) of the baseline's "
    "best (or final) test error in its worst seed, so every baseline seed reaches it. Each seed's cost is "
    "the first step (example, second) at which it reaches the target; a speedup is the baseline's geometric "
    "mean cost over the method's, both over their seeds, so the baseline against itself is exactly 1.0×. A "
    "seed that never reaches the target counts at its last evaluation and the speedup is then shown as at "
    "most (≤) that; a method whose seeds mostly never reach it has none (—)."
)


class OnRatioScale:
    """The ends of the 95 % interval of an estimate kept on the log scale (a speedup, a ratio of two)."""

    estimate: Estimate

    @property
    def low(self) -> float:
        return math.exp(self.estimate.bounds()[0])

    @property
    def high(self) -> float:
        return math.exp(self.estimate.bounds()[1])


@dataclass(frozen=True)
class Speedup(OnRatioScale):
    """A speedup over seeds: the baseline's geometric mean cost to the target over the method's.

    ``value`` is :data:`~lossprio.metrics.NEVER` when more than half the method's seeds never
    reach the target. ``at_most``: some seed never reached it (counted at its last evaluation),
    so the speedup is at most the value; ``at_least``: some seed reached it at its first
    evaluation, so it may have been sooner (shown ``≥``). The interval is on the log scale,
    widened by each seed's evaluation bracket; ``low`` is 0 (never) and ``high`` ∞ where a
    bracket is open."""

    value: float | NeverReached
    estimate: Estimate
    reached: int
    seeds: int
    target_error: float
    diverged: int = 0
    at_least: bool = False
    at_most: bool = False
    identical: bool = False

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.estimate.se)

    @property
    def number(self) -> float:
        """The value as a number, never reached as 0."""
        return 0.0 if self.value is NEVER else float(self.value)

    def interval_text(self) -> str:
        def show(value: float) -> str:
            return "never" if value == 0 else "∞" if math.isinf(value) else f"{value:.1f}"

        return f"({show(self.low)}–{show(self.high)})"

    def __str__(self) -> str:
        mark = "≥ " if self.at_least and not self.at_most else "≤ " if self.at_most and not self.at_least else ""
        text = "—" if self.value is NEVER else f"{mark}{self.value:.1f}x"
        if self.has_interval and (self.value is not NEVER or self.high > 0):
            text += f" {self.interval_text()}"
        if 0 < self.reached < self.seeds:
            text += f" ({self.reached}/{self.seeds} seeds)"
        return text + (f" ({self.diverged} diverged)" if self.diverged else "")


def cost_bracket(record: RunRecord, x: str, target: float) -> tuple[float, float]:
    """Where between two evaluations a run first reached ``target``: ``(previous evaluation or 0,
    the evaluation that reached it)``; ``(last evaluation, inf)`` if it never did (or diverged)."""
    xs, errors = curve(record, x)
    if record.status == "diverged":
        return (xs[-1] if xs else 0.0), math.inf
    reached = first_reaching(xs, errors, target)
    if reached is NEVER:
        return (xs[-1] if xs else 0.0), math.inf
    return previous_point(xs, reached), float(reached)


def bracket_gap(brackets: Sequence[tuple[float, float]]) -> float:
    """How much lower, in mean log cost, a side's true costs may be than those seen at its
    evaluations (each seed's bracket; a never-reached seed's cost cannot be lower than its last
    evaluation; ``inf`` where a seed reached the target at its first evaluation)."""
    if any(low <= 0 for low, high in brackets if math.isfinite(high)):
        return math.inf
    return statistics.fmean(math.log(high) - math.log(low) if math.isfinite(high) else 0.0 for low, high in brackets)


def target_of(baselines: Sequence[RunRecord], factor: float, reference: str, target_share: float) -> float:
    """The book's target (:data:`TARGET_RULE`): ``target_share`` × ``factor`` × the worst
    (non-diverged) baseline seed's best or final test error (NaN with none)."""
    errors = [r.best_test_error if reference == "best" else r.final_test_error for r in baselines]
    return target_share * factor * max(errors) if errors else math.nan


def speedup(
    baselines: Sequence[RunRecord],
    methods: Sequence[RunRecord],
    factor: float = 1.2,
    reference: str = "best",
    x: str = "backprops",
    target_share: float = 1.0,
    target_from: Sequence[RunRecord] | None = None,
) -> Speedup:
    """Speedup of ``methods`` over ``baselines`` to the book's target (:data:`TARGET_RULE`),
    set by ``target_from`` (default: the baselines; e.g. uniform's runs when two methods are
    compared with each other). Diverged seeds: a baseline's is left out, a method's never
    reaches the target (and is counted in ``diverged``)."""
    check_range("factor", factor, 1.0)
    check_range("target_share", target_share, 0.0, 1.0, low_open=True)
    check_choice("reference", reference, ["best", "final"])
    diverged = sum(m.status == "diverged" for m in methods)
    baselines = [b for b in baselines if b.status != "diverged"]
    setters = baselines if target_from is None else [b for b in target_from if b.status != "diverged"]
    target = target_of(setters, factor, reference, target_share)
    method_brackets = [cost_bracket(m, x, target) for m in methods]
    base_brackets = [cost_bracket(b, x, target) for b in baselines]
    reached = sum(math.isfinite(high) for _, high in method_brackets)
    base_reached = sum(math.isfinite(high) for _, high in base_brackets)
    unknown = Estimate(math.nan, math.inf, 1.0)
    if not base_brackets or not method_brackets:
        return Speedup(NEVER, unknown, reached, len(methods), target, diverged)
    identical = len(baselines) == len(methods) and all(curve(b, x) == curve(m, x) for b, m in zip(baselines, methods))
    # a seed's cost: where it reached the target, or (never) its last evaluation, a lower bound
    base_costs, method_costs = (
        [high if math.isfinite(high) else low for low, high in b] for b in (base_brackets, method_brackets)
    )
    if min(base_costs) <= 0 or min(method_costs) <= 0:
        return Speedup(NEVER, unknown, reached, len(methods), target, diverged)
    centre, se, df = welch([math.log(c) for c in base_costs], [math.log(c) for c in method_costs])
    # the true costs lie in their brackets: the baseline's may be lower than where it was seen to
    # reach the target (the speedup lower), the method's too (higher); a seed that never reached it
    # has a cost bounded only below, so a method's such seed leaves the speedup unbounded below and
    # a baseline's unbounded above
    slack_low = bracket_gap(base_brackets) + (math.inf if reached < len(methods) else 0.0)
    slack_high = bracket_gap(method_brackets) + (math.inf if base_reached < len(base_brackets) else 0.0)
    estimate = Estimate(centre, se, df, slack_low, slack_high)
    value: float | NeverReached = NEVER if reached <= len(methods) // 2 else math.exp(centre)
    first = any(low == 0 for low, high in method_brackets if math.isfinite(high))
    base_first = any(low == 0 for low, high in base_brackets if math.isfinite(high))
    return Speedup(
        value,
        estimate,
        reached,
        len(methods),
        target,
        diverged,
        at_least=first or base_reached < len(base_brackets),
        at_most=reached < len(methods) or base_first,
        identical=identical,
    )


@dataclass(frozen=True)
class Contrast(OnRatioScale):
    """One speedup over another, measured against different baselines (e.g. the same method with
    and without label noise): their ratio, on the log scale with both intervals' widths."""

    value: float
    estimate: Estimate
    identical: bool = False

    def __str__(self) -> str:
        ends = "–".join("∞" if math.isinf(v) else f"{v:.2f}" for v in (self.low, self.high))
        return f"{'—' if math.isnan(self.value) else f'{self.value:.2f}×'} ({ends})"


def ratio(first: Speedup, second: Speedup) -> Contrast | None:
    """``first`` ÷ ``second``, on the log scale with both intervals' widths (``None`` without an
    estimate on either side). A speedup whose seeds mostly never reached its target has no value
    (NaN) but still an upper end: its seeds' costs are at least their last evaluations."""
    if math.isnan(first.estimate.centre) or math.isnan(second.estimate.centre):
        return None
    value = math.nan if NEVER in (first.value, second.value) else first.number / second.number
    return Contrast(value, first.estimate.minus(second.estimate))


# ----------------------------------------------------------------------------- rules and decisions


@dataclass(frozen=True)
class Rule:
    """How a claim is decided, stated before any result.

    Attributes:
        kind: ``superiority`` (the effect lies beyond ``threshold`` in the ``better`` direction),
            ``non-inferiority`` (it is not worse than ``threshold`` — the margin — in the other
            direction) or ``equivalence`` (it lies within ± ``threshold`` of no effect: two
            one-sided tests).
        threshold: the value to clear (1 for a speedup's no effect, 0 for a difference) or the margin.
        better: ``higher`` (a speedup) or ``lower`` (an error difference).
        why: where the threshold or margin comes from (the paper's own number where it gives one).
        scale: ``ratio`` (thresholds are factors, tested on the log scale) or ``difference``.
        unit: how the claims tables write the threshold's unit (``None``: ``×`` for a ratio, ``pts``
            for a difference, the book's usual ones; ``""`` for a plain number such as a slope).
    """

    kind: str
    threshold: float
    better: str
    why: str = ""
    scale: str = "difference"
    unit: str | None = None

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, list(KINDS))
        check_choice("better", self.better, ["higher", "lower"])
        check_choice("scale", self.scale, ["difference", "ratio"])
        if self.scale == "ratio":
            check_range("threshold", self.threshold, 0.0, low_open=True)
        if self.kind == "equivalence" and self.threshold <= (1.0 if self.scale == "ratio" else 0.0):
            raise ValueError(f"threshold={self.threshold!r}: an equivalence margin must be above no effect")

    def _working(self, value: float) -> float:
        return math.log(value) if self.scale == "ratio" else value

    def p_values(self, estimate: Estimate) -> tuple[float, float]:
        """(p of the claim, p of its opposite): one-sided tests on ``estimate``."""
        t = self._working(self.threshold)
        higher = self.better == "higher"
        if self.kind == "superiority":
            claim = estimate.p_above(t) if higher else estimate.p_below(t)
            opposite = estimate.p_below(t) if higher else estimate.p_above(t)
            return claim, opposite
        if self.kind == "non-inferiority":  # the margin lies on the worse side of no effect
            if higher:
                return estimate.p_above(t), estimate.p_below(t)
            return estimate.p_below(t), estimate.p_above(t)
        # equivalence: both one-sided tests must reject; its opposite, outside the margin on either side
        low, high = -abs(t), abs(t)
        claim = max(estimate.p_above(low), estimate.p_below(high))
        opposite = min(1.0, 2 * min(estimate.p_below(low), estimate.p_above(high)))
        return claim, opposite

    def describe(self) -> str:
        """The rule in words, for the claims tables."""
        unit = ("×" if self.scale == "ratio" else " pts") if self.unit is None else self.unit
        side = "above" if self.better == "higher" else "below"
        if self.kind == "superiority":
            text = f"superiority: 95 % interval {side} {self.threshold:g}{unit}"
        elif self.kind == "non-inferiority":
            worse = "below" if self.better == "higher" else "above"
            text = f"non-inferiority: 95 % interval not {worse} the margin {self.threshold:g}{unit}"
        else:
            text = f"equivalence (two one-sided tests): 95 % interval within ±{self.threshold:g}{unit}"
        return text + (f" ({self.why})" if self.why else "")


CONFIRMED, CONTRADICTED, INCONCLUSIVE, MIXED, SAME = "confirmed", "contradicted", "inconclusive", "mixed", "same runs"
#: the verdicts a claim can get
VERDICTS = (CONFIRMED, CONTRADICTED, MIXED, INCONCLUSIVE)


@dataclass(frozen=True)
class Outcome:
    """One comparison a claim rests on, decided by its rule: its label, the estimate's text, and
    the one-sided p-values for and against the claim (``identical``: the same runs, left out)."""

    label: str
    text: str
    p_claim: float
    p_opposite: float
    identical: bool = False
    left_out: str = ""  # why an outcome that is no test of the claim is left out (its runs are not the method's)
    # the estimate and its 95 % interval as numbers (None where there is none), on the rule's scale
    # (``ratio``: a speedup or a ratio of two; ``difference``: points), and the rule's threshold or margin
    value: float | None = None
    low: float | None = None
    high: float | None = None
    scale: str = "difference"
    threshold: float | None = None

    def decided(self, alpha: float = ALPHA) -> str:
        """``confirmed`` / ``contradicted`` / ``inconclusive`` at ``alpha`` (``same runs``)."""
        if self.identical:
            return SAME
        if self.p_claim <= alpha:
            return CONFIRMED
        return CONTRADICTED if self.p_opposite <= alpha else INCONCLUSIVE

    @property
    def p(self) -> float:
        """The smaller one-sided p-value: what a family adjusts."""
        return min(self.p_claim, self.p_opposite)


@dataclass(frozen=True)
class LeftOut:
    """A comparison that is no test of its claim, and why (e.g. a VR whose switch never turned
    on: uniform training under another name); shown, never counted."""

    found: Difference | Speedup | Contrast | None
    why: str


Found = Difference | Speedup | Contrast | LeftOut


def outcome(label: str, found: Found | None, rule: Rule) -> Outcome:
    """``found`` decided by ``rule`` (``None``: nothing to compare, never decided)."""
    if isinstance(found, LeftOut):
        return Outcome(label, str(found.found) if found.found is not None else "—", 1.0, 1.0, True, found.why)
    if found is None:
        return Outcome(label, "—", 1.0, 1.0)
    claim, opposite = rule.p_values(found.estimate)
    value = found.number if isinstance(found, Speedup) else found.value
    return Outcome(
        label,
        str(found),
        claim,
        opposite,
        found.identical,
        value=finite(value),
        low=finite(found.low),
        high=finite(found.high),
        scale=rule.scale,
        threshold=rule.threshold,
    )


def finite(value: float) -> float | None:
    """``value`` as a plain float, or ``None`` where it is NaN or infinite (no number to plot)."""
    return float(value) if value is not None and math.isfinite(value) else None


def verdict(decisions: Sequence[str]) -> str:
    """A claim's verdict from its outcomes' decisions (same runs left out): ``confirmed`` if all
    confirm, ``contradicted`` if all contradict, ``mixed`` if some do each, else ``inconclusive``."""
    counted = [d for d in decisions if d != SAME]
    if not counted:
        return INCONCLUSIVE
    if all(d == CONFIRMED for d in counted):
        return CONFIRMED
    if all(d == CONTRADICTED for d in counted):
        return CONTRADICTED
    if CONFIRMED in counted and CONTRADICTED in counted:
        return MIXED
    return INCONCLUSIVE


def verdict_p_values(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The p-value of each verdict a claim of ``outcomes`` could get (same runs left out), as an
    intersection-union test: ``confirmed`` needs every outcome to confirm (the largest of their
    p-values), ``contradicted`` every one to contradict, ``mixed`` at least one of each; a claim
    is a verdict when its p-value is at most :data:`ALPHA` (the raw verdict), or when its
    Holm-adjusted one is (:func:`adjusted_verdicts`)."""
    counted = [o for o in outcomes if not o.identical]
    if not counted:
        return {CONFIRMED: 1.0, CONTRADICTED: 1.0, MIXED: 1.0}
    return {
        CONFIRMED: max(o.p_claim for o in counted),
        CONTRADICTED: max(o.p_opposite for o in counted),
        MIXED: max(min(o.p_claim for o in counted), min(o.p_opposite for o in counted)),
    }


def adjusted_verdicts(claims: Sequence[Sequence[Outcome]], alpha: float = ALPHA) -> list[str]:
    """Each claim's verdict (a claim: its outcomes) once the family of ``claims`` is adjusted by
    Holm: a claim's p-value is that of its likeliest verdict (:func:`verdict_p_values`)."""
    best = [min(verdict_p_values(c).items(), key=lambda item: item[1]) for c in claims]
    adjusted = holm([p for _, p in best])
    return [found if p <= alpha else INCONCLUSIVE for (found, _), p in zip(best, adjusted)]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (the family-wise error controlled at any level)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [1.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def adjusted_decisions(outcomes: Sequence[Outcome], alpha: float = ALPHA) -> list[str]:
    """Each outcome's decision with its p-value Holm-adjusted over ``outcomes`` (one family;
    same runs take no part)."""
    counted = [i for i, o in enumerate(outcomes) if not o.identical]
    adjusted = holm([outcomes[i].p for i in counted])
    decisions = [SAME] * len(outcomes)
    for i, p in zip(counted, adjusted):
        o = outcomes[i]
        decisions[i] = (CONFIRMED if o.p_claim <= o.p_opposite else CONTRADICTED) if p <= alpha else INCONCLUSIVE
    return decisions
