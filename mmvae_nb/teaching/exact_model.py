"""A linear-Gaussian model whose PoE encoder is the exact posterior p(z | x_S) for every S.

With p(z) = N(0, I) and p(x_s | z) = N(W_s z + b_s, sigma^2 I) with orthonormal loadings
(W_s^T W_s = I, App. M), the posterior of a subset S is
    p(z | x_S) proportional to p(z) prod_{s in S} N(z; W_s^T (x_s - b_s), sigma^2 I),
a product of Gaussian experts with the prior expert (Section 3, ``product_of_experts``). So the
masked bound L_S + L_\\S (eq. 4-5) equals log p(x) for every S and every sample, while the
mixture bound (eq. 1) is strictly below log p(x) unless S = M (App. D): the identity the tests
and notebook 01's idea section demonstrate. ``shift`` and ``log_scale`` move every expert away
from the exact one, ``tilt`` moves the proper-subset encoders towards q(z | x), which makes the
encoders Bayes-inconsistent (the finding in docs/results.md that the masked bound can overshoot
log p(x)), and ``mean_weighting="variance"`` combines the exact experts with the official code's
PoE mean (``product_of_experts``; docs/findings/learnable-vs-poe.md).
"""

from __future__ import annotations

import jax.numpy as jnp

from mmvae_nb.models.aggregators import product_of_experts
from mmvae_nb.models.distributions import gaussian_log_prob, single_gaussian

SIGMA = 0.7  # the noise standard deviation sigma of p(x_s | z)


class ExactPoEModel:
    """Linear decoders; PoE encoder that is the exact posterior when ``shift = log_scale = 0``.

    ``data`` is a ``LinearGaussianData`` drawn with ``noise_std=SIGMA`` and orthonormal W_s.
    The expert of modality s is N(W_s^T (x_s - b_s) + shift, sigma^2 exp(2 log_scale) I).
    Implements the model interface of ``objectives.bounds`` (embed, encode, prior_log_prob,
    log_likelihood).
    """

    def __init__(self, data, shift=0.0, log_scale=0.0, mean_weighting="precision"):
        self.W = [jnp.asarray(w) for w in data.W]
        self.b = [jnp.asarray(b) for b in data.b]
        self.shift, self.log_scale, self.mean_weighting = shift, log_scale, mean_weighting

    def embed(self, xs, present):
        mean = jnp.stack([(x - b) @ w for x, w, b in zip(xs, self.W, self.b)], axis=1)
        var = jnp.full_like(mean, SIGMA**2) * jnp.exp(2 * self.log_scale)
        return mean + self.shift, var

    def encode(self, tokens, mask):
        return single_gaussian(*product_of_experts(*tokens, mask, self.mean_weighting))

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


class TiltedSubsetModel(ExactPoEModel):
    """q(z | x) exact; each proper-subset encoder's mean moved a fraction ``tilt`` towards the
    mean of q(z | x). For ``tilt`` > 0 the encoders are not Bayes-consistent, and the masked
    bound's term E_{q(z|x)}[log q(z|x_S) - log p(z|x_S)] can exceed the KLs: L > log p(x)."""

    def __init__(self, data, tilt=0.5, mean_weighting="precision"):
        if not 0.0 <= tilt <= 1.0:
            raise ValueError(f"tilt must lie in [0, 1], got {tilt}")
        super().__init__(data, mean_weighting=mean_weighting)
        self.tilt = tilt

    def encode(self, tokens, mask):
        q = super().encode(tokens, mask)
        full = super().encode(tokens, jnp.ones_like(mask))
        is_full = jnp.all(mask, axis=-1)[:, None, None]
        tilted = (1 - self.tilt) * q.mean + self.tilt * full.mean
        return q._replace(mean=jnp.where(is_full, q.mean, tilted))
