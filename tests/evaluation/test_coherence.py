"""Coherence and latent classification (App. L) on toy modalities with exact classifiers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.evaluation.coherence import (
    conditional_coherence,
    input_subsets,
    latent_classification,
    subset_name,
    vae_encoder,
    vae_generator,
)
from mmvae_nb.models.builders import mlp_vae

N, K = 3000, 10


def _toy(seed=0):
    """Three modalities, each a noisy one-hot code of the label; argmax classifies exactly."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, K, N)
    xs = [np.eye(K)[labels] + 0.1 * rng.normal(size=(N, K)) for _ in range(3)]
    return xs, labels


def _classifier(x):
    return np.argmax(x, axis=-1)


def _label_of_inputs(xs, mask):
    """The label read off the first present modality (exact for the toy data)."""
    first = np.argmax(mask, axis=1)
    return np.argmax(np.stack(xs, 1)[np.arange(len(first)), first], axis=-1)


def test_a_model_that_copies_the_label_has_coherence_one():
    xs, labels = _toy()

    def copy_label(xs, mask, key):
        return [np.eye(K)[_label_of_inputs(xs, mask)]] * 3

    frame = conditional_coherence(
        copy_label, [_classifier] * 3, xs, labels, input_subsets(3), jax.random.key(0)
    )
    assert len(frame) == 6 * 3 and set(frame.metric) == {"coherence"}
    np.testing.assert_allclose(frame.value, 1.0)
    assert set(frame.inputs) == {"M", "S", "T", "M+S", "M+T", "S+T"}


def test_random_generation_has_chance_coherence():
    xs, labels = _toy()

    def random_output(xs, mask, key):
        draws = jax.random.randint(key, (3, len(xs[0])), 0, K)
        return [np.eye(K)[np.asarray(d)] for d in draws]

    frame = conditional_coherence(
        random_output, [_classifier] * 3, xs, labels, [(0,), (1, 2)], jax.random.key(1)
    )
    np.testing.assert_allclose(frame.value, 0.1, atol=0.025)


def test_coherence_is_per_target():
    """A generator that gets only the MNIST output right scores 1 there and chance elsewhere."""
    xs, labels = _toy()
    rng = np.random.default_rng(3)

    def half_right(xs, mask, key):
        right = np.eye(K)[_label_of_inputs(xs, mask)]
        return [right, np.eye(K)[rng.integers(0, K, len(right))], np.zeros_like(right)]

    frame = conditional_coherence(
        half_right, [_classifier] * 3, xs, labels, [(1,)], jax.random.key(0), batch_size=700
    )
    values = dict(zip(frame.target, frame.value))
    assert values["M"] == 1.0 and abs(values["S"] - 0.1) < 0.03
    assert values["T"] == np.mean(labels == 0)  # argmax of zeros is class 0


def test_latent_classification_separates_informative_subsets():
    xs, labels = _toy()
    test_xs, test_labels = _toy(seed=1)

    def encode(xs, mask, key):  # informative only when the first modality is present
        noise = np.asarray(jax.random.normal(key, xs[0].shape))
        return np.where(mask[:, :1], xs[0], noise)

    frame = latent_classification(
        encode, (xs, labels), (test_xs, test_labels), [(0,), (1,), (0, 2)], jax.random.key(0)
    )
    values = dict(zip(frame.inputs, frame.value))
    assert values["M"] > 0.99 and values["M+T"] > 0.99 and values["S"] < 0.2


def test_subsets_and_bad_subsets():
    assert input_subsets(3, sizes=(3,)) == [(0, 1, 2)]
    assert subset_name((2, 0)) == "M+T"
    xs, labels = _toy()
    with pytest.raises(ValueError, match="not a non-empty subset"):
        conditional_coherence(lambda *a: xs, [_classifier] * 3, xs, labels, [(3,)], None)
    with pytest.raises(ValueError, match="2 classifiers for 3 modalities"):
        conditional_coherence(lambda *a: xs, [_classifier] * 2, xs, labels, [(0,)], None)


def test_vae_adapters_ignore_absent_modalities():
    model = mlp_vae(
        [4, 5, 6],
        2,
        "SumPooling",
        rngs=nnx.Rngs(0),
        decoder="mlp",
        likelihoods=["laplace", "gaussian", "categorical"],
        noise_std=None,
    )
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(7, d)).astype(np.float32) for d in (4, 5, 6)]
    mask = np.array([[True, False, True]] * 7)
    key = jax.random.key(0)
    out = vae_generator(model)(xs, mask, key)
    assert [o.shape for o in out] == [(7, 4), (7, 5), (7, 6)]
    np.testing.assert_allclose(jnp.sum(out[2], -1), 1.0, rtol=1e-5)  # text: probabilities
    poisoned = [xs[0], np.full_like(xs[1], np.nan), xs[2]]
    for a, b in zip(out, vae_generator(model)(poisoned, mask, key)):
        np.testing.assert_array_equal(a, b)
    z = vae_encoder(model)(poisoned, mask, key)
    assert z.shape == (7, 2) and np.all(np.isfinite(z))
