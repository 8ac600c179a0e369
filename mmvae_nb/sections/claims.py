"""The paper's claims as data: one record per statement the paper makes about its results.

A ``Claim`` holds the paper's words (quoted, with the place: "Section 5.1", "App. M"), and the
checks the statement rests on. A check reads the cells of one reproduced table or figure (its
``source``, a file stem under ``tables/<profile>/`` or ``figures/<profile>/``, in the tables'
schema: key columns, ``mean``, ``std``, ``n_runs``) and returns a ``Verdict``: *held*, *not
held* or *not measured* (a cell it needs was not reproduced), with its evidence: our two
numbers, their difference in the direction the paper states, and our spread (the compared
cells' stds over repetitions, combined as sqrt(std_a^2 + std_b^2)), so a reader sees whether a
difference stands out of our own noise.

A claim combines its checks by the paper's quantifier:

* ``ALL`` ("for all modalities", "for both bounds", "across aggregation schemes"): held when
  every check is measured and holds; not held as soon as a measured check fails;
* ``MOST`` ("tend to", "usually", "can"): held when more than half of the measured checks hold.

The checks:

* ``Better(source, metric, a, b)``: the cells selected by ``a`` beat those selected by ``b``
  (means over the selected cells);
* ``BestOf(source, metric, a_options, b_options)``: the best of the schemes ``a_options`` beats
  the best of ``b_options`` ("more flexible aggregation improves ..."); a tie is not held, as in
  ``Better``: an exact tie of two means on a continuous metric is two degenerate models (e.g.
  both generating the same input-independent image, whose coherence is one class's frequency);
* ``NoUniformWinner``: no single scheme is best for every target ("no bound or aggregation
  scheme performs best across all modalities");
* ``SmallerRange``: the cells of one table differ less among themselves than those of another
  ("smaller differences across bounds and fusion schemes than in Table 1");
* ``Reaches(source, metric, a, b)``: a is not worse than b beyond a tolerance or our noise
  ("mrVAE is able to reach the performance of the MoPoE-VAE").

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

from mmvae_nb.sections.table_specs import select_rows

HELD, NOT_HELD, NOT_MEASURED = "held", "not held", "not measured"
ALL, MOST = "all", "most"
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
# metric -> (minuend, subtrahend), computed per cell; stds combined as if independent
DERIVED = {"bound_slack": ("llh", "lower_bound")}
Selector = Mapping[str, object]
Sources = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class Verdict:
    """A check's or a claim's outcome; ``difference`` is in the claim's direction (positive
    when it holds), ``spread`` our combined std of the compared cells."""

    status: str
    evidence: str
    difference: float = float("nan")
    spread: float = float("nan")


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


def _compare(metric, label_a, a, label_b, b) -> Verdict:
    (mean_a, std_a), (mean_b, std_b) = a, b
    if not (np.isfinite(mean_a) and np.isfinite(mean_b)):
        return _not_measured(f"{metric}: non-finite cell")
    difference = _sign(metric) * (mean_a - mean_b)
    spread = float(np.hypot(std_a, std_b))
    status = HELD if difference > 0 else NOT_HELD
    evidence = (
        f"{metric}: {label_a} {mean_a:.4g} vs {label_b} {mean_b:.4g} "
        f"(difference {difference:+.3g}, our spread "
        f"{'n/a' if np.isnan(spread) else f'{spread:.2g}'})"
    )
    return Verdict(status, evidence, difference, spread)


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
            return _not_measured(f"{self.source} not reproduced")
        cells_a, cells_b = select_rows(base, self.a), select_rows(base, self.b)
        if cells_a.empty or cells_b.empty:
            return _not_measured(f"no cells for {_label(self.a)} or {_label(self.b)}")
        return _compare(
            self.metric, _label(self.a), _summary(cells_a), _label(self.b), _summary(cells_b)
        )


@dataclass(frozen=True)
class BestOf:
    """The best of the cell groups ``a`` beats the best of the groups ``b`` on ``metric``
    (a tie is not held; each group a selector, e.g. ``{"aggregation": "SumPooling"}``; ``where``
    selects the cells of all, e.g. a bound and a prior)."""

    source: str
    metric: str
    a: Sequence[Selector]
    b: Sequence[Selector]
    where: Selector = field(default_factory=dict)
    cross_only: bool = False

    def __call__(self, sources: Sources) -> Verdict:
        base = _cells(sources, self.source, self.metric, self.where, self.cross_only)
        if base is None:
            return _not_measured(f"{self.source} not reproduced")
        best = []
        for groups in (self.a, self.b):
            ran = [(_label(g), _summary(select_rows(base, g))) for g in groups]
            ran = [(name, value) for name, value in ran if np.isfinite(value[0])]
            if not ran:
                return _not_measured(f"none of {[_label(g) for g in groups]} reproduced")
            best.append(max(ran, key=lambda item: _sign(self.metric) * item[1][0]))
        (name_a, a), (name_b, b) = best
        return _compare(self.metric, f"best {name_a}", a, f"best {name_b}", b)


@dataclass(frozen=True)
class NoUniformWinner:
    """No single scheme (a value of the columns ``schemes``) has the best ``metric`` for every
    value of ``per`` (e.g. every generated modality)."""

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
        means = base.groupby([self.per, *self.schemes], sort=False)["mean"].mean()
        winners = {}
        for value, group in means.groupby(level=0, sort=False):
            best = group.idxmax() if _sign(self.metric) > 0 else group.idxmin()
            winners[value] = ", ".join(map(str, best[1:]))
        evidence = f"best {self.metric} per {self.per}: " + "; ".join(
            f"{k}: {v}" for k, v in winners.items()
        )
        if len(winners) < 2:
            return _not_measured(f"one {self.per} only; {evidence}")
        return Verdict(HELD if len(set(winners.values())) > 1 else NOT_HELD, evidence)


@dataclass(frozen=True)
class SmallerRange:
    """The cells of ``metric`` in ``narrow`` are closer together (max - min of the cell
    means) than in ``wide``."""

    narrow: str
    wide: str
    metric: str
    where: Selector = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{self.narrow} vs {self.wide}"

    def __call__(self, sources: Sources) -> Verdict:
        ranges = []
        for source in (self.narrow, self.wide):
            cells = _cells(sources, source, self.metric, self.where, False)
            if cells is None or len(cells) < 2:
                return _not_measured(f"{source} not reproduced")
            ranges.append(float(cells["mean"].max() - cells["mean"].min()))
        difference = ranges[1] - ranges[0]
        evidence = (
            f"range of {self.metric}: {self.narrow} {ranges[0]:.3g} vs {self.wide} {ranges[1]:.3g}"
        )
        return Verdict(HELD if difference > 0 else NOT_HELD, evidence, difference)


@dataclass(frozen=True)
class Reaches:
    """The cells ``a`` reach those of ``b`` on ``metric`` ("reaches the performance of"): held
    when a is better, or worse by less than ``tolerance`` (a metric's units) or twice our
    spread, whichever is larger. The difference reported is a - b in the better direction."""

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
        spread = 0.0 if np.isnan(verdict.spread) else verdict.spread
        margin = max(self.tolerance, 2 * spread)
        status = HELD if verdict.difference > -margin else NOT_HELD
        evidence = f"{verdict.evidence}; reaches within {margin:.3g}"
        return Verdict(status, evidence, verdict.difference + margin, verdict.spread)


Check = Better | BestOf | NoUniformWinner | SmallerRange | Reaches


def aggregations(*names: str) -> tuple[Selector, ...]:
    """One selector per aggregation name, for ``BestOf``."""
    return tuple({"aggregation": n} for n in names)


def _sources_of(check) -> tuple[str, ...]:
    if isinstance(check, SmallerRange):
        return (check.narrow, check.wide)
    return (check.source,)


@dataclass(frozen=True)
class Claim:
    """One statement of the paper about its results, resting on ``checks`` (see the module
    notes for ``rule``)."""

    id: str
    section: str  # where the paper says it: "5.1", "App. M", "Conclusion"
    words: str  # the paper's words, quoted
    checks: tuple[Check, ...]
    rule: str = ALL

    def __post_init__(self):
        if self.rule not in (ALL, MOST):
            raise ValueError(f"claim {self.id}: rule must be {ALL!r} or {MOST!r}")
        if not self.checks:
            raise ValueError(f"claim {self.id} rests on no check")

    @property
    def sources(self) -> tuple[str, ...]:
        """The tables and figures this claim reads, in order of first use."""
        return tuple(dict.fromkeys(s for c in self.checks for s in _sources_of(c)))

    def check(self, sources: Sources) -> tuple[Verdict, list[Verdict]]:
        """The claim's verdict and every check's."""
        verdicts = [check(sources) for check in self.checks]
        measured = [v for v in verdicts if v.status != NOT_MEASURED]
        held = [v for v in measured if v.status == HELD]
        if self.rule == ALL:
            if len(held) < len(measured):
                status = NOT_HELD
            else:
                status = HELD if len(measured) == len(verdicts) else NOT_MEASURED
        else:
            status = (HELD if 2 * len(held) > len(measured) else NOT_HELD) if measured else None
            status = status or NOT_MEASURED
        # the binding check: the weakest for ALL, the median for MOST
        finite = sorted((v for v in measured if np.isfinite(v.difference)), key=_difference)
        binding = None
        if finite:
            binding = finite[0] if self.rule == ALL else finite[(len(finite) - 1) // 2]
        evidence = f"{len(held)}/{len(verdicts)} checks hold"
        if len(measured) < len(verdicts):
            evidence += f" ({len(verdicts) - len(measured)} not measured)"
        if binding is None:
            if len(verdicts) == 1 or not measured:
                evidence += f"; {verdicts[0].evidence}"
            return Verdict(status, evidence), verdicts
        evidence += f"; {'weakest' if self.rule == ALL else 'median'}: {binding.evidence}"
        return Verdict(status, evidence, binding.difference, binding.spread), verdicts


def _difference(verdict: Verdict) -> float:
    return verdict.difference


CHECK_COLUMNS = ["id", "source", "status", "difference", "spread", "evidence"]
COLUMNS = [
    "id",
    "section",
    "sources",
    "claim",
    "rule",
    "checks_held",
    "status",
    "difference",
    "spread",
    "evidence",
]


def evaluate(claims: Sequence[Claim], sources: Sources) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every claim once; returns (one row per claim: id, section, the sources it reads,
    the paper's words, its rule, how many checks hold, status, the binding check's difference
    and spread, the evidence; one row per check: the claim's id, the check's source, status,
    difference, spread, evidence)."""
    claim_rows, check_rows = [], []
    for claim in claims:
        verdict, checks = claim.check(sources)
        held = sum(v.status == HELD for v in checks)
        claim_rows.append(
            {
                "id": claim.id,
                "section": claim.section,
                "sources": ", ".join(claim.sources),
                "claim": claim.words,
                "rule": claim.rule,
                "checks_held": f"{held}/{len(checks)}",
                "status": verdict.status,
                "difference": verdict.difference,
                "spread": verdict.spread,
                "evidence": verdict.evidence,
            }
        )
        check_rows += [
            {
                "id": claim.id,
                "source": ", ".join(_sources_of(check)),
                "status": v.status,
                "difference": v.difference,
                "spread": v.spread,
                "evidence": v.evidence,
            }
            for check, v in zip(claim.checks, checks)
        ]
    return pd.DataFrame(claim_rows, columns=COLUMNS), pd.DataFrame(
        check_rows, columns=CHECK_COLUMNS
    )


def evaluate_claims(claims: Sequence[Claim], sources: Sources) -> pd.DataFrame:
    """The claims' rows of ``evaluate``."""
    return evaluate(claims, sources)[0]


def evaluate_checks(claims: Sequence[Claim], sources: Sources) -> pd.DataFrame:
    """The checks' rows of ``evaluate``."""
    return evaluate(claims, sources)[1]
