"""The linear-Gaussian experiment (Section 5.1, App. M): Tables 1, 5, 6 and Figures 3-5.

``experiment.LinearExperiment`` (one per decoder setting: dense or sparse), its configuration
per profile (``config``), its claims (``claims``) and figures (``figures``); ``grids`` is the
notebook's choice of trainings, which the launcher runs too.
"""

from __future__ import annotations

from mmvae_nb.experiments.linear.claims import CLAIMS
from mmvae_nb.experiments.linear.config import LINEAR as PROFILES
from mmvae_nb.experiments.linear.experiment import (
    AGGREGATIONS,
    EQUIVARIANT_AGGREGATIONS,
    TABLES,
    LinearExperiment,
)
from mmvae_nb.experiments.linear.figures import FIGURES
from mmvae_nb.objectives.bounds import BOUND_NAMES

SETTINGS = ("dense", "sparse")  # the decoders of Table 1 and of Tables 5, 6


def settings(config) -> tuple[str, ...]:
    return SETTINGS


def build(profile: str, seed: int = 0, setting: str = "sparse", **options) -> LinearExperiment:
    return LinearExperiment(profile=profile, sparse=setting != "dense", seed=seed, **options)


def grids(
    experiments,
    aggregations=AGGREGATIONS,
    equivariant_aggregations=EQUIVARIANT_AGGREGATIONS,
    bounds=BOUND_NAMES,
) -> dict[str, tuple[str, list]]:
    """The runs of each table, ``{table: (setting, runs)}``: Table 1 on the dense decoders,
    Table 5 on the sparse ones, Table 6 (private latents) on the sparse ones at every beta of
    the profile (Figure 5)."""
    dense, sparse = experiments["dense"], experiments["sparse"]
    betas = sparse.config.grid.betas
    return {
        "table01_linear_dense": ("dense", dense.grid(aggregations, bounds)),
        "table05_linear_sparse": ("sparse", sparse.grid(aggregations, bounds)),
        "table06_linear_sparse_equivariant": (
            "sparse",
            sparse.grid(equivariant_aggregations, bounds, betas),
        ),
    }


def trainings(experiments) -> list:
    """Every (setting, run) of ``grids`` with the notebook's defaults."""
    return [(setting, run) for setting, runs in grids(experiments).values() for run in runs]


__all__ = ["CLAIMS", "FIGURES", "PROFILES", "TABLES", "LinearExperiment", "build", "grids"]
