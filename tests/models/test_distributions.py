"""Log-densities and KLs against scipy / direct evaluation (float64)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy import stats

from mmvae_nb.models.distributions import (
    GaussianMixture,
    categorical_log_prob,
    gaussian_kl,
    gaussian_log_prob,
    kl_to_full_gaussian,
    laplace_log_prob,
    pad_components,
    select_where,
    single_gaussian,
    stratified_expectation,
)

rng = np.random.default_rng(0)


def test_gaussian_log_prob_matches_scipy():
    x, mean = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    var = rng.uniform(0.2, 3.0, size=(7, 4))
    expected = [
        stats.multivariate_normal(m, np.diag(v)).logpdf(xi) for xi, m, v in zip(x, mean, var)
    ]
    np.testing.assert_allclose(gaussian_log_prob(x, mean, var), expected, rtol=1e-12)


@pytest.mark.parametrize("jit", [False, True])
def test_gaussian_kl_closed_form_and_properties(jit):
    mq, mp = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    vq, vp = rng.uniform(0.2, 2, size=(5, 3)), rng.uniform(0.2, 2, size=(5, 3))
    kl = jax.jit(gaussian_kl) if jit else gaussian_kl
    # KL(q||p) = E_q[log q - log p], checked against a large Monte-Carlo sample
    z = mq + np.sqrt(vq) * rng.normal(size=(200_000, 5, 3))
    mc = np.mean(gaussian_log_prob(z, mq, vq) - gaussian_log_prob(z, mp, vp), axis=0)
    np.testing.assert_allclose(kl(mq, vq, mp, vp), mc, atol=0.03)
    assert np.all(kl(mq, vq, mp, vp) > 0)
    np.testing.assert_allclose(kl(mq, vq, mq, vq), 0.0, atol=1e-12)


def test_gaussian_kl_gradients_match_finite_differences():
    args = (
        jnp.array([0.3, -1.0]),
        jnp.array([0.5, 2.0]),
        jnp.array([1.0, 0.0]),
        jnp.array([1.5, 0.7]),
    )
    check_grads(gaussian_kl, args, order=2, modes=["rev"])


def test_laplace_and_categorical_log_probs():
    x, loc, scale = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)), rng.uniform(0.1, 2, (6, 2))
    np.testing.assert_allclose(
        laplace_log_prob(x, loc, scale), stats.laplace(loc, scale).logpdf(x).sum(-1), rtol=1e-12
    )
    logits = rng.normal(size=(4, 5))
    onehot = np.eye(5)[[0, 3, 4, 1]]
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        categorical_log_prob(onehot, logits), np.log(probs[np.arange(4), [0, 3, 4, 1]]), rtol=1e-12
    )


def _random_mixture(batch=3, k=4, d=2, inactive=()):
    log_w = np.log(rng.dirichlet(np.ones(k), size=batch))
    for b, j in inactive:
        log_w[b, j] = -np.inf
    log_w = log_w - np.log(np.exp(log_w).sum(-1, keepdims=True))
    return GaussianMixture(
        jnp.asarray(log_w),
        jnp.asarray(rng.normal(size=(batch, k, d))),
        jnp.asarray(rng.uniform(0.3, 2, size=(batch, k, d))),
    )


def test_mixture_log_prob_matches_direct_sum():
    q = _random_mixture(inactive=[(0, 1), (2, 3)])
    z = rng.normal(size=(3, 2))
    direct = [
        np.log(
            sum(
                np.exp(q.log_weights[b, j])
                * stats.multivariate_normal(q.mean[b, j], np.diag(q.var[b, j])).pdf(z[b])
                for j in range(4)
            )
        )
        for b in range(3)
    ]
    np.testing.assert_allclose(q.log_prob(z), direct, rtol=1e-10)
    # several samples per mixture: (B, S, D) -> (B, S)
    zs = rng.normal(size=(3, 5, 2))
    np.testing.assert_allclose(q.log_prob(zs)[:, 2], q.log_prob(zs[:, 2]), rtol=1e-12)


def test_stratified_estimate_is_unbiased(key):
    q = _random_mixture(batch=1, k=3, d=1)

    def estimate(k):  # E_q[z^2] by stratification: sum_k w_k E_{N_k}[z^2]
        z = q.sample_stratified(k)
        return jnp.sum(jnp.exp(q.log_weights) * z[..., 0] ** 2, axis=-1)

    est = jnp.mean(jax.vmap(estimate)(jax.random.split(key, 100_000)))
    exact = jnp.sum(jnp.exp(q.log_weights) * (q.mean[..., 0] ** 2 + q.var[..., 0]), axis=-1)
    np.testing.assert_allclose(est, exact[0], rtol=0.01)


def test_ancestral_sample_moments(key):
    q = _random_mixture(batch=1, k=3, d=1)
    z = jax.vmap(q.sample)(jax.random.split(key, 100_000))[:, 0, 0]
    w = np.exp(q.log_weights[0])
    np.testing.assert_allclose(z.mean(), np.sum(w * q.mean[0, :, 0]), atol=0.02)


def test_kl_to_full_gaussian_closed_form_matches_monte_carlo(key):
    d = 3
    a = rng.normal(size=(d, d))
    cov = a @ a.T + np.eye(d)
    mean_p = rng.normal(size=(2, d))
    q = single_gaussian(
        jnp.asarray(rng.normal(size=(2, d))), jnp.asarray(rng.uniform(0.5, 2, (2, d)))
    )
    closed = kl_to_full_gaussian(q, mean_p, cov)
    mixture = GaussianMixture(
        jnp.log(jnp.full((2, 2), 0.5)), jnp.repeat(q.mean, 2, 1), jnp.repeat(q.var, 2, 1)
    )
    mc = kl_to_full_gaussian(mixture, mean_p, cov, key, num_samples=100_000)
    np.testing.assert_allclose(closed, mc, rtol=0.02)
    assert np.all(closed > 0)


def test_stratified_gradient_matches_the_closed_form_in_1d(key):
    """d/d(params) E_q[z^2] for a 1-D mixture, by the stratified estimator (pathwise for means
    and scales, exact for the weights), against the closed form sum_k w_k (mu_k^2 + v_k); and
    autodiff of the fixed-noise estimator against finite differences (check_grads)."""
    logits, mean, log_std = (
        jnp.array([0.3, -0.5, 0.1]),
        jnp.array([-1.0, 0.5, 2.0]),
        jnp.array([-0.2, 0.1, 0.4]),
    )

    def mixture(params):
        logits, mean, log_std = params
        return GaussianMixture(
            jax.nn.log_softmax(logits)[None],
            mean[None, :, None],
            jnp.exp(2 * log_std)[None, :, None],
        )

    def estimate(params, k):
        q = mixture(params)
        return stratified_expectation(q, k, lambda z: z[..., 0] ** 2)[0]

    def exact(params):
        q = mixture(params)
        return jnp.sum(jnp.exp(q.log_weights) * (q.mean[..., 0] ** 2 + q.var[..., 0]))

    params = (logits, mean, log_std)
    check_grads(lambda *p: estimate(p, key), params, order=1, modes=["rev"])
    grads = jax.vmap(jax.grad(estimate), in_axes=(None, 0))(params, jax.random.split(key, 50_000))
    for mc, ex in zip(grads, jax.grad(exact)(params)):
        np.testing.assert_allclose(jnp.mean(mc, axis=0), ex, atol=0.03)


def test_padding_and_selecting_mixtures_keeps_densities(key):
    q = _random_mixture(batch=2, k=2, d=3)
    padded = pad_components(q, 5)
    z = jnp.asarray(rng.normal(size=(2, 3)))
    np.testing.assert_allclose(padded.log_prob(z), q.log_prob(z), rtol=1e-12)
    np.testing.assert_allclose(padded.expected_value(), q.expected_value(), rtol=1e-12)
    other = single_gaussian(jnp.zeros((2, 3)), jnp.ones((2, 3)))
    mixed = select_where(jnp.array([True, False]), other, q)
    np.testing.assert_allclose(mixed.log_prob(z)[0], other.log_prob(z)[0], rtol=1e-12)
    np.testing.assert_allclose(mixed.log_prob(z)[1], q.log_prob(z)[1], rtol=1e-12)


def test_zero_weight_components_contribute_nothing_even_when_extreme(key):
    """A component with weight exactly 0 and an overflowing scale must not poison the estimate
    or its gradient (0 x inf = NaN): only the weighted component counts."""

    def mixture(mean):
        return GaussianMixture(jnp.array([[0.0, -jnp.inf]]), mean, jnp.array([[[1.0], [jnp.inf]]]))

    def estimate(mean):
        return stratified_expectation(mixture(mean), key, lambda z: -(z[..., 0] ** 2))[0]

    mean = jnp.array([[[0.5], [1e30]]])
    value, grad = jax.value_and_grad(estimate)(mean)
    z0 = mixture(mean).sample_stratified(key)[0, 0, 0]
    np.testing.assert_allclose(value, -(z0**2), rtol=1e-12)
    np.testing.assert_allclose(grad[0, 0, 0], -2 * z0, rtol=1e-12)
    assert grad[0, 1, 0] == 0.0
