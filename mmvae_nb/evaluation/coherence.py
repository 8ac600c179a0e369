"""Generative coherence and latent classification (App. L; Tables 4, 10-16).

* ``conditional_coherence``: for an input subset S and a target modality m, the fraction of test
  examples whose generated x^_m, decoded from z_S ~ q(z | x_S), a pre-trained classifier clf_m
  assigns the example's label: self-coherence for m in S, cross-coherence otherwise.
* ``latent_classification``: the test accuracy of a logistic regression (scikit-learn) fitted to
  latent samples z_S ~ q(z | x_S^train) and evaluated on z_S ~ q(z | x_S^test).

Both take the model through two small callables, so any model can be judged:
``generate(xs, mask, key) -> [x^_1, ..., x^_M]`` and ``encode(xs, mask, key) -> z``;
``vae_generator`` / ``vae_encoder`` build them for a ``MultimodalVAE``-like model. As in the
MoPoE code the paper uses, a generated modality is its decoder mean given one sample of z (for
text: the character probabilities), not a sample of p(x_m | z).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx
from sklearn.linear_model import LogisticRegression

LETTERS = ("M", "S", "T")  # the paper's names of MNIST, SVHN, Text


def subset_name(subset: Sequence[int], letters: Sequence[str] = LETTERS) -> str:
    """The paper's name of an input subset, e.g. (0, 2) -> "M+T"."""
    return "+".join(letters[s] for s in sorted(subset))


def input_subsets(num_modalities: int, sizes: Sequence[int] = (1, 2)) -> list[tuple[int, ...]]:
    """All subsets of the modalities with the given sizes (uni- and bi-modal by default)."""
    return [s for k in sizes for s in combinations(range(num_modalities), k)]


def _subset_mask(subset, batch: int, num_modalities: int) -> np.ndarray:
    if not subset or min(subset) < 0 or max(subset) >= num_modalities:
        raise ValueError(f"subset {subset} is not a non-empty subset of 0..{num_modalities - 1}")
    mask = np.zeros((batch, num_modalities), bool)
    mask[:, list(subset)] = True
    return mask


def _batched(xs, batch_size):
    n = len(xs[0])
    for start in range(0, n, batch_size):
        yield [x[start : start + batch_size] for x in xs]


def conditional_coherence(
    generate: Callable,
    classifiers: Sequence[Callable],
    xs: Sequence[np.ndarray],
    labels,
    subsets: Sequence[Sequence[int]],
    key,
    *,
    batch_size: int = 500,
    letters: Sequence[str] = LETTERS,
) -> pd.DataFrame:
    """Coherence C_{S -> m} for every subset S in ``subsets`` and every target m (App. L).

    ``classifiers[m](x) -> labels`` classifies flat inputs of modality m. Returns one row per
    (inputs, target) with columns ``inputs``, ``target``, ``metric`` = "coherence", ``value``.
    """
    labels = np.asarray(labels)
    num_modalities = len(xs)
    if len(classifiers) != num_modalities:
        raise ValueError(f"{len(classifiers)} classifiers for {num_modalities} modalities")
    rows = []
    for subset in subsets:
        correct = np.zeros(num_modalities)
        for i, batch in enumerate(_batched(xs, batch_size)):
            mask = _subset_mask(subset, len(batch[0]), num_modalities)
            generated = generate(batch, mask, jax.random.fold_in(key, i))
            truth = labels[i * batch_size : i * batch_size + len(batch[0])]
            for m, (clf, x_hat) in enumerate(zip(classifiers, generated)):
                correct[m] += np.sum(np.asarray(clf(np.asarray(x_hat))) == truth)
        for m in range(num_modalities):
            rows.append((subset_name(subset, letters), letters[m], correct[m] / len(labels)))
    frame = pd.DataFrame(rows, columns=["inputs", "target", "value"])
    return frame.assign(metric="coherence")[["inputs", "target", "metric", "value"]]


def _encode_all(encode, xs, subset, key, batch_size):
    out = []
    for i, batch in enumerate(_batched(xs, batch_size)):
        mask = _subset_mask(subset, len(batch[0]), len(xs))
        out.append(np.asarray(encode(batch, mask, jax.random.fold_in(key, i))))
    return np.concatenate(out)


def latent_classification(
    encode: Callable,
    train: tuple[Sequence[np.ndarray], np.ndarray],
    test: tuple[Sequence[np.ndarray], np.ndarray],
    subsets: Sequence[Sequence[int]],
    key,
    *,
    batch_size: int = 500,
    letters: Sequence[str] = LETTERS,
) -> pd.DataFrame:
    """Accuracy Acc_S of a logistic regression from z_S ~ q(z | x_S) to the label (App. L).

    ``train`` and ``test`` are (xs, labels). Returns rows with columns ``inputs``, ``metric`` =
    "latent_accuracy", ``value``.
    """
    rows = []
    k_train, k_test = jax.random.split(key)
    for subset in subsets:
        z_train = _encode_all(encode, train[0], subset, k_train, batch_size)
        z_test = _encode_all(encode, test[0], subset, k_test, batch_size)
        clf = LogisticRegression(max_iter=2000).fit(z_train, np.asarray(train[1]))
        rows.append((subset_name(subset, letters), clf.score(z_test, np.asarray(test[1]))))
    frame = pd.DataFrame(rows, columns=["inputs", "value"])
    return frame.assign(metric="latent_accuracy")[["inputs", "metric", "value"]]


@nnx.jit
def _posterior_sample(model, xs, mask, key):
    return model.encode(model.embed(xs, mask), mask).sample(key)


@nnx.jit
def _conditional_means(model, xs, mask, key):
    z = model.encode(model.embed(xs, mask), mask).sample(key)
    return [dec.mean(model.decoder_latents(z, s)) for s, dec in enumerate(model.decoders)]


def _as_jax(xs, mask):
    return [jnp.asarray(x) for x in xs], jnp.asarray(mask)


def vae_encoder(model) -> Callable:
    """``encode(xs, mask, key)``: one sample z ~ q(z | x_S) per example of a multi-modal VAE."""
    return lambda xs, mask, key: _posterior_sample(model, *_as_jax(xs, mask), key)


def vae_generator(model) -> Callable:
    """``generate(xs, mask, key)``: every decoder's mean given one z ~ q(z | x_S)."""
    return lambda xs, mask, key: _conditional_means(model, *_as_jax(xs, mask), key)
