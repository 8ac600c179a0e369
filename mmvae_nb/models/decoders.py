"""Decoders p(x_s | z): linear-Gaussian (App. M) and the non-linear decoders of the
identifiable models (Section 5.2; official code's ``InjectiveMLPDecoder``): Dense(D_s) ->
LeakyReLU(0.1) -> Dense(D_s) with a Gaussian likelihood (fixed scale, or a learned per-feature
scale independent of z), a Laplace one, or a categorical one (one-hot data, the auxiliary
label). Every decoder has ``mean(z)`` and ``log_prob(x, z)``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from flax import nnx

from mmvae_nb.models.distributions import (
    MIN_STD,
    categorical_log_prob,
    gaussian_log_prob,
    laplace_log_prob,
)
from mmvae_nb.models.nets import MLP

LIKELIHOODS = ("gaussian", "laplace", "categorical")


def align_sample_axes(x, z):
    """Insert the sample axes of ``z`` (B, ..., D) into ``x`` (B, D_s)."""
    return x.reshape(x.shape[:1] + (1,) * (z.ndim - 2) + x.shape[1:])


class Fixed(nnx.Variable):
    """A model constant that is not trained (decoder noise scale, feature mask)."""


class LinearGaussianDecoder(nnx.Module):
    """p(x_s | z) = N(W_s z + b_s, sigma^2 I) with learned W_s, b_s and a fixed sigma (App. M).

    ``feature_mask`` marks the real features when several data sets of different D_s are padded
    to a common width to train them as one vmapped program: padded features have zero input,
    contribute nothing to the likelihood and receive no gradient, so each data set trains exactly
    as its unpadded model would.
    """

    def __init__(
        self, latent_dim: int, out_dim: int, noise_std, *, rngs: nnx.Rngs, feature_mask=None
    ):
        self.linear = nnx.Linear(latent_dim, out_dim, rngs=rngs)
        self.noise_std = Fixed(jnp.asarray(noise_std, dtype=jnp.float32))
        mask = jnp.ones((out_dim,), dtype=bool) if feature_mask is None else feature_mask
        self.feature_mask = Fixed(jnp.asarray(mask, dtype=bool))

    def mean(self, z):
        return self.linear(z)

    def log_prob(self, x, z):
        """log p(x | z) for ``x`` (B, D_s) and ``z`` (B, ..., D) -> (B, ...)."""
        x = align_sample_axes(x, z)
        var = self.noise_std.get_value() ** 2
        per_feature = -0.5 * (jnp.log(2 * jnp.pi * var) + (x - self.mean(z)) ** 2 / var)
        return jnp.sum(jnp.where(self.feature_mask.get_value(), per_feature, 0.0), axis=-1)


def decoder_log_prob(likelihood: str, x, out, scale):
    """log p(x | z) summed over features, from the decoder output ``out`` = f(z): Gaussian with
    std ``scale``, Laplace with scale ``scale`` (std sqrt(2) scale), or categorical with logits
    ``out`` over the last axis (``scale`` unused)."""
    if likelihood == "categorical":
        return categorical_log_prob(x, out)
    scale = jnp.broadcast_to(scale, out.shape)
    if likelihood == "laplace":
        return laplace_log_prob(x, out, scale)
    return gaussian_log_prob(x, out, scale**2)


class MLPDecoder(nnx.Module):
    """Non-linear decoder f_s(z) = Dense(LeakyReLU_0.1(Dense(z))), hidden width D_s (Sec. 5.2).

    ``likelihood="gaussian"`` or ``"laplace"``: p(x | z) = N(f(z), sigma^2 I) or Laplace(f(z), b)
    with the scale fixed at ``noise_std``, or, with ``noise_std=None``, a learned per-feature
    scale 1e-3 + exp(s) independent of z (initialised at s = 0; the official five-modality code,
    and App. Q's "constant log-standard-deviation at each pixel" for MNIST-SVHN-Text, where we
    learn the Laplace scale b). ``likelihood="categorical"``: p(x | z) = Cat(softmax f(z)) for
    one-hot x (the auxiliary label).
    """

    def __init__(self, latent_dim, out_dim, *, rngs, likelihood="gaussian", noise_std=None):
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}")
        self.likelihood = likelihood
        self.net = MLP(
            latent_dim,
            [out_dim],
            out_dim,
            rngs=rngs,
            activation=partial(jax.nn.leaky_relu, negative_slope=0.1),
        )
        self.learned_scale = likelihood != "categorical" and noise_std is None
        if self.learned_scale:
            self.log_scale = nnx.Param(jnp.zeros((out_dim,)))
        else:  # unused by a categorical likelihood
            sigma = 1.0 if noise_std is None else noise_std
            self.log_scale = Fixed(jnp.log(jnp.asarray(sigma, dtype=jnp.float32)))

    def mean(self, z):
        """E[x | z]: f(z), or the class probabilities for a categorical likelihood."""
        out = self.net(z)
        return jax.nn.softmax(out, axis=-1) if self.likelihood == "categorical" else out

    def log_prob(self, x, z):
        """log p(x | z) for ``x`` (B, D_s) and ``z`` (B, ..., D) -> (B, ...)."""
        scale = jnp.exp(self.log_scale[...]) + (MIN_STD if self.learned_scale else 0.0)
        return decoder_log_prob(self.likelihood, align_sample_axes(x, z), self.net(z), scale)
