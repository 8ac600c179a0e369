"""The paper's statements about its linear results (Section 5.1, App. M) as ``Claim`` records.

Sources: Tables 1, 5, 6 and the numbers behind Figures 3, 4, 5 (``linear_figures.FIGURES``).
One registry (``CLAIMS``); notebook 01 and the scorecard both read it.
"""

from __future__ import annotations

import pandas as pd

from mmvae_nb.experiments.checks import BestOf, Better, SmallerRange, aggregations
from mmvae_nb.experiments.claims import ALL, MOST, Claim, evaluate_claims
from mmvae_nb.experiments.figure_specs import figure_data
from mmvae_nb.experiments.linear.experiment import (
    AGGREGATIONS,
    EQUIVARIANT_AGGREGATIONS,
    TABLES,
    training_time,
)
from mmvae_nb.experiments.linear.figures import FIGURES
from mmvae_nb.experiments.table_specs import summarise
from mmvae_nb.models.aggregators import aggregator_spec
from mmvae_nb.objectives.bounds import BOUND_NAMES

DENSE, SPARSE, EQUIVARIANT = (
    "table01_linear_dense",
    "table05_linear_sparse",
    "table06_linear_sparse_equivariant",
)
TRAINING_TIME = "linear_training_time"  # the conclusion's cost claims (conclusion_claims)
FIG3, FIG4, FIG5 = (
    "fig03_linear_dense_rate_distortion",
    "fig04_linear_sparse_rate_distortion",
    "fig05_linear_sparse_equivariant_beta",
)
_OURS, _MIXTURE = {"bound": "ours"}, {"bound": "mixture"}
_FIXED = aggregations(*(a for a in AGGREGATIONS if not aggregator_spec(a).learnable))
_LEARNABLE = aggregations(*(a for a in AGGREGATIONS if aggregator_spec(a).learnable))
_FIG5_BETAS = (0.1, 1.0, 4.0)  # App. M: "beta in {0.1, 1, 4.}"

_FIRST = (
    'Section 5.1: "Our results suggest that first, more flexible aggregation schemes improve the '
    "log-likelihood, the tightness of the variational bound and the identifiability for both "
    'variational objectives."'
)


def _flexible(metric: str, what: str) -> Claim:
    """Section 5.1's first finding on ``metric``: for both bounds, in Tables 1 and 5, the best
    learnable aggregation (SumPooling, SelfAttention) beats the best of PoE and MoE."""
    checks = tuple(
        BestOf(table, metric, _LEARNABLE, _FIXED, {"bound": bound})
        for table in (DENSE, SPARSE)
        for bound in BOUND_NAMES
    )
    return Claim(f"5.1-flexible-{what}", "5.1", _FIRST, checks, ALL, scope=what)


def _per_aggregation(sources, metric, a, b, schemes, **where):
    """One ``Better`` per source (table or figure) and aggregation scheme."""
    return tuple(
        Better(source, metric, a, b, {"aggregation": s, **where})
        for source in sources
        for s in schemes
    )


