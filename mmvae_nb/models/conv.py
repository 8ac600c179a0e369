"""Strided and transposed convolutions in the formulations XLA:CPU runs fast.

Tables 21-22's decoders upsample with transposed convolutions "tConv(C, 4, 2)". On XLA:CPU the
weight gradient of a strided transposed convolution becomes a dilated convolution that misses
the fast path (issue 6 measured 4.8 s against 0.27 s for a stride-1 rewrite of the same layer,
batch 250). The modules here keep the transposed convolution's parameters (a (k, k, C_in, C_out)
kernel and a bias) and compute exactly ``jax.lax.conv_transpose(x, kernel, strides=(2, 2),
padding="SAME")`` (flax's ``ConvTranspose`` default) through a *sub-pixel* convolution:

For kernel 4, stride 2 and SAME padding, output row 2p + a (phase a in {0, 1}) only sees input
rows p - 1, p (a = 0, taps 0, 2) or p, p + 1 (a = 1, taps 1, 3); likewise for columns. So one
stride-1 3x3 convolution with 4 C_out output channels, whose kernel is scattered from the 4x4
taps (zeros elsewhere), followed by depth-to-space, gives all four phases. The scatter is a fixed
gather, so gradients flow to the original 4x4 kernel.

A second rewrite, ``conv_transpose_2x_im2col``, uses that phase (a, b) is a 2x2 stride-1
convolution with taps K[a + 2u, b + 2v]: all four phases are one matrix product of 2x2 input
patches (im2col) with a (4 C_in, 4 C_out) reshaped kernel, so the forward pass and both
gradients are plain matrix products. ``conv_im2col`` does the same for the encoders' 4x4
stride-2 SAME convolutions (16 strided patches, one matrix product).

The third keeps XLA's forward pass and replaces only the backward pass (``jax.custom_vjp``): a
4x4 stride-2 SAME convolution A(K) and the transposed convolution with ``flip_transpose(K)`` are
adjoint linear maps, so each layer's input gradient is the other layer applied to the
cotangent and its weight gradient is one matrix product with ``strided_patches`` of the input
(``conv_2x_patches``) or of the cotangent (``conv_transpose_2x_patches``). Which formulation is
fastest depends on the layer's size (measured in ``benchmarks/bench_mst.py``; the networks pick
per layer).

These rewrites serve XLA:CPU. On GPU and TPU, XLA's native transposed convolution has fast
gradients, and the sub-pixel form would do about 2.2x its multiply-adds (the 3x3 kernel with
4 C_out outputs holds 36 C_in C_out taps, 16 of them non-zero; XLA's cost analysis counts 2.1x
at the PolyMNIST decoder's shapes): ``ConvTranspose2x`` left without an ``impl`` reads
``default_transposed_impl()`` when it is traced, "subpixel" on CPU and "xla" elsewhere.

``UpsampleFromPoint`` is the first decoder layer: a transposed convolution with kernel k applied
to a 1x1 (or length-1) input, which is a dense layer to k x k x C_out (for VALID padding the
kernel appears flipped); the stride does not matter for a single input pixel, which is how we
read Table 22's "tConv(64, 4, 3)".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

# tap index of the 4-tap kernel used by output phase a at offset u in {-1, 0, +1} (4 = no tap)
_PHASE_TAPS = np.array([[0, 2, 4], [4, 1, 3]])  # [phase, offset + 1]


def subpixel_kernel(kernel):
    """The stride-1 kernel (3, [3,] C_in, 2^d C_out) equivalent to a 4-tap stride-2 SAME
    transposed convolution with ``kernel`` (4, [4,] C_in, C_out), d = 1 or 2 spatial axes;
    output channels ordered (row phase, [column phase,] C_out)."""
    ndim = kernel.ndim - 2
    c_in, c_out = kernel.shape[-2:]
    padded = jnp.pad(kernel, ((0, 1),) * ndim + ((0, 0), (0, 0)))  # tap 4 is zero
    if ndim == 1:
        taps = padded[_PHASE_TAPS.T]  # (u, a, C_in, C_out)
        return jnp.transpose(taps, (0, 2, 1, 3)).reshape(3, c_in, 2 * c_out)
    rows = _PHASE_TAPS.T[:, None, :, None]  # (u, 1, a, 1)
    cols = _PHASE_TAPS.T[None, :, None, :]  # (1, v, 1, b)
    taps = padded[rows, cols]  # (3, 3, 2, 2, C_in, C_out)
    return jnp.transpose(taps, (0, 1, 4, 2, 3, 5)).reshape(3, 3, c_in, 4 * c_out)


def depth_to_space(x, ndim: int = 2):
    """(B, H, [W,] 2^d C) -> (B, 2H, [2W,] C), channels ordered (row phase, [col phase,] C)."""
    if ndim == 1:
        b, length, c = x.shape
        return x.reshape(b, 2 * length, c // 2)
    b, h, w, c = x.shape
    x = x.reshape(b, h, w, 2, 2, c // 4)
    return jnp.transpose(x, (0, 1, 3, 2, 4, 5)).reshape(b, 2 * h, 2 * w, c // 4)


_LAYOUTS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}


def conv_transpose_2x(x, kernel, bias=None):
    """``lax.conv_transpose(x, kernel, strides 2, "SAME")`` (+ bias) as a sub-pixel
    convolution: ``x`` (B, H, [W,] C_in) channels-last, ``kernel`` (4, [4,] C_in, C_out)
    -> (B, 2H, [2W,] C_out)."""
    ndim = kernel.ndim - 2
    if ndim not in _LAYOUTS or kernel.shape[:ndim] != (4,) * ndim or x.ndim != ndim + 2:
        raise ValueError(
            f"need a 4-tap kernel with 1 or 2 spatial axes matching x: kernel {kernel.shape}, "
            f"x {x.shape}"
        )
    y = jax.lax.conv_general_dilated(
        x,
        subpixel_kernel(kernel).astype(x.dtype),
        window_strides=(1,) * ndim,
        padding=((1, 1),) * ndim,
        dimension_numbers=_LAYOUTS[ndim],
    )
    y = depth_to_space(y, ndim)
    return y if bias is None else y + bias


def conv_transpose_reference(x, kernel, bias=None):
    """The layer ``conv_transpose_2x`` rewrites: ``lax.conv_transpose`` with stride 2, SAME."""
    ndim = kernel.ndim - 2
    y = jax.lax.conv_transpose(
        x, kernel.astype(x.dtype), (2,) * ndim, "SAME", dimension_numbers=_LAYOUTS[ndim]
    )
    return y if bias is None else y + bias


def conv_transpose_2x_im2col(x, kernel, bias=None):
    """``conv_transpose_reference`` for NHWC ``x`` and a (4, 4, C_in, C_out) kernel as one matrix
    product of 2x2 patches of the zero-padded input with the phases' stacked kernels."""
    b, h, w, c_in = x.shape
    c_out = kernel.shape[-1]
    stacked = kernel.reshape(2, 2, 2, 2, c_in, c_out)  # [u, a, v, b]: tap (a + 2u, b + 2v)
    stacked = jnp.transpose(stacked, (0, 2, 4, 1, 3, 5)).reshape(4 * c_in, 4 * c_out)
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    patches = jnp.concatenate(
        [padded[:, u : u + h + 1, v : v + w + 1] for u in range(2) for v in range(2)], axis=-1
    )
    y = (patches @ stacked.astype(x.dtype)).reshape(b, h + 1, w + 1, 2, 2, c_out)
    # output (2p + a, 2q + b) is window (p + a, q + b) of phase (a, b)
    rows = [
        jnp.stack([y[:, a : a + h, c : c + w, a, c] for c in range(2)], axis=3) for a in range(2)
    ]
    y = jnp.stack(rows, axis=2).reshape(b, 2 * h, 2 * w, c_out)
    return y if bias is None else y + bias


