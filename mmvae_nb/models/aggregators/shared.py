"""Multi-modal aggregation: from per-modality embeddings h (B, M, E) and a modality mask (B, M)
to the encoding distribution q(z | x_S) (Section 3, App. E).

Every aggregator has one signature, ``aggregator(h, mask) -> GaussianMixture``; ``mask[b, s]``
says whether modality s is in the conditioning set S of example b. The work that does not depend
on the mask is split out as ``aggregator.tokens(h)`` (e.g. the inner network chi of SumPooling,
applied to each modality), so that a bound that needs q(z | x_S) and q(z | x_M) computes it
once: ``aggregator(h, mask) == aggregator.pool(aggregator.tokens(h), mask)``.

Absent modalities never contribute (``jnp.where``, so NaNs in absent slots cannot leak), and an
empty S gives the prior N(0, I). The registry (``mmvae_nb.models.aggregators.AGGREGATORS``)
builds one from the paper's name; the private-latent variants are in ``equivariant``.

The embedding of a modality for PoE/MoE is the (mean, log-std) pair of its uni-modal Gaussian
expert; std = min_std + exp(log-std), as in the paper's official code (min_std = 1e-3).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from mmvae_nb.models.distributions import (
    MIN_STD,
    GaussianMixture,
    select_where,
    single_gaussian,
    standard_normal_like,
)
from mmvae_nb.models.nets import MLP, SetTransformer

MAX_LOG_STD = 20.0


def gaussian_from_embedding(h, latent_dim: int):
    """Split (..., 2D) into mean and variance; std = MIN_STD + exp(min(log-std, MAX_LOG_STD)).

    The cap (std <= e^20) never binds for a component in use; it keeps the variance of an
    unused mixture component, whose outputs drift with the shared network, finite in float32.
    """
    mean, log_std = h[..., :latent_dim], h[..., latent_dim : 2 * latent_dim]
    return mean, (MIN_STD + jnp.exp(jnp.minimum(log_std, MAX_LOG_STD))) ** 2


MEAN_WEIGHTINGS = ("precision", "variance")


def _check_mean_weighting(mean_weighting: str) -> None:
    if mean_weighting not in MEAN_WEIGHTINGS:
        raise ValueError(
            f"unknown mean_weighting {mean_weighting!r}; choose one of {MEAN_WEIGHTINGS}"
        )


def product_of_experts(mean, var, mask, mean_weighting: str = "precision"):
    """Product of Gaussian experts with a standard-normal prior expert (Section 3).

    p(z) prod_{s in S} N(z; mu_s, diag var_s) is proportional to N(mu, diag v) with
        1 / v = 1 + sum_{s in S} 1 / var_s,    mu = v * sum_{s in S} mu_s / var_s.
    ``mean_weighting="variance"`` computes the numerator as sum_{s in S} mu_s * var_s, as the
    paper's code does (``encoding_models.PoE``): not the product of the experts, kept as a
    named option to test whether it explains the paper's PoE numbers.
    ``mean``, ``var``: (B, M, D); ``mask``: (B, M) bool. Returns ``(mu, v)`` of shape (B, D).
    """
    _check_mean_weighting(mean_weighting)
    m = mask[..., None]
    precision = 1.0 + jnp.sum(jnp.where(m, 1.0 / var, 0.0), axis=-2)
    weights = 1.0 / var if mean_weighting == "precision" else var
    weighted = jnp.sum(jnp.where(m, mean * weights, 0.0), axis=-2)
    return weighted / precision, 1.0 / precision


def mixture_of_experts(mean, var, mask) -> GaussianMixture:
    """Uniform mixture over the experts in S: (1/|S|) sum_{s in S} N(mu_s, var_s) (Section 3).

    Experts of absent modalities get weight 0 (log-weight -inf) and neutral parameters. With
    S empty the mixture is the prior: component 0 becomes N(0, I) with weight 1.
    """
    count = jnp.sum(mask, axis=-1, keepdims=True)
    empty = count == 0
    log_w = jnp.where(mask, -jnp.log(jnp.maximum(count, 1)), -jnp.inf)
    first = jnp.arange(mask.shape[-1]) == 0
    log_w = jnp.where(empty & first, 0.0, log_w)
    use = mask[..., None]
    return GaussianMixture(log_w, jnp.where(use, mean, 0.0), jnp.where(use, var, 1.0))


def nonempty_subsets(num_modalities: int) -> jnp.ndarray:
    """Every non-empty subset A of the M modalities as a (2^M - 1, M) bool array, in binary
    order (row k - 1 holds the bits of k)."""
    codes = jnp.arange(1, 2**num_modalities)[:, None]
    return (codes >> jnp.arange(num_modalities)) & 1 == 1


def mixture_of_products(mean, var, mask) -> GaussianMixture:
    """MoPoE (Sutter et al. 2021): the uniform mixture over the non-empty subsets A of S of
    PoE(z | x_A), each a product of the experts in A with the N(0, I) prior expert
    (``product_of_experts``):
        q(z | x_S) = 1 / (2^|S| - 1) sum_{{} != A subset S} PoE(z | x_A).
    Components are all 2^M - 1 non-empty subsets (``nonempty_subsets``); those with a modality
    outside S get weight 0. With S empty it is the prior (component 0 becomes N(0, I)).
    ``mean``, ``var``: (B, M, D); ``mask``: (B, M). Returns K = 2^M - 1 components."""
    subsets = nonempty_subsets(mask.shape[-1])  # (K, M)
    inside = ~jnp.any(subsets & ~mask[..., None, :], axis=-1)  # (B, K): A subset of S
    poe = jax.vmap(product_of_experts, in_axes=(None, None, 0), out_axes=-2)
    # each product sees only modalities of S (A & S), so an absent slot enters no arithmetic
    # (NaN-safe in the backward pass too); components with A outside S get weight 0 below
    mu, v = poe(mean, var, jnp.swapaxes(subsets[None] & mask[:, None, :], 0, 1))
    count = jnp.sum(inside, axis=-1, keepdims=True)
    log_w = jnp.where(inside, -jnp.log(jnp.maximum(count, 1)), -jnp.inf)
    first = jnp.arange(len(subsets)) == 0
    log_w = jnp.where((count == 0) & first, 0.0, log_w)
    use = inside[..., None]
    return GaussianMixture(log_w, jnp.where(use, mu, 0.0), jnp.where(use, v, 1.0))


def _prior_if_empty(q: GaussianMixture, mask) -> GaussianMixture:
    empty = ~jnp.any(mask, axis=-1)
    return select_where(empty, standard_normal_like(q.mean[..., 0, :]), q)


def posterior_from_features(features, latent_dim: int, num_components: int = 1):
    """The encoding distribution from the outer network's output (Section 4.2, Table 19b).

    K = 1: features are (mean, log-std), 2D of them. K > 1 (the *Mixture* aggregators): K
    mixture logits followed by K blocks of (mean, log-std), (1 + 2D) K features, as in the
    official code's SumPoolingMixture / SelfAttentionMixture.
    """
    if num_components == 1:
        return single_gaussian(*gaussian_from_embedding(features, latent_dim))
    logits = features[..., :num_components]
    blocks = features[..., num_components:].reshape(
        features.shape[:-1] + (num_components, 2 * latent_dim)
    )
    mean, var = gaussian_from_embedding(blocks, latent_dim)
    return GaussianMixture(jax.nn.log_softmax(logits, axis=-1), mean, var)


def posterior_feature_dim(latent_dim: int, num_components: int = 1) -> int:
    """Output width of the outer network: 2D for a Gaussian, (1 + 2D) K for a K-mixture."""
    return 2 * latent_dim if num_components == 1 else (1 + 2 * latent_dim) * num_components


def masked_sum(g, mask):
    """sum_{s in S} g_s over the modality axis (-2) of g (B, M, P)."""
    return jnp.sum(jnp.where(mask[..., None], g, 0.0), axis=-2)


class Aggregator(nnx.Module):
    """Base class: ``aggregator(h, mask) == pool(tokens(h), mask)``; ``tokens`` defaults to h.

    ``shared_dim`` is the dimension of the shared latent z', ``private_dim`` that of each
    private latent z~_s (0 for the shared-latent aggregators of this module).
    """

    private_dim = 0
    # whether our bound decodes each modality once for both of its terms
    # (``objectives.decode_once``; ``MultimodalVAE.decode_once``)
    decode_once = False

    def tokens(self, h):
        return h

    def pool(self, tokens, mask):
        raise NotImplementedError

    def __call__(self, h, mask):
        return self.pool(self.tokens(h), mask)


class PoE(Aggregator):
    """Product of experts with a N(0, I) prior expert; embeddings are (mean, log-std).
    ``mean_weighting="variance"``: the paper's code's mean (``product_of_experts``)."""

    def __init__(
        self, latent_dim: int, embedding_dim: int, *, rngs: nnx.Rngs, mean_weighting="precision"
    ):
        _check_mean_weighting(mean_weighting)
        self.latent_dim = self.shared_dim = latent_dim
        self.mean_weighting = mean_weighting

    def pool(self, tokens, mask) -> GaussianMixture:
        mean, var = gaussian_from_embedding(tokens, self.latent_dim)
        return single_gaussian(*product_of_experts(mean, var, mask, self.mean_weighting))


class MoE(Aggregator):
    """Uniform mixture of the uni-modal Gaussian experts in S."""

    def __init__(self, latent_dim: int, embedding_dim: int, *, rngs: nnx.Rngs):
        self.latent_dim = self.shared_dim = latent_dim

    def pool(self, tokens, mask) -> GaussianMixture:
        mean, var = gaussian_from_embedding(tokens, self.latent_dim)
        return mixture_of_experts(mean, var, mask)


class MoPoE(Aggregator):
    """Mixture of products of experts over the non-empty subsets of S (``mixture_of_products``;
    Sutter et al. 2021), the relational model's baseline; embeddings are (mean, log-std).
    Our bound decodes each modality once per stratum for both of its terms
    (``objectives.decode_once``): 2^M - 1 passes instead of 2 (2^M - 1)."""

    decode_once = True

    def __init__(self, latent_dim: int, embedding_dim: int, *, rngs: nnx.Rngs):
        self.latent_dim = self.shared_dim = latent_dim

    def pool(self, tokens, mask) -> GaussianMixture:
        mean, var = gaussian_from_embedding(tokens, self.latent_dim)
        return mixture_of_products(mean, var, mask)


class SumPooling(Aggregator):
    """Deep-Sets aggregation (Example 6): [mu, log-std] = rho(sum_{s in S} chi(h_s)).

    chi: E -> P -> P -> P and rho: P -> P -> P -> 2D, ReLU MLPs (Table 17b, c). With
    ``num_components`` K > 1, rho outputs a K-component Gaussian mixture (SumPoolingMixture).
    """

    def __init__(self, latent_dim, embedding_dim, *, rngs, hidden_dim=256, num_components=1):
        self.latent_dim = self.shared_dim = latent_dim
        self.num_components = num_components
        self.inner = MLP(embedding_dim, [hidden_dim, hidden_dim], hidden_dim, rngs=rngs)
        out = posterior_feature_dim(latent_dim, num_components)
        self.outer = MLP(hidden_dim, [hidden_dim, hidden_dim], out, rngs=rngs)

    def tokens(self, h):
        return self.inner(h)

    def pool(self, tokens, mask) -> GaussianMixture:
        features = self.outer(masked_sum(tokens, mask))
        q = posterior_from_features(features, self.latent_dim, self.num_components)
        return _prior_if_empty(q, mask)


class SelfAttention(Aggregator):
    """Set-Transformer aggregation without inducing points (Example 7, App. E).

    g^0 = chi(h) (Dense -> ReLU -> Dense), g^k = MaskedTransformerBlock(g^{k-1}) for k = 1..L,
    then LayerNorm, masked sum over S and rho: P -> P -> P -> 2D (Table 17b-d: 1 layer, 4 heads,
    attention and FFN size P = 256). With ``num_components`` K > 1, rho outputs a K-component
    Gaussian mixture (SelfAttentionMixture).
    """

    def __init__(
        self,
        latent_dim,
        embedding_dim,
        *,
        rngs,
        hidden_dim=256,
        num_heads=4,
        num_layers=1,
        num_components=1,
    ):
        self.latent_dim = self.shared_dim = latent_dim
        self.num_components = num_components
        self.inner = MLP(embedding_dim, [hidden_dim], hidden_dim, rngs=rngs)
        self.transformer = SetTransformer(hidden_dim, num_heads, num_layers, rngs=rngs)
        out = posterior_feature_dim(latent_dim, num_components)
        self.outer = MLP(hidden_dim, [hidden_dim, hidden_dim], out, rngs=rngs)

    def tokens(self, h):
        return self.inner(h)

    def pool(self, tokens, mask) -> GaussianMixture:
        pooled = masked_sum(self.transformer(tokens, mask), mask)
        q = posterior_from_features(self.outer(pooled), self.latent_dim, self.num_components)
        return _prior_if_empty(q, mask)


class SumPoolingMixture(SumPooling):
    """SumPooling whose encoder is a K-component Gaussian mixture (Section 4.2; K = 5)."""

    def __init__(self, latent_dim, embedding_dim, *, rngs, hidden_dim=256, num_components=5):
        super().__init__(
            latent_dim,
            embedding_dim,
            rngs=rngs,
            hidden_dim=hidden_dim,
            num_components=num_components,
        )


class SelfAttentionMixture(SelfAttention):
    """SelfAttention whose encoder is a K-component Gaussian mixture (Section 4.2; K = 5)."""

    def __init__(
        self,
        latent_dim,
        embedding_dim,
        *,
        rngs,
        hidden_dim=256,
        num_heads=4,
        num_layers=1,
        num_components=5,
    ):
        super().__init__(
            latent_dim,
            embedding_dim,
            rngs=rngs,
            hidden_dim=hidden_dim,
            num_heads=num_heads,
            num_layers=num_layers,
            num_components=num_components,
        )
