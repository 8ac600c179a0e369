"""The multi-modal VAE: modality encoders -> aggregator -> q(z | x_S); prior; decoders.

p(z, x) = p(z) prod_s p(x_s | z) (Section 1) with a standard Gaussian or a learnable
Gaussian-mixture prior (``priors``). Modalities are a list of arrays ``xs`` (one (B, D_s) array
each) plus a boolean mask (B, M) of the modalities that are present; absent slots are replaced by
zeros before encoding (``jnp.where``), so whatever they hold (NaN included) never reaches a
result.

``MultimodalVAE`` is assembled from built modules: ``builders.build_vae`` builds them from parts
(encoder and decoder builders, aggregator, latent layout, prior) after checking that the parts
fit together, and ``MultimodalVAE`` checks again at construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from flax import nnx

from mmvae_nb.models.aggregators.shared import Aggregator
from mmvae_nb.models.priors import PRIVATE_GMM_REFUSAL, GaussianMixturePrior


def check_likelihood_weights(weights: Sequence[float] | None, num_modalities: int):
    """The weights w_s as a tuple of floats (all 1 for ``None``); a ``ValueError`` unless there
    are ``num_modalities`` of them, all positive."""
    weights = tuple(float(w) for w in (weights or (1.0,) * num_modalities))
    if len(weights) != num_modalities or min(weights) <= 0:
        raise ValueError(f"need {num_modalities} positive likelihood_weights, got {weights}")
    return weights


class MultimodalVAE(nnx.Module):
    """Modality-specific encoders h_s, a permutation-invariant aggregator, decoders and a prior.

    ``encoders[s]`` maps x_s (B, D_s) to its embedding (B, E); ``aggregator`` (an
    ``aggregators`` entry) maps the embeddings (B, M, E) and a mask to q(z | x_S);
    ``decoders[s]`` has ``mean(z)`` and ``log_prob(x_s, z)`` on the latent coordinates it reads;
    ``prior`` has ``log_prob(z)`` and ``replace_empty(q, mask)`` on the full latent.

    With an aggregator with private latents (App. F, eq. 10) the latent is
    z = (z', z~_1, ..., z~_M), shared z' of dimension ``aggregator.shared_dim`` and private z~_s
    of dimension ``aggregator.private_dim``; decoder s reads (z', z~_s) only.

    ``likelihood_weights`` w_s scale each log p(x_s | z) inside the training bounds only (App. Q:
    MNIST-SVHN-Text re-weights modalities by their dimensions); log-likelihood estimates and
    rate/distortion terms always use the unweighted model.
    """

    def __init__(
        self,
        encoders: Sequence[nnx.Module],
        aggregator: Aggregator,
        decoders: Sequence[nnx.Module],
        prior: nnx.Module,
        *,
        likelihood_weights: Sequence[float] | None = None,
    ):
        num_modalities = len(encoders)
        if num_modalities == 0:
            raise ValueError("no encoders: a multi-modal VAE needs modalities")
        if len(decoders) != num_modalities:
            raise ValueError(f"{len(decoders)} decoders for {num_modalities} encoders")
        weights = check_likelihood_weights(likelihood_weights, num_modalities)
        self.shared_dim, self.private_dim = aggregator.shared_dim, aggregator.private_dim
        self.latent_dim = self.shared_dim + num_modalities * self.private_dim
        if prior.latent_dim != self.latent_dim:
            raise ValueError(
                f"the prior is on R^{prior.latent_dim}, the aggregator's latent on "
                f"R^{self.latent_dim}"
            )
        if self.private_dim and isinstance(prior, GaussianMixturePrior):
            raise ValueError(PRIVATE_GMM_REFUSAL)
        self.likelihood_weights = weights
        self.encoders = nnx.List(list(encoders))
        self.aggregator = aggregator
        self.decoders = nnx.List(list(decoders))
        self.prior = prior

    @property
    def num_modalities(self) -> int:
        return len(self.encoders)

    @property
    def decode_once(self) -> bool:
        """Whether ``objectives.bounds.masked_bound`` decodes each modality once per stratum for
        both of its terms (``objectives.decode_once``): the aggregator's ``decode_once``."""
        return self.aggregator.decode_once

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

    def log_likelihood(self, xs, z, mask, reweight: bool = False, modalities=None):
        """sum_{s in mask} log p(x_s | z): ``z`` (B, ..., D) -> (B, ...); each term times w_s
        (``likelihood_weights``) when ``reweight`` (the training bounds). ``modalities``, when
        given, is a static tuple holding every s the mask can mark: the other decoders, whose
        terms the mask zeroes, are not evaluated (the same sum, a smaller program)."""
        total = 0.0
        for s, (dec, x) in enumerate(zip(self.decoders, xs)):
            if modalities is not None and s not in modalities:
                continue
            clean = jnp.where(mask[:, s, None], x, 0.0)  # NaN-safe in the backward pass too
            m = mask[:, s].reshape(mask.shape[:1] + (1,) * (z.ndim - 2))
            term = dec.log_prob(clean, self.decoder_latents(z, s))
            if reweight and self.likelihood_weights[s] != 1.0:
                term = self.likelihood_weights[s] * term
            total = total + jnp.where(m, term, 0.0)
        return total

    def loading_matrices(self):
        """Each linear decoder's (W_s (D_s, D), b_s) in the full latent space (zeros where
        unread)."""
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
