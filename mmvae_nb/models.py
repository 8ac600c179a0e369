"""The multi-modal VAE: modality encoders -> aggregator -> q(z | x_S); prior; decoders.

p(z, x) = p(z) prod_s p(x_s | z) (Section 1) with a standard Gaussian or a learnable
Gaussian-mixture prior (``priors``). Modalities are a list of arrays ``xs`` (one (B, D_s) array
each) plus a boolean mask (B, M) of the modalities that are present; absent slots are replaced by
zeros before encoding (``jnp.where``), so whatever they hold (NaN included) never reaches a
result.

Decoders: linear-Gaussian (App. M), or the non-linear decoders of the identifiable models
(Section 5.2; official code's ``InjectiveMLPDecoder``): Dense(D_s) -> LeakyReLU(0.1) -> Dense(D_s)
with a Gaussian likelihood (fixed scale, or a learned per-feature scale independent of z) or a
categorical one (one-hot data, the auxiliary label).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import jax
import jax.numpy as jnp
from flax import nnx

from .aggregators import EXPERT_AGGREGATORS, make_aggregator
from .distributions import categorical_log_prob, gaussian_log_prob, laplace_log_prob
from .nets import MLP
from .priors import make_prior

LIKELIHOODS = ("gaussian", "laplace", "categorical")
DECODERS = ("linear", "mlp")
MIN_DECODER_STD = 1e-3


def _align(x, z):
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

    def __init__(self, latent_dim: int, out_dim: int, noise_std, *, rngs: nnx.Rngs):
        self.linear = nnx.Linear(latent_dim, out_dim, rngs=rngs)
        self.noise_std = Fixed(jnp.asarray(noise_std, dtype=jnp.float32))
        self.feature_mask = Fixed(jnp.ones((out_dim,), dtype=bool))

    def mean(self, z):
        return self.linear(z)

    def log_prob(self, x, z):
        """log p(x | z) for ``x`` (B, D_s) and ``z`` (B, ..., D) -> (B, ...)."""
        x = _align(x, z)
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
        scale = jnp.exp(self.log_scale[...]) + (MIN_DECODER_STD if self.learned_scale else 0.0)
        return decoder_log_prob(self.likelihood, _align(x, z), self.net(z), scale)


class MultimodalVAE(nnx.Module):
    """Modality-specific encoders h_s, a permutation-invariant aggregator, and decoders.

    ``encoder_hidden`` are the hidden widths of every modality encoder (Table 17a: 512, 512 for
    PoE/MoE, 256, 256 otherwise); the encoders output 2 D features.

    ``embedding_dim`` (default 2 (D' + D~)) is the width of h_s; PoE/MoE need exactly 2 D (the
    experts' mean and log-std), the learned aggregators take any width (Table 19a: 128).
    ``decoder`` is ``"linear"`` (App. M) or ``"mlp"`` (``MLPDecoder``); ``likelihoods`` gives each
    modality's likelihood (default all Gaussian); ``noise_std`` is a fixed decoder scale (scalar or
    per modality), or ``None`` for learned scales (MLP decoders only). ``prior`` is
    ``"standard"`` or ``"gmm"`` (``prior_components`` components, App. J).
    ``encoders`` / ``decoders`` replace the MLP encoders and the ``decoder`` kind with one builder
    per modality: ``encoders[s](embedding_dim, rngs=rngs)`` and ``decoders[s](decoder_input_dim,
    rngs=rngs)`` return modules with the encoder's call / the decoder's ``mean`` and ``log_prob``
    (e.g. the MNIST-SVHN-Text networks of ``mst_nets``).
    ``likelihood_weights`` w_s scale each log p(x_s | z) inside the training bounds only (App. Q:
    MNIST-SVHN-Text re-weights modalities by their dimensions); log-likelihood estimates and
    rate/distortion terms always use the unweighted model.

    With ``private_latent_dim`` = D~ > 0 the latent is z = (z', z~_1, ..., z~_M) with a shared
    z' of dimension ``latent_dim`` and private z~_s of dimension D~ (App. F, eq. 10); decoder s
    reads (z', z~_s) only, the aggregator must be a permutation-equivariant one and the encoders
    output 2 (D' + D~) features.
    """

    def __init__(
        self,
        modality_dims: Sequence[int],
        latent_dim: int,
        aggregator: str,
        *,
        rngs: nnx.Rngs,
        encoder_hidden: Sequence[int] = (256, 256),
        embedding_dim: int | None = None,
        aggregator_kwargs: dict | None = None,
        decoder: str = "linear",
        likelihoods: Sequence[str] | None = None,
        noise_std=1.0,
        private_latent_dim: int = 0,
        prior: str = "standard",
        prior_components: int = 5,
        likelihood_weights: Sequence[float] | None = None,
        encoders: Sequence[Callable] | None = None,
        decoders: Sequence[Callable] | None = None,
    ):
        if len(modality_dims) == 0:
            raise ValueError("modality_dims is empty: a multi-modal VAE needs modalities")
        if min(modality_dims) <= 0 or latent_dim <= 0 or private_latent_dim < 0:
            raise ValueError(
                f"dimensions must be positive: modality_dims={tuple(modality_dims)}, "
                f"latent_dim={latent_dim}, private_latent_dim={private_latent_dim}"
            )
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}; choose one of {DECODERS}")
        self.modality_dims = tuple(int(d) for d in modality_dims)
        num_modalities = len(self.modality_dims)
        weights = tuple(float(w) for w in (likelihood_weights or (1.0,) * num_modalities))
        if len(weights) != num_modalities or min(weights) <= 0:
            raise ValueError(f"need {num_modalities} positive likelihood_weights, got {weights}")
        self.likelihood_weights = weights
        likelihoods = tuple(likelihoods or ("gaussian",) * num_modalities)
        if len(likelihoods) != num_modalities:
            raise ValueError(f"{len(likelihoods)} likelihoods for {num_modalities} modalities")
        if decoder == "linear" and (set(likelihoods) != {"gaussian"} or noise_std is None):
            raise ValueError("linear decoders are Gaussian with a fixed noise_std")
        self.shared_dim, self.private_dim = latent_dim, private_latent_dim
        self.latent_dim = latent_dim + num_modalities * private_latent_dim
        expert_dim = 2 * (latent_dim + private_latent_dim)
        if embedding_dim is None:
            embedding_dim = expert_dim
        if aggregator.split(" ")[0] in EXPERT_AGGREGATORS and embedding_dim != expert_dim:
            raise ValueError(
                f"{aggregator} needs embedding_dim = 2 x latent = {expert_dim}, got {embedding_dim}"
            )
        for builders, kind in ((encoders, "encoders"), (decoders, "decoders")):
            if builders is not None and len(builders) != num_modalities:
                raise ValueError(f"{len(builders)} {kind} for {num_modalities} modalities")
        if encoders is None:
            encoders = [partial(MLP, d, list(encoder_hidden)) for d in self.modality_dims]
        self.encoders = nnx.List([build(embedding_dim, rngs=rngs) for build in encoders])
        self.aggregator = make_aggregator(
            aggregator,
            latent_dim,
            embedding_dim,
            rngs=rngs,
            private_dim=private_latent_dim,
            **(aggregator_kwargs or {}),
        )
        noise = [None] * num_modalities
        if noise_std is not None:
            noise = list(jnp.broadcast_to(jnp.asarray(noise_std), (num_modalities,)))
        decoder_input = latent_dim + private_latent_dim
        if decoders is not None:
            decoders = [build(decoder_input, rngs=rngs) for build in decoders]
        elif decoder == "linear":
            decoders = [
                LinearGaussianDecoder(decoder_input, d, noise[s], rngs=rngs)
                for s, d in enumerate(self.modality_dims)
            ]
        else:
            decoders = [
                MLPDecoder(decoder_input, d, rngs=rngs, likelihood=lik, noise_std=sigma)
                for d, lik, sigma in zip(self.modality_dims, likelihoods, noise)
            ]
        self.decoders = nnx.List(decoders)
        self.prior = make_prior(prior, self.latent_dim, rngs=rngs, num_components=prior_components)

    @property
    def num_modalities(self) -> int:
        return len(self.modality_dims)

    def embed(self, xs, present):
        """Mask-independent token features: the aggregator's ``tokens`` of h_s(x_s), (B, M, .).

        Absent modalities are zeroed before encoding; they are excluded later by the mask.
        """
        h = jnp.stack(
            [
                enc(jnp.where(present[:, s, None], x, 0.0))
                for s, (enc, x) in enumerate(zip(self.encoders, xs))
            ],
            axis=1,
        )
        return self.aggregator.tokens(h)

    def encode(self, tokens, mask):
        """q(z | x_S) for the modalities in ``mask`` (B, M), from ``embed``'s tokens; the prior
        for examples with S empty."""
        return self.prior.replace_empty(self.aggregator.pool(tokens, mask), mask)

    def prior_log_prob(self, z):
        """log p(z) (for a mixture prior, of the marginal: the optimal cluster factor, App. J)."""
        return self.prior.log_prob(z)

    def decoder_latents(self, z, modality: int):
        """The latent coordinates decoder ``modality`` reads: z, or (z', z~_s) with privates."""
        if self.private_dim == 0:
            return z
        start = self.shared_dim + modality * self.private_dim
        return jnp.concatenate(
            [z[..., : self.shared_dim], z[..., start : start + self.private_dim]], axis=-1
        )

    def log_likelihood(self, xs, z, mask, reweight: bool = False):
        """sum_{s in mask} log p(x_s | z): ``z`` (B, ..., D) -> (B, ...); each term times w_s
        (``likelihood_weights``) when ``reweight`` (the training bounds)."""
        total = 0.0
        for s, (dec, x) in enumerate(zip(self.decoders, xs)):
            clean = jnp.where(mask[:, s, None], x, 0.0)  # NaN-safe in the backward pass too
            m = mask[:, s].reshape(mask.shape[:1] + (1,) * (z.ndim - 2))
            term = dec.log_prob(clean, self.decoder_latents(z, s))
            if reweight and self.likelihood_weights[s] != 1.0:
                term = self.likelihood_weights[s] * term
            total = total + jnp.where(m, term, 0.0)
        return total

    def loading_matrices(self):
        """Each decoder's (W_s (D_s, D), b_s) in the full latent space (zeros where unread)."""
        out = []
        for s, dec in enumerate(self.decoders):
            kernel = dec.linear.kernel[...].T
            if self.private_dim:
                full = jnp.zeros((kernel.shape[0], self.latent_dim), kernel.dtype)
                start = self.shared_dim + s * self.private_dim
                full = full.at[:, : self.shared_dim].set(kernel[:, : self.shared_dim])
                kernel = full.at[:, start : start + self.private_dim].set(
                    kernel[:, self.shared_dim :]
                )
            out.append((kernel, dec.linear.bias[...]))
        return out
