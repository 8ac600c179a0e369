"""MNIST-SVHN-Text figures: the data and conditional-generation grids."""

import matplotlib
import numpy as np

from mmvae_nb.data.mnist_svhn_text import load_mnist_svhn_text, load_svhn
from mmvae_nb.experiments.mnist_svhn_text.figures import (
    plot_conditional_generation,
    plot_standin_vs_real,
    plot_triples,
)

matplotlib.use("Agg")


def test_data_and_generation_figures(tmp_path):
    data = load_mnist_svhn_text("test", svhn_size=60, dups=1, cache_dir=tmp_path)
    assert len(plot_triples(data, num=4).axes) == 12
    images, labels = load_svhn("test", size=50, cache_dir=tmp_path)
    fig = plot_standin_vs_real(images, labels)
    assert len(fig.axes) == 100 and "synthetic stand-in" in fig._suptitle.get_text()

    def copy_inputs(xs, mask, key):  # "generates" each modality as its own input
        return xs

    fig = plot_conditional_generation(copy_inputs, data, (0, 2), num=5)
    assert len(fig.axes) == (2 + 3) * 5  # two input rows, three generated rows
    assert "generated from M+T" in fig._suptitle.get_text()
    xs, _ = data.batch(np.arange(5), np.random.default_rng(0))
    shown = fig.axes[5 * 2].get_images()[0].get_array()  # first generated MNIST
    np.testing.assert_allclose(shown, xs[0][0].reshape(28, 28))


def test_cross_generation_figure_has_a_row_per_model(tmp_path):
    from mmvae_nb.experiments.mnist_svhn_text.figures import plot_cross_generation

    data = load_mnist_svhn_text("test", svhn_size=60, dups=1, cache_dir=tmp_path)

    def copy_inputs(xs, mask, key):
        return xs

    fig = plot_cross_generation({"a": copy_inputs, "b": copy_inputs}, data, 0, 2, num=4)
    assert len(fig.axes) == 3 * 4 and "MNIST -> Text" in fig._suptitle.get_text()
