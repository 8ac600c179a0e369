"""Figures 1, 6, 7 (data, reconstructions and inferred latents of the label model) and the
five-modality summary of Section 5.2."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmvae_nb.data.identifiable import IdentifiableData
from mmvae_nb.experiments.figure_layout import bound_order, finish, panel_grid
from mmvae_nb.experiments.figure_specs import FigureSpec
from mmvae_nb.experiments.identifiable.experiment import PRIOR_LABELS, ROWS
from mmvae_nb.objectives.bounds import BOUND_LABELS


def _scatter(ax, points, labels, title):
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=3, vmin=0, vmax=9)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_data_and_latents(data: IdentifiableData, inferred: dict, title: str):
    """Figure 1: (a) observed x_1 and (b) true z, coloured by label, then the inferred latents
    (posterior means; identifiable up to a linear map) of the models in ``inferred``."""
    panels = [("Observed data $X_1$", data.xs[0]), ("True latents $Z$", data.z)]
    panels += list(inferred.items())
    fig, axes = panel_grid(len(panels), 3, panel_height=3.2)
    for ax, (name, points), letter in zip(axes, panels, "abcdefgh"):
        _scatter(ax, points, data.labels, f"({letter}) {name}")
    return finish(fig, axes, title)


def plot_models(data: IdentifiableData, examples: dict, bound: str, title: str):
    """Figures 6 (our bound) and 7 (mixture bound): for every table row, the reconstructed
    x_1 (decoder mean at a posterior sample) and the inferred latents, coloured by label."""
    keys = [(a, p, bound) for a, p in ROWS if (a, p, bound) in examples]
    # two panels per row of the table (reconstruction, latents), two rows of the table per line
    fig, axes = panel_grid(2 * len(keys), 4, panel_height=2.5)
    for j, key in enumerate(keys):
        name = f"{key[0]}\n{PRIOR_LABELS[key[1]]}"
        recon, latent = axes[2 * j], axes[2 * j + 1]
        _scatter(recon, examples[key]["reconstruction"], data.labels, f"{name}: $\\hat X_1$")
        _scatter(latent, examples[key]["z_mean"], data.labels, f"{name}: $\\hat Z$")
    return finish(fig, axes, title)


SUMMARY_METRICS = ("llh", "lower_bound", "mcc")


def plot_summary(per_run: pd.DataFrame, title: str, metrics=SUMMARY_METRICS):
    """Bars of ``metrics`` per table row and bound (mean and std over repetitions), one column
    of panels per missing rate eta (beta = 1)."""
    import seaborn as sns

    data = per_run[np.isclose(per_run["beta"], 1.0)].assign(
        row=lambda d: d["aggregation"] + ", " + d["prior"].map(PRIOR_LABELS),
        bound=lambda d: d["bound"].map(BOUND_LABELS),
    )
    etas = sorted(data["eta"].unique())
    fig, axes = panel_grid(len(metrics) * len(etas), len(etas), panel_height=3.4)
    for i, metric in enumerate(metrics):
        for j, eta in enumerate(etas):
            ax = axes[i * len(etas) + j]
            sns.barplot(
                data=data[data["eta"] == eta],
                x="row",
                y=metric,
                hue="bound",
                errorbar="sd",
                ax=ax,
                hue_order=bound_order(data["bound"]),
            )
            ax.set_title(f"{metric}, eta = {eta:g}", fontsize=10)
            ax.set_xlabel("")
            ax.tick_params(axis="x", labelsize=7)
    return finish(fig, axes, title)


FIGURES = {
    "five_modalities_summary": FigureSpec(
        "five_modalities_summary",
        "Five modalities: Tables 8 (eta = 0) and 2 (eta > 0)",
        plot_summary,
        SUMMARY_METRICS,
        where={"beta": 1.0},
        keys=("eta",),
    )
}
