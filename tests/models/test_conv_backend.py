"""The transposed convolution's formulation by backend (``conv.default_transposed_impl``):
XLA's native one and the sub-pixel rewrite are the same layer at the PolyMNIST decoder's shapes
(float64, values and gradients); the default is read when the layer is traced."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.models import conv
from mmvae_nb.models.conv import ConvTranspose2x, conv_transpose_2x, conv_transpose_reference
from mmvae_nb.models.polymnist_nets import CHANNELS


@pytest.mark.parametrize("size,c_in,c_out", [(7, CHANNELS[1], CHANNELS[0]), (14, CHANNELS[0], 3)])
def test_native_and_subpixel_are_the_same_layer_at_the_decoder_shapes(size, c_in, c_out):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, size, size, c_in)))
    kernel = jnp.asarray(rng.normal(size=(4, 4, c_in, c_out)) / np.sqrt(16 * c_in))
    bias = jnp.asarray(rng.normal(size=(c_out,)))
    probe = jnp.asarray(rng.normal(size=(2, 2 * size, 2 * size, c_out)))

    @jax.jit
    def values_and_gradients(x, kernel, bias):
        return [
            jax.value_and_grad(lambda *a, f=f: jnp.sum(probe * f(*a)), (0, 1, 2))(x, kernel, bias)
            for f in (conv_transpose_reference, conv_transpose_2x)
        ]

    (native, native_grads), (subpixel, subpixel_grads) = values_and_gradients(x, kernel, bias)
    np.testing.assert_allclose(native, subpixel, rtol=1e-12)
    for got, want in zip(native_grads, subpixel_grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _lhs_dilations(layer, x):
    """The input dilations of the convolutions ``layer(x)`` traces: (2, 2) is XLA's transposed
    convolution, (1, 1) the sub-pixel rewrite's stride-1 convolution."""
    jaxpr = jax.make_jaxpr(lambda v: layer(v))(x).jaxpr  # a new function: traced afresh
    return [e.params["lhs_dilation"] for e in jaxpr.eqns if "lhs_dilation" in e.params]


def test_the_default_follows_the_backend_when_traced_and_native_can_be_forced(monkeypatch):
    x = jnp.asarray(np.random.default_rng(1).normal(size=(2, 7, 7, 4)))
    default = ConvTranspose2x(4, 3, rngs=nnx.Rngs(0))
    native = ConvTranspose2x(4, 3, rngs=nnx.Rngs(0), impl="xla")
    assert jax.default_backend() == "cpu" and conv.default_transposed_impl() == "subpixel"
    assert _lhs_dilations(default, x) == [(1, 1)]
    assert _lhs_dilations(native, x) == [(2, 2)]  # forced on CPU
    np.testing.assert_allclose(native(x), default(x), rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert conv.default_transposed_impl() == "xla"
    assert _lhs_dilations(default, x) == [(2, 2)]  # the same module, traced again
    with pytest.raises(ValueError, match="unknown impl"):
        ConvTranspose2x(4, 3, rngs=nnx.Rngs(0), ndim=1, impl="im2col")
