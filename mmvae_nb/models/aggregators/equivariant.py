"""Permutation-equivariant encoders for shared + private latents (App. F, Examples 16-18).

The latent is z = (z', z~_1, ..., z~_M): a shared z' in R^{D'} and one private z~_s in R^{D~}
per modality, with prior N(0, I) on all of them and decoders p(x_s | z', z~_s). The encoding
distribution factorises as

    q(z', z~ | x_S) = q(z' | x_S) prod_{s in S} q(z~_s | z', x_S) prod_{s not in S} p(z~_s),

a permutation-invariant aggregation for z' and a permutation-*equivariant* one for the private
latents of the modalities in S; private latents of modalities outside S are drawn from the prior
(their posterior given x_S is the prior, eq. 12). Three variants:

* ``PoE (equivariant)`` (Example 16): PoE for z', each z~_s from its own uni-modal expert;
* ``SumPooling (equivariant)`` (Example 17):
  z~_s ~ N(rho~(sum_{t in S} chi_0(h_t) + chi_1(z') + chi_2(h_s)));
* ``SelfAttention (equivariant)`` (Example 18): z~_s from a masked transformer over
  g^0_s = chi_1(h_s) + chi_2(z'), s in S.

The last two condition the private latents on a *sample* of z', so their q is hierarchical
(``SharedPrivatePosterior``); its ``stop_gradient`` evaluates the private head with stopped
parameters but a live z', as Algorithm 2's STL rule needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from flax import nnx

from mmvae_nb.models.aggregators.shared import (
    Aggregator,
    SelfAttention,
    SumPooling,
    gaussian_from_embedding,
    masked_sum,
    product_of_experts,
)
from mmvae_nb.models.distributions import (
    GaussianMixture,
    gaussian_log_prob,
    gaussian_sample,
    single_gaussian,
)
from mmvae_nb.models.nets import MLP, SetTransformer


def _private_or_prior(mean, var, mask):
    """Private parameters for s in S, N(0, I) for s not in S; mask (B, M) -> (B, 1.., M, 1)."""
    m = mask.reshape(mask.shape[:1] + (1,) * (mean.ndim - 3) + mask.shape[1:] + (1,))
    return jnp.where(m, mean, 0.0), jnp.where(m, var, 1.0)


@dataclass(frozen=True)
class SharedPrivatePosterior:
    """q(z' | x_S) q(z~_S | z', x_S) p(z~_{not S}) with z = concat(z', z~_1, ..., z~_M).

    ``private(z_shared)`` maps z' of shape (B, K, D') to private means and variances
    (B, K, M, D~); ``private_stopped`` is the same map with stopped variational parameters.
    Implements ``distributions.Posterior`` like ``GaussianMixture``.
    """

    shared: GaussianMixture
    private: Callable
    private_stopped: Callable
    mask: jax.Array

    @property
    def log_weights(self):
        return self.shared.log_weights

    @property
    def shared_dim(self) -> int:
        return self.shared.mean.shape[-1]

    def _complete(self, key, z_shared):
        mean, var = _private_or_prior(*self.private(z_shared), self.mask)
        z_private = gaussian_sample(key, mean, var)
        return jnp.concatenate([z_shared, z_private.reshape(z_shared.shape[:-1] + (-1,))], -1)

    def sample_stratified(self, key):
        k_shared, k_private = jax.random.split(key)
        return self._complete(k_private, self.shared.sample_stratified(k_shared))

    def sample(self, key):
        k_shared, k_private = jax.random.split(key)
        z = self._complete(k_private, self.shared.sample(k_shared)[:, None])
        return z[:, 0]

    def log_prob(self, z):
        """log q(z | x_S) for z of shape (B, K, D) -> (B, K)."""
        z_shared = z[..., : self.shared_dim]
        mean, var = _private_or_prior(*self.private(z_shared), self.mask)
        z_private = z[..., self.shared_dim :].reshape(mean.shape)
        private = jnp.sum(gaussian_log_prob(z_private, mean, var), axis=-1)
        return self.shared.log_prob(z_shared) + private

    def expected_value(self):
        """(E[z'], mean of q(z~ | E[z'], x_S)): exact for z' and for PoE's independent
        privates; for the hierarchical heads the private part is the conditional mean at the
        shared mean (a point summary, used for plots, never in a bound)."""
        shared = self.shared.expected_value()
        mean, _ = _private_or_prior(*self.private(shared[:, None]), self.mask)
        return jnp.concatenate([shared, mean[:, 0].reshape(shared.shape[:1] + (-1,))], -1)

    def stop_gradient(self) -> SharedPrivatePosterior:
        return SharedPrivatePosterior(
            self.shared.stop_gradient(), self.private_stopped, self.private_stopped, self.mask
        )


def _stopped(module: nnx.Module) -> nnx.Module:
    """A copy of ``module`` whose parameters carry no gradient."""
    graphdef, state = nnx.split(module)
    return nnx.merge(graphdef, jax.tree.map(jax.lax.stop_gradient, state))


class PoEEquivariant(Aggregator):
    """Example 16: embeddings [mu', log-std', mu~, log-std~]; PoE for z', experts for z~_s."""

    def __init__(self, shared_dim, private_dim, embedding_dim, *, rngs):
        self.shared_dim, self.private_dim = shared_dim, private_dim

    def pool(self, tokens, mask) -> GaussianMixture:
        d = self.shared_dim
        mean_s, var_s = gaussian_from_embedding(tokens[..., : 2 * d], d)
        mean_p, var_p = _private_or_prior(
            *gaussian_from_embedding(tokens[..., 2 * d :], self.private_dim), mask
        )
        shared_mean, shared_var = product_of_experts(mean_s, var_s, mask)
        flat = mean_p.shape[:1] + (-1,)
        return single_gaussian(
            jnp.concatenate([shared_mean, mean_p.reshape(flat)], -1),
            jnp.concatenate([shared_var, var_p.reshape(flat)], -1),
        )