def strided_patches(x):
    """The 4x4 stride-2 SAME windows of NHWC ``x`` (even H, W) as rows: (B H/2 W/2, 16 C),
    columns ordered (tap row, tap column, C) like ``kernel.reshape(16 C, C_out)``: one gather
    from the zero-padded input (as fast as ``conv_im2col``'s 16 strided slices on XLA:CPU)."""
    b, h, w, c = x.shape
    rows = 2 * np.arange(h // 2)[:, None, None, None] + np.arange(4)[None, None, :, None]
    cols = 2 * np.arange(w // 2)[None, :, None, None] + np.arange(4)[None, None, None, :]
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))).reshape(b, (h + 2) * (w + 2), c)
    index = (rows * (w + 2) + cols).reshape(-1)
    windows = padded.at[:, index].get(mode="promise_in_bounds")
    return windows.reshape(b * (h // 2) * (w // 2), 16 * c)


def flip_transpose(kernel):
    """The kernel of the adjoint: ``conv_reference(., K)`` and
    ``conv_transpose_reference(., flip_transpose(K))`` are transposes of each other as linear
    maps (spatially flipped taps, input and output channels swapped); an involution."""
    return jnp.swapaxes(jnp.flip(kernel, (0, 1)), 2, 3)


@jax.custom_vjp
def conv_transpose_2x_patches(x, kernel):
    """``conv_transpose_reference`` (no bias) with a hand-written backward pass.

    Forward: XLA's transposed convolution. Backward: with K' = ``flip_transpose(K)`` the layer
    is y = A(K')^T x, A(K') the 4x4 stride-2 SAME convolution, so for the cotangent g
        dL/dx  = A(K') g = P(g) K'          (a strided convolution of g),
        dL/dK' = P(g)^T x                   (dL/dK = flip_transpose(dL/dK')),
    with P(g) = ``strided_patches(g)``: one gather and two matrix products, instead of the
    dilated convolutions XLA:CPU derives (issue 6: 4.8 s for one weight gradient)."""
    return conv_transpose_reference(x, kernel)


def _conv_transpose_2x_patches_forward(x, kernel):
    return conv_transpose_reference(x, kernel), (x, kernel)


def _conv_transpose_2x_patches_backward(residuals, g):
    x, kernel = residuals
    c_in = x.shape[-1]
    # materialise g once: fused into the gather, its producer would run 16 times per element
    windows = strided_patches(jax.lax.optimization_barrier(g))  # (B H W, 16 C_out)
    adjoint = flip_transpose(kernel)  # (4, 4, C_out, C_in)
    dx = (windows @ adjoint.reshape(-1, c_in).astype(g.dtype)).reshape(x.shape)
    d_adjoint = (windows.T @ x.reshape(-1, c_in)).reshape(adjoint.shape)
    return dx, flip_transpose(d_adjoint).astype(kernel.dtype)


conv_transpose_2x_patches.defvjp(
    _conv_transpose_2x_patches_forward, _conv_transpose_2x_patches_backward
)


@jax.custom_vjp
def conv_2x_patches(x, kernel):
    """``conv_reference`` (no bias) with a hand-written backward pass: XLA's convolution
    forward; for the cotangent g, dL/dK = P(x)^T g with P = ``strided_patches`` (one gather, one
    matrix product, in place of XLA:CPU's dilated weight-gradient convolution) and dL/dx the
    adjoint ``conv_transpose_reference(g, flip_transpose(K))``."""
    return conv_reference(x, kernel)


def _conv_2x_patches_forward(x, kernel):
    return conv_reference(x, kernel), (x, kernel)


def _conv_2x_patches_backward(residuals, g):
    x, kernel = residuals
    dk = strided_patches(x).T @ g.reshape(-1, g.shape[-1])
    dx = conv_transpose_reference(g, flip_transpose(kernel))
    return dx, dk.reshape(kernel.shape).astype(kernel.dtype)


conv_2x_patches.defvjp(_conv_2x_patches_forward, _conv_2x_patches_backward)


def conv_im2col(x, kernel, bias=None):
    """A 4x4 stride-2 SAME convolution of NHWC ``x`` (even H, W) as one matrix product of the
    16 strided input patches with the (16 C_in, C_out) reshaped kernel."""
    b, h, w, c_in = x.shape
    if kernel.shape[:2] != (4, 4) or h % 2 or w % 2:
        raise ValueError(f"need a 4x4 kernel and even H, W: kernel {kernel.shape}, x {x.shape}")
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))  # SAME for k = 4, s = 2
    patches = jnp.concatenate(
        [padded[:, u : u + h : 2, v : v + w : 2] for u in range(4) for v in range(4)], axis=-1
    )
    y = patches @ kernel.reshape(16 * c_in, -1).astype(x.dtype)
    return y if bias is None else y + bias


