"""Figures 3, 4 (rates, distortions and posterior KLs) and 5 (the beta sweep) of Section 5.1."""

from __future__ import annotations

import pandas as pd

from mmvae_nb.evaluation.metrics import RATE_DISTORTION_TERMS
from mmvae_nb.experiments.figure_layout import bound_order, finish, panel_grid
from mmvae_nb.experiments.figure_specs import FigureSpec
from mmvae_nb.objectives.bounds import BOUND_LABELS

# the panels of Figures 3-4 (a-f) and 5 (a-d), in the paper's order
RATE_DISTORTION_PANELS = (
    "full_reconstruction",
    "full_rate",
    "full_posterior_kl",
    "cross_reconstruction",
    "cross_rate",
    "unimodal_posterior_kl",
)
BETA_SWEEP_PANELS = ("full_reconstruction", "full_rate", "cross_reconstruction", "cross_rate")


def plot_rate_distortion(per_dataset: pd.DataFrame, title: str):
    """Figures 3-4: the six rate/distortion/posterior-KL panels, bars per aggregation x bound
    (mean and std over data sets)."""
    import seaborn as sns

    data = per_dataset.assign(bound=per_dataset["bound"].map(BOUND_LABELS))
    fig, axes = panel_grid(6, 3, panel_height=3.2)
    for ax, term, letter in zip(axes, RATE_DISTORTION_PANELS, "abcdef"):
        sns.barplot(
            data=data,
            x="aggregation",
            y=term,
            hue="bound",
            errorbar="sd",
            ax=ax,
            hue_order=bound_order(data["bound"]),
        )
        ax.set_title(f"({letter}) {RATE_DISTORTION_TERMS[term]}", fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("nats per example")
    return finish(fig, axes, title)


def plot_beta_sweep(per_dataset: pd.DataFrame, title: str):
    """Figure 5: full/cross reconstruction and rates against beta, per aggregation and bound."""
    import seaborn as sns

    data = per_dataset.assign(bound=per_dataset["bound"].map(BOUND_LABELS))
    fig, axes = panel_grid(4, 2, panel_height=3.4)
    for ax, term, letter in zip(axes, BETA_SWEEP_PANELS, "abcd"):
        sns.lineplot(
            data=data,
            x="beta",
            y=term,
            hue="aggregation",
            style="bound",
            markers=True,
            errorbar="sd",
            ax=ax,
        )
        ax.set_xscale("log")
        ax.set_title(f"({letter}) {RATE_DISTORTION_TERMS[term]}", fontsize=10)
        ax.set_xlabel(r"$\beta$")
        ax.set_ylabel("nats per example")
    return finish(fig, axes, title, rotate_labels=False)


# which runs make which paper figure: the notebook passes each setting's runs (dense, sparse,
# sparse with private latents)
FIGURES = {
    spec.name: spec
    for spec in (
        FigureSpec(
            "fig03_linear_dense_rate_distortion",
            "Figure 3 — dense decoders",
            plot_rate_distortion,
            RATE_DISTORTION_PANELS,
        ),
        FigureSpec(
            "fig04_linear_sparse_rate_distortion",
            "Figure 4 — sparse decoders",
            plot_rate_distortion,
            RATE_DISTORTION_PANELS,
        ),
        FigureSpec(
            "fig05_linear_sparse_equivariant_beta",
            "Figure 5 — private latents, equivariant encoders",
            plot_beta_sweep,
            BETA_SWEEP_PANELS,
            beta_sweep=True,
        ),
    )
}
