"""The Multimodal Relational VAE on PolyMNIST (Sutter & Vogt, Section 5; notebook 05).

``experiment.RelationalExperiment`` (one per PolyMNIST variant), its configuration per profile
(``config``), claims (``claims``) and figures (``figures``).
"""

from __future__ import annotations

from mmvae_nb.experiments.relational.claims import CLAIMS
from mmvae_nb.experiments.relational.config import RELATIONAL as PROFILES
from mmvae_nb.experiments.relational.experiment import TABLES, RelationalExperiment

FIGURES: dict = {}  # its figures show samples, not measured quantities (``figures``)


def settings(config) -> tuple[str, ...]:
    """The PolyMNIST variants of the profile's grid."""
    return tuple(config.grid.variants)


def build(profile: str, seed: int = 0, setting: str = "vanilla", **options):
    return RelationalExperiment(profile, setting, seed, **{"progress": False, **options})


__all__ = ["CLAIMS", "FIGURES", "PROFILES", "TABLES", "RelationalExperiment", "build", "settings"]
