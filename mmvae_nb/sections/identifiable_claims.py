"""The paper's claims on Tables 7, 8 and 2 (Section 5.2, App. N) as ``Claim`` records.

One registry (``CLAIMS``); notebooks 02 and 03 and the scorecard read it.
"""

from __future__ import annotations

import pandas as pd

from mmvae_nb.objectives.bounds import BOUND_LABELS, BOUND_NAMES
from mmvae_nb.sections.claims import BestOf, Better, Claim, aggregations, evaluate_claims
from mmvae_nb.sections.identifiable import (
    PRIOR_LABELS,
    ROWS,
    SECTION_TABLES,
    section_tables,
)

_WORDS = {
    "table07_aux_label": (
        "5.2",
        'Section 5.2 (Table 7): "both a tighter variational bound and more flexible aggregation '
        'schemes improve the identifiability of the latent variables and the log-likelihood"',
    ),
    "table08_five_modalities_full": (
        "N.2",
        'App. N.2: "Table 8 demonstrates that our bound can yield to higher log-likelihoods '
        '[...] compared to a mixture-based bound, as do more flexible fusion schemes"',
    ),
    "table02_five_modalities_missing": (
        "5.2",
        'Section 5.2: "Table 2 shows that using the new variational bound improves the '
        "log-likelihood [...] Furthermore, using learnable aggregation schemes benefits both "
        'variational bounds"',
    ),
}
_MOE_MCC = (
    'App. N.1: "Observe also that MoE schemes lead to low MCC values, while PoE schemes had '
    'high MCC values"'
)
_GMM = (
    'App. N.1: "it shows the benefit of using aggregation schemes that have the capacity to '
    'accommodate prior distributions different from a single Gaussian"'
)


def _claims_for(name: str) -> list[Claim]:
    section, words = _WORDS[name]
    at_one = {"beta": 1.0}
    out = [
        Claim(
            f"{section}-{name[:7]}-bound-{a}-{prior}",
            section,
            f"{words}; {a} ({PRIOR_LABELS[prior]}), LLH",
            name,
            Better(
                "llh",
                {"bound": "ours"},
                {"bound": "mixture"},
                {"aggregation": a, "prior": prior, **at_one},
            ),
        )
        for a, prior in ROWS
    ]
    for bound in BOUND_NAMES:
        label = BOUND_LABELS[bound].lower()
        out.append(
            Claim(
                f"{section}-{name[:7]}-flexible-{bound}",
                section,
                f"{words}; {label}, LLH: best SumPooling/SelfAttention vs best PoE/MoE "
                "(N(0, I) prior)",
                name,
                BestOf(
                    "llh",
                    aggregations("SumPooling", "SelfAttention"),
                    aggregations("PoE", "MoE"),
                    {"bound": bound, "prior": "standard", **at_one},
                ),
            )
        )
        if name == "table07_aux_label":
            out.append(
                Claim(
                    f"N.1-table07-moe-mcc-{bound}",
                    "N.1",
                    f"{_MOE_MCC}; {label}, MCC, PoE vs MoE (N(0, I) prior)",
                    name,
                    Better(
                        "mcc",
                        {"aggregation": "PoE"},
                        {"aggregation": "MoE"},
                        {"bound": bound, "prior": "standard", **at_one},
                    ),
                )
            )
            out.append(
                Claim(
                    f"N.1-table07-gmm-prior-{bound}",
                    "N.1",
                    f"{_GMM}; {label}, LLH: best row with the GMM prior vs best with N(0, I)",
                    name,
                    BestOf(
                        "llh",
                        tuple({"aggregation": a, "prior": p} for a, p in ROWS if p == "gmm"),
                        tuple({"aggregation": a, "prior": p} for a, p in ROWS if p == "standard"),
                        {"bound": bound, **at_one},
                    ),
                )
            )
    return out


# The paper's claims on Tables 7, 8 and 2 (one registry; the notebooks and the scorecard read it)
CLAIMS = [claim for name in _WORDS for claim in _claims_for(name)]


def claims(per_run: pd.DataFrame, section: str) -> pd.DataFrame:
    """The registry's claims on the tables of ``section`` ("aux_label" or "five_modalities"),
    checked on ``summarise`` of ``per_run`` (``run_grid``'s rows)."""
    tables = section_tables(per_run, section)
    names = SECTION_TABLES[section]
    return evaluate_claims([c for c in CLAIMS if c.table in names], tables)
