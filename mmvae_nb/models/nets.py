"""Neural-network building blocks (flax.nnx): MLPs and the masked pre-LN transformer block.

Architectures follow the paper's Tables 17-19 (dense layers with ReLU). Every module here acts
on the last axis, so the same network is applied to each modality token of a ``(B, M, E)``
array, which is what makes the pooling aggregators permutation-invariant.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx


class MLP(nnx.Module):
    """Dense layers ``in -> hidden... -> out`` with an activation between them (ReLU unless
    ``activation`` says otherwise; none after the last unless ``final_activation``)."""

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int],
        out_dim: int,
        *,
        rngs: nnx.Rngs,
        final_activation: bool = False,
        activation=jax.nn.relu,
    ):
        dims = [in_dim, *hidden, out_dim]
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(dims[:-1], dims[1:])])
        self.final_activation = final_activation
        self.activation = activation

    def __call__(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1 or self.final_activation:
                x = self.activation(x)
        return x


def masked_attention_weights(logits, key_mask):
    """Softmax over keys that are present; absent keys get weight exactly 0 (App. E, eq. 9).

    ``logits`` (..., Q, K), ``key_mask`` (..., K) bool. A query with no present key gets all-zero
    weights (its row is never used downstream) instead of NaN.
    """
    neg = jnp.finfo(logits.dtype).min
    logits = jnp.where(key_mask[..., None, :], logits, neg)
    weights = jax.nn.softmax(logits, axis=-1)
    return jnp.where(key_mask[..., None, :], weights, 0.0)


class MaskedSelfAttention(nnx.Module):
    """Multi-head dot-product self-attention over the modality axis with a key mask."""

    def __init__(self, dim: int, num_heads: int, attention_dim: int, *, rngs: nnx.Rngs):
        if attention_dim % num_heads:
            raise ValueError(f"attention_dim={attention_dim} not divisible by heads={num_heads}")
        self.num_heads = num_heads
        self.query = nnx.Linear(dim, attention_dim, use_bias=False, rngs=rngs)
        self.key = nnx.Linear(dim, attention_dim, use_bias=False, rngs=rngs)
        self.value = nnx.Linear(dim, attention_dim, use_bias=False, rngs=rngs)
        self.out = nnx.Linear(attention_dim, dim, use_bias=False, rngs=rngs)

    def _heads(self, x):  # (B, M, A) -> (B, H, M, A / H)
        b, m, a = x.shape
        return x.reshape(b, m, self.num_heads, a // self.num_heads).transpose(0, 2, 1, 3)

    def __call__(self, x, mask):
        q, k, v = (self._heads(f(x)) for f in (self.query, self.key, self.value))
        logits = q @ k.swapaxes(-1, -2) / jnp.sqrt(q.shape[-1])
        weights = masked_attention_weights(logits, mask[:, None, :])
        y = (weights @ v).transpose(0, 2, 1, 3).reshape(x.shape[0], x.shape[1], -1)
        return self.out(y)


class TransformerBlock(nnx.Module):
    """Masked pre-layer-norm transformer block (App. E):

    Z = Y + MHA(LN(Y), LN(Y)),   out = Z + FFN(LN(Z)),   FFN = Dense -> ReLU -> Dense.
    Permutation-equivariant in the modality axis; absent tokens are never attended to.
    """

    def __init__(self, dim, num_heads, attention_dim, ffn_dim, *, rngs: nnx.Rngs):
        self.norm_attention = nnx.LayerNorm(dim, rngs=rngs)
        self.attention = MaskedSelfAttention(dim, num_heads, attention_dim, rngs=rngs)
        self.norm_ffn = nnx.LayerNorm(dim, rngs=rngs)
        self.ffn = MLP(dim, [ffn_dim], dim, rngs=rngs)

    def __call__(self, y, mask):
        z = y + self.attention(self.norm_attention(y), mask)
        return z + self.ffn(self.norm_ffn(z))


class SetTransformer(nnx.Module):
    """``num_layers`` masked transformer blocks, then LayerNorm (App. E, Example 7).

    Absent tokens are zeroed first, so that whatever they hold (NaN included) is never attended
    to and never reaches an output.
    """

    def __init__(self, dim, num_heads, num_layers, *, rngs: nnx.Rngs):
        self.blocks = nnx.List(
            [TransformerBlock(dim, num_heads, dim, dim, rngs=rngs) for _ in range(num_layers)]
        )
        self.norm = nnx.LayerNorm(dim, rngs=rngs)

    def __call__(self, g, mask):
        g = jnp.where(mask[..., None], g, 0.0)
        for block in self.blocks:
            g = block(g, mask)
        return self.norm(g)
