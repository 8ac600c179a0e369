"""Builders of ``MultimodalVAE``s: ``build_vae`` from parts, and the MLP preset ``mlp_vae``.

``build_vae`` takes one encoder builder and one decoder builder per modality, an
``AggregatorConfig``, a ``LatentLayout`` (shared D', private D~ per modality, App. F) and a
``PriorConfig``. It derives the embedding width of h_s from the aggregator's registry entry
(2 (D' + D~) for the Gaussian experts of PoE/MoE/MoPoE, the configured pooling width for the
learned aggregators; Tables 17-19, 21), checks that the parts fit together before creating any
parameter, and builds the modules in a fixed order (encoders, aggregator, decoders, prior),
which fixes how they draw from ``rngs``: same parts and key, same initial parameters.

``mlp_vae`` is the preset of Sections 5.1-5.2: MLP encoders (Tables 17-20) and linear (App. M) or
MLP (``decoders.MLPDecoder``) decoders; ``mlp_encoders``, ``linear_decoders`` and
``mlp_decoders`` are its parts, for ``build_vae`` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax.numpy as jnp
from flax import nnx

from mmvae_nb.models.aggregators import aggregator_spec, check_aggregator, make_aggregator
from mmvae_nb.models.decoders import LIKELIHOODS, LinearGaussianDecoder, MLPDecoder
from mmvae_nb.models.nets import MLP
from mmvae_nb.models.priors import check_prior, make_prior
from mmvae_nb.models.vae import MultimodalVAE, check_likelihood_weights

DECODERS = ("linear", "mlp")
# a part builder: ``build(width, rngs=rngs) -> nnx.Module`` (the embedding width for an encoder,
# the width of the latent coordinates (z', z~_s) it reads for a decoder)
Builder = Callable[..., nnx.Module]


@dataclass(frozen=True)
class LatentLayout:
    """z = (z', z~_1, ..., z~_M): shared z' in R^``shared`` (D') and, with ``private`` = D~ > 0,
    a private z~_s in R^D~ per modality (App. F, eq. 10; needs a permutation-equivariant
    aggregator)."""

    shared: int
    private: int = 0

    def __post_init__(self):
        if self.shared <= 0 or self.private < 0:
            raise ValueError(
                f"latent dimensions must be positive: shared={self.shared}, private={self.private}"
            )

    @property
    def decoder_dim(self) -> int:
        """D' + D~: the coordinates (z', z~_s) that decoder s reads."""
        return self.shared + self.private

    @property
    def expert_width(self) -> int:
        """2 (D' + D~): a Gaussian expert's mean and log-std on (z', z~_s)."""
        return 2 * self.decoder_dim

    def total(self, num_modalities: int) -> int:
        """D' + M D~: the dimension of the full latent z (the prior's)."""
        return self.shared + num_modalities * self.private


@dataclass(frozen=True)
class AggregatorConfig:
    """An aggregator by its registry name (``aggregators.AGGREGATORS``), the keyword
    ``options`` its entry accepts (e.g. ``hidden_dim``, ``num_components``), and
    ``pooling_width``: the embedding width of h_s when the aggregation is learned (SumPooling,
    SelfAttention and their variants; Table 19a: 128; Table 21: 256, 128 with private latents),
    unset: 2 (D' + D~). Expert aggregators (PoE, MoE, MoPoE) do not use it: their h_s is a
    Gaussian's mean and log-std, 2 (D' + D~) wide (``embedding_width``)."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    pooling_width: int | None = None


@dataclass(frozen=True)
class PriorConfig:
    """p(z): ``"standard"`` N(0, I), or ``"gmm"``, a learned mixture of ``components``
    Gaussians (App. J; shared latents only)."""

    name: str = "standard"
    components: int = 5


def embedding_width(aggregator: AggregatorConfig, latents: LatentLayout) -> int:
    """The width of h_s, from the aggregator's registry entry: 2 (D' + D~) for an expert
    aggregator (``AggregatorSpec.expert_embedding``: a Gaussian's mean and log-std on (z',
    z~_s)), ``aggregator.pooling_width`` (unset: 2 (D' + D~)) for a learned one."""
    if aggregator_spec(aggregator.name).expert_embedding or aggregator.pooling_width is None:
        return latents.expert_width
    return aggregator.pooling_width


def _check_parts(
    encoders: Sequence[Builder],
    decoders: Sequence[Builder],
    aggregator: AggregatorConfig,
    latents: LatentLayout,
    prior: PriorConfig,
    likelihood_weights: Sequence[float] | None = None,
) -> None:
    """The ``ValueError`` for parts that do not fit together, raised before anything is built:
    no modalities, a decoder or likelihood weight count that is not the encoders', an
    aggregator that refuses the layout or its options (private latents need a
    permutation-equivariant one, App. F), an unknown prior, or a mixture prior with private
    latents."""
    if not encoders:
        raise ValueError("no encoders: a multi-modal VAE needs modalities")
    if len(decoders) != len(encoders):
        raise ValueError(f"{len(decoders)} decoders for {len(encoders)} encoders")
    check_likelihood_weights(likelihood_weights, len(encoders))
    check_aggregator(
        aggregator.name,
        latents.shared,
        embedding_width(aggregator, latents),
        private_dim=latents.private,
        **aggregator.options,
    )
    check_prior(prior.name, num_components=prior.components, private_dim=latents.private)


def build_vae(
    encoders: Sequence[Builder],
    decoders: Sequence[Builder],
    aggregator: AggregatorConfig,
    latents: LatentLayout,
    *,
    rngs: nnx.Rngs,
    prior: PriorConfig = PriorConfig(),
    likelihood_weights: Sequence[float] | None = None,
) -> MultimodalVAE:
    """A multi-modal VAE from parts: ``encoders[s](embedding_width, rngs=rngs)`` and
    ``decoders[s](D' + D~, rngs=rngs)`` per modality, the ``aggregator`` on ``latents``, the
    ``prior`` on R^(D' + M D~). ``likelihood_weights`` w_s scale log p(x_s | z) in the training
    bounds (App. Q). The parts are checked first (``_check_parts``), then built in a fixed order:
    encoders, aggregator, decoders, prior."""
    _check_parts(encoders, decoders, aggregator, latents, prior, likelihood_weights)
    width = embedding_width(aggregator, latents)
    built_encoders = [build(width, rngs=rngs) for build in encoders]
    aggregator_module = make_aggregator(
        aggregator.name,
        latents.shared,
        width,
        rngs=rngs,
        private_dim=latents.private,
        **aggregator.options,
    )
    built_decoders = [build(latents.decoder_dim, rngs=rngs) for build in decoders]
    prior_module = make_prior(
        prior.name, latents.total(len(encoders)), rngs=rngs, num_components=prior.components
    )
    return MultimodalVAE(
        built_encoders,
        aggregator_module,
        built_decoders,
        prior_module,
        likelihood_weights=likelihood_weights,
    )


def mlp_encoders(modality_dims: Sequence[int], hidden: Sequence[int]) -> list[Builder]:
    """One MLP encoder builder per modality: D_s -> ``hidden`` (ReLU) -> h_s (Tables 17-20:
    512, 512 for PoE/MoE, 256, 256 otherwise)."""
    return [partial(MLP, d, list(hidden)) for d in modality_dims]


def _per_modality_noise(noise_std, num_modalities: int) -> list:
    """A fixed decoder scale per modality (a scalar is shared), or ``None`` each (learned)."""
    if noise_std is None:
        return [None] * num_modalities
    return list(jnp.broadcast_to(jnp.asarray(noise_std), (num_modalities,)))


def linear_decoders(
    modality_dims: Sequence[int], noise_std=1.0, feature_masks: Sequence | None = None
) -> list[Builder]:
    """One linear-Gaussian decoder builder per modality (App. M): fixed ``noise_std`` (scalar or
    per modality); ``feature_masks`` mark the real features of zero-padded modalities."""
    noise = _per_modality_noise(noise_std, len(modality_dims))
    masks = list(feature_masks) if feature_masks is not None else [None] * len(modality_dims)
    return [
        partial(LinearGaussianDecoder, out_dim=d, noise_std=sigma, feature_mask=mask)
        for d, sigma, mask in zip(modality_dims, noise, masks)
    ]


def mlp_decoders(
    modality_dims: Sequence[int], likelihoods: Sequence[str], noise_std=1.0
) -> list[Builder]:
    """One ``MLPDecoder`` builder per modality (Section 5.2) with its likelihood, and a fixed
    scale (``noise_std``, scalar or per modality) or, with ``None``, learned scales."""
    noise = _per_modality_noise(noise_std, len(modality_dims))
    return [
        partial(MLPDecoder, out_dim=d, likelihood=lik, noise_std=sigma)
        for d, lik, sigma in zip(modality_dims, likelihoods, noise)
    ]


def _preset_decoders(dims, decoder, likelihoods, noise_std, feature_masks) -> list[Builder]:
    """``mlp_vae``'s decoders of kind ``decoder`` (``DECODERS``), after checking its options."""
    if decoder not in DECODERS:
        raise ValueError(f"unknown decoder {decoder!r}; choose one of {DECODERS}")
    likelihoods = tuple(likelihoods or ("gaussian",) * len(dims))
    if len(likelihoods) != len(dims):
        raise ValueError(f"{len(likelihoods)} likelihoods for {len(dims)} modalities")
    unknown = sorted(set(likelihoods) - set(LIKELIHOODS))
    if unknown:
        raise ValueError(f"unknown likelihood(s) {unknown}; choose from {LIKELIHOODS}")
    if decoder == "linear":
        if set(likelihoods) != {"gaussian"} or noise_std is None:
            raise ValueError("linear decoders are Gaussian with a fixed noise_std")
        return linear_decoders(dims, noise_std, feature_masks)
    return mlp_decoders(dims, likelihoods, noise_std)


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
) -> MultimodalVAE:
    """``build_vae`` with MLP encoders (``mlp_encoders``, hidden widths ``encoder_hidden``) and
    linear or MLP decoders (``decoder``; ``likelihoods``, default Gaussian; ``noise_std`` fixed,
    scalar or per modality, or ``None`` for learned scales, MLP decoders only;
    ``feature_masks`` for zero-padded linear decoders), on D' = ``latent_dim`` and D~ =
    ``private_latent_dim`` (App. F), the aggregator ``aggregator`` with
    ``aggregator_options``, and the prior ``prior`` (``prior_components`` for ``"gmm"``, App.
    J). ``embedding_dim`` overrides the derived width of h_s (``embedding_width``); an expert
    aggregator refuses any other than 2 (D' + D~). Models with other encoders or decoders (the
    convolutional ones) are built with ``build_vae``."""
    dims = tuple(int(d) for d in modality_dims)
    if not dims:
        raise ValueError("modality_dims is empty: a multi-modal VAE needs modalities")
    if min(dims) <= 0:
        raise ValueError(f"dimensions must be positive: modality_dims={dims}")
    options = aggregator_options or {}
    if embedding_dim is not None:  # an explicit width of h_s must fit the aggregator
        check_aggregator(
            aggregator, latent_dim, embedding_dim, private_dim=private_latent_dim, **options
        )
    return build_vae(
        mlp_encoders(dims, encoder_hidden),
        _preset_decoders(dims, decoder, likelihoods, noise_std, feature_masks),
        AggregatorConfig(aggregator, options, embedding_dim),
        LatentLayout(latent_dim, private_latent_dim),
        rngs=rngs,
        prior=PriorConfig(prior, prior_components),
        likelihood_weights=likelihood_weights,
    )
