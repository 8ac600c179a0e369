"""MNIST-SVHN-Text networks (Tables 21-22): the fast transposed convolutions compute exactly the
layers they replace; encoder/decoder shapes and likelihoods; PoE+ structure."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.test_util import check_grads
from scipy import stats

from mmvae_nb.data.mnist_svhn_text import ALPHABET, MODALITY_DIMS
from mmvae_nb.models.conv import (
    STRIDED,
    TRANSPOSED,
    ConvTranspose2x,
    StridedConv,
    UpsampleFromPoint,
    conv_im2col,
    conv_reference,
    conv_transpose_2x,
    conv_transpose_reference,
    flip_transpose,
    strided_patches,
)
from mmvae_nb.models.mst_nets import DECODERS, ENCODERS, MIN_STD, MNISTEncoder

LAYOUTS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}


@pytest.mark.parametrize("ndim", [1, 2])
def test_subpixel_transposed_conv_equals_lax_conv_transpose_and_its_gradients(ndim):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2,) + (5, 6)[:ndim] + (3,)))
    kernel = jnp.asarray(rng.normal(size=(4,) * ndim + (3, 4)))

    def reference(x, kernel):
        return jax.lax.conv_transpose(
            x, kernel, (2,) * ndim, "SAME", dimension_numbers=LAYOUTS[ndim]
        )

    np.testing.assert_allclose(conv_transpose_2x(x, kernel), reference(x, kernel), atol=1e-12)
    probe = jnp.asarray(rng.normal(size=reference(x, kernel).shape))
    for argnum in (0, 1):  # same gradients for the input and the 4-tap kernel
        fast = jax.grad(lambda *a: jnp.sum(probe * conv_transpose_2x(*a)), argnum)(x, kernel)
        slow = jax.grad(lambda *a: jnp.sum(probe * reference(*a)), argnum)(x, kernel)
        np.testing.assert_allclose(fast, slow, atol=1e-10)


@pytest.mark.parametrize("impl", ["im2col", "xla"])
def test_every_formulation_gives_the_same_layer_and_gradients(impl):
    """2-D transposed convolutions (each impl vs the sub-pixel one, itself checked against
    lax above) and 4x4 stride-2 SAME convolutions (im2col vs XLA)."""
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(2, 4, 6, 3)))
    kernel = jnp.asarray(rng.normal(size=(4, 4, 3, 5)))
    pairs = [(TRANSPOSED[impl], conv_transpose_2x)]
    if impl == "im2col":
        pairs.append((conv_im2col, conv_reference))
    for layer, reference in pairs:
        np.testing.assert_allclose(layer(x, kernel), reference(x, kernel), atol=1e-12)
        probe = jnp.asarray(rng.normal(size=reference(x, kernel).shape))
        for argnum in (0, 1):
            got = jax.grad(lambda *a, f=layer, p=probe: jnp.sum(p * f(*a)), argnum)(x, kernel)
            want = jax.grad(lambda *a, f=reference, p=probe: jnp.sum(p * f(*a)), argnum)(x, kernel)
            np.testing.assert_allclose(got, want, atol=1e-10)


@pytest.mark.parametrize("impl", ["patches"])
def test_hand_written_backward_passes_match_autodiff_of_xla(impl):
    """The custom-VJP layers: XLA's forward pass, and gradients for the input and the kernel
    equal to autodiff of XLA's convolutions (and pass ``check_grads`` in reverse mode)."""
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.normal(size=(2, 4, 6, 3)))
    kernel = jnp.asarray(rng.normal(size=(4, 4, 3, 5)))
    bias = jnp.asarray(rng.normal(size=(5,)))
    for layer, reference in (
        (STRIDED[impl], conv_reference),
        (TRANSPOSED[impl], conv_transpose_reference),
    ):
        np.testing.assert_allclose(layer(x, kernel, bias), reference(x, kernel, bias), atol=1e-12)
        probe = jnp.asarray(rng.normal(size=reference(x, kernel).shape))
        got = jax.grad(lambda *a, f=layer, p=probe: jnp.sum(p * f(*a)), (0, 1, 2))(x, kernel, bias)
        want = jax.grad(lambda *a, f=reference, p=probe: jnp.sum(p * f(*a)), (0, 1, 2))(
            x, kernel, bias
        )
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, atol=1e-10)
        check_grads(layer, (x, kernel, bias), order=1, modes=["rev"])