def conv_reference(x, kernel, bias=None, stride: int = 2):
    """XLA's convolution with SAME padding (``nnx.Conv``'s default), NHWC / HWIO."""
    y = jax.lax.conv_general_dilated(
        x, kernel.astype(x.dtype), (stride, stride), "SAME", dimension_numbers=_LAYOUTS[2]
    )
    return y if bias is None else y + bias


def _with_bias(layer):
    """``layer(x, kernel)`` as ``(x, kernel, bias=None)``, the signature of the others."""

    def biased(x, kernel, bias=None):
        y = layer(x, kernel)
        return y if bias is None else y + bias

    return biased


TRANSPOSED = {
    "xla": conv_transpose_reference,
    "subpixel": conv_transpose_2x,
    "im2col": conv_transpose_2x_im2col,
    "patches": _with_bias(conv_transpose_2x_patches),
}
STRIDED = {"xla": conv_reference, "im2col": conv_im2col, "patches": _with_bias(conv_2x_patches)}


def default_transposed_impl() -> str:
    """The ``TRANSPOSED`` formulation for the backend JAX runs on (``jax.default_backend()``):
    the sub-pixel rewrite on CPU, whose gradients avoid XLA:CPU's slow dilated convolutions
    (docs/performance.md, "Speed"), XLA's native transposed convolution on GPU and TPU."""
    return "subpixel" if jax.default_backend() == "cpu" else "xla"


