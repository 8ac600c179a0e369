"""MNIST-SVHN-Text (Section 5.3): the data in use, its evaluation classifiers, and their plots.

``MSTSetup`` loads the triples of a profile (``config.MNIST_SVHN_TEXT``), trains or loads the
MoPoE classifiers that judge coherence, and reports what the data are made of: MNIST is always
real, SVHN is real (``svhn="real"``) or the synthetic stand-in, and the text is synthetic by
construction (as in MoPoE).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property, partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..classifiers import mst_classifiers
from ..config import MNIST_SVHN_TEXT, profile_settings
from ..data.mnist_svhn_text import (
    LIKELIHOOD_WEIGHTS,
    MODALITIES,
    MODALITY_DIMS,
    MnistSvhnText,
    decode_text,
    load_mnist_svhn_text,
    load_svhn_sample,
)
from ..models import MultimodalVAE
from ..mst_nets import (
    MNISTDecoder,
    MNISTEncoder,
    SVHNDecoder,
    SVHNEncoder,
    TextDecoder,
    TextEncoder,
)

SHARED_ROWS = ("PoE", "PoE+", "MoE", "MoE+", "SumPooling", "SelfAttention")  # Tables 3, 4, 15
PRIVATE_ROWS = ("PoE+", "SumPooling", "SelfAttention")  # Tables 3, 11, 12, 15 (App. F)


def make_mst_model(
    aggregation: str,
    *,
    rngs,
    private: bool = False,
    latent_dim: int = 40,
    shared_dim: int = 10,
    private_dim: int = 10,
    fast: bool = True,
):
    """An MNIST-SVHN-Text model (Section 5.3, Tables 21-22) for a row of the paper's tables.

    ``aggregation`` is a paper row name; a trailing "+" (PoE+, MoE+) adds four Dense(256)-ReLU
    layers to every encoder. Shared latents: z in R^40 (``latent_dim``); embedding D_E = 2D for
    PoE/MoE and 256 for SumPooling/SelfAttention (2 transformer layers). Private latents
    (``private=True``): 10 shared + 10 private per modality (App. F) with the permutation-
    equivariant aggregators and D_E = 128. Likelihoods: Laplace (images), categorical (text),
    re-weighted in the bounds by ``LIKELIHOOD_WEIGHTS``. ``fast=False`` computes the strided
    and transposed convolutions with XLA's kernels (same function, slower on CPU).
    """
    base = aggregation.rstrip("+")
    extra = 4 if aggregation.endswith("+") else 0
    expert = base in ("PoE", "MoE")
    if private:
        name, latent, private_latent = f"{base} (equivariant)", shared_dim, private_dim
        embedding = 2 * (shared_dim + private_dim) if expert else 128
    else:
        name, latent, private_latent = base, latent_dim, 0
        embedding = 2 * latent_dim if expert else 256
    kwargs = {} if expert else {"hidden_dim": embedding}
    if base == "SelfAttention":
        kwargs["num_layers"] = 2
    return MultimodalVAE(
        MODALITY_DIMS,
        latent,
        name,
        rngs=rngs,
        embedding_dim=embedding,
        aggregator_kwargs=kwargs,
        private_latent_dim=private_latent,
        encoders=[
            partial(MNISTEncoder, extra_layers=extra),
            partial(SVHNEncoder, extra_layers=extra, fast=fast),
            partial(TextEncoder, extra_layers=extra),
        ],
        decoders=[
            MNISTDecoder,
            *(partial(b, fast=fast) for b in (SVHNDecoder, TextDecoder)),
        ],
        likelihood_weights=LIKELIHOOD_WEIGHTS,
    )


@dataclass
class MSTSetup:
    """The MNIST-SVHN-Text data and classifiers of one profile."""

    profile: str
    seed: int = 0
    overrides: dict = field(default_factory=dict)
    progress: bool = False

    def __post_init__(self):
        self.settings = profile_settings(MNIST_SVHN_TEXT, self.profile, **self.overrides)

    def _load(self, split: str, size) -> MnistSvhnText:
        s = self.settings
        return load_mnist_svhn_text(
            split,
            s["svhn"],
            dups=s["dups"],
            svhn_size=size,
            seed=self.seed,
            progress=self.progress,
        )

    @cached_property
    def train(self) -> MnistSvhnText:
        return self._load("train", self.settings["svhn_size"])

    @cached_property
    def test(self) -> MnistSvhnText:
        return self._load("test", self.settings["svhn_test_size"])

    @property
    def dataset(self) -> str:
        return self.train.dataset

    def composition(self) -> pd.DataFrame:
        """How much of each split is real: images per modality and their source."""
        rows = []
        for data in (self.train, self.test):
            svhn_real = self.settings["svhn"] == "real"
            rows += [
                (data.split, "MNIST", len(np.unique(data.pairs[:, 0])), "real (LeCun et al.)"),
                (
                    data.split,
                    "SVHN",
                    len(np.unique(data.pairs[:, 1])),
                    "real (Netzer et al.)" if svhn_real else "synthetic stand-in",
                ),
                (data.split, "Text", len(data), "synthetic (MoPoE protocol)"),
                (data.split, "triples", len(data), f"{self.settings['dups']} matchings per label"),
            ]
        return pd.DataFrame(rows, columns=["split", "modality", "distinct examples", "source"])

    def epoch_seconds(self, batch_size: int = 250) -> float:
        """Wall time of one pass of the data pipeline over the training triples (no model)."""
        rng = np.random.default_rng(self.seed)
        start = time.perf_counter()
        for _ in self.train.batches(batch_size, rng):
            pass
        return time.perf_counter() - start

    @cached_property
    def classifiers(self):
        return mst_classifiers(
            self.train,
            self.test,
            epochs=self.settings["classifier_epochs"],
            seed=self.seed,
            progress=self.progress,
        )

    def classifier_table(self) -> pd.DataFrame:
        """Test accuracy of each modality classifier, with the data it was judged on."""
        return pd.DataFrame(
            [(self.dataset, m, self.classifiers[m].test_accuracy) for m in MODALITIES],
            columns=["dataset", "modality", "test_accuracy"],
        )


def _show_image(ax, flat, shape):
    ax.imshow(flat.reshape(shape), cmap="gray" if len(shape) == 2 else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_triples(data: MnistSvhnText, num: int = 8, seed: int = 0):
    """``num`` triples: MNIST over SVHN over the text string, one column each."""
    rng = np.random.default_rng(seed)
    xs, labels = data.batch(rng.choice(len(data), num, replace=False), rng)
    fig, axes = plt.subplots(3, num, figsize=(1.3 * num, 4.2))
    for j in range(num):
        _show_image(axes[0, j], xs[0][j], (28, 28))
        _show_image(axes[1, j], xs[1][j], (32, 32, 3))
        axes[2, j].axis("off")
        axes[2, j].text(
            0.5,
            0.5,
            repr(decode_text(xs[2][j].reshape(8, -1))),
            ha="center",
            va="center",
            family="monospace",
        )
        axes[0, j].set_title(f"label {labels[j]}", fontsize=9)
    for row, name in enumerate(MODALITIES[:2]):
        axes[row, 0].set_ylabel(name)
    fig.suptitle(f"{data.dataset}: {data.split} triples", fontsize=10)
    return fig


def plot_standin_vs_real(standin: np.ndarray, standin_labels, source: str = "synthetic stand-in"):
    """The 50 vendored real SVHN crops above the first 50 ``standin`` images (whose
    ``source`` the title names), with labels."""
    real, real_labels = load_svhn_sample()
    fig, axes = plt.subplots(10, 10, figsize=(9, 10))
    for i, ax in enumerate(axes.flat):
        which, j = divmod(i, 50)
        image, label = (real[j], real_labels[j]) if which == 0 else (standin[j], standin_labels[j])
        _show_image(ax, image / 255.0, (32, 32, 3))
        ax.set_title(str(label), fontsize=7, pad=1)
    fig.suptitle(
        f"top 5 rows: the 50 vendored real SVHN crops; bottom 5 rows: the data in use ({source})",
        fontsize=10,
    )
    return fig


def plot_conditional_generation(generate, data: MnistSvhnText, subset, num: int = 8, key=None):
    """Conditional generation from the inputs ``subset`` (e.g. (0,) = MNIST): per column, the
    test example's inputs on top, then the generated MNIST, SVHN and text (App. P, Figs. 10-12).
    ``generate(xs, mask, key)`` is as in ``coherence.conditional_coherence``."""
    import jax

    from ..coherence import subset_name

    rng = np.random.default_rng(0)
    xs, labels = data.batch(np.arange(num), rng)
    mask = np.zeros((num, len(xs)), bool)
    mask[:, list(subset)] = True
    generated = [np.asarray(x) for x in generate(xs, mask, key or jax.random.key(0))]
    rows = [("input " + MODALITIES[s], xs[s], s) for s in subset]
    rows += [("generated " + MODALITIES[m], generated[m], m) for m in range(len(xs))]
    fig, axes = plt.subplots(len(rows), num, figsize=(1.2 * num, 1.3 * len(rows)), squeeze=False)
    for r, (name, values, m) in enumerate(rows):
        for j in range(num):
            ax = axes[r, j]
            if m == 2:
                ax.axis("off")
                word = decode_text(values[j].reshape(8, -1))
                ax.text(0.5, 0.5, repr(word), ha="center", va="center", family="monospace")
            else:
                _show_image(ax, np.clip(values[j], 0, 1), ((28, 28), (32, 32, 3))[m])
        axes[r, 0].set_ylabel(name, fontsize=8)
    for j in range(num):
        axes[0, j].set_title(f"label {labels[j]}", fontsize=8)
    fig.suptitle(f"{data.dataset}: generated from {subset_name(subset)}", fontsize=10)
    return fig