CLAIMS = [
    _flexible("llh_gap", "log-likelihood"),
    _flexible("bound_gap", "tightness"),
    _flexible("mcc", "identifiability"),
    Claim(
        "5.1-tighter",
        "5.1",
        'Section 5.1: "Second, our new bound provides a tighter approximation to the '
        'log-likelihood for different aggregation schemes."',
        _per_aggregation((DENSE, SPARSE), "bound_gap", _OURS, _MIXTURE, AGGREGATIONS),
        ALL,
    ),
    Claim(
        "M-closer-posterior",
        "App. M",
        (
            'App. M (Figures 3, 4): "We find that our bound yields encoding '
            "distributions that are closer to the true posterior distribution across "
            "various aggregation schemes. Note that in the case of the mixture-based "
            "bound, the posterior distribution is only optimal as an encoding "
            'distribution that uses all modalities (Sub-figures (c))."'
        ),
        _per_aggregation((FIG3, FIG4), "unimodal_posterior_kl", _OURS, _MIXTURE, AGGREGATIONS),
        ALL,
        scope="uni-modal posterior KL, sub-figures (f)",
    ),
    Claim(
        "M-cross-reconstruction",
        "App. M",
        'App. M (Figures 3, 4): "Cross-reconstruction terms are usually better for the '
        'mixture-based bound."',
        _per_aggregation((FIG3, FIG4), "cross_reconstruction", _MIXTURE, _OURS, AGGREGATIONS),
        MOST,
    ),
    Claim(
        "M-cross-rates",
        "App. M",
        (
            'App. M (Figures 3, 4): "Moreover, the mixture-based bound has lower '
            "cross-modal rates, i.e., the encoding distribution does not change as "
            'much if additional modalities are included."'
        ),
        (Better(FIG3, "cross_rate", _OURS, _MIXTURE), Better(FIG4, "cross_rate", _OURS, _MIXTURE)),
        ALL,
        scope="our cross rate is the higher one",
    ),
    Claim(
        "M-table5-smaller-differences",
        "App. M",
        'App. M: "Table 5 shows the log-likelihood of the generative model and the value of the '
        "lower bound when the true data has private latent variables. Compared to the results in "
        "Table 1 with full decoder matrices, there appear to be smaller differences across "
        'different bounds and fusion schemes."',
        (
            SmallerRange(SPARSE, DENSE, "llh_gap"),
            SmallerRange(SPARSE, DENSE, "bound_gap"),
        ),
        ALL,
    ),
    Claim(
        "M-fig5-full-reconstruction",
        "App. M",
        'App. M (Figure 5, permutation-equivariant schemes, beta in {0.1, 1, 4}): "We find that '
        'our variational bound tends to obtain higher full reconstruction terms"',
        tuple(
            Better(FIG5, "full_reconstruction", _OURS, _MIXTURE, {"aggregation": a, "beta": b})
            for a in EQUIVARIANT_AGGREGATIONS
            for b in _FIG5_BETAS
        ),
        MOST,
    ),
    Claim(
        "M-fig5-cross-reconstruction",
        "App. M",
        (
            'App. M (Figure 5): "Conversely, the mixture-based bound obtains better '
            'cross-model reconstruction"'
        ),
        (Better(FIG5, "cross_reconstruction", _MIXTURE, _OURS),),
        ALL,
        scope="over all schemes and betas",
    ),
    Claim(
        "M-table6-poe-mixture-lower",
        "App. M",
        (
            'App. M: "Table 6 shows the log-likelihood values for the learned '
            "generative model that is similar across different configurations, apart "
            "from a PoE scheme that achieves lower log-likelihood for a mixture-based"
            ' bound."'
        ),
        tuple(
            Better(
                EQUIVARIANT,
                "llh_gap",
                {"aggregation": a, "bound": bound},
                {"aggregation": "PoE (equivariant)", "bound": "mixture"},
            )
            for a in EQUIVARIANT_AGGREGATIONS
            for bound in BOUND_NAMES
            if (a, bound) != ("PoE (equivariant)", "mixture")
        ),
        ALL,
        scope="every other cell has the smaller LLH gap",
    ),
]


def sources(dense=None, sparse=None, equivariant=None) -> dict[str, pd.DataFrame]:
    """The tables and figure numbers the claims read, from ``run_grid``'s rows of each setting
    that has run (dense decoders: Table 1, Figure 3; sparse: Table 5, Figure 4; sparse with
    equivariant encoders: Table 6, Figure 5) and the training times of the first two."""
    out = {}
    for runs, table, figure in ((dense, DENSE, FIG3), (sparse, SPARSE, FIG4)):
        if runs is not None:
            out[table] = summarise(runs, TABLES[table])
            out[figure] = figure_data(runs, FIGURES[figure])
    if equivariant is not None:
        out[EQUIVARIANT] = summarise(equivariant, TABLES[EQUIVARIANT])
        out[FIG5] = figure_data(equivariant, FIGURES[FIG5])
    timed = [runs for runs in (dense, sparse) if runs is not None]
    if timed:
        out[TRAINING_TIME] = training_time(*timed)
    return out


def claims(dense=None, sparse=None, equivariant=None) -> pd.DataFrame:
    """The claims whose every source has run, checked on ``sources(...)``."""
    available = sources(dense, sparse, equivariant)
    chosen = [c for c in CLAIMS if set(c.sources) <= set(available)]
    return evaluate_claims(chosen, available)
