"""The identifiable models of Section 5.2 (App. N), the implementation of two experiments:
``aux_label`` (a continuous modality and its label: Table 7, Figures 1, 6, 7) and
``five_modalities`` (five modalities missing at random: Tables 2, 8).

``experiment.IdentifiableExperiment(name)`` builds either; ``config`` holds both
configurations per profile, ``claims`` and ``figures`` their claims and figures.
"""

from __future__ import annotations

from functools import partial

from mmvae_nb.experiments.identifiable.claims import claims_of
from mmvae_nb.experiments.identifiable.config import AUX_LABEL, FIVE_MODALITIES
from mmvae_nb.experiments.identifiable.experiment import IdentifiableExperiment, tables_of
from mmvae_nb.experiments.identifiable.figures import FIGURES


def _build(name: str, profile: str, seed: int = 0, setting: str = "", **options):
    return IdentifiableExperiment(name, profile, seed, **options)


def builder(name: str):
    """``build(profile, seed, setting, **options)`` of experiment ``name``."""
    return partial(_build, name)


__all__ = [
    "AUX_LABEL",
    "FIGURES",
    "FIVE_MODALITIES",
    "IdentifiableExperiment",
    "builder",
    "claims_of",
    "tables_of",
]
