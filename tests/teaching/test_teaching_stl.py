import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mmvae_nb.teaching import stl_variance as sv


def _posterior_params(x=1.0, a=2.0, s=1.0, t=0.0):
    mu, var = sv.exact_posterior(x, a, s)
    return jnp.array([mu + t * var**0.5, np.log((1 + t) * var**0.5)])


def test_stl_gradient_is_zero_at_the_exact_posterior_but_full_is_not():
    key = jax.random.key(0)
    g_stl = sv.per_sample_gradients(key, _posterior_params(), 1.0, 2.0, 1.0, 500, stl=True)
    g_full = sv.per_sample_gradients(key, _posterior_params(), 1.0, 2.0, 1.0, 500, stl=False)
    assert g_stl.dtype == jnp.float64
    np.testing.assert_allclose(g_stl, 0.0, atol=1e-12)
    assert float(jnp.sum(jnp.var(g_full, axis=0))) > 0.1


def test_both_estimators_are_unbiased():
    key = jax.random.key(1)
    params = _posterior_params(t=0.7)
    g = {
        stl: sv.per_sample_gradients(key, params, 1.0, 2.0, 1.0, 20000, stl=stl)
        for stl in (True, False)
    }
    diff = g[True] - g[False]  # same eps: the score term, whose expectation is 0
    se = jnp.std(diff, axis=0) / np.sqrt(diff.shape[0])
    assert np.all(np.abs(np.asarray(jnp.mean(diff, axis=0))) < 4 * np.asarray(se))


def test_variance_curve_is_deterministic_and_stl_vanishes_at_zero():
    a = sv.variance_curve([0.0, 0.5], num_samples=200, seed=3)
    assert a == sv.variance_curve([0.0, 0.5], num_samples=200, seed=3)
    assert a["stl"][0] < 1e-20 < a["full"][0] and a["stl"][1] > 0


def test_bad_input():
    with pytest.raises(ValueError, match="positive"):
        sv.exact_posterior(1.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="2 samples"):
        sv.per_sample_gradients(jax.random.key(0), _posterior_params(), 1.0, 2.0, 1.0, 1, stl=True)
