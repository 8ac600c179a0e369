"""The relational paper's statements about its PolyMNIST results (Sutter & Vogt, Section 5) as
``Claim`` records; notebook 05 and the scorecard read ``CLAIMS``.

Sources: the reproduced seed Tables 1 (coherence of the generated x_0's main digit) and 2 (its
Fréchet distance, here in our classifier's features: orderings compare, values do not). The
claims compare mrVAE and MoPoE (each with its own objective) as the seed's sentences do; the
rows beyond the seed (this paper's aggregators) enter no claim.
"""

from __future__ import annotations

import pandas as pd

from mmvae_nb.experiments.checks import Better, Reaches
from mmvae_nb.experiments.claims import ALL, MOST, Claim, evaluate_claims
from mmvae_nb.experiments.relational.experiment import (
    COHERENCE_INPUTS,
    FID_INPUTS,
    FID_METRIC,
    TABLES,
    subset_label,
)
from mmvae_nb.experiments.table_specs import summarise

COHERENCE = "relational_table01_polymnist_coherence"
FID = "relational_table02_polymnist_fid"
MRVAE = {"aggregation": "mrVAE", "bound": "relational"}
MOPOE = {"aggregation": "MoPoE", "bound": "mopoe"}
VANILLA, EXTENDED = {"block": "vanilla"}, {"block": "extended"}
_COHERENCE_INPUTS = tuple(subset_label(s) for s in COHERENCE_INPUTS)
_FID_INPUTS = tuple(subset_label(s) for s in FID_INPUTS)


CLAIMS = (
    Claim(
        "relational-vanilla-coherence",
        "Section 5",
        '"For the vanilla version of the dataset, mrVAE is able to reach the performance of '
        'the MoPoE-VAE regarding the coherence of samples (see Table 1a)."',
        tuple(
            Reaches(COHERENCE, "coherence", MRVAE, MOPOE, {**VANILLA, "inputs": i})
            for i in _COHERENCE_INPUTS
        ),
        ALL,
    ),
    Claim(
        "relational-extended-mopoe-drops",
        "Section 5",
        '"If we evaluate the two models on the extended version of PolyMNIST, we see a drastic '
        "decrease of coherence for the MoPoE-VAE, while mrVAE-s performance remains comparable "
        '(Table 1b)."',
        tuple(
            Better(COHERENCE, "coherence", VANILLA, EXTENDED, {**MOPOE, "inputs": i})
            for i in _COHERENCE_INPUTS
        )
        + tuple(
            Better(COHERENCE, "coherence", MRVAE, MOPOE, {**EXTENDED, "inputs": i})
            for i in _COHERENCE_INPUTS
        ),
        ALL,
    ),
    Claim(
        "relational-mopoe-cross-quality",
        "Section 5",
        '"The averaging across all dimensions may lead to a decrease in quality of samples if '
        'we generate samples of a modality which is not given as input (see Table 2a)."',
        tuple(
            Better(FID, FID_METRIC, {"inputs": "x_0"}, {"inputs": i}, {**MOPOE, **VANILLA})
            for i in _FID_INPUTS[1:]
        ),
        MOST,
    ),
    Claim(
        "relational-extended-mopoe-quality",
        "Section 5",
        '"Even more surprising, the additional relations between modalities lead to a further '
        'decrease in the quality of generated samples for the MoPoE-VAE (see Table 2b)."',
        tuple(
            Better(FID, FID_METRIC, VANILLA, EXTENDED, {**MOPOE, "inputs": i}) for i in _FID_INPUTS
        ),
        ALL,
    ),
    Claim(
        "relational-mrvae-quality",
        "Section 5",
        '"The proposed mrVAE on the other side is able to consistently generate high quality '
        "samples for the vanilla and extended version of the PolyMNIST dataset (see Tables 2a "
        "and 2b).\" (Table 2: mrVAE's FID below MoPoE's in every cell)",
        tuple(
            Better(FID, FID_METRIC, MRVAE, MOPOE, {**block, "inputs": i})
            for block in (VANILLA, EXTENDED)
            for i in _FID_INPUTS
        ),
        ALL,
    ),
)


def sources(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The reproduced Tables 1 and 2 from the results of both variants (empty ones left out)."""
    out = {name: summarise(results, spec) for name, spec in TABLES.items()}
    return {name: frame for name, frame in out.items() if not frame.empty}


def claims(results: pd.DataFrame) -> pd.DataFrame:
    """The registry's claims, checked on ``sources(results)``."""
    return evaluate_claims(CLAIMS, sources(results))
