"""Probability distributions used by the encoders, decoders and priors.

Everything here is a pure function of arrays. Log-densities sum over the last (event) axis.

Encoding distributions are represented uniformly as a *diagonal Gaussian mixture*
(``GaussianMixture``): a single Gaussian (PoE, SumPooling, SelfAttention) is the K = 1 case, a
mixture of experts (MoE) has one component per modality, and the mixture aggregators of
Section 4.2 have K learned components. Expectations under a mixture are estimated with the
*stratified* estimator (one reparameterised sample per component, weighted by the mixture
weights; Shi et al., 2019, as cited in the paper's Section 2), which is unbiased, has pathwise
gradients for the component parameters and exact gradients for the weights. The paper mentions
implicit reparameterisation (Figurnov et al., 2018) as an alternative; the stratified estimator is
the one the issue allows and it needs no CDF inversion.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

LOG_2PI = jnp.log(2.0 * jnp.pi)
# floor of every learned standard deviation (encoders, the GMM prior's components), as in the
# paper's official code: std = MIN_STD + exp(log-std)
MIN_STD = 1e-3


@runtime_checkable
class Posterior(Protocol):
    """What the bounds, likelihood estimators and metrics need of an encoding distribution
    q(z | x_S), (B, D) per example: ``GaussianMixture`` (every shared-latent aggregator) and
    ``equivariant.SharedPrivatePosterior`` (private latents, App. F) implement it.

    * ``log_weights`` (B, K): stratum weights (K = 1 for a single Gaussian);
    * ``sample_stratified(key)`` (B, K, D): one reparameterised sample per stratum;
    * ``sample(key)`` (B, D): an ancestral sample (evaluation only);
    * ``log_prob(z)``: log q(z) for z (B, ..., D) -> (B, ...);
    * ``expected_value()`` (B, D): E_q[z] (the shared part's mean and, for a hierarchical q,
      the private means at that point);
    * ``stop_gradient()``: the same density with its variational parameters stopped, for the
      sticking-the-landing estimators (App. K; Algorithm 2 for private latents).
    """

    @property
    def log_weights(self) -> jax.Array: ...

    def sample_stratified(self, key) -> jax.Array: ...

    def sample(self, key) -> jax.Array: ...

    def log_prob(self, z) -> jax.Array: ...

    def expected_value(self) -> jax.Array: ...

    def stop_gradient(self) -> Posterior: ...


# --------------------------------------------------------------------------- Gaussian
def gaussian_log_prob(x, mean, var):
    """log N(x; mean, diag(var)), summed over the last axis."""
    return -0.5 * jnp.sum(LOG_2PI + jnp.log(var) + (x - mean) ** 2 / var, axis=-1)


def gaussian_kl(mean_q, var_q, mean_p, var_p):
    """KL(N(mean_q, diag var_q) || N(mean_p, diag var_p)), summed over the last axis."""
    return 0.5 * jnp.sum(
        jnp.log(var_p) - jnp.log(var_q) + (var_q + (mean_q - mean_p) ** 2) / var_p - 1.0,
        axis=-1,
    )


def gaussian_sample(key, mean, var):
    """Reparameterised sample mean + sqrt(var) * eps, eps ~ N(0, I)."""
    eps = jax.random.normal(key, jnp.shape(mean), dtype=jnp.result_type(mean))
    return mean + jnp.sqrt(var) * eps


# --------------------------------------------------------------------------- Laplace
def laplace_log_prob(x, loc, scale):
    """log Laplace(x; loc, scale) = -log(2 scale) - |x - loc| / scale, summed over the last axis."""
    return jnp.sum(-jnp.log(2.0 * scale) - jnp.abs(x - loc) / scale, axis=-1)


# --------------------------------------------------------------------------- categorical
def categorical_log_prob(x_onehot, logits):
    """log Cat(x; softmax(logits)) for one-hot ``x`` (sums over the last axis)."""
    return jnp.sum(x_onehot * jax.nn.log_softmax(logits, axis=-1), axis=-1)


# --------------------------------------------------------------------------- mixtures
class GaussianMixture(NamedTuple):
    """Diagonal Gaussian mixture sum_k w_k N(mean_k, diag var_k).

    Shapes: ``log_weights`` (..., K), ``mean`` and ``var`` (..., K, D). Components with
    ``log_weights = -inf`` are inactive (e.g. experts of absent modalities in a MoE).
    """

    log_weights: jax.Array
    mean: jax.Array
    var: jax.Array

    @property
    def num_components(self) -> int:
        return self.mean.shape[-2]

    def log_prob(self, z):
        """log q(z) for ``z`` of shape (..., D), or (..., S, D) with S samples per mixture."""
        extra = z.ndim - (self.mean.ndim - 1)  # number of sample axes in z
        mean, var, log_w = self.mean, self.var, self.log_weights
        for _ in range(extra):
            mean, var, log_w = mean[..., None, :, :], var[..., None, :, :], log_w[..., None, :]
        comp = gaussian_log_prob(z[..., None, :], mean, var)  # (..., K)
        return logsumexp(jnp.where(jnp.isfinite(log_w), log_w + comp, -jnp.inf), axis=-1)

    def expected_value(self):
        """E_q[z] = sum_k w_k mean_k: (..., D)."""
        return jnp.sum(jnp.exp(self.log_weights)[..., None] * self.mean, axis=-2)

    def stop_gradient(self) -> GaussianMixture:
        return GaussianMixture(*jax.tree.map(jax.lax.stop_gradient, tuple(self)))

    def sample_stratified(self, key):
        """One reparameterised sample per component: (..., K, D).

        Pair with ``jnp.exp(log_weights)`` to form the stratified estimate
        E_q[f] = sum_k w_k E_{N_k}[f].
        """
        return gaussian_sample(key, self.mean, self.var)

    def sample(self, key):
        """Ancestral sample (component ~ Cat(w), then its Gaussian): (..., D).

        Not differentiable with respect to the weights: for evaluation (importance sampling,
        plots), not for training. Draw several samples with ``jax.vmap`` over keys.
        """
        k_cat, k_eps = jax.random.split(key)
        comp = jax.random.categorical(k_cat, self.log_weights)[..., None, None]
        mean = jnp.take_along_axis(self.mean, comp, axis=-2)[..., 0, :]
        var = jnp.take_along_axis(self.var, comp, axis=-2)[..., 0, :]
        return gaussian_sample(k_eps, mean, var)


def pad_components(q: GaussianMixture, num_components: int) -> GaussianMixture:
    """The same mixture with extra inactive components (weight 0, N(0, I)) up to K."""
    extra = num_components - q.num_components
    if extra <= 0:
        return q
    batch, dim = q.mean.shape[:-2], q.mean.shape[-1]
    return GaussianMixture(
        jnp.concatenate([q.log_weights, jnp.full(batch + (extra,), -jnp.inf, q.mean.dtype)], -1),
        jnp.concatenate([q.mean, jnp.zeros(batch + (extra, dim), q.mean.dtype)], -2),
        jnp.concatenate([q.var, jnp.ones(batch + (extra, dim), q.var.dtype)], -2),
    )


def select_where(condition, a: GaussianMixture, b: GaussianMixture) -> GaussianMixture:
    """Per example (condition (B,)): mixture ``a`` where true, else ``b`` (padded to equal K)."""
    k = max(a.num_components, b.num_components)
    a, b = pad_components(a, k), pad_components(b, k)
    return jax.tree.map(
        lambda x, y: jnp.where(condition.reshape(condition.shape + (1,) * (x.ndim - 1)), x, y),
        a,
        b,
    )


def stratified_samples(q, key):
    """One reparameterised sample per mixture component, (B, K, D), and the component weights
    (B, K); the sample of a component whose weight is exactly 0 is replaced by 0 (see
    ``stratified_expectation``)."""
    z = q.sample_stratified(key)
    weights = jnp.exp(q.log_weights)
    return jnp.where(weights[..., None] > 0, z, 0.0), weights


def stratified_sum(weights, values):
    """sum_k w_k values_k over the components of weight > 0: (B, K) -> (B,)."""
    return jnp.sum(jnp.where(weights > 0, weights * values, 0.0), axis=-1)


def stratified_expectation(q, key, f):
    """E_q[f(z)] -> (B,) by stratification: one reparameterised sample per mixture component,
    weighted by the component weights (works for any posterior with ``sample_stratified`` and
    ``log_weights``).

    Components whose weight is exactly 0 (inactive experts, padding, or a learned weight that
    underflowed) contribute nothing, in value and gradient: their sample is replaced by 0
    before ``f`` sees it, so an extreme, unused component (say an overflowing scale, which no
    gradient keeps in check) cannot turn the estimate into 0 x inf = NaN.
    """
    z, weights = stratified_samples(q, key)
    return stratified_sum(weights, f(z))


def single_gaussian(mean, var) -> GaussianMixture:
    """A one-component mixture: (B, D) parameters -> (B, 1, D)."""
    log_w = jnp.zeros(mean.shape[:-1] + (1,), dtype=mean.dtype)
    return GaussianMixture(log_w, mean[..., None, :], var[..., None, :])


def standard_normal_like(mean) -> GaussianMixture:
    """The standard Gaussian prior N(0, I) as a one-component mixture shaped like ``mean``."""
    return single_gaussian(jnp.zeros_like(mean), jnp.ones_like(mean))


def kl_to_full_gaussian(q: GaussianMixture, mean_p, cov_p, key=None, num_samples: int = 256):
    """KL(q || N(mean_p, cov_p)) for a diagonal mixture q and a full-covariance Gaussian.

    Closed form when q has one component (float64 NumPy):
        0.5 [tr(C^-1 V) + (m - mu)^T C^-1 (m - mu) - D + log|C| - sum log v];
    otherwise a Monte-Carlo estimate E_q[log q - log p] with ``num_samples`` ancestral samples.
    ``q`` has batch shape (B,), ``mean_p`` (B, D), ``cov_p`` (D, D). Returns (B,).
    Used for the "posterior approximation" panels of Figures 3-4 (App. M).
    """
    mean_p = np.asarray(mean_p, np.float64)
    cov_p = np.asarray(cov_p, np.float64)
    chol = np.linalg.cholesky(cov_p)
    logdet_p = 2.0 * np.sum(np.log(np.diag(chol)))
    prec = np.linalg.inv(cov_p)
    dim = mean_p.shape[-1]
    if q.num_components == 1:
        m = np.asarray(q.mean[:, 0], np.float64)
        v = np.asarray(q.var[:, 0], np.float64)
        diff = m - mean_p
        return 0.5 * (
            v @ np.diag(prec)
            + np.sum(diff @ prec * diff, axis=-1)
            - dim
            + logdet_p
            - np.sum(np.log(v), axis=-1)
        )
    keys = jax.random.split(key, num_samples)
    z = np.asarray(jax.vmap(q.sample)(keys), np.float64)  # (S, B, D)
    log_q = np.asarray(jax.vmap(q.log_prob)(jnp.asarray(z, q.mean.dtype)), np.float64)
    diff = z - mean_p
    log_p = -0.5 * (np.sum(diff @ prec * diff, axis=-1) + logdet_p + dim * np.log(2 * np.pi))
    return np.mean(log_q - log_p, axis=0)
