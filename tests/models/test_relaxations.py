"""Straight-through relaxations and the relational priors (float64): NeuralSort against a hard
sort, Gumbel draws against their distributions, hypergeometric pmfs against scipy."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from mmvae_nb.models.hypergeometric import (
    hypergeometric_marginal_log_pmf,
    multivariate_hypergeometric_log_pmf,
    uniform_selection_place_log_probs,
)
from mmvae_nb.models.relaxations import (
    gumbel_softmax_st,
    gumbel_top_k_st,
    neural_sort,
    plackett_luce_place_log_probs,
)


def test_neural_sort_tends_to_the_hard_sort_at_low_temperature():
    scores = jnp.asarray(np.random.default_rng(0).normal(size=(5, 7)))
    hard = jax.nn.one_hot(jnp.argsort(-scores, axis=-1), 7)
    np.testing.assert_allclose(neural_sort(scores, 1e-4), hard, atol=1e-8)
    soft = neural_sort(scores, 1.0)  # unimodal row-stochastic at any temperature
    np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-12)
    assert np.array_equal(np.argmax(soft, -1), np.argsort(-np.asarray(scores), -1))


def test_gumbel_softmax_draws_follow_the_categorical_and_pass_relaxed_gradients():
    logits = jnp.log(jnp.array([0.5, 0.3, 0.2]))
    keys = jax.random.split(jax.random.key(0), 20_000)
    hard, index = jax.vmap(lambda k: gumbel_softmax_st(k, logits, 0.5))(keys)
    assert set(np.unique(np.asarray(hard))) == {0.0, 1.0}
    np.testing.assert_allclose(np.bincount(index) / len(keys), [0.5, 0.3, 0.2], atol=0.012)
    # the gradient is that of softmax((logits + g) / tau) for the same noise g
    key, weights = jax.random.key(3), jnp.array([1.0, -2.0, 0.5])
    noise = jax.random.gumbel(key, logits.shape, logits.dtype)
    grad_st = jax.grad(lambda lg: gumbel_softmax_st(key, lg, 0.5)[0] @ weights)(logits)
    grad_soft = jax.grad(lambda lg: jax.nn.softmax((lg + noise) / 0.5) @ weights)(logits)
    np.testing.assert_allclose(grad_st, grad_soft, rtol=1e-10)


def test_plackett_luce_probabilities_sum_to_one_and_match_gumbel_top_k():
    scores = jnp.array([1.0, 0.2, -0.5, 0.7])
    keep = jnp.array([True, True, False, False])
    total, probs = 0.0, {}
    for first, second in itertools.permutations(range(4), 2):
        rest = [i for i in range(4) if i not in (first, second)]
        order = jnp.array([first, second, *rest])
        places = plackett_luce_place_log_probs(scores, order)
        probs[(first, second)] = float(jnp.exp(jnp.sum(jnp.where(keep, places, 0.0))))
        total += probs[(first, second)]
    assert total == pytest.approx(1.0, rel=1e-12)
    keys = jax.random.split(jax.random.key(1), 40_000)
    _, orders = jax.vmap(lambda k: gumbel_top_k_st(k, scores, 0.1))(keys)
    pairs = [tuple(o) for o in np.asarray(orders[:, :2])]
    for pair in [(0, 3), (3, 0), (1, 2)]:
        assert pairs.count(pair) / len(pairs) == pytest.approx(probs[pair], abs=0.01)


def test_gumbel_top_k_is_a_hard_permutation_in_the_forward_pass():
    scores = jnp.asarray(np.random.default_rng(2).normal(size=(3, 6)))
    perm, order = gumbel_top_k_st(jax.random.key(0), scores, 0.3)
    np.testing.assert_array_equal(perm, jax.nn.one_hot(order, 6))
    grad = jax.grad(
        lambda s: jnp.sum(gumbel_top_k_st(jax.random.key(0), s, 0.3)[0][..., 0, :] * s)
    )(scores)
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_uniform_selection_is_plackett_luce_with_equal_scores():
    """Place by place, and in total (d - n)! / d! for the first n places (Definition 2)."""
    places = uniform_selection_place_log_probs(6)
    np.testing.assert_allclose(
        plackett_luce_place_log_probs(jnp.zeros(6), jnp.arange(6)), places, rtol=1e-12
    )
    for n in range(7):
        total = float(jnp.sum(places[:n]))
        assert total == pytest.approx(-math.log(math.factorial(6) / math.factorial(6 - n)))


def test_multivariate_hypergeometric_matches_scipy():
    sizes = np.array([3, 4, 2, 5])
    draws = 6
    support = [c for c in itertools.product(*(range(s + 1) for s in sizes)) if sum(c) == draws]
    ours = np.exp(multivariate_hypergeometric_log_pmf(jnp.asarray(support), sizes))
    theirs = stats.multivariate_hypergeom(m=sizes, n=draws).pmf(np.asarray(support))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert ours.sum() == pytest.approx(1.0, rel=1e-12)
    assert multivariate_hypergeometric_log_pmf(jnp.array([4, 0, 2, 0]), sizes) == -np.inf


def test_hypergeometric_marginal_matches_scipy():
    """One subspace of size 8 among 16 subspaces of size 8 (M = 5, D = 8), 8 draws."""
    ours = np.exp(hypergeometric_marginal_log_pmf(8, 128, 8))
    theirs = stats.hypergeom(M=128, n=8, N=8).pmf(np.arange(9))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
