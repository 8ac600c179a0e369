"""The Gaussian-mixture prior and its optimal cluster factor (App. J, Remark 26)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from scipy import stats

from mmvae_nb.models.distributions import single_gaussian
from mmvae_nb.models.priors import GaussianMixturePrior, StandardNormalPrior, make_prior

rng = np.random.default_rng(3)


@pytest.fixture
def prior():
    p = GaussianMixturePrior(2, 4, rngs=nnx.Rngs(0))
    p.logits.set_value(jnp.asarray(rng.normal(size=4)))
    p.log_scales.set_value(jnp.asarray(rng.normal(scale=0.3, size=(4, 2))))
    return p


def test_log_prob_is_the_mixture_marginal(prior):
    z = rng.normal(size=(6, 2))
    w = np.asarray(jax.nn.softmax(prior.logits[...]))
    means = np.asarray(prior.means[...])
    scales = 1e-3 + np.exp(np.asarray(prior.log_scales[...]))
    direct = np.log(
        sum(
            w[c] * stats.multivariate_normal(means[c], np.diag(scales[c] ** 2)).pdf(z)
            for c in range(4)
        )
    )
    np.testing.assert_allclose(prior.log_prob(jnp.asarray(z)), direct, rtol=1e-10)
    np.testing.assert_allclose(prior.as_mixture((6,)).log_prob(jnp.asarray(z)), direct, rtol=1e-10)


@pytest.mark.parametrize("beta", [1.0, 0.3])
def test_optimal_cluster_factor_is_the_responsibility(prior, beta):
    """f_c(q) = sum_c q(c)[-beta log q(c) + beta log p(c, z)] (eq. 16) is maximised by
    q* = p(c | z), where it equals beta log p(z); any other q(c) gives less."""
    z = jnp.asarray(rng.normal(size=(5, 2)))
    q_star = prior.responsibilities(z)
    joint = np.asarray(prior.joint_log_prob(z))
    np.testing.assert_allclose(
        q_star, np.exp(joint - jax.scipy.special.logsumexp(joint, -1, keepdims=True)), rtol=1e-12
    )
    best = prior.cluster_objective(z, q_star, beta)
    np.testing.assert_allclose(best, beta * prior.log_prob(z), rtol=1e-10)
    for _ in range(20):
        other = jax.nn.softmax(jnp.asarray(rng.normal(size=(5, 4)) * 2))
        assert np.all(prior.cluster_objective(z, other, beta) < best)


def test_empty_subsets_get_the_mixture_prior(prior):
    q = single_gaussian(jnp.ones((3, 2)), jnp.full((3, 2), 0.5))
    mask = jnp.array([[True, False], [False, False], [False, True]])
    replaced = prior.replace_empty(q, mask)
    z = jnp.asarray(rng.normal(size=(3, 2)))
    np.testing.assert_allclose(replaced.log_prob(z)[1], prior.log_prob(z[1]), rtol=1e-10)
    np.testing.assert_allclose(
        replaced.log_prob(z)[jnp.array([0, 2])], q.log_prob(z)[jnp.array([0, 2])], rtol=1e-10
    )
    standard = StandardNormalPrior(2)
    assert standard.replace_empty(q, mask) is q


def test_unknown_prior_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown prior 'vamp'"):
        make_prior("vamp", 2, rngs=nnx.Rngs(0))
