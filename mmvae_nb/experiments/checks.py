"""What a claim rests on: checks of the cells of a table or figure, and their verdicts
(``claims`` combines them into a claim's).

* ``Better(source, metric, a, b)``: the cells selected by ``a`` beat those selected by ``b``
  (means over the selected cells, their mean std as the group's std);
* ``BestOf(source, metric, a_options, b_options)``: the best of the schemes ``a_options`` beats
  the best of ``b_options`` ("more flexible aggregation improves ..."); an exact tie is
  consistent, never held;
* ``NoUniformWinner``: no single scheme is best for every target ("no bound or aggregation
  scheme performs best across all modalities"): held when two targets have different winners,
  each beating the other's winner on its target beyond the spread; not held when one scheme
  leads every target beyond the spread;
* ``SmallerRange``: the cells of one table differ less among themselves than those of another
  ("smaller differences across bounds and fusion schemes than in Table 1");
* ``Reaches(source, metric, a, b)``: a is not worse than b by more than a tolerance ("mrVAE is
  able to reach the performance of the MoPoE-VAE"): the difference judged is a - b plus the
  tolerance.

"Better" is larger, or smaller for the metrics in ``LOWER_IS_BETTER`` (gaps, KLs); for rates it
is "larger" (a claim of lower rates for b is a check that a's rates are larger).
Derived metrics (``DERIVED``) are differences of two printed metrics of the same cell, e.g. the
bound's slack llh - lower_bound of Tables 2 and 8 ("tighter bounds").

The notebooks' claim cells and the scorecard (``reporting.scorecard``) evaluate the same
registries (``CLAIMS`` of each ``*_claims`` module) on the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmvae_nb.experiments.table_specs import select_rows

HELD, CONSISTENT, NOT_HELD = "held", "consistent", "not held"
NO_SPREAD, NOT_MEASURED = "no spread", "not measured"
STATUSES = (HELD, CONSISTENT, NOT_HELD, NO_SPREAD, NOT_MEASURED)
# the verdicts said of the paper's own printed numbers
PAPER_WORDS = {
    HELD: "supported",
    CONSISTENT: "within its noise",
    NOT_HELD: "contradicted by its own tables",
    NO_SPREAD: "no std printed",
    NOT_MEASURED: "not printed",
}
# the order in which checks bind a claim (module notes)
RANK = {NOT_HELD: 0, NO_SPREAD: 1, CONSISTENT: 2, HELD: 3}
DECIDED = (HELD, CONSISTENT, NOT_HELD)  # the verdicts that compare a difference with a spread
# metrics where smaller is better: gaps to the likelihood, the bound's slack, KLs to the true
# posterior. Rates are neither better nor worse: a check on a rate reads "a has the higher rate".
LOWER_IS_BETTER = frozenset(
    {
        "llh_gap",
        "bound_gap",
        "bound_slack",
        "full_posterior_kl",
        "unimodal_posterior_kl",
        "fid",
        "fid_polymnist_features",
    }
)
# the paper's name of a metric we measure in another space: the relational FID claims compare
# cells of one table, which we compute in our classifier's features and the paper in Inception's
PAPER_METRICS = {"fid_polymnist_features": "fid"}
# metric -> (minuend, subtrahend), computed per cell; stds combined as if independent
DERIVED = {"bound_slack": ("llh", "lower_bound")}
Selector = Mapping[str, object]
Sources = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class Verdict:
    """A check's or a claim's outcome; ``difference`` is in the claim's direction (positive
    when it goes the paper's way), ``spread`` the combined std of the compared cells."""

    status: str
    evidence: str
    difference: float = float("nan")
    spread: float = float("nan")


def judge(difference: float, spread: float) -> str:
    """The status of a ``difference`` in the claim's direction against its ``spread``:
    held beyond it, not held beyond it the other way, consistent within it; no spread when
    the cells have no std (module notes)."""
    if not np.isfinite(difference):
        return NOT_MEASURED
    if not np.isfinite(spread):
        return NO_SPREAD
    if difference > spread:
        return HELD
    return NOT_HELD if difference < -spread else CONSISTENT


def _not_measured(why: str) -> Verdict:
    return Verdict(NOT_MEASURED, why)


def _summary(cells: pd.DataFrame) -> tuple[float, float]:
    """Mean and std of a group of cells (their mean std as the group's std; NaN when the cells
    have no std, e.g. a single run)."""
    if cells.empty:
        return float("nan"), float("nan")
    return float(cells["mean"].mean()), float(cells["std"].mean())


def _sign(metric: str) -> float:
    return -1.0 if metric in LOWER_IS_BETTER else 1.0


def _spread_text(spread: float) -> str:
    return "no spread" if np.isnan(spread) else f"spread {spread:.2g}"


