"""Figures of Section 5.3: the data (triples, the SVHN stand-in beside real crops), rates and
distortions (Figures 2, 8, 9) and conditional generation (Figures 10-12)."""

from __future__ import annotations

import jax
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mmvae_nb.data.mnist_svhn_text import (
    MODALITIES,
    MODALITY_SHAPES,
    MnistSvhnText,
    decode_text,
    load_svhn_sample,
)
from mmvae_nb.evaluation.coherence import subset_name
from mmvae_nb.evaluation.metrics import RATE_DISTORTION_TERMS
from mmvae_nb.experiments.figure_layout import finish, panel_grid
from mmvae_nb.experiments.figure_specs import FigureSpec


def _show_image(ax, flat, shape):
    ax.imshow(flat.reshape(shape), cmap="gray" if len(shape) == 2 else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_triples(data: MnistSvhnText, num: int = 8, seed: int = 0):
    """``num`` triples: MNIST over SVHN over the text string, one column each."""
    rng = np.random.default_rng(seed)
    xs, labels = data.batch(rng.choice(len(data), num, replace=False), rng)
    rows = [(name, x, m) for m, (name, x) in enumerate(zip(MODALITIES, xs))]
    fig = _draw_rows(rows, num, f"{data.dataset}: {data.split} triples")
    for ax, label in zip(fig.axes[:num], labels):
        ax.set_title(f"label {label}", fontsize=9)
    return fig


def plot_standin_vs_real(standin: np.ndarray, standin_labels, source: str = "synthetic stand-in"):
    """The 50 vendored real SVHN crops above the first 50 ``standin`` images (whose
    ``source`` the title names), with labels."""
    real, real_labels = load_svhn_sample()
    fig, axes = plt.subplots(10, 10, figsize=(9, 10))
    for i, ax in enumerate(axes.flat):
        which, j = divmod(i, 50)
        image, label = (real[j], real_labels[j]) if which == 0 else (standin[j], standin_labels[j])
        _show_image(ax, image / 255.0, MODALITY_SHAPES[1])
        ax.set_title(str(label), fontsize=7, pad=1)
    fig.suptitle(
        f"top 5 rows: the 50 vendored real SVHN crops; bottom 5 rows: the data in use ({source})",
        fontsize=10,
    )
    return fig


def _draw_rows(rows, num: int, title: str, label_rotation: float = 90):
    """A grid with one row per (name, flat values (n, F), modality): images or text strings."""
    fig, axes = plt.subplots(len(rows), num, figsize=(1.15 * num, 1.2 * len(rows)), squeeze=False)
    for r, (name, values, m) in enumerate(rows):
        for j in range(num):
            ax = axes[r, j]
            if m == 2:
                ax.axis("off")
                word = decode_text(values[j].reshape(MODALITY_SHAPES[2]))
                ax.text(0.5, 0.5, repr(word), ha="center", va="center", family="monospace")
            else:
                _show_image(ax, np.clip(values[j], 0, 1), MODALITY_SHAPES[m])
        axes[r, 0].set_ylabel(
            name,
            fontsize=7,
            rotation=label_rotation,
            ha="right" if label_rotation == 0 else "center",
        )
    fig.suptitle(title, fontsize=9)
    return fig


def plot_conditional_generation(generate, data: MnistSvhnText, subset, num: int = 8, key=None):
    """Conditional generation from the inputs ``subset`` (e.g. (0,) = MNIST): per column, the
    test example's inputs on top, then the generated MNIST, SVHN and text (App. P, Figs. 10-12).
    ``generate(xs, mask, key)`` is as in ``coherence.conditional_coherence``."""
    xs, labels = data.batch(_examples(data, num), np.random.default_rng(0))
    mask = np.zeros((num, len(xs)), bool)
    mask[:, list(subset)] = True
    generated = [np.asarray(x) for x in generate(xs, mask, key or jax.random.key(0))]
    rows = [("input " + MODALITIES[s], xs[s], s) for s in subset]
    rows += [("generated " + MODALITIES[m], generated[m], m) for m in range(len(xs))]
    title = f"{data.dataset}: generated from {subset_name(subset)} (labels {_labels(labels)})"
    return _draw_rows(rows, num, title)


def _examples(data: MnistSvhnText, num: int) -> np.ndarray:
    """``num`` fixed triples cycling through the labels 0, 1, 2, ... (triples are stored
    label-sorted: ``pair_indices`` groups them by label and ``subset`` keeps the order)."""
    firsts = np.searchsorted(data.labels, np.arange(10))
    return np.minimum([firsts[i % 10] + i // 10 for i in range(num)], len(data) - 1)


def _labels(labels) -> str:
    return " ".join(map(str, labels))


# the order of the panels of Figures 2, 8 and 9
RATE_DISTORTION_PANELS = ("full_reconstruction", "cross_reconstruction", "full_rate", "cross_rate")


def plot_rate_distortion(results: pd.DataFrame, title: str):
    """Figure 2 / 8 / 9: the four rate and distortion terms per aggregation and bound."""
    import seaborn as sns

    fig, axes = panel_grid(4, 2, panel_height=3.2)
    for ax, metric, letter in zip(axes, RATE_DISTORTION_PANELS, "abcd"):
        rows = results[results.metric == metric]
        sns.barplot(data=rows, x="aggregation", y="value", hue="bound", ax=ax, errorbar=None)
        ax.set_title(f"({letter}) {RATE_DISTORTION_TERMS[metric]}", fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
    return finish(fig, axes, title)


def plot_beta_rate_distortion(results: pd.DataFrame, title: str):
    """Figure 9: ``plot_rate_distortion`` with one bar per aggregation and beta."""
    labels = results.aggregation + ", beta=" + results.beta.astype(str)
    return plot_rate_distortion(results.assign(aggregation=labels), title)


def plot_cross_generation(
    generators: dict, data: MnistSvhnText, source: int, target: int, num: int = 8
):
    """Figures 10-12: the same ``num`` test inputs of modality ``source`` (top row) and, per
    model (``generators``: label -> ``generate``), the generated modality ``target``."""
    xs, labels = data.batch(_examples(data, num), np.random.default_rng(0))
    mask = np.zeros((num, len(xs)), bool)
    mask[:, source] = True
    rows = [(f"input {MODALITIES[source]}", xs[source], source)]
    for i, (name, generate) in enumerate(generators.items()):
        rows.append((name, np.asarray(generate(xs, mask, jax.random.key(i))[target]), target))
    title = (
        f"{data.dataset}: {MODALITIES[source]} -> {MODALITIES[target]} (labels {_labels(labels)})"
    )
    return _draw_rows(rows, num, title, label_rotation=0)


FIGURES = {
    spec.name: spec
    for spec in (
        FigureSpec(
            "fig02_mst_rate_distortion",
            "Figure 2: shared latents, beta = 1",
            plot_rate_distortion,
            RATE_DISTORTION_PANELS,
            where={"block": "shared", "beta": 1.0},
        ),
        FigureSpec(
            "fig08_mst_private_rate_distortion",
            "Figure 8: private latents",
            plot_rate_distortion,
            RATE_DISTORTION_PANELS,
            where={"block": "private"},
        ),
        FigureSpec(
            "fig09_mst_beta_rate_distortion",
            "Figure 9: different betas",
            plot_beta_rate_distortion,
            RATE_DISTORTION_PANELS,
            where={"block": "shared"},
            beta_sweep=True,
        ),
    )
}
