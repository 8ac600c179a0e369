"""MNIST-SVHN-Text encoders and decoders (Tables 21-22).

Encoders map a flat modality (MNIST 784, SVHN 3072 in HWC order, text 8 x 71 one-hot) to the
embedding h_s of width D_E (2D for PoE/MoE, 256 for SumPooling/SelfAttention, 128 for their
permutation-equivariant versions); ``extra_layers=4`` adds the four Dense(256)-ReLU layers before
the last linear layer that make PoE+ / MoE+ (Table 21). Decoders map a latent (B, ..., D_I) to the
likelihood's parameters: Laplace for the images, with a learned per-pixel constant log-scale
(App. Q), categorical per character for text.

Where Table 21 is inconsistent we choose, and say so:

* SVHN encoder: "Conv(32,4,2), Conv(64,4,2), Conv(64,4,2), Conv(128,4,2), Flatten, Dense 2048 x
  D_E". Four stride-2 convolutions of a 32x32 image leave 2x2x128 = 512 (SAME padding) or 1x1x128
  (MoPoE's padding), not 2048. We keep the listed channels and the 2048 = 4x4x128 of the Dense
  layer by giving the last convolution stride 1 (SAME padding throughout).
* Text encoder: "Conv(128,1,1), Conv(128,4,2), Conv(128,4,2), Flatten, Dense 128 x D_E": the
  length goes 8 -> 4 (SAME) -> 1 (VALID), as in MoPoE's text encoder, which gives the 128.
* Decoders "tConv(64,4,3)" (SVHN) and "tConv(128,4,3)" (text) act on a single pixel, where the
  stride is irrelevant: 1 -> 4 (``conv.UpsampleFromPoint``); the other transposed convolutions are
  4-tap, stride 2, SAME (``conv.ConvTranspose2x``); "tConv(71,1,1)" is a per-position Dense.
  The SVHN decoder's mean has no output non-linearity (Table 22 lists none); MNIST's is a sigmoid.

Speed (``conv``): every layer computes the same function in every formulation; with ``fast=True``
each strided / transposed convolution uses the formulation measured fastest for its size on
XLA:CPU (batch 250, forward + both gradients; ``benchmarks/bench_mst.py``): the encoder's
3 -> 32 and 64 -> 64 convolutions as im2col matrix products; the 32 -> 64 convolution and the
decoder's transposed convolutions by XLA's forward pass with a hand-written backward pass
(``conv.conv_2x_patches``, ``conv.conv_transpose_2x_patches``: one patch gather and matrix
products in place of XLA:CPU's dilated gradient convolutions); the text decoder's by the
sub-pixel rewrite. ``fast=False`` uses XLA's kernels throughout, and ``fast=None`` (the
default) chooses by the backend at construction (``cpu_tuned``): the CPU formulations on a CPU,
XLA's kernels, native on GPUs and TPUs, elsewhere.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from mmvae_nb.data.mnist_svhn_text import MODALITY_SHAPES
from mmvae_nb.models.conv import ConvTranspose2x, StridedConv, UpsampleFromPoint
from mmvae_nb.models.distributions import MIN_STD, categorical_log_prob, laplace_log_prob
from mmvae_nb.models.nets import MLP

EXTRA_WIDTH = 256  # PoE+ / MoE+ extra layers (Table 21)


def _head(in_dim, out_dim, extra_layers, rngs):
    """The last linear layer, preceded by ``extra_layers`` Dense(256)-ReLU layers."""
    return MLP(in_dim, [EXTRA_WIDTH] * extra_layers, out_dim, rngs=rngs)


class MNISTEncoder(nnx.Module):
    """Dense 784 -> 400 -> 400 (ReLU) -> [4 x Dense 256, ReLU] -> Dense D_E (Table 21a)."""

    def __init__(self, out_dim: int, *, rngs: nnx.Rngs, extra_layers: int = 0):
        self.trunk = MLP(784, [400], 400, rngs=rngs, final_activation=True)
        self.head = _head(400, out_dim, extra_layers, rngs)

    def __call__(self, x):
        return self.head(self.trunk(x))


def cpu_tuned(fast: bool | None) -> bool:
    """Whether to build the CPU-tuned formulations: ``fast`` itself, or with ``None`` whether
    JAX computes on a CPU (``jax.default_backend()``)."""
    return jax.default_backend() == "cpu" if fast is None else fast


class SVHNEncoder(nnx.Module):
    """Conv(32,4,2), Conv(64,4,2), Conv(64,4,2), Conv(128,4,1), ReLU each, SAME padding ->
    4x4x128 = 2048 -> [4 x Dense 256, ReLU] -> Dense D_E (Table 21b; see the module notes)."""

    def __init__(self, out_dim: int, *, rngs: nnx.Rngs, extra_layers: int = 0, fast=None):
        impls = ("im2col", "patches", "im2col") if cpu_tuned(fast) else ("xla",) * 3
        specs = ((3, 32), (32, 64), (64, 64))
        self.convs = nnx.List(
            [StridedConv(a, b, rngs=rngs, impl=i) for (a, b), i in zip(specs, impls)]
            + [nnx.Conv(64, 128, (4, 4), padding="SAME", rngs=rngs)]
        )
        self.head = _head(2048, out_dim, extra_layers, rngs)

    def __call__(self, x):
        lead = x.shape[:-1]
        h = x.reshape(-1, *MODALITY_SHAPES[1])
        for conv in self.convs:
            h = jax.nn.relu(conv(h))
        return self.head(h.reshape(*lead, -1))


class TextEncoder(nnx.Module):
    """Conv(128,1,1), Conv(128,4,2) SAME, Conv(128,4,2) VALID, ReLU each: length 8 -> 4 -> 1
    -> [4 x Dense 256, ReLU] -> Dense D_E (Table 21c)."""

    def __init__(self, out_dim: int, *, rngs: nnx.Rngs, extra_layers: int = 0):
        alphabet = MODALITY_SHAPES[2][1]
        self.convs = nnx.List(
            [
                nnx.Conv(alphabet, 128, (1,), rngs=rngs),
                nnx.Conv(128, 128, (4,), strides=2, padding="SAME", rngs=rngs),
                nnx.Conv(128, 128, (4,), strides=2, padding="VALID", rngs=rngs),
            ]
        )
        self.head = _head(128, out_dim, extra_layers, rngs)

    def __call__(self, x):
        lead = x.shape[:-1]
        h = x.reshape(-1, *MODALITY_SHAPES[2])
        for conv in self.convs:
            h = jax.nn.relu(conv(h))
        return self.head(h.reshape(*lead, -1))


def flat_batch(z):
    """(B, ..., D) -> ((N, D), the leading shape) for layers that need one batch axis (the
    convolutional decoders here and in ``polymnist_nets``)."""
    return z.reshape(-1, z.shape[-1]), z.shape[:-1]


def _align(x, lead):
    """Broadcastable view of data ``x`` (B, F) against outputs with leading shape ``lead``."""
    return x.reshape(x.shape[:1] + (1,) * (len(lead) - 1) + x.shape[1:])


class LaplaceImageDecoder(nnx.Module):
    """Laplace(mean(z), b) per pixel with b = 1e-3 + exp(s), s a learned constant per pixel
    (App. Q). The base of the image decoders here and in ``polymnist_nets``: a subclass defines
    ``mean(z)`` and calls ``_init_scale`` with its number of pixels."""

    def _init_scale(self, num_pixels):
        self.log_scale = nnx.Param(jnp.zeros((num_pixels,), jnp.float32))

    def log_prob(self, x, z):
        """log p(x | z) for flat ``x`` (B, F) and ``z`` (B, ..., D) -> (B, ...)."""
        mean = self.mean(z)
        scale = jnp.broadcast_to(MIN_STD + jnp.exp(self.log_scale[...]), mean.shape)
        return laplace_log_prob(_align(x, z.shape[:-1]), mean, scale)


class MNISTDecoder(LaplaceImageDecoder):
    """Dense D_I -> 400 -> 400 (ReLU) -> 784, sigmoid mean (Table 22a); Laplace likelihood."""

    def __init__(self, latent_dim: int, *, rngs: nnx.Rngs):
        self.net = MLP(latent_dim, [400, 400], 784, rngs=rngs)
        self._init_scale(784)

    def mean(self, z):
        return jax.nn.sigmoid(self.net(z))


class SVHNDecoder(LaplaceImageDecoder):
    """Dense D_I -> 128, tConv(64,4) 1 -> 4, tConv(64,4,2) -> 8, tConv(32,4,2) -> 16,
    tConv(3,4,2) -> 32 (ReLU between), linear mean (Table 22b); Laplace likelihood."""

    def __init__(self, latent_dim: int, *, rngs: nnx.Rngs, fast: bool | None = None):
        self.dense = nnx.Linear(latent_dim, 128, rngs=rngs)
        self.point = UpsampleFromPoint(128, 64, 4, 2, rngs=rngs)
        impl = "patches" if cpu_tuned(fast) else "xla"
        specs = ((64, 64), (64, 32), (32, 3))
        self.ups = nnx.List([ConvTranspose2x(a, b, rngs=rngs, impl=impl) for a, b in specs])
        self._init_scale(3072)

    def mean(self, z):
        flat, lead = flat_batch(z)
        h = jax.nn.relu(self.point(jax.nn.relu(self.dense(flat))))
        for i, up in enumerate(self.ups):
            h = up(h)
            if i < len(self.ups) - 1:
                h = jax.nn.relu(h)
        return h.reshape(*lead, 3072)


class TextDecoder(nnx.Module):
    """Dense D_I -> 128, tConv(128,4) 1 -> 4, tConv(128,4,2) -> 8 (ReLU between), per-position
    Dense 128 -> 71 logits (Table 22c); categorical likelihood per character."""

    def __init__(self, latent_dim: int, *, rngs: nnx.Rngs, fast: bool | None = None):
        alphabet = MODALITY_SHAPES[2][1]
        self.dense = nnx.Linear(latent_dim, 128, rngs=rngs)
        self.point = UpsampleFromPoint(128, 128, 4, 1, rngs=rngs)
        impl = "subpixel" if cpu_tuned(fast) else "xla"
        self.up = ConvTranspose2x(128, 128, rngs=rngs, ndim=1, impl=impl)
        self.out = nnx.Linear(128, alphabet, rngs=rngs)

    def logits(self, z):
        """(B, ..., D_I) -> (B, ..., 8, 71)."""
        flat, lead = flat_batch(z)
        h = jax.nn.relu(self.point(jax.nn.relu(self.dense(flat))))
        return self.out(jax.nn.relu(self.up(h))).reshape(*lead, *MODALITY_SHAPES[2])

    def mean(self, z):
        """The character probabilities, flat: (B, ..., 568)."""
        probs = jax.nn.softmax(self.logits(z), axis=-1)
        return probs.reshape(*probs.shape[:-2], -1)

    def log_prob(self, x, z):
        """log p(x | z) = sum over positions of log Cat(x_t; softmax(logits_t)) -> (B, ...)."""
        lead = z.shape[:-1]
        x = _align(x, lead).reshape(x.shape[:1] + (1,) * (len(lead) - 1) + MODALITY_SHAPES[2])
        return jnp.sum(categorical_log_prob(x, self.logits(z)), axis=-1)


ENCODERS = (MNISTEncoder, SVHNEncoder, TextEncoder)
DECODERS = (MNISTDecoder, SVHNDecoder, TextDecoder)
