"""The paper's statements about its identifiable-model results (Section 5.2, App. N: Tables 7,
8 and 2) as ``Claim`` records.

One registry (``CLAIMS``); notebooks 02 and 03 and the scorecard read it. "PoE/MoE" are the
fixed schemes; the "more flexible" or "new" schemes are the learnable aggregators, with either
prior. An unqualified statement ("a tighter bound improves the LLH") is one check on the cells
it covers pooled (means over the table's rows); "for different fusion schemes" and "for both
bounds" are one check per scheme or bound, all of which must hold.
"""

from __future__ import annotations

import pandas as pd

from mmvae_nb.experiments.checks import BestOf, Better
from mmvae_nb.experiments.claims import ALL, MOST, Claim, evaluate_claims
from mmvae_nb.experiments.identifiable.experiment import ROWS, SECTION_TABLES, section_tables
from mmvae_nb.models.aggregators import aggregator_spec
from mmvae_nb.objectives.bounds import BOUND_NAMES

AUX, FULL, MISSING = (
    "table07_aux_label",
    "table08_five_modalities_full",
    "table02_five_modalities_missing",
)
_OURS, _MIXTURE = {"bound": "ours"}, {"bound": "mixture"}
_AT_ONE = {"beta": 1.0}
_STANDARD = {"prior": "standard"}


def _rows(learnable: bool, prior: str | None = None) -> tuple[dict, ...]:
    return tuple(
        {"aggregation": a, "prior": p}
        for a, p in ROWS
        if aggregator_spec(a).learnable == learnable and prior in (None, p)
    )


_FIXED, _NEW = _rows(False), _rows(True)
_NEW_STANDARD = _rows(True, "standard")


def _per_row(source, metric, a, b, **where) -> tuple[Better, ...]:
    return tuple(
        Better(source, metric, a, b, {"aggregation": agg, "prior": p, **where}) for agg, p in ROWS
    )


def _per_bound(source, metric, a_groups, b_groups, **where) -> tuple[BestOf, ...]:
    return tuple(
        BestOf(source, metric, a_groups, b_groups, {"bound": bound, **where})
        for bound in BOUND_NAMES
    )


_TABLE7 = (
    'Section 5.2: "Results over multiple repetitions in Table 7 indicate that both a tighter '
    "variational bound and more flexible aggregation schemes improve the identifiability of the "
    'latent variables and the log-likelihood as estimated using importance sampling"'
)
_TABLE8 = (
    'App. N.2: "Table 8 demonstrates that our bound can yield to higher log-likelihoods and '
    'tigher bounds compared to a mixture-based bound, as do more flexible fusion schemes."'
)
_TABLE2 = (
    'Section 5.2: "Table 2 shows that using the new variational bound improves the '
    'log-likelihood and the identifiability of the latent representation."'
)

