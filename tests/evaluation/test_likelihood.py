"""Exact linear-Gaussian log-likelihood, MLE and posterior (App. M), and the importance-sampled
log-likelihood (App. L) against them, in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import logsumexp
from scipy import stats

from mmvae_nb.data.linear import sample_linear_gaussian
from mmvae_nb.evaluation.likelihood import (
    importance_sampled_log_likelihood,
    linear_gaussian_log_likelihood,
    linear_gaussian_mle,
    linear_gaussian_posterior,
)
from mmvae_nb.teaching.exact_model import SIGMA, ExactPoEModel


@pytest.fixture(scope="module")
def data():
    return sample_linear_gaussian(3, 400, 4, (6, 5, 7), noise_std=0.8)


def test_log_likelihood_matches_direct_multivariate_normal(data):
    w, b = np.concatenate(data.W), np.concatenate(data.b)
    cov = w @ w.T + 0.8**2 * np.eye(len(b))
    expected = stats.multivariate_normal(b, cov).logpdf(np.concatenate(data.xs, axis=1))
    np.testing.assert_allclose(
        linear_gaussian_log_likelihood(data.xs, data.W, data.b, 0.8), expected, rtol=1e-10
    )
    # a subset S = {0, 2} is the marginal of the stacked modalities
    cov_s = np.concatenate([data.W[0], data.W[2]]) @ np.concatenate([data.W[0], data.W[2]]).T
    expected_s = stats.multivariate_normal(
        np.concatenate([data.b[0], data.b[2]]), cov_s + 0.64 * np.eye(13)
    ).logpdf(np.concatenate([data.xs[0], data.xs[2]], axis=1))
    np.testing.assert_allclose(
        linear_gaussian_log_likelihood(
            [data.xs[0], data.xs[2]], [data.W[0], data.W[2]], [data.b[0], data.b[2]], 0.8
        ),
        expected_s,
        rtol=1e-10,
    )


def test_mle_beats_the_true_parameters_and_is_a_local_maximum(data):
    W, b, sigma = linear_gaussian_mle(data.xs, 4)
    ll_mle = linear_gaussian_log_likelihood(data.xs, W, b, sigma).sum()
    ll_true = linear_gaussian_log_likelihood(data.xs, data.W, data.b, data.noise_std).sum()
    assert ll_mle >= ll_true
    rng = np.random.default_rng(0)
    for _ in range(5):  # any small perturbation lowers the likelihood
        dW = [w + 1e-2 * rng.normal(size=w.shape) for w in W]
        assert linear_gaussian_log_likelihood(data.xs, dW, b, sigma).sum() < ll_mle
    for factor in (0.98, 1.02):
        assert linear_gaussian_log_likelihood(data.xs, W, b, sigma * factor).sum() < ll_mle
    assert abs(sigma - 0.8) < 0.1


def test_posterior_satisfies_bayes_rule(data):
    """log p(x) = log p(x|z) + log p(z) - log p(z|x) for any z."""
    xs = [x[:3] for x in data.xs]
    mean, cov = linear_gaussian_posterior(xs, data.W, data.b, 0.8)
    log_px = linear_gaussian_log_likelihood(xs, data.W, data.b, 0.8)
    rng = np.random.default_rng(1)
    for z in rng.normal(size=(4, 4)):
        log_lik = sum(
            stats.multivariate_normal(w @ z + bb, 0.64 * np.eye(len(bb))).logpdf(x)
            for w, bb, x in zip(data.W, data.b, xs)
        )
        log_post = np.array([stats.multivariate_normal(m, cov).logpdf(z) for m in mean])
        np.testing.assert_allclose(
            log_lik + stats.multivariate_normal(np.zeros(4), np.eye(4)).logpdf(z) - log_post,
            log_px,
            rtol=1e-9,
        )


def test_dimension_mismatch_is_a_clear_error(data):
    with pytest.raises(ValueError, match="dimension mismatch"):
        linear_gaussian_log_likelihood(data.xs, data.W[:2], data.b, 1.0)
    with pytest.raises(ValueError, match="latent_dim"):
        linear_gaussian_mle(data.xs, 0)


# ---------------------------------------------------------------- importance sampling (App. L)
@pytest.fixture(scope="module")
def linear():
    return sample_linear_gaussian(1, 8, 3, (4, 5), noise_std=SIGMA)


def _is(model, xs, mask, key, particles):
    return importance_sampled_log_likelihood(model, xs, mask, key, particles, min(16, particles))


def test_importance_sampling_is_exact_with_the_exact_posterior(linear, key):
    """w_k = p(x, z_k) / p(z_k | x) = p(x) for every particle: any K gives log p(x_S)."""
    model, xs = ExactPoEModel(linear), [jnp.asarray(x) for x in linear.xs]
    for mask, which in (([True, True], [0, 1]), ([False, True], [1])):
        subset = jnp.tile(jnp.asarray(mask), (8, 1))
        exact = linear_gaussian_log_likelihood(
            [linear.xs[s] for s in which],
            [linear.W[s] for s in which],
            [linear.b[s] for s in which],
            SIGMA,
        )
        np.testing.assert_allclose(_is(model, xs, subset, key, 4), exact, rtol=1e-10)


def test_importance_sampling_converges_from_below_with_more_particles(linear):
    """With a wrong proposal the estimate is biased low (Jensen) and the bias shrinks with K;
    averaged over repeats it stays within Monte-Carlo error of log p(x) for many particles."""
    model = ExactPoEModel(linear, shift=0.3, log_scale=0.4)
    xs, subset = [jnp.asarray(x) for x in linear.xs], jnp.ones((8, 2), bool)
    exact = linear_gaussian_log_likelihood(linear.xs, linear.W, linear.b, SIGMA)
    keys = jax.random.split(jax.random.key(3), 32)
    means = {}
    for k in (1, 8, 128):
        repeat = jax.jit(jax.vmap(lambda kk, k=k: _is(model, xs, subset, kk, k)))
        runs = np.asarray(repeat(keys))  # (repeats, B)
        means[k] = runs.mean(axis=0)
        error = runs.std(axis=0) / np.sqrt(len(keys))
        assert np.all(means[k] <= exact + 4 * error + 1e-9)
    assert means[1].mean() < means[8].mean() < means[128].mean()
    np.testing.assert_allclose(means[128], exact, atol=0.1)


def test_importance_sampling_of_an_empty_subset_is_zero(linear, key):
    model, xs = ExactPoEModel(linear), [jnp.asarray(x) for x in linear.xs]
    np.testing.assert_allclose(_is(model, xs, jnp.zeros((8, 2), bool), key, 4), 0.0, atol=1e-12)


def test_importance_sampling_matches_quadrature_for_laplace_and_categorical_decoders():
    """A tiny non-linear model (1-D latent; a Laplace image-like modality with learned scales
    and a categorical text-like one, as in MNIST-SVHN-Text): with a proposal close to the
    prior and many particles the IS estimate matches brute-force quadrature of
    log p(x_S) = log int p(z) prod_s p(x_s | z) dz."""
    from flax import nnx

    from mmvae_nb.models.builders import mlp_vae

    model = mlp_vae(
        [3, 4],
        1,
        "PoE",
        rngs=nnx.Rngs(2),
        decoder="mlp",
        likelihoods=["laplace", "categorical"],
        noise_std=None,
        encoder_hidden=(8,),
    )
    for encoder in model.encoders:  # broad experts: q(z | x_S) ~ the prior, a safe proposal
        last = encoder.layers[-1]
        last.kernel[...] = jnp.zeros_like(last.kernel[...])
        last.bias[...] = jnp.array([0.0, 3.0], last.bias.dtype)  # (mean, log-std) per expert
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.normal(size=(5, 3))), jnp.asarray(np.eye(4)[rng.integers(0, 4, 5)])]

    @nnx.jit  # one program for the three subsets (eager, every primitive compiles on its own)
    def quadrature_and_estimate(model, xs, subset):
        grid = jnp.linspace(-10.0, 10.0, 40_001)
        z = jnp.broadcast_to(grid[None, :, None], (5, grid.size, 1))
        log_joint = model.log_likelihood(xs, z, subset) + model.prior_log_prob(z)
        exact = logsumexp(log_joint, axis=1) + jnp.log(grid[1] - grid[0])
        estimate = importance_sampled_log_likelihood(
            model, xs, subset, jax.random.key(0), 200_000, 10_000
        )
        return exact, estimate

    for mask in ([True, True], [True, False], [False, True]):
        subset = jnp.tile(jnp.asarray(mask), (5, 1))
        exact, estimate = quadrature_and_estimate(model, xs, subset)
        np.testing.assert_allclose(estimate, exact, atol=0.02)


def test_subset_log_likelihoods_average_the_per_example_estimates(linear, key):
    """Batched evaluation of several subsets equals the per-example estimator, averaged."""
    from mmvae_nb.evaluation.likelihood import subset_log_likelihoods

    model, xs = ExactPoEModel(linear), [jnp.asarray(x) for x in linear.xs]
    table = subset_log_likelihoods(
        model, xs, [(0, 1), (1,)], key, num_particles=4, particles_per_chunk=4, batch_size=3
    )
    assert list(table.target) == ["M+S", "S"] and set(table.metric) == {"loglik"}
    exact_joint = linear_gaussian_log_likelihood(linear.xs, linear.W, linear.b, SIGMA)
    exact_second = linear_gaussian_log_likelihood(
        [linear.xs[1]], [linear.W[1]], [linear.b[1]], SIGMA
    )
    np.testing.assert_allclose(table.value, [exact_joint.mean(), exact_second.mean()], rtol=1e-10)


def test_log_likelihood_restricted_to_the_subsets_decoders_is_the_masked_sum():
    """``modalities`` skips the decoders a mask zeroes: the same value, bit for bit, on a
    multi-modal VAE with Laplace and categorical decoders, for every subset."""
    from flax import nnx

    from mmvae_nb.models.builders import mlp_vae

    model = mlp_vae(
        [3, 4, 2],
        2,
        "SumPooling",
        rngs=nnx.Rngs(0),
        decoder="mlp",
        likelihoods=["laplace", "categorical", "gaussian"],
        noise_std=None,
        encoder_hidden=(8,),
    )
    rng = np.random.default_rng(1)
    xs = [
        jnp.asarray(rng.normal(size=(6, 3))),
        jnp.asarray(np.eye(4)[rng.integers(0, 4, 6)]),
        jnp.asarray(rng.normal(size=(6, 2))),
    ]
    z = jnp.asarray(rng.normal(size=(6, 5, 2)))
    for subset in [(0,), (1,), (2,), (0, 2), (0, 1, 2)]:
        mask = jnp.zeros((6, 3), bool).at[:, list(subset)].set(True)
        full = model.log_likelihood(xs, z, mask)
        assert (model.log_likelihood(xs, z, mask, modalities=subset) == full).all()
        # what the restriction leaves out is what the mask zeroes, not a term of S
        dropped = model.log_likelihood(xs, z, mask, modalities=subset[1:])
        assert not np.allclose(dropped, full)
