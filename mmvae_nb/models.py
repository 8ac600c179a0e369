"""The multi-modal VAE: modality encoders -> aggregator -> q(z | x_S); prior; decoders.

p(z, x) = p(z) prod_s p(x_s | z) with a standard Gaussian prior (Section 1). Modalities are a
list of arrays ``xs`` (one (B, D_s) array each) plus a boolean mask (B, M) of the modalities that
are present; absent slots are replaced by zeros before encoding (``jnp.where``), so whatever they
hold (NaN included) never reaches a result.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from flax import nnx

from .aggregators import make_aggregator
from .distributions import gaussian_log_prob
from .nets import MLP


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
        x = x.reshape(x.shape[:1] + (1,) * (z.ndim - 2) + x.shape[1:])
        var = self.noise_std.get_value() ** 2
        per_feature = -0.5 * (jnp.log(2 * jnp.pi * var) + (x - self.mean(z)) ** 2 / var)
        return jnp.sum(jnp.where(self.feature_mask.get_value(), per_feature, 0.0), axis=-1)


class MultimodalVAE(nnx.Module):
    """Modality-specific encoders h_s, a permutation-invariant aggregator, and decoders.

    ``encoder_hidden`` are the hidden widths of every modality encoder (Table 17a: 512, 512 for
    PoE/MoE, 256, 256 otherwise); the encoders output 2 D features.

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
        aggregator_kwargs: dict | None = None,
        noise_std=1.0,
        private_latent_dim: int = 0,
    ):
        if len(modality_dims) == 0:
            raise ValueError("modality_dims is empty: a multi-modal VAE needs modalities")
        if min(modality_dims) <= 0 or latent_dim <= 0 or private_latent_dim < 0:
            raise ValueError(
                f"dimensions must be positive: modality_dims={tuple(modality_dims)}, "
                f"latent_dim={latent_dim}, private_latent_dim={private_latent_dim}"
            )
        self.modality_dims = tuple(int(d) for d in modality_dims)
        num_modalities = len(self.modality_dims)
        self.shared_dim, self.private_dim = latent_dim, private_latent_dim
        self.latent_dim = latent_dim + num_modalities * private_latent_dim
        embedding_dim = 2 * (latent_dim + private_latent_dim)
        self.encoders = nnx.List(
            [MLP(d, list(encoder_hidden), embedding_dim, rngs=rngs) for d in self.modality_dims]
        )
        self.aggregator = make_aggregator(
            aggregator,
            latent_dim,
            embedding_dim,
            rngs=rngs,
            private_dim=private_latent_dim,
            **(aggregator_kwargs or {}),
        )
        noise = jnp.broadcast_to(jnp.asarray(noise_std), (num_modalities,))
        decoder_input = latent_dim + private_latent_dim
        self.decoders = nnx.List(
            [
                LinearGaussianDecoder(decoder_input, d, noise[s], rngs=rngs)
                for s, d in enumerate(self.modality_dims)
            ]
        )

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
        """q(z | x_S) for the modalities in ``mask`` (B, M), from ``embed``'s tokens."""
        return self.aggregator.pool(tokens, mask)

    def prior_log_prob(self, z):
        """log p(z) for the standard Gaussian prior, summed over the latent axis."""
        return gaussian_log_prob(z, 0.0, 1.0)

    def decoder_latents(self, z, modality: int):
        """The latent coordinates decoder ``modality`` reads: z, or (z', z~_s) with privates."""
        if self.private_dim == 0:
            return z
        start = self.shared_dim + modality * self.private_dim
        return jnp.concatenate(
            [z[..., : self.shared_dim], z[..., start : start + self.private_dim]], axis=-1
        )

    def log_likelihood(self, xs, z, mask):
        """sum_{s in mask} log p(x_s | z): ``z`` (B, ..., D) -> (B, ...)."""
        total = 0.0
        for s, (dec, x) in enumerate(zip(self.decoders, xs)):
            clean = jnp.where(mask[:, s, None], x, 0.0)  # NaN-safe in the backward pass too
            m = mask[:, s].reshape(mask.shape[:1] + (1,) * (z.ndim - 2))
            total = total + jnp.where(m, dec.log_prob(clean, self.decoder_latents(z, s)), 0.0)
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
