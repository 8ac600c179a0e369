"""Builders of ``MultimodalVAE``s from sizes, for the MLP models of Sections 5.1 and 5.2.

``mlp_vae`` builds the modules in a fixed order (encoders, aggregator, decoders, prior), which
fixes how they draw from ``rngs``: same arguments and key, same initial parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import jax.numpy as jnp
from flax import nnx

from mmvae_nb.models.aggregators import make_aggregator
from mmvae_nb.models.decoders import LIKELIHOODS, LinearGaussianDecoder, MLPDecoder
from mmvae_nb.models.nets import MLP
from mmvae_nb.models.priors import make_prior
from mmvae_nb.models.vae import MultimodalVAE

DECODERS = ("linear", "mlp")


def mlp_vae(
    modality_dims: Sequence[int],
    latent_dim: int,
    aggregator: str,
    *,
    rngs: nnx.Rngs,
    encoder_hidden: Sequence[int] = (256, 256),
    embedding_dim: int | None = None,
    aggregator_options: dict | None = None,
    decoder: str = "linear",
    likelihoods: Sequence[str] | None = None,
    noise_std=1.0,
    feature_masks: Sequence | None = None,
    private_latent_dim: int = 0,
    prior: str = "standard",
    prior_components: int = 5,
    likelihood_weights: Sequence[float] | None = None,
    encoders: Sequence[Callable] | None = None,
    decoders: Sequence[Callable] | None = None,
) -> MultimodalVAE:
    """A multi-modal VAE with MLP encoders (hidden widths ``encoder_hidden``; Table 17a: 512, 512
    for PoE/MoE, 256, 256 otherwise) and linear (App. M) or MLP (``decoders.MLPDecoder``)
    decoders.

    ``embedding_dim`` (default 2 (D' + D~)) is the width of h_s; PoE/MoE need exactly that (the
    experts' mean and log-std), the learned aggregators take any width (Table 19a: 128).
    ``aggregator_options`` go to the aggregator (its registry entry lists what it accepts).
    ``likelihoods`` gives each modality's likelihood (default Gaussian); ``noise_std`` is a fixed
    decoder scale (scalar or per modality), or ``None`` for learned scales (MLP decoders only);
    ``feature_masks`` marks the real features of zero-padded linear decoders. ``prior`` is
    ``"standard"`` or ``"gmm"`` (``prior_components`` components, App. J).
    ``encoders`` / ``decoders`` replace the MLP encoders / the ``decoder`` kind with one builder
    per modality: ``encoders[s](embedding_dim, rngs=rngs)`` and ``decoders[s](decoder_input_dim,
    rngs=rngs)``. With ``private_latent_dim`` = D~ > 0 the aggregator must be a
    permutation-equivariant one (App. F).
    """
    if len(modality_dims) == 0:
        raise ValueError("modality_dims is empty: a multi-modal VAE needs modalities")
    if min(modality_dims) <= 0 or latent_dim <= 0 or private_latent_dim < 0:
        raise ValueError(
            f"dimensions must be positive: modality_dims={tuple(modality_dims)}, "
            f"latent_dim={latent_dim}, private_latent_dim={private_latent_dim}"
        )
    if decoder not in DECODERS:
        raise ValueError(f"unknown decoder {decoder!r}; choose one of {DECODERS}")
    dims = tuple(int(d) for d in modality_dims)
    num_modalities = len(dims)
    likelihoods = tuple(likelihoods or ("gaussian",) * num_modalities)
    if len(likelihoods) != num_modalities:
        raise ValueError(f"{len(likelihoods)} likelihoods for {num_modalities} modalities")
    unknown = sorted(set(likelihoods) - set(LIKELIHOODS))
    if unknown:
        raise ValueError(f"unknown likelihood(s) {unknown}; choose from {LIKELIHOODS}")
    if decoder == "linear" and (set(likelihoods) != {"gaussian"} or noise_std is None):
        raise ValueError("linear decoders are Gaussian with a fixed noise_std")
    for builders, kind in ((encoders, "encoders"), (decoders, "decoders")):
        if builders is not None and len(builders) != num_modalities:
            raise ValueError(f"{len(builders)} {kind} for {num_modalities} modalities")
    if embedding_dim is None:
        embedding_dim = 2 * (latent_dim + private_latent_dim)
    if encoders is None:
        encoders = [partial(MLP, d, list(encoder_hidden)) for d in dims]
    built_encoders = [build(embedding_dim, rngs=rngs) for build in encoders]
    aggregator_module = make_aggregator(
        aggregator,
        latent_dim,
        embedding_dim,
        rngs=rngs,
        private_dim=private_latent_dim,
        **(aggregator_options or {}),
    )
    noise = [None] * num_modalities
    if noise_std is not None:
        noise = list(jnp.broadcast_to(jnp.asarray(noise_std), (num_modalities,)))
    masks = list(feature_masks) if feature_masks is not None else [None] * num_modalities
    decoder_input = latent_dim + private_latent_dim
    if decoders is not None:
        built_decoders = [build(decoder_input, rngs=rngs) for build in decoders]
    elif decoder == "linear":
        built_decoders = [
            LinearGaussianDecoder(decoder_input, d, noise[s], rngs=rngs, feature_mask=masks[s])
            for s, d in enumerate(dims)
        ]
    else:
        built_decoders = [
            MLPDecoder(decoder_input, d, rngs=rngs, likelihood=lik, noise_std=sigma)
            for d, lik, sigma in zip(dims, likelihoods, noise)
        ]
    total_latent = latent_dim + num_modalities * private_latent_dim
    prior_module = make_prior(prior, total_latent, rngs=rngs, num_components=prior_components)
    return MultimodalVAE(
        built_encoders,
        aggregator_module,
        built_decoders,
        prior_module,
        likelihood_weights=likelihood_weights,
    )