def test_patches_are_the_im2col_rows_and_flip_transpose_gives_the_adjoint():
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(2, 4, 6, 3)))
    kernel = jnp.asarray(rng.normal(size=(4, 4, 3, 5)))
    np.testing.assert_allclose(
        (strided_patches(x) @ kernel.reshape(48, 5)).reshape(2, 2, 3, 5),
        conv_reference(x, kernel),
        atol=1e-12,
    )
    np.testing.assert_array_equal(flip_transpose(flip_transpose(kernel)), kernel)
    y = jnp.asarray(rng.normal(size=(2, 2, 3, 5)))  # <A x, y> = <x, A^T y>
    np.testing.assert_allclose(
        jnp.vdot(conv_reference(x, kernel), y),
        jnp.vdot(x, conv_transpose_reference(y, flip_transpose(kernel))),
        rtol=1e-12,
    )


def test_strided_conv_module_matches_flax_conv():
    ours = StridedConv(3, 5, rngs=nnx.Rngs(0), impl="im2col")
    flax_layer = nnx.Conv(3, 5, (4, 4), strides=2, padding="SAME", rngs=nnx.Rngs(1))
    flax_layer.kernel[...] = ours.kernel[...]
    x = jnp.asarray(np.random.default_rng(1).normal(size=(2, 8, 6, 3)), jnp.float32)
    np.testing.assert_allclose(ours(x), flax_layer(x), atol=1e-5)
    with pytest.raises(ValueError, match="unknown impl"):
        StridedConv(3, 5, rngs=nnx.Rngs(0), impl="fft")


def test_conv_transpose_module_matches_flax_conv_transpose():
    fast = ConvTranspose2x(3, 5, rngs=nnx.Rngs(0))
    flax_layer = nnx.ConvTranspose(3, 5, (4, 4), strides=(2, 2), rngs=nnx.Rngs(1))
    flax_layer.kernel[...] = fast.kernel[...]
    flax_layer.bias[...] = jnp.linspace(-1, 1, 5, dtype=flax_layer.bias.dtype)
    fast.bias[...] = flax_layer.bias[...]
    x = jnp.asarray(np.random.default_rng(1).normal(size=(2, 4, 4, 3)), jnp.float32)
    np.testing.assert_allclose(fast(x), flax_layer(x), atol=1e-5)


@pytest.mark.parametrize("ndim,stride", [(1, 3), (2, 3), (2, 1)])
def test_upsampling_a_single_pixel_is_a_valid_transposed_conv_for_any_stride(ndim, stride):
    layer = UpsampleFromPoint(3, 5, 4, ndim, rngs=nnx.Rngs(0))
    layer.bias[...] = jnp.arange(5.0, dtype=layer.bias.dtype)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3)), jnp.float32)
    point = x.reshape((2,) + (1,) * ndim + (3,))
    reference = jax.lax.conv_transpose(
        point, layer.kernel[...], (stride,) * ndim, "VALID", dimension_numbers=LAYOUTS[ndim]
    )
    np.testing.assert_allclose(layer(x), reference + layer.bias[...], atol=1e-5)


@pytest.mark.parametrize("extra_layers", [0, 4])
def test_encoders_map_each_modality_to_the_embedding(extra_layers):
    rng = np.random.default_rng(0)
    for build, dim in zip(ENCODERS, MODALITY_DIMS):
        encoder = build(80, rngs=nnx.Rngs(0), extra_layers=extra_layers)
        x = jnp.asarray(rng.random((3, dim)), jnp.float32)
        assert encoder(x).shape == (3, 80)
        assert encoder(x[None]).shape == (1, 3, 80)  # extra leading axes pass through


