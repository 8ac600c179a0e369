"""The paper's claims as data: one record per statement the paper makes about its results.

A ``Claim`` holds the paper's words (quoted, with the place: "Section 5.1", "App. M"), and the
checks the statement rests on. A check reads the cells of one table or figure (its ``source``, a
file stem under ``tables/<profile>/`` or ``figures/<profile>/``, or of the paper's own printed
tables in ``mmvae_nb/reference``, in the tables' schema: key columns, ``mean``, ``std``) and
returns a ``Verdict`` with its evidence: the two numbers, their difference in the direction the
paper states, and the spread (the compared cells' stds over repetitions combined as
sqrt(std_a^2 + std_b^2)). A difference is judged against its spread (``judge``):

* *held*: in the paper's direction and beyond the spread (difference > spread);
* *consistent*: within the spread (|difference| <= spread): not evidence either way;
* *not held*: in the other direction and beyond the spread (difference < -spread);
* *no spread*: the cells have no std (a single run, or a table printed without stds), so the
  sign of the difference is all there is; it is never counted as held;
* *not measured*: a cell the check needs was not reproduced (or is not printed).

A claim combines its checks by the paper's quantifier; checks are ranked not held < no spread <
consistent < held (then by difference over spread), and the claim takes the status of its
binding check:

* ``ALL`` ("for all modalities", "for both bounds", "across aggregation schemes"): the weakest
  check; not measured when a check is not measured and none is not held;
* ``MOST`` ("tend to", "usually", "can"): the median of the measured checks (the lower one: a
  half is not most).

The same claims are evaluated on the paper's own printed numbers with the paper's stds
(``evaluate``'s ``paper`` columns), in ``PAPER_WORDS``: *supported*, *within its noise*,
*contradicted by its own tables*, *no std printed*, *not printed*. The target of a
reproduction is to agree with what the paper's numbers support, and to say where it does not.

The kinds of check and the verdicts are ``checks``.

The notebooks' claim cells and the scorecard (``reporting.scorecard``) evaluate the same
registries (``CLAIMS`` of each experiment's ``claims`` module) on the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmvae_nb.experiments.checks import (
    DECIDED,
    NOT_HELD,
    NOT_MEASURED,
    PAPER_METRICS,
    PAPER_WORDS,
    RANK,
    STATUSES,
    Check,
    Sources,
    Verdict,
    sources_of,
    z_score,
)
from mmvae_nb.reference import paper_tables

ALL, MOST = "all", "most"


def _strength(verdict: Verdict) -> tuple[int, float]:
    """The order in which checks bind a claim: by status, then difference over spread."""
    return RANK[verdict.status], float(np.nan_to_num(z_score((verdict.difference, verdict.spread))))


def _count(verdicts: Sequence[Verdict]) -> str:
    counts = [(s, sum(v.status == s for v in verdicts)) for s in STATUSES]
    return ", ".join(f"{n} {s}" for s, n in counts if n)


@dataclass(frozen=True)
class Claim:
    """One statement of the paper about its results, resting on ``checks`` (see the module
    notes for ``rule``)."""

    id: str
    section: str  # where the paper says it: "5.1", "App. M", "Conclusion"
    quote: str  # the paper's words, quoted, with where they stand
    checks: tuple[Check, ...]
    rule: str = ALL
    scope: str = ""  # which part of the quote this claim checks, where it has several

    @property
    def words(self) -> str:
        """The quote with its scope in brackets (the claims tables' ``claim`` column)."""
        return f"{self.quote} [{self.scope}]" if self.scope else self.quote

    def __post_init__(self):
        if self.rule not in (ALL, MOST):
            raise ValueError(f"claim {self.id}: rule must be {ALL!r} or {MOST!r}")
        if not self.checks:
            raise ValueError(f"claim {self.id} rests on no check")

    @property
    def sources(self) -> tuple[str, ...]:
        """The tables and figures this claim reads, in order of first use."""
        return tuple(dict.fromkeys(s for c in self.checks for s in sources_of(c)))

    def check(self, sources: Sources) -> tuple[Verdict, list[Verdict]]:
        """The claim's verdict (its binding check's status, difference and spread) and every
        check's."""
        verdicts = [check(sources) for check in self.checks]
        measured = sorted((v for v in verdicts if v.status != NOT_MEASURED), key=_strength)
        evidence = f"{_count(verdicts)} of {len(verdicts)} checks"
        if not measured:
            return Verdict(NOT_MEASURED, f"{evidence}; {verdicts[0].evidence}"), verdicts
        if self.rule == ALL:
            binding = measured[0]
            complete = len(measured) == len(verdicts)
            status = binding.status if complete or binding.status == NOT_HELD else NOT_MEASURED
        else:
            binding = measured[(len(measured) - 1) // 2]
            status = binding.status
        if len(verdicts) > 1:
            evidence += f"; {'weakest' if self.rule == ALL else 'median'}: {binding.evidence}"
        else:
            evidence = binding.evidence
        return Verdict(status, evidence, binding.difference, binding.spread), verdicts


CHECK_COLUMNS = [
    "id",
    "source",
    "status",
    "difference",
    "spread",
    "evidence",
    "paper_status",
    "paper_evidence",
]
COLUMNS = [
    "id",
    "section",
    "sources",
    "claim",
    "rule",
    "paper_status",
    "paper_difference",
    "paper_spread",
    "status",
    "difference",
    "spread",
    "checks",
    "evidence",
]


def evaluate(
    claims: Sequence[Claim], sources: Sources, paper: Sources | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every claim on ``sources`` and on the paper's printed tables ``paper`` (default:
    ``reference.paper_tables()``). Returns (one row per claim: id, section, the sources it
    reads, the paper's words, its rule, the verdict on the paper's numbers in ``PAPER_WORDS``
    with its difference and spread, ours, our check counts and evidence; one row per check: the
    claim's id, the check's source, our status, difference, spread, evidence, and the paper's
    status and evidence)."""
    paper = paper_tables() if paper is None else paper
    ours_by_paper_name = {printed: ours for ours, printed in PAPER_METRICS.items()}
    paper = {
        name: table.assign(metric=table["metric"].replace(ours_by_paper_name))
        for name, table in paper.items()
    }
    claim_rows, check_rows = [], []
    for claim in claims:
        verdict, checks = claim.check(sources)
        printed, printed_checks = claim.check(paper)
        claim_rows.append(
            {
                "id": claim.id,
                "section": claim.section,
                "sources": ", ".join(claim.sources),
                "claim": claim.words,
                "rule": claim.rule,
                "paper_status": PAPER_WORDS[printed.status],
                "paper_difference": printed.difference,
                "paper_spread": printed.spread,
                "status": verdict.status,
                "difference": verdict.difference,
                "spread": verdict.spread,
                "checks": _count(checks),
                "evidence": verdict.evidence,
            }
        )
        check_rows += [
            {
                "id": claim.id,
                "source": ", ".join(sources_of(check)),
                "status": v.status,
                "difference": v.difference,
                "spread": v.spread,
                "evidence": v.evidence,
                "paper_status": PAPER_WORDS[p.status],
                "paper_evidence": p.evidence,
            }
            for check, v, p in zip(claim.checks, checks, printed_checks)
        ]
    return pd.DataFrame(claim_rows, columns=COLUMNS), pd.DataFrame(
        check_rows, columns=CHECK_COLUMNS
    )


def agreement(claim_table: pd.DataFrame) -> pd.Series:
    """Per claim (a row of ``evaluate``): whether our verdict is the one the paper's numbers
    give (held where supported, consistent where within its noise, not held where
    contradicted); NA where either side has no spread or was not measured."""
    expected = claim_table["paper_status"].map({PAPER_WORDS[s]: s for s in DECIDED})
    decided = expected.notna() & claim_table["status"].isin(DECIDED)
    return (claim_table["status"] == expected).astype("boolean").where(decided)


def evaluate_claims(claims: Sequence[Claim], sources: Sources) -> pd.DataFrame:
    """The claims' rows of ``evaluate``."""
    return evaluate(claims, sources)[0]


def evaluate_checks(claims: Sequence[Claim], sources: Sources) -> pd.DataFrame:
    """The checks' rows of ``evaluate``."""
    return evaluate(claims, sources)[1]
