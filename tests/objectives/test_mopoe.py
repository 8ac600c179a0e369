"""MoPoE (Sutter et al. 2021): the mixture of subset products and its objective (float64)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mmvae_nb.data.linear import sample_linear_gaussian
from mmvae_nb.evaluation.likelihood import linear_gaussian_log_likelihood
from mmvae_nb.models.aggregators import make_aggregator
from mmvae_nb.models.aggregators.shared import (
    mixture_of_products,
    nonempty_subsets,
    product_of_experts,
)
from mmvae_nb.objectives.bounds import get_bound
from mmvae_nb.objectives.mopoe import gaussian_kl_to_standard, mopoe_bound
from mmvae_nb.teaching.exact_model import SIGMA, ExactPoEModel


def test_nonempty_subsets_are_the_power_set_without_the_empty_set():
    subsets = np.asarray(nonempty_subsets(4))
    assert subsets.shape == (15, 4)
    assert {tuple(r) for r in subsets} == set(itertools.product([False, True], repeat=4)) - {
        (False,) * 4
    }


def test_components_are_the_subset_products_with_uniform_weights():
    rng = np.random.default_rng(0)
    mean, var = rng.normal(size=(3, 3, 2)), rng.uniform(0.2, 2.0, size=(3, 3, 2))
    mask = np.array([[True, True, True], [True, False, True], [False, False, False]])
    q = mixture_of_products(jnp.asarray(mean), jnp.asarray(var), jnp.asarray(mask))
    subsets = np.asarray(nonempty_subsets(3))
    for b in range(3):
        inside = [k for k, a in enumerate(subsets) if not (a & ~mask[b]).any()]
        weights = np.exp(np.asarray(q.log_weights[b]))
        if not inside:  # S empty: the prior
            assert weights[0] == 1 and weights[1:].sum() == 0
            np.testing.assert_array_equal(q.mean[b, 0], 0.0)
            np.testing.assert_array_equal(q.var[b, 0], 1.0)
            continue
        np.testing.assert_allclose(weights[inside], 1 / len(inside))
        assert weights.sum() == pytest.approx(1.0)
        for k in inside:
            mu, v = product_of_experts(mean[b : b + 1], var[b : b + 1], subsets[k][None])
            np.testing.assert_allclose(q.mean[b, k], mu[0], rtol=1e-12)
            np.testing.assert_allclose(q.var[b, k], v[0], rtol=1e-12)


def test_mopoe_density_is_permutation_invariant():
    rng = np.random.default_rng(1)
    h = jnp.asarray(rng.normal(size=(4, 3, 4)))
    mask = jnp.asarray(rng.uniform(size=(4, 3)) < 0.7)
    agg = make_aggregator("MoPoE", 2, 4, rngs=None)
    z = jnp.asarray(rng.normal(size=(4, 2)))
    perm = np.array([2, 0, 1])
    np.testing.assert_allclose(
        agg(h, mask).log_prob(z), agg(h[:, perm], mask[:, perm]).log_prob(z), rtol=1e-12
    )


class ExactMoPoEModel(ExactPoEModel):
    """The linear-Gaussian model whose MoPoE components are the exact p(z | x_A)."""

    def encode(self, tokens, mask):
        return mixture_of_products(*tokens, mask)


def _gaussian_kl(m0, v0, m1, v1):
    return 0.5 * np.sum(v0 / v1 + (m1 - m0) ** 2 / v1 - 1 + np.log(v1 / v0), axis=-1)


def test_mopoe_objective_is_the_average_subset_elbo_below_log_likelihood():
    """With exact subset posteriors, E[L^MoPoE] = log p(X) - mean_A KL(p(z|x_A) || p(z|X)):
    checked by Monte Carlo (4000 draws) against that closed form; it is below log p(X)."""
    data = sample_linear_gaussian(0, 6, 3, (4, 5, 6), noise_std=SIGMA)
    model, xs = ExactMoPoEModel(data), [jnp.asarray(x) for x in data.xs]
    present = jnp.ones((6, 3), bool)
    draws = np.asarray(
        jax.vmap(lambda k: mopoe_bound(model, xs, present, k))(
            jax.random.split(jax.random.key(0), 4000)
        )
    )
    exact = linear_gaussian_log_likelihood(data.xs, data.W, data.b, SIGMA)
    q = model.encode(model.embed(xs, present), present)
    full = 6  # binary order: the last component is {0, 1, 2}
    kls = _gaussian_kl(
        np.asarray(q.mean),
        np.asarray(q.var),
        np.asarray(q.mean[:, full : full + 1]),
        np.asarray(q.var[:, full : full + 1]),
    )
    expected = exact - kls.mean(axis=1)
    stderr = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - expected) < 4 * stderr)
    assert np.all(expected < exact - 0.1)


def test_closed_form_kl_to_the_standard_normal():
    rng = np.random.default_rng(2)
    mean, var = rng.normal(size=(5, 3)), rng.uniform(0.1, 3.0, size=(5, 3))
    np.testing.assert_allclose(
        gaussian_kl_to_standard(mean, var), _gaussian_kl(mean, var, 0.0, 1.0), rtol=1e-12
    )


def test_mopoe_is_an_objective_by_name_but_not_a_bound_every_section_trains():
    from mmvae_nb.objectives.bounds import BOUND_NAMES

    assert get_bound("mopoe") is mopoe_bound
    assert "mopoe" not in BOUND_NAMES
