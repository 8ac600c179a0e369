"""Test doubles: a linear-Gaussian model whose PoE encoder is the exact posterior.

A linear-Gaussian model with orthonormal loadings has exact posteriors p(z | x_S) that a PoE of
Gaussian experts N(W_s^T (x_s - b_s), sigma^2 I) represents exactly for *every* subset S.
"""

import jax.numpy as jnp

from mmvae_nb.models.aggregators import product_of_experts
from mmvae_nb.models.distributions import gaussian_log_prob, single_gaussian

SIGMA = 0.7


class ExactPoEModel:
    """Linear decoders; PoE encoder that is the exact posterior when ``shift = log_scale = 0``."""

    def __init__(self, data, shift=0.0, log_scale=0.0):
        self.W = [jnp.asarray(w) for w in data.W]
        self.b = [jnp.asarray(b) for b in data.b]
        self.shift, self.log_scale = shift, log_scale

    def embed(self, xs, present):
        mean = jnp.stack([(x - b) @ w for x, w, b in zip(xs, self.W, self.b)], axis=1)
        var = jnp.full_like(mean, SIGMA**2) * jnp.exp(2 * self.log_scale)
        return mean + self.shift, var

    def encode(self, tokens, mask):
        return single_gaussian(*product_of_experts(*tokens, mask))

    def prior_log_prob(self, z):
        return gaussian_log_prob(z, 0.0, 1.0)

    def log_likelihood(self, xs, z, mask, reweight=False, modalities=None):  # reweight is moot
        total = 0.0
        for s, (x, w, b) in enumerate(zip(xs, self.W, self.b)):
            if modalities is not None and s not in modalities:
                continue
            ll = gaussian_log_prob(x[:, None], z @ w.T + b, SIGMA**2)
            total = total + jnp.where(mask[:, s, None], ll, 0.0)
        return total