class StridedConv(nnx.Module):
    """Conv(C_out, 4, 2) with SAME padding computed by ``impl``: "xla" (XLA's convolution),
    "im2col" (``conv_im2col``) or "patches" (``conv_2x_patches``); initialised as ``nnx.Conv``
    (LeCun-normal kernel, zero bias). Every ``impl`` computes the same function."""

    def __init__(self, in_features, out_features, *, rngs: nnx.Rngs, impl: str = "xla"):
        if impl not in STRIDED:
            raise ValueError(f"unknown impl {impl!r}; choose one of {list(STRIDED)}")
        init = nnx.initializers.lecun_normal()
        shape = (4, 4, in_features, out_features)
        self.kernel = nnx.Param(init(rngs.params(), shape, jnp.float32))
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))
        self.impl = impl

    def __call__(self, x):
        return STRIDED[self.impl](x, self.kernel[...], self.bias[...])


class ConvTranspose2x(nnx.Module):
    """tConv(C_out, 4, 2) with SAME padding (2x upsampling) over ``ndim`` spatial axes, computed
    by ``impl``: "subpixel" (``conv_transpose_2x``), "im2col" (2-D only), "patches" (2-D only;
    XLA's forward pass, ``conv_transpose_2x_patches``' backward), "xla" (XLA's transposed
    convolution) or ``None``: ``default_transposed_impl()`` of the backend, read when the layer
    is traced. Initialised as ``nnx.ConvTranspose`` (LeCun-normal kernel, zero bias). Every
    ``impl`` computes the same function of the same parameters."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rngs: nnx.Rngs,
        ndim: int = 2,
        impl: str | None = None,
    ):
        if impl is not None and (
            impl not in TRANSPOSED or (impl in ("im2col", "patches") and ndim != 2)
        ):
            raise ValueError(
                f"unknown impl {impl!r} for {ndim}-D; choose one of {list(TRANSPOSED)} or None"
            )
        init = nnx.initializers.lecun_normal()
        shape = (4,) * ndim + (in_features, out_features)
        self.kernel = nnx.Param(init(rngs.params(), shape, jnp.float32))
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))
        self.impl = impl

    def __call__(self, x):
        impl = self.impl or default_transposed_impl()
        return TRANSPOSED[impl](x, self.kernel[...], self.bias[...])


class UpsampleFromPoint(nnx.Module):
    """A VALID transposed convolution with a k^d kernel on a single input pixel (d = 1 or 2):
    (B, C_in) -> (B, k, [k,] C_out), i.e. y[o] = x K[k - 1 - o] + bias."""

    def __init__(self, in_features, out_features, kernel_size: int, ndim: int, *, rngs):
        init = nnx.initializers.lecun_normal()
        shape = (kernel_size,) * ndim + (in_features, out_features)
        self.kernel = nnx.Param(init(rngs.params(), shape, jnp.float32))
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float32))
        self.ndim = ndim

    def __call__(self, x):
        flipped = jnp.flip(self.kernel[...], axis=tuple(range(self.ndim)))
        return jnp.tensordot(x, flipped, axes=[[-1], [self.ndim]]) + self.bias[...]
