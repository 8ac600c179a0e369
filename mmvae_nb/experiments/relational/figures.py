"""Figures of the relational section: the backgrounds, both PolyMNIST variants, conditional
generations per model, and mrVAE's learned subspace sizes against the data's true sharing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mmvae_nb.data.polymnist import BACKGROUNDS, IMAGE_SHAPE, PolyMNIST, background
from mmvae_nb.experiments.relational.experiment import true_sharing


def _image(ax, image):
    ax.imshow(np.clip(np.asarray(image).reshape(IMAGE_SHAPE), 0, 1))
    ax.set_xticks([])
    ax.set_yticks([])


def plot_backgrounds():
    """The five photographs behind the modalities (``data.polymnist.BACKGROUNDS``)."""
    fig, axes = plt.subplots(1, len(BACKGROUNDS), figsize=(2 * len(BACKGROUNDS), 2.3))
    for m, (ax, name) in enumerate(zip(axes, BACKGROUNDS)):
        ax.imshow(background(name))
        ax.set_title(f"x_{m}: {name}", fontsize=9)
        ax.axis("off")
    fig.suptitle("Backgrounds (packaged photographs, not the original PolyMNIST ones)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_tuples(data: PolyMNIST, num: int = 8):
    """``num`` tuples: one column each, modality m in row m; titles give the main digit and,
    on extended data, the five ring-pair corner digits."""
    fig, axes = plt.subplots(len(data.images), num, figsize=(1.1 * num, 1.15 * len(data.images)))
    for i in range(num):
        title = f"{data.labels[i]}"
        if data.variant == "extended":
            title += " | " + "".join(map(str, data.corner_labels[i]))
        axes[0, i].set_title(title, fontsize=8)
        for m in range(len(data.images)):
            _image(axes[m, i], data.images[m][i])
            if i == 0:
                axes[m, i].set_ylabel(f"x_{m}", fontsize=9)
    fig.suptitle(data.dataset, fontsize=10)
    fig.tight_layout()
    return fig


def plot_generations(generated: dict[str, dict[str, np.ndarray]], data: PolyMNIST, num: int = 8):
    """Generated x_0 per input set and model (rows), under the real x_0 (top row), ``num``
    test tuples wide: a grid that fits a page (under 1000 px) whatever the number of rows."""
    models = list(generated)
    inputs = list(next(iter(generated.values())))
    labels = [(name, model) for name in inputs for model in models]
    fig, axes = plt.subplots(
        1 + len(labels), num, figsize=(1.6 + 0.7 * num, 0.72 * (1 + len(labels))), squeeze=False
    )
    for i in range(num):
        _image(axes[0, i], data.flat(0)[i])
        for r, (name, model) in enumerate(labels):
            _image(axes[1 + r, i], generated[model][name][i])
    axes[0, 0].set_ylabel("real x_0", fontsize=7, rotation=0, ha="right", va="center")
    for r, (name, model) in enumerate(labels):
        axes[1 + r, 0].set_ylabel(
            f"{model}\nfrom {name}", fontsize=7, rotation=0, ha="right", va="center"
        )
    fig.suptitle(f"Generated x_0 ({data.dataset})", fontsize=8)
    fig.tight_layout()
    return fig


def subspace_size_table(results: pd.DataFrame) -> pd.DataFrame:
    """mrVAE's mean n_A per variant and subset, with |A| and whether A truly shares a digit."""
    rows = results[(results["metric"] == "subspace_size")]
    out = rows[["block", "target", "value"]].rename(
        columns={"block": "variant", "target": "subset", "value": "mean_size"}
    )
    out["modalities"] = out["subset"].str.count(r"\+") + 1
    out["truly_shared"] = [true_sharing(v)[s] for v, s in zip(out["variant"], out["subset"])]
    return out.reset_index(drop=True)


def plot_subspace_sizes(sizes: pd.DataFrame, subspace_dim: int):
    """Per variant, mrVAE's mean learned n_A for every subset A (bars, grouped by |A|), coloured
    by whether the subset's modalities truly share a digit: the picture that tells whether the
    relations were learned."""
    variants = list(dict.fromkeys(sizes["variant"]))
    fig, axes = plt.subplots(len(variants), 1, figsize=(11, 2.6 * len(variants)), squeeze=False)
    for ax, variant in zip(axes[:, 0], variants):
        rows = sizes[sizes["variant"] == variant].sort_values(["modalities", "subset"])
        colours = ["tab:red" if s else "tab:grey" for s in rows["truly_shared"]]
        ax.bar(range(len(rows)), rows["mean_size"], color=colours)
        ax.set_xticks(range(len(rows)))
        labels = [s.replace("x_", "").replace("+", "") for s in rows["subset"]]
        ax.set_xticklabels(labels, rotation=90, fontsize=7)
        ax.set_ylim(0, subspace_dim)
        ax.set_ylabel("mean n_A")
        ax.set_title(f"{variant}: red = the subset truly shares a digit", fontsize=9)
    axes[-1, 0].set_xlabel("subset A (modality indices)")
    fig.tight_layout()
    return fig