CLAIMS = [
    # Table 7 (Section 5.2)
    Claim(
        "5.2-t7-bound-mcc",
        "5.2",
        _TABLE7,
        (Better(AUX, "mcc", _OURS, _MIXTURE),),
        scope="tighter bound: MCC, every row and beta pooled",
    ),
    Claim(
        "5.2-t7-bound-llh",
        "5.2",
        _TABLE7,
        (Better(AUX, "llh", _OURS, _MIXTURE, _AT_ONE),),
        scope="tighter bound: LLH, rows pooled",
    ),
    Claim(
        "5.2-t7-flexible-mcc",
        "5.2",
        _TABLE7,
        (BestOf(AUX, "mcc", _NEW_STANDARD, _FIXED, {**_AT_ONE, **_STANDARD}),),
        scope="flexible aggregation: MCC, best learnable vs best PoE/MoE, N(0, I) prior",
    ),
    Claim(
        "5.2-t7-flexible-llh",
        "5.2",
        _TABLE7,
        (BestOf(AUX, "llh", _NEW_STANDARD, _FIXED, {**_AT_ONE, **_STANDARD}),),
        scope="flexible aggregation: LLH, best learnable vs best PoE/MoE, N(0, I) prior",
    ),
    # Table 7 (App. N.1; the paper's text says "Table 19", the architecture table)
    Claim(
        "N.1-bound-llh-per-scheme",
        "App. N.1",
        'App. N.1: "[Table 7] illustrates first the benefits of our bound that obtain better '
        'log-likelihood estimates for different fusion schemes."',
        _per_row(AUX, "llh", _OURS, _MIXTURE, **_AT_ONE),
        ALL,
    ),
    Claim(
        "N.1-new-schemes-llh",
        "App. N.1",
        (
            'App. N.1: "Second, it demonstrates the advantages of our new fusion '
            'schemes that achieve better log-likelihoods for both bounds."'
        ),
        _per_bound(AUX, "llh", _NEW, _FIXED, **_AT_ONE),
        ALL,
        scope="best learnable row, either prior, vs best PoE/MoE",
    ),
    Claim(
        "N.1-gmm-prior",
        "App. N.1",
        (
            'App. N.1: "Third, it shows the benefit of using aggregation schemes that'
            " have the capacity to accommodate prior distributions different from a "
            'single Gaussian."'
        ),
        (BestOf(AUX, "llh", _rows(True, "gmm"), _rows(True, "standard") + _FIXED, _AT_ONE),),
        scope="LLH: best GMM-prior row vs best N(0, I) row",
    ),
    Claim(
        "N.1-moe-low-mcc",
        "App. N.1",
        'App. N.1: "Observe also that MoE schemes lead to low MCC values, while PoE schemes had '
        'high MCC values."',
        (Better(AUX, "mcc", {"aggregation": "PoE"}, {"aggregation": "MoE"}),),
    ),
    # Table 8 (App. N.2)
    Claim(
        "N.2-bound-llh",
        "App. N.2",
        _TABLE8,
        _per_row(FULL, "llh", _OURS, _MIXTURE),
        MOST,
        scope="our bound: LLH, per row",
    ),
    Claim(
        "N.2-bound-tighter",
        "App. N.2",
        _TABLE8,
        _per_row(FULL, "bound_slack", _OURS, _MIXTURE),
        MOST,
        scope="our bound: LLH - lower bound, per row",
    ),
    Claim(
        "N.2-flexible-llh",
        "App. N.2",
        _TABLE8,
        (BestOf(FULL, "llh", _NEW_STANDARD, _FIXED, _STANDARD),),
        scope="flexible schemes: LLH, best learnable vs best PoE/MoE, N(0, I) prior",
    ),
    Claim(
        "N.2-flexible-tighter",
        "App. N.2",
        _TABLE8,
        (BestOf(FULL, "bound_slack", _NEW_STANDARD, _FIXED, _STANDARD),),
        scope=(
            "flexible schemes: LLH - lower bound, best learnable vs best PoE/MoE, N(0, I) prior"
        ),
    ),
    # Table 2 (Section 5.2)
    Claim(
        "5.2-t2-bound-llh",
        "5.2",
        _TABLE2,
        (Better(MISSING, "llh", _OURS, _MIXTURE),),
        scope="LLH, rows pooled",
    ),
    Claim(
        "5.2-t2-bound-mcc",
        "5.2",
        _TABLE2,
        (Better(MISSING, "mcc", _OURS, _MIXTURE),),
        scope="MCC, rows pooled",
    ),
    Claim(
        "5.2-t2-learnable-both-bounds",
        "5.2",
        (
            'Section 5.2 (Table 2): "Furthermore, using learnable aggregation schemes'
            ' benefits both variational bounds."'
        ),
        _per_bound(MISSING, "llh", _NEW_STANDARD, _FIXED, **_STANDARD),
        ALL,
        scope="LLH: best learnable vs best PoE/MoE, N(0, I) prior",
    ),
]


def claims_of(name: str) -> list[Claim]:
    """The claims that read only experiment ``name``'s tables, in the registry's order."""
    names = set(SECTION_TABLES[name])
    return [c for c in CLAIMS if set(c.sources) <= names]


def claims(per_run: pd.DataFrame, section: str) -> pd.DataFrame:
    """The registry's claims on the tables of ``section`` ("aux_label" or "five_modalities"),
    checked on ``summarise`` of ``per_run`` (``run_grid``'s rows)."""
    return evaluate_claims(claims_of(section), section_tables(per_run, section))