def _compare(metric, label_a, a, label_b, b) -> Verdict:
    (mean_a, std_a), (mean_b, std_b) = a, b
    if not (np.isfinite(mean_a) and np.isfinite(mean_b)):
        return _not_measured(f"{metric}: non-finite cell")
    difference = _sign(metric) * (mean_a - mean_b)
    spread = float(np.hypot(std_a, std_b))
    evidence = (
        f"{metric}: {label_a} {mean_a:.4g} vs {label_b} {mean_b:.4g} "
        f"(difference {difference:+.3g}, {_spread_text(spread)})"
    )
    return Verdict(judge(difference, spread), evidence, difference, spread)


def _derived(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Cells of a ``DERIVED`` metric: the difference of two metrics of the same cell."""
    first, second = DERIVED[metric]
    keys = [c for c in table.columns if c not in ("metric", "mean", "std", "n_runs")]
    a = table[table["metric"] == first].drop(columns="metric")
    b = table[table["metric"] == second].drop(columns="metric")
    both = a.merge(b, on=keys, suffixes=("_a", "_b"))
    return both.assign(
        metric=metric,
        mean=both["mean_a"] - both["mean_b"],
        std=np.hypot(both["std_a"], both["std_b"]),
    )[[*keys, "metric", "mean", "std"]]


def _cells(sources: Sources, source: str, metric: str, where: Selector, cross_only: bool):
    """The cells of ``metric`` in ``source`` matching ``where`` (``None`` if not reproduced);
    with ``cross_only``, only conditional generation from inputs without the target."""
    if source not in sources:
        return None
    table = sources[source]
    if metric in DERIVED:
        table = _derived(table, metric)
    cells = select_rows(table, {"metric": metric, **where})
    if cross_only:
        keep = [t not in i.split("+") for t, i in zip(cells["target"], cells["inputs"])]
        cells = cells[np.asarray(keep, bool)]
    return cells


def _label(selector: Selector) -> str:
    return ", ".join(str(v) for v in selector.values())


@dataclass(frozen=True)
class Better:
    """The cells ``a`` beat the cells ``b`` on ``metric`` in ``source`` (``where`` selects
    both; with ``cross_only`` only cells whose inputs do not contain the target)."""

    source: str
    metric: str
    a: Selector
    b: Selector
    where: Selector = field(default_factory=dict)
    cross_only: bool = False

    def __call__(self, sources: Sources) -> Verdict:
        base = _cells(sources, self.source, self.metric, self.where, self.cross_only)
        if base is None:
            return _not_measured(f"{self.source} not available")
        cells_a, cells_b = select_rows(base, self.a), select_rows(base, self.b)
        if cells_a.empty or cells_b.empty:
            return _not_measured(f"no cells for {_label(self.a)} or {_label(self.b)}")
        return _compare(
            self.metric, _label(self.a), _summary(cells_a), _label(self.b), _summary(cells_b)
        )


@dataclass(frozen=True)
class BestOf:
    """The best of the cell groups ``a`` beats the best of the groups ``b`` on ``metric``
    (each group a selector, e.g. ``{"aggregation": "SumPooling"}``; ``where`` selects the
    cells of all, e.g. a bound and a prior)."""

    source: str
    metric: str
    a: Sequence[Selector]
    b: Sequence[Selector]
    where: Selector = field(default_factory=dict)
    cross_only: bool = False

    def __call__(self, sources: Sources) -> Verdict:
        base = _cells(sources, self.source, self.metric, self.where, self.cross_only)
        if base is None:
            return _not_measured(f"{self.source} not available")
        best = []
        for groups in (self.a, self.b):
            ran = [(_label(g), _summary(select_rows(base, g))) for g in groups]
            ran = [(name, value) for name, value in ran if np.isfinite(value[0])]
            if not ran:
                return _not_measured(f"none of {[_label(g) for g in groups]} available")
            best.append(max(ran, key=lambda item: _sign(self.metric) * item[1][0]))
        (name_a, a), (name_b, b) = best
        return _compare(self.metric, f"best {name_a}", a, f"best {name_b}", b)


@dataclass(frozen=True)
class NoUniformWinner:
    """No single scheme (a value of the columns ``schemes``) has the best ``metric`` for every
    value of ``per`` (e.g. every generated modality), judged against the spread (module
    notes)."""

    source: str
    metric: str
    per: str = "target"
    schemes: tuple[str, ...] = ("bound", "aggregation")
    where: Selector = field(default_factory=dict)
    cross_only: bool = False

    def __call__(self, sources: Sources) -> Verdict:
        base = _cells(sources, self.source, self.metric, self.where, self.cross_only)
        if base is None or base.empty:
            return _not_measured(f"{self.source}: no {self.metric} cells")
        cells = base.groupby([self.per, *self.schemes], sort=False)[["mean", "std"]].mean()
        sign = _sign(self.metric)
        winners = {}  # per value -> (winning scheme, {scheme: (mean, std)})
        for value, group in cells.groupby(level=0, sort=False):
            scores = {key[1:]: (row["mean"], row["std"]) for key, row in group.iterrows()}
            winners[value] = (max(scores, key=lambda k: sign * scores[k][0]), scores)
        evidence = f"best {self.metric} per {self.per}: " + "; ".join(
            f"{value}: {', '.join(map(str, winner))}" for value, (winner, _) in winners.items()
        )
        if len(winners) < 2:
            return _not_measured(f"one {self.per} only; {evidence}")

        def lead(value, winner, other) -> tuple[float, float]:
            (mean_w, std_w), (mean_o, std_o) = (winners[value][1][k] for k in (winner, other))
            return sign * (mean_w - mean_o), float(np.hypot(std_w, std_o))

        if len({winner for winner, _ in winners.values()}) == 1:
            # one scheme best everywhere: its smallest lead over a runner-up, against the claim
            leads = []
            for value, (winner, scores) in winners.items():
                others = [k for k in scores if k != winner]
                if others:
                    runner_up = max(others, key=lambda k: sign * scores[k][0])
                    leads.append(lead(value, winner, runner_up))
            if not leads:
                return _not_measured(f"one scheme only; {evidence}")
            difference, spread = min(leads, key=z_score)
            difference = -difference
        else:
            # the best pair of values with different winners, each winner ahead on its own
            pairs = []
            for v1, (w1, s1) in winners.items():
                for v2, (w2, s2) in winners.items():
                    if w1 != w2 and w2 in s1 and w1 in s2:
                        pairs.append(min(lead(v1, w1, w2), lead(v2, w2, w1), key=z_score))
            if not pairs:
                return _not_measured(f"winners not compared on each other's {self.per}")
            difference, spread = max(pairs, key=z_score)
        evidence += f" (difference {difference:+.3g}, {_spread_text(spread)})"
        return Verdict(judge(difference, spread), evidence, difference, spread)


def z_score(difference_and_spread: tuple[float, float]) -> float:
    """A difference in units of its spread (the difference itself without a spread)."""
    difference, spread = difference_and_spread
    return difference / spread if np.isfinite(spread) and spread > 0 else difference


@dataclass(frozen=True)
class SmallerRange:
    """The cells of ``metric`` in ``narrow`` are closer together (max - min of the cell
    means) than in ``wide``; the spread is the two tables' mean stds combined."""

    narrow: str
    wide: str
    metric: str
    where: Selector = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{self.narrow} vs {self.wide}"

    def __call__(self, sources: Sources) -> Verdict:
        ranges, stds = [], []
        for source in (self.narrow, self.wide):
            cells = _cells(sources, source, self.metric, self.where, False)
            if cells is None or len(cells) < 2:
                return _not_measured(f"{source} not available")
            ranges.append(float(cells["mean"].max() - cells["mean"].min()))
            stds.append(float(cells["std"].mean()))
        difference, spread = ranges[1] - ranges[0], float(np.hypot(*stds))
        evidence = (
            f"range of {self.metric}: {self.narrow} {ranges[0]:.3g} vs {self.wide} "
            f"{ranges[1]:.3g} (difference {difference:+.3g}, {_spread_text(spread)})"
        )
        return Verdict(judge(difference, spread), evidence, difference, spread)


@dataclass(frozen=True)
class Reaches:
    """The cells ``a`` reach those of ``b`` on ``metric`` ("reaches the performance of"):
    a - b (in the better direction) plus ``tolerance`` (the metric's units), judged against
    the spread."""

    source: str
    metric: str
    a: Selector
    b: Selector
    where: Selector = field(default_factory=dict)
    tolerance: float = 0.02

    def __call__(self, sources: Sources) -> Verdict:
        verdict = Better(self.source, self.metric, self.a, self.b, self.where)(sources)
        if verdict.status == NOT_MEASURED:
            return verdict
        difference = verdict.difference + self.tolerance
        evidence = f"{verdict.evidence}; reaches within {self.tolerance:g}"
        return Verdict(judge(difference, verdict.spread), evidence, difference, verdict.spread)


Check = Better | BestOf | NoUniformWinner | SmallerRange | Reaches


def aggregations(*names: str) -> tuple[Selector, ...]:
    """One selector per aggregation name, for ``BestOf``."""
    return tuple({"aggregation": n} for n in names)


def sources_of(check) -> tuple[str, ...]:
    if isinstance(check, SmallerRange):
        return (check.narrow, check.wide)
    return (check.source,)
