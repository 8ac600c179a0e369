"""The paper's claims as data: a record per qualitative statement, checked on tidy tables.

A ``Claim`` holds the paper's section and words, the table (file stem) whose cells it rests on,
and a ``Comparison`` that reads those cells and returns a ``Verdict``: *held*, *not held* or
*not measured* (a cell it needs was not reproduced), with its evidence: our two numbers, their
difference in the direction the paper states, and our spread (the two cells' stds over
repetitions, combined as sqrt(std_a^2 + std_b^2)), so a reader sees whether a difference stands
out of our own noise.

Both the notebooks (their claim cells) and the scorecard (``reporting.scorecard``) evaluate the
same registries (``CLAIMS`` of each section module) on the same tables, the ones written to
``tables/<profile>/`` in the schema of ``reporting.tables``.

Two comparisons cover the existing claims:

* ``Better(metric, a, b)``: the cells selected by ``a`` are better than those selected by ``b``
  (means over the selected cells, e.g. over conditioning subsets);
* ``BestOf(metric, a_options, b_options)``: the best of the schemes ``a_options`` is at least as
  good as the best of ``b_options`` (the paper's "more flexible aggregation improves ...").

"Better" is larger, or smaller for metrics in ``LOWER_IS_BETTER`` (the gaps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmvae_nb.sections.table_specs import select_rows

HELD, NOT_HELD, NOT_MEASURED = "held", "not held", "not measured"
LOWER_IS_BETTER = frozenset({"llh_gap", "bound_gap"})
Selector = Mapping[str, object]


@dataclass(frozen=True)
class Verdict:
    """A claim's outcome on our numbers; ``difference`` is in the claim's direction (positive
    when it holds), ``spread`` our combined std of the compared cells."""

    status: str
    evidence: str
    difference: float = float("nan")
    spread: float = float("nan")


def _summary(cells: pd.DataFrame) -> tuple[float, float]:
    """Mean and std of a group of cells (their mean std as the group's std; NaN when the cells
    have no std, e.g. a single run)."""
    if cells.empty:
        return float("nan"), float("nan")
    return float(cells["mean"].mean()), float(cells["std"].mean())


def _sign(metric: str) -> float:
    return -1.0 if metric in LOWER_IS_BETTER else 1.0


def _verdict(metric, label_a, a, label_b, b) -> Verdict:
    (mean_a, std_a), (mean_b, std_b) = a, b
    if not (np.isfinite(mean_a) and np.isfinite(mean_b)):
        return Verdict(NOT_MEASURED, f"{metric}: non-finite cell")
    difference = _sign(metric) * (mean_a - mean_b)
    spread = float(np.hypot(std_a, std_b))
    status = HELD if difference > 0 else NOT_HELD
    evidence = (
        f"{metric}: {label_a} {mean_a:.4g} vs {label_b} {mean_b:.4g} "
        f"(difference {difference:+.3g}, our spread "
        f"{'n/a' if np.isnan(spread) else f'{spread:.2g}'})"
    )
    return Verdict(status, evidence, difference, spread)


def _base(table: pd.DataFrame, metric: str, where: Selector, cross_only: bool) -> pd.DataFrame:
    base = select_rows(table, {"metric": metric, **where})
    if cross_only:  # conditional generation from inputs that do not contain the target
        keep = [t not in i.split("+") for t, i in zip(base["target"], base["inputs"])]
        base = base[np.asarray(keep, bool)]
    return base


@dataclass(frozen=True)
class Better:
    """The cells ``a`` beat the cells ``b`` on ``metric`` (``where`` selects both; with
    ``cross_only`` only cells whose inputs do not contain the target)."""

    metric: str
    a: Selector
    b: Selector
    where: Selector = field(default_factory=dict)
    cross_only: bool = False

    def __call__(self, table: pd.DataFrame) -> Verdict:
        base = _base(table, self.metric, self.where, self.cross_only)
        cells_a, cells_b = select_rows(base, self.a), select_rows(base, self.b)
        if cells_a.empty or cells_b.empty:
            return Verdict(
                NOT_MEASURED, f"no reproduced cells for {_label(self.a)} or {_label(self.b)}"
            )
        return _verdict(
            self.metric, _label(self.a), _summary(cells_a), _label(self.b), _summary(cells_b)
        )


@dataclass(frozen=True)
class BestOf:
    """The best of the cell groups ``a`` is at least as good as the best of the groups ``b``
    on ``metric`` (each group a selector, e.g. ``{"aggregation": "SumPooling"}``; ``where``
    selects the cells of all, e.g. a bound and a prior)."""

    metric: str
    a: Sequence[Selector]
    b: Sequence[Selector]
    where: Selector = field(default_factory=dict)

    def __call__(self, table: pd.DataFrame) -> Verdict:
        base = _base(table, self.metric, self.where, False)
        best = []
        for groups in (self.a, self.b):
            ran = [(_label(g), _summary(select_rows(base, g))) for g in groups]
            ran = [(name, value) for name, value in ran if np.isfinite(value[0])]
            if not ran:
                return Verdict(NOT_MEASURED, f"none of {[_label(g) for g in groups]} reproduced")
            best.append(max(ran, key=lambda item: _sign(self.metric) * item[1][0]))
        (name_a, a), (name_b, b) = best
        verdict = _verdict(self.metric, f"best {name_a}", a, f"best {name_b}", b)
        if verdict.status == NOT_HELD and verdict.difference == 0:  # "at least as good"
            verdict = Verdict(HELD, verdict.evidence, verdict.difference, verdict.spread)
        return verdict


def aggregations(*names: str) -> tuple[Selector, ...]:
    """One selector per aggregation name, for ``BestOf``."""
    return tuple({"aggregation": n} for n in names)


def _label(selector: Selector) -> str:
    return ", ".join(str(v) for v in selector.values())


@dataclass(frozen=True)
class Claim:
    """One qualitative statement of the paper, resting on cells of ``table``."""

    id: str
    section: str
    words: str  # the paper's words (quoted or closely paraphrased, with the place)
    table: str  # file stem of the reproduced table, e.g. "table01_linear_dense"
    comparison: Better | BestOf

    def check(self, tables: Mapping[str, pd.DataFrame]) -> Verdict:
        if self.table not in tables:
            return Verdict(NOT_MEASURED, f"{self.table} not reproduced")
        return self.comparison(tables[self.table])


def evaluate_claims(claims: Sequence[Claim], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per claim: id, section, table, the paper's words, status, evidence, difference
    and spread."""
    rows = []
    for claim in claims:
        verdict = claim.check(tables)
        rows.append(
            {
                "id": claim.id,
                "section": claim.section,
                "table": claim.table,
                "claim": claim.words,
                "status": verdict.status,
                "evidence": verdict.evidence,
                "difference": verdict.difference,
                "spread": verdict.spread,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["id", "section", "table", "claim", "status", "evidence", "difference", "spread"],
    )