def test_poe_plus_adds_four_dense_256_relu_layers_before_the_last_linear_layer():
    """PoE+ / MoE+ encoders (Table 21): the same trunk, then 4 x Dense(256)-ReLU, then the
    last linear layer; without the extra layers the head is that single linear layer."""
    plain = MNISTEncoder(80, rngs=nnx.Rngs(0))
    plus = MNISTEncoder(80, rngs=nnx.Rngs(0), extra_layers=4)
    shapes = [layer.kernel.shape for layer in plus.head.layers]
    assert shapes == [(400, 256), (256, 256), (256, 256), (256, 256), (256, 80)]
    assert [layer.kernel.shape for layer in plain.head.layers] == [(400, 80)]
    # identity-initialised extra layers on the (non-negative) trunk output reduce PoE+ to PoE
    x = jnp.asarray(np.random.default_rng(0).random((5, 784)), jnp.float32)
    h = plain.trunk(x)
    assert np.all(np.asarray(h) >= 0)
    plus.trunk = plain.trunk
    first = plus.head.layers[0]
    first.kernel[...] = jnp.eye(400, 256, dtype=first.kernel.dtype)
    first.bias[...] = jnp.zeros_like(first.bias[...])
    for layer in plus.head.layers[1:4]:
        layer.kernel[...] = jnp.eye(256, dtype=layer.kernel.dtype)
        layer.bias[...] = jnp.zeros_like(layer.bias[...])
    last = plus.head.layers[4]
    last.kernel[...] = plain.head.layers[0].kernel[...][:256]
    last.bias[...] = plain.head.layers[0].bias[...]
    plain.head.layers[0].kernel[...] = plain.head.layers[0].kernel[...].at[256:].set(0.0)
    np.testing.assert_allclose(plus(x), plain(x), rtol=1e-5, atol=1e-5)


def test_fast_and_xla_networks_compute_the_same_function():
    from mmvae_nb.models.mst_nets import SVHNDecoder, SVHNEncoder, TextDecoder

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((3, 3072)), jnp.float32)
    z = jnp.asarray(rng.normal(size=(3, 20)), jnp.float32)
    for build, inputs in ((SVHNEncoder, x), (SVHNDecoder, z), (TextDecoder, z)):
        fast, slow = build(20, rngs=nnx.Rngs(0)), build(20, rngs=nnx.Rngs(0), fast=False)
        run = (lambda m, v: m(v)) if build is SVHNEncoder else (lambda m, v: m.mean(v))
        np.testing.assert_allclose(run(fast, inputs), run(slow, inputs), rtol=1e-4, atol=1e-4)


def test_the_formulations_follow_the_backend_by_default(monkeypatch):
    """``fast=None``: the CPU-tuned formulations on a CPU, XLA's native kernels elsewhere."""
    from mmvae_nb.models import mst_nets

    def impls(model):
        return [node.impl for _, node in nnx.iter_graph(model) if hasattr(node, "impl")]

    on_cpu = [impls(b(20, rngs=nnx.Rngs(0))) for b in (mst_nets.SVHNEncoder, mst_nets.SVHNDecoder)]
    assert on_cpu == [
        impls(b(20, rngs=nnx.Rngs(0), fast=True))
        for b in (mst_nets.SVHNEncoder, mst_nets.SVHNDecoder)
    ]
    monkeypatch.setattr(mst_nets.jax, "default_backend", lambda: "gpu")
    for build in (mst_nets.SVHNEncoder, mst_nets.SVHNDecoder, mst_nets.TextDecoder):
        assert set(impls(build(20, rngs=nnx.Rngs(0)))) == {"xla"}, build.__name__


def test_decoders_give_means_and_exact_likelihoods():
    rng = np.random.default_rng(0)
    z = jnp.asarray(rng.normal(size=(2, 3, 20)), jnp.float32)  # (B, samples, D_I)
    for build, dim in zip(DECODERS, MODALITY_DIMS):
        decoder = build(20, rngs=nnx.Rngs(0))
        mean = decoder.mean(z)
        assert mean.shape == (2, 3, dim)
        x = jnp.asarray(rng.random((2, dim)), jnp.float32)
        if build.__name__ == "TextDecoder":
            x = jnp.asarray(np.eye(len(ALPHABET))[rng.integers(0, 71, (2, 8))].reshape(2, -1))
            probs = np.asarray(mean).reshape(2, 3, 8, 71)
            np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
            expected = np.log((probs * np.asarray(x).reshape(2, 1, 8, 71)).sum(-1)).sum(-1)
        else:
            assert build.__name__ != "MNISTDecoder" or (mean.min() > 0 and mean.max() < 1)
            scale = MIN_STD + np.exp(np.asarray(decoder.log_scale[...]))
            expected = stats.laplace(np.asarray(mean), scale).logpdf(np.asarray(x)[:, None]).sum(-1)
        np.testing.assert_allclose(decoder.log_prob(x, z), expected, rtol=1e-4)
