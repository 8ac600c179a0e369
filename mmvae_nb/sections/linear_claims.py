"""The paper's claims on Tables 1, 5 and 6 (Section 5.1, App. M) as ``Claim`` records.

One registry (``CLAIMS``); notebook 01 and the scorecard both read it.
"""

from __future__ import annotations

import pandas as pd

from mmvae_nb.models.aggregators import aggregator_spec
from mmvae_nb.objectives.bounds import BOUND_LABELS, BOUND_NAMES
from mmvae_nb.sections.claims import BestOf, Better, Claim, aggregations, evaluate_claims
from mmvae_nb.sections.linear import (
    AGGREGATIONS,
    EQUIVARIANT_AGGREGATIONS,
    TABLE_NAMES,
    TABLES,
)
from mmvae_nb.sections.table_specs import summarise

_TIGHTER = (
    'Section 5.1: "our new bound provides a tighter approximation to the log-likelihood for '
    'different aggregation schemes"'
)
_FLEXIBLE = (
    'Section 5.1: "more flexible aggregation schemes improve the log-likelihood [...] for both '
    'variational objectives"'
)


def _claims_for(table: int, schemes: tuple[str, ...]) -> list[Claim]:
    name, fixed, learnable = TABLE_NAMES[table], [], []
    for a in schemes:
        (learnable if aggregator_spec(a).learnable else fixed).append(a)
    out = [
        Claim(
            f"5.1-t{table}-tighter-{a}",
            "5.1",
            f"{_TIGHTER}; {a}, bound gap",
            name,
            Better("bound_gap", {"bound": "ours"}, {"bound": "mixture"}, {"aggregation": a}),
        )
        for a in schemes
    ]
    out += [
        Claim(
            f"5.1-t{table}-flexible-llh-{bound}",
            "5.1",
            f"{_FLEXIBLE}; {BOUND_LABELS[bound].lower()}, LLH gap: best learnable vs best PoE/MoE",
            name,
            BestOf("llh_gap", aggregations(*learnable), aggregations(*fixed), {"bound": bound}),
        )
        for bound in BOUND_NAMES
    ]
    return out


# The paper's claims on Tables 1, 5, 6 (one registry; the notebook and the scorecard read it)
CLAIMS = (
    _claims_for(1, AGGREGATIONS)
    + _claims_for(5, AGGREGATIONS)
    + _claims_for(6, EQUIVARIANT_AGGREGATIONS)
)


def claims(per_dataset: pd.DataFrame, table: int) -> pd.DataFrame:
    """The registry's claims on paper table ``table`` (1, 5 or 6), checked on ``summarise`` of
    ``per_dataset`` (``run_grid``'s rows; beta = 1)."""
    name = TABLE_NAMES[table]
    summary = summarise(per_dataset, TABLES[name])
    return evaluate_claims([c for c in CLAIMS if c.table == name], {name: summary})