class SumPoolingPrivateHead(nnx.Module):
    """rho~(pooled + chi_1(z') + chi_2-token) -> [mu~, log-std~] for every modality."""

    def __init__(self, shared_dim, private_dim, hidden_dim, *, rngs):
        self.private_dim = private_dim
        self.latent_net = MLP(shared_dim, [hidden_dim, hidden_dim], hidden_dim, rngs=rngs)
        self.outer = MLP(hidden_dim, [hidden_dim, hidden_dim], 2 * private_dim, rngs=rngs)

    def __call__(self, z_shared, pooled, own_tokens, mask):
        # z_shared (B, K, D'), pooled (B, P), own_tokens (B, M, P) -> (B, K, M, D~) x 2
        own_tokens = jnp.where(mask[..., None], own_tokens, 0.0)
        pre = self.latent_net(z_shared)[:, :, None] + (pooled[:, None] + own_tokens)[:, None]
        return gaussian_from_embedding(self.outer(pre), self.private_dim)


class SumPoolingEquivariant(Aggregator):
    """Example 17: SumPooling for z'; equivariant Deep-Sets head for z~_S given z'."""

    def __init__(self, shared_dim, private_dim, embedding_dim, *, rngs, hidden_dim=128):
        self.shared_dim, self.private_dim = shared_dim, private_dim
        self.shared = SumPooling(shared_dim, embedding_dim, rngs=rngs, hidden_dim=hidden_dim)
        self.own = MLP(embedding_dim, [hidden_dim, hidden_dim], hidden_dim, rngs=rngs)
        self.head = SumPoolingPrivateHead(shared_dim, private_dim, hidden_dim, rngs=rngs)

    def tokens(self, h):
        return self.shared.tokens(h), self.own(h)

    def pool(self, tokens, mask) -> SharedPrivatePosterior:
        pool_tokens, own_tokens = tokens
        pooled = masked_sum(pool_tokens, mask)
        stopped_head = _stopped(self.head)
        sg = jax.lax.stop_gradient
        return SharedPrivatePosterior(
            self.shared.pool(pool_tokens, mask),
            lambda z: self.head(z, pooled, own_tokens, mask),
            lambda z: stopped_head(z, sg(pooled), sg(own_tokens), mask),
            mask,
        )


class SelfAttentionPrivateHead(nnx.Module):
    """Masked transformer over g^0_s = chi_1(h_s) + chi_2(z'), then Dense -> [mu~, log-std~]."""

    def __init__(self, shared_dim, private_dim, hidden_dim, *, rngs, num_heads=4, num_layers=1):
        self.private_dim = private_dim
        self.latent_net = MLP(shared_dim, [hidden_dim], hidden_dim, rngs=rngs)
        self.transformer = SetTransformer(hidden_dim, num_heads, num_layers, rngs=rngs)
        self.out = nnx.Linear(hidden_dim, 2 * private_dim, rngs=rngs)

    def __call__(self, z_shared, own_tokens, mask):
        b, k = z_shared.shape[:2]
        own_tokens = jnp.where(mask[..., None], own_tokens, 0.0)  # absent: no NaN
        g = self.latent_net(z_shared)[:, :, None] + own_tokens[:, None]  # (B, K, M, P)
        g = self.transformer(g.reshape((b * k,) + g.shape[2:]), jnp.repeat(mask, k, axis=0))
        out = self.out(g).reshape((b, k) + g.shape[1:2] + (-1,))
        return gaussian_from_embedding(out, self.private_dim)


class SelfAttentionEquivariant(Aggregator):
    """Example 18: SelfAttention for z'; equivariant transformer head for z~_S given z'."""

    def __init__(
        self,
        shared_dim,
        private_dim,
        embedding_dim,
        *,
        rngs,
        hidden_dim=128,
        num_heads=4,
        num_layers=1,
    ):
        self.shared_dim, self.private_dim = shared_dim, private_dim
        self.shared = SelfAttention(
            shared_dim,
            embedding_dim,
            rngs=rngs,
            hidden_dim=hidden_dim,
            num_heads=num_heads,
            num_layers=num_layers,
        )
        self.own = MLP(embedding_dim, [hidden_dim], hidden_dim, rngs=rngs)
        self.head = SelfAttentionPrivateHead(
            shared_dim,
            private_dim,
            hidden_dim,
            rngs=rngs,
            num_heads=num_heads,
            num_layers=num_layers,
        )

    def tokens(self, h):
        return self.shared.tokens(h), self.own(h)

    def pool(self, tokens, mask) -> SharedPrivatePosterior:
        shared_tokens, own_tokens = tokens
        stopped_head = _stopped(self.head)
        return SharedPrivatePosterior(
            self.shared.pool(shared_tokens, mask),
            lambda z: self.head(z, own_tokens, mask),
            lambda z: stopped_head(z, jax.lax.stop_gradient(own_tokens), mask),
            mask,
        )
