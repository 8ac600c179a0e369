"""The bounds against exact log-likelihoods (float64): tightness, ordering and STL gradients.

A linear-Gaussian model with orthonormal loadings has exact posteriors p(z | x_S) that a PoE of
Gaussian experts N(W_s^T (x_s - b_s), sigma^2 I) represents exactly for *every* subset S; the
test double below is that model, with an optional error in its encoder.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mmvae_nb.data.linear import sample_linear_gaussian
from mmvae_nb.evaluation.likelihood import linear_gaussian_log_likelihood
from mmvae_nb.objectives.bounds import marginal_term, masked_bound, mixture_bound
from mmvae_nb.objectives.subsets import (
    SUBSET_SAMPLERS,
    get_subset_sampler,
    hierarchical_subset_mask,
)
from mmvae_nb.teaching.exact_model import SIGMA, ExactPoEModel
from mmvae_nb.training.trainer import TrainConfig


@pytest.fixture(scope="module")
def data():
    return sample_linear_gaussian(0, 6, 3, (4, 5, 6), noise_std=SIGMA)


def _exact(data):
    return linear_gaussian_log_likelihood(data.xs, data.W, data.b, SIGMA)


@pytest.mark.parametrize("subset_sampler", list(SUBSET_SAMPLERS))
def test_our_bound_is_exact_with_the_exact_posterior(data, subset_sampler):
    """L_S + L_\\S = log p(x_S) + log p(x_\\S | x_S) = log p(x) for every S and every sample,
    hence under any rho."""
    model, xs = ExactPoEModel(data), [jnp.asarray(x) for x in data.xs]
    present = jnp.ones((6, 3), bool)
    for k in jax.random.split(jax.random.key(0), 10):
        values = masked_bound(model, xs, present, k, subset_sampler=subset_sampler)
        np.testing.assert_allclose(values, _exact(data), rtol=1e-10)


def test_mixture_bound_is_strictly_lower_with_the_exact_posterior(data):
    model, xs = ExactPoEModel(data), [jnp.asarray(x) for x in data.xs]
    present = jnp.ones((6, 3), bool)
    draws = jax.vmap(lambda k: mixture_bound(model, xs, present, k))(
        jax.random.split(jax.random.key(1), 4000)
    )
    gap = _exact(data) - np.asarray(draws).mean(axis=0)
    assert np.all(gap > 0.5)  # Jensen: E_{p(z|x_S)} log p(x_\\S|z) < log p(x_\\S|x_S)
    # ... and it is exact when S = M (no modality left to predict)
    full = jax.vmap(lambda k: mixture_bound(model, xs, present, k))
    subsets = jax.vmap(lambda k: hierarchical_subset_mask(jax.random.split(k)[0], present))(
        jax.random.split(jax.random.key(1), 4000)
    )
    all_in = np.asarray(subsets).all(axis=-1)
    np.testing.assert_allclose(
        np.asarray(full(jax.random.split(jax.random.key(1), 4000)))[all_in],
        np.broadcast_to(_exact(data), all_in.shape)[all_in],
        rtol=1e-10,
    )


class WrongEncoderModel(ExactPoEModel):
    """q(z | x_S) is the exact posterior for proper subsets S when ``exact_subsets``; the
    full-set encoder q(z | x) is wrong. With ``exact_subsets=False`` the proper-subset encoders
    are moved a fraction ``tilt`` towards q(z | x) instead (and q(z | x) is exact)."""

    def __init__(self, data, exact_subsets=True, tilt=0.5):
        super().__init__(data)
        self.exact_subsets, self.tilt = exact_subsets, tilt

    def encode(self, tokens, mask):
        q = super().encode(tokens, mask)
        full = super().encode(tokens, jnp.ones_like(mask))
        is_full = jnp.all(mask, axis=-1)[:, None, None]
        if self.exact_subsets:
            return q._replace(
                mean=jnp.where(is_full, q.mean + 0.4, q.mean),
                var=jnp.where(is_full, q.var * 1.5, q.var),
            )
        tilted = (1 - self.tilt) * q.mean + self.tilt * full.mean
        return q._replace(mean=jnp.where(is_full, q.mean, tilted))


def _mean_and_stderr(bound, model, data, seed=2, draws=4000):
    xs, present = [jnp.asarray(x) for x in data.xs], jnp.ones((6, 3), bool)
    values = np.asarray(
        jax.vmap(lambda k: bound(model, xs, present, k))(
            jax.random.split(jax.random.key(seed), draws)
        )
    )
    return values.mean(axis=0), values.std(axis=0) / np.sqrt(draws)


def test_mixture_bound_is_below_the_log_likelihood_for_any_encoder(data):
    for model in (ExactPoEModel(data, shift=0.4, log_scale=0.3), WrongEncoderModel(data, False)):
        mean, stderr = _mean_and_stderr(mixture_bound, model, data)
        assert np.all(mean + 3 * stderr < _exact(data))


def test_our_bound_is_below_the_log_likelihood_when_subset_encoders_are_exact(data):
    """L_S + L_\\S = log p(x) - KL(q(z|x) || p(z|x)) when q(z|x_S) = p(z|x_S): any q(z|x)."""
    for model in (ExactPoEModel(data, shift=0.4, log_scale=0.3), WrongEncoderModel(data, True)):
        mean, stderr = _mean_and_stderr(masked_bound, model, data)
        assert np.all(mean + 3 * stderr < _exact(data))


def test_our_bound_can_exceed_the_log_likelihood_with_inconsistent_subset_encoders(data):
    """A finding, not a feature: per example,
        L_S + L_\\S = log p(x) - KL(q_S || p_S) - KL(q_M || p_M) + E_{q_M}[log q_S - log p_S],
    (q_S = q(z|x_S), p_S = p(z|x_S)), and the last term can exceed the KLs. With q(z|x) exact and
    q(z|x_S) moved towards it, the estimate is *above* log p(x). So the bound of eq. (3)-(5) is a
    lower bound on log p(x) when the subset encoders are exact posteriors (or on average under
    the Bayes-consistency condition behind Proposition 2), not for arbitrary encoders."""
    mean, stderr = _mean_and_stderr(masked_bound, WrongEncoderModel(data, False), data)
    assert np.all(mean - 3 * stderr > _exact(data))


def test_absent_modality_changes_nothing(data):
    model = ExactPoEModel(data)
    xs = [jnp.asarray(x) for x in data.xs]
    present = jnp.ones((6, 3), bool).at[:, 1].set(False)
    poisoned = [xs[0], jnp.full_like(xs[1], jnp.nan), xs[2]]
    k = jax.random.key(3)
    np.testing.assert_allclose(
        masked_bound(model, poisoned, present, k), masked_bound(model, xs, present, k)
    )
    # and the bound is then exact for log p(x_0, x_2)
    exact = linear_gaussian_log_likelihood(
        [data.xs[0], data.xs[2]], [data.W[0], data.W[2]], [data.b[0], data.b[2]], SIGMA
    )
    np.testing.assert_allclose(masked_bound(model, poisoned, present, k), exact, rtol=1e-10)


def test_subset_sampler_follows_the_hierarchical_rho():
    present = jnp.ones((200_000, 4), bool)
    s = np.asarray(hierarchical_subset_mask(jax.random.key(4), present))
    sizes = np.bincount(s.sum(axis=1), minlength=5) / len(s)
    np.testing.assert_allclose(sizes, 0.2, atol=0.005)  # |S| ~ U{0, ..., M}
    np.testing.assert_allclose(s.mean(axis=0), 0.5, atol=0.005)
    assert not np.any(
        np.asarray(hierarchical_subset_mask(jax.random.key(5), present.at[:, 2].set(False)))[:, 2]
    )


def test_the_official_codes_rho_is_bernoulli_one_half_per_modality():
    """|S| ~ Binomial(M, 1/2) and the modalities are independent (the hierarchical rho makes
    them positively correlated: P(s, t in S) = E[gamma^2] = 1/3, not 1/4)."""
    present = jnp.ones((200_000, 4), bool)
    sampler = get_subset_sampler("independent")
    s = np.asarray(sampler(jax.random.key(4), present))
    sizes = np.bincount(s.sum(axis=1), minlength=5) / len(s)
    np.testing.assert_allclose(sizes, np.array([1, 4, 6, 4, 1]) / 16, atol=0.005)
    np.testing.assert_allclose(np.mean(s[:, 0] & s[:, 1]), 0.25, atol=0.005)
    h = np.asarray(hierarchical_subset_mask(jax.random.key(4), present))
    np.testing.assert_allclose(np.mean(h[:, 0] & h[:, 1]), 1 / 3, atol=0.005)
    assert not np.any(np.asarray(sampler(jax.random.key(5), present.at[:, 2].set(False)))[:, 2])


def test_an_unknown_subset_sampler_is_refused_before_training():
    with pytest.raises(ValueError, match="unknown subset sampler 'official'"):
        TrainConfig(subset_sampler="official")
    assert TrainConfig().subset_sampler == "hierarchical"


def test_stl_gradient_vanishes_at_the_exact_posterior(data):
    """Sticking the landing: at the exact posterior the per-sample gradient of L_S w.r.t. the
    encoder is exactly 0 for every S (the score term, zero in expectation, is dropped)."""
    xs, present = [jnp.asarray(x) for x in data.xs], jnp.ones((6, 3), bool)

    def marginal(params, k):
        model = ExactPoEModel(data, *params)
        subset = hierarchical_subset_mask(k, present)
        q_s = model.encode(model.embed(xs, present), subset)
        return jnp.sum(marginal_term(model, xs, q_s, subset, jax.random.split(k)[1], 1.0))

    gradient = jax.jit(jax.grad(marginal))  # one program for the five keys
    for k in jax.random.split(jax.random.key(6), 5):
        np.testing.assert_allclose(gradient((0.0, 0.0), k), 0.0, atol=1e-9)


def test_stl_gradient_is_unbiased_for_the_elbo():
    """One modality: the bound is the ELBO for every S; its STL gradient w.r.t. the encoder's
    (mean shift, log-scale) matches the gradient of the closed-form ELBO."""
    data = sample_linear_gaussian(1, 1, 1, (1,), noise_std=SIGMA)
    xs, present = [jnp.asarray(x) for x in data.xs], jnp.ones((1, 1), bool)
    w, b, x = data.W[0][0, 0], data.b[0][0], data.xs[0][0, 0]

    def estimate(params, k):
        return masked_bound(ExactPoEModel(data, *params), xs, present, k)[0]

    params = (0.3, 0.2)
    grads = jax.jit(jax.vmap(jax.grad(estimate), in_axes=(None, 0)))(
        params, jax.random.split(jax.random.key(7), 100_000)
    )
    mc = np.array([np.mean(g) for g in grads])

    def closed_form(params):
        shift, log_scale = params
        # the PoE of N(0,1) and the expert N(w (x-b) + shift, SIGMA^2 e^{2 log_scale}) (w = +-1)
        var_e = SIGMA**2 * jnp.exp(2 * log_scale)
        v = 1 / (1 + 1 / var_e)
        m = v * (w * (x - b) + shift) / var_e
        expected_loglik = -0.5 * jnp.log(2 * jnp.pi * SIGMA**2) - (
            (x - w * m - b) ** 2 + w**2 * v
        ) / (2 * SIGMA**2)
        kl = 0.5 * (v + m**2 - 1 - jnp.log(v))
        return expected_loglik - kl

    exact = np.array(jax.grad(closed_form)(params))
    np.testing.assert_allclose(mc, exact, rtol=0.03, atol=2e-3)


@pytest.mark.parametrize("bound", [masked_bound, mixture_bound])
def test_likelihood_weights_enter_the_bounds_as_tempered_likelihoods(bound):
    """w log N(x; mu, s^2) = log N(x; mu, s^2 / w) + D (log(2 pi s^2 / w) - w log(2 pi s^2)) / 2,
    so with a likelihood weight w on a Gaussian modality either bound equals the unweighted
    bound with noise s / sqrt(w), plus that constant for every example where the modality is
    present (both bounds use each present modality's likelihood exactly once)."""
    from flax import nnx

    from mmvae_nb.evaluation.likelihood import importance_sampled_log_likelihood
    from mmvae_nb.models.builders import mlp_vae

    w, sigma = 2.5, np.array([0.5, 0.8])

    def model(noise, weights=None):
        return mlp_vae(
            [3, 4], 2, "SumPooling", rngs=nnx.Rngs(0), noise_std=noise, likelihood_weights=weights
        )

    weighted = model(sigma, [w, 1.0])
    tempered = model(sigma / np.sqrt([w, 1.0]))
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.normal(size=(6, d))) for d in (3, 4)]
    present = jnp.asarray(rng.random((6, 2)) < 0.7)
    key = jax.random.key(1)
    log_2pi_var = np.log(2 * np.pi * sigma[0] ** 2)
    constant = 3 * 0.5 * (log_2pi_var - np.log(w) - w * log_2pi_var)
    np.testing.assert_allclose(
        bound(weighted, xs, present, key),
        bound(tempered, xs, present, key) + constant * np.asarray(present[:, 0]),
        rtol=1e-5,
    )
    # the weights never enter log-likelihood estimates
    plain = model(sigma)
    np.testing.assert_array_equal(
        importance_sampled_log_likelihood(weighted, xs, present, key, 8, 8),
        importance_sampled_log_likelihood(plain, xs, present, key, 8, 8),
    )


def test_bad_likelihood_weights_are_a_clear_error():
    from flax import nnx

    from mmvae_nb.models.builders import mlp_vae

    for weights in ([1.0], [1.0, 0.0]):
        with pytest.raises(ValueError, match="positive likelihood_weights"):
            mlp_vae([3, 4], 2, "PoE", rngs=nnx.Rngs(0), likelihood_weights=weights)
