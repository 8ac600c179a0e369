"""MNIST-SVHN-Text (Section 5.3, App. O-Q): Tables 3, 4, 9-16 and Figures 2, 8-12.

``experiment.MSTExperiment`` (the data, the coherence classifiers, every training and its
evaluation), its configuration per profile (``config``), claims (``claims``) and figures
(``figures``).
"""

from __future__ import annotations

from mmvae_nb.experiments.mnist_svhn_text.claims import CLAIMS
from mmvae_nb.experiments.mnist_svhn_text.config import MNIST_SVHN_TEXT as PROFILES
from mmvae_nb.experiments.mnist_svhn_text.experiment import TABLES, MSTExperiment
from mmvae_nb.experiments.mnist_svhn_text.figures import FIGURES


def build(profile: str, seed: int = 0, setting: str = "", **options) -> MSTExperiment:
    return MSTExperiment(profile, seed, **options)


__all__ = ["CLAIMS", "FIGURES", "PROFILES", "TABLES", "MSTExperiment", "build"]
