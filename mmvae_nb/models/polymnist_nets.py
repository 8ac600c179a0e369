"""PolyMNIST encoders and decoders (the relational model's section).

The seed paper states only that every model uses "the same architectures and capacities for
encoder and decoder"; **choice**: a MoPoE-style convolutional pair for 28 x 28 x 3 images, on
flat (B, 2352) HWC pixels in [0, 1]:

* encoder: Conv(a, 4, 2) 28 -> 14, Conv(b, 4, 2) 14 -> 7 (SAME, ReLU), Flatten, Dense -> D_E;
* decoder: Dense D_I -> 7 x 7 x b (ReLU), tConv(a, 4, 2) -> 14 (ReLU), tConv(3, 4, 2) -> 28,
  sigmoid mean; Laplace likelihood with a learned per-pixel log-scale (as this project's
  MNIST-SVHN-Text image decoders; MoPoE's PolyMNIST decoders fix the Laplace scale at 0.75
  instead, and at the quick profile that fixed scale gave MoPoE a lower coherence of the
  generated x_0, docs/results.md, "Relational model"); (a, b) = (32, 64) (``CHANNELS``) unless a
  profile sets smaller widths.
"""

from __future__ import annotations

import jax
from flax import nnx

from mmvae_nb.data.polymnist import IMAGE_SHAPE
from mmvae_nb.models.conv import ConvTranspose2x, StridedConv
from mmvae_nb.models.mst_nets import LaplaceImageDecoder, flat_batch

NUM_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2]


CHANNELS = (32, 64)  # the convolutions' widths (a profile may make them smaller)


class PolyMNISTEncoder(nnx.Module):
    def __init__(self, out_dim: int, *, rngs: nnx.Rngs, channels=CHANNELS):
        a, b = channels
        self.convs = nnx.List([StridedConv(3, a, rngs=rngs), StridedConv(a, b, rngs=rngs)])
        self.head = nnx.Linear(7 * 7 * b, out_dim, rngs=rngs)

    def __call__(self, x):
        lead = x.shape[:-1]
        h = x.reshape(-1, *IMAGE_SHAPE)
        for conv in self.convs:
            h = jax.nn.relu(conv(h))
        return self.head(h.reshape(*lead, -1))


class PolyMNISTDecoder(LaplaceImageDecoder):
    def __init__(self, latent_dim: int, *, rngs: nnx.Rngs, channels=CHANNELS):
        a, b = channels
        self.dense = nnx.Linear(latent_dim, 7 * 7 * b, rngs=rngs)
        self.ups = nnx.List([ConvTranspose2x(b, a, rngs=rngs), ConvTranspose2x(a, 3, rngs=rngs)])
        self._init_scale(NUM_PIXELS)
        self.width = b

    def mean(self, z):
        flat, lead = flat_batch(z)
        h = jax.nn.relu(self.dense(flat)).reshape(-1, 7, 7, self.width)
        h = self.ups[1](jax.nn.relu(self.ups[0](h)))
        return jax.nn.sigmoid(h).reshape(*lead, NUM_PIXELS)
