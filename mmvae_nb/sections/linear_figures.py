"""Figures 3, 4 (rates, distortions and posterior KLs) and 5 (the beta sweep) of Section 5.1."""

from __future__ import annotations

import pandas as pd

from mmvae_nb.evaluation.metrics import RATE_DISTORTION_TERMS
from mmvae_nb.objectives.bounds import BOUND_LABELS
from mmvae_nb.sections.figures import finish, panel_grid


def plot_rate_distortion(per_dataset: pd.DataFrame, title: str):
    """Figures 3-4: the six rate/distortion/posterior-KL panels, bars per aggregation x bound
    (mean and std over data sets)."""
    import seaborn as sns

    data = per_dataset.assign(bound=per_dataset["bound"].map(BOUND_LABELS))
    fig, axes = panel_grid(6, 3, panel_height=3.2)
    order = [
        "full_reconstruction",
        "full_rate",
        "full_posterior_kl",
        "cross_reconstruction",
        "cross_rate",
        "unimodal_posterior_kl",
    ]
    for ax, term, letter in zip(axes, order, "abcdef"):
        sns.barplot(
            data=data,
            x="aggregation",
            y=term,
            hue="bound",
            errorbar="sd",
            ax=ax,
            hue_order=list(BOUND_LABELS.values()),
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
    order = ["full_reconstruction", "full_rate", "cross_reconstruction", "cross_rate"]
    for ax, term, letter in zip(axes, order, "abcd"):
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
