"""Aggregators: PoE closed form, masking, permutation invariance / equivariance, empty sets."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

from mmvae_nb.models.aggregators import make_aggregator, product_of_experts
from mmvae_nb.models.distributions import gaussian_log_prob

rng = np.random.default_rng(1)
SHARED = [
    "PoE",
    "MoE",
    "SumPooling",
    "SelfAttention",
    "SumPoolingMixture",
    "SelfAttentionMixture",
]
EQUIVARIANT = ["PoE (equivariant)", "SumPooling (equivariant)", "SelfAttention (equivariant)"]


def test_product_of_experts_is_the_normalised_product():
    """log p(z) + sum_s log q_s(z) - log N(z; mu, v) must not depend on z."""
    mean, var = rng.normal(size=(1, 3, 2)), rng.uniform(0.2, 3, size=(1, 3, 2))
    mask = np.array([[True, False, True]])
    mu, v = product_of_experts(mean, var, mask)
    z = rng.normal(size=(50, 2))
    product = gaussian_log_prob(z, 0.0, 1.0) + sum(
        gaussian_log_prob(z, mean[0, s], var[0, s]) for s in (0, 2)
    )
    diff = product - gaussian_log_prob(z, mu[0], v[0])
    np.testing.assert_allclose(diff, diff[0], atol=1e-10)
    # closed form: 1/v = 1 + sum 1/var_s, mu = v sum mu_s / var_s
    np.testing.assert_allclose(1 / v[0], 1 + 1 / var[0, 0] + 1 / var[0, 2])
    np.testing.assert_allclose(mu[0], v[0] * (mean[0, 0] / var[0, 0] + mean[0, 2] / var[0, 2]))


def _aggregator(name, private=0):
    return make_aggregator(
        name, 3, 2 * (3 + private), rngs=nnx.Rngs(0), hidden_dim=16, private_dim=private
    )


def _inputs(batch=4, m=4, private=0):
    h = jnp.asarray(rng.normal(size=(batch, m, 2 * (3 + private))))
    mask = jnp.asarray(rng.uniform(size=(batch, m)) < 0.6).at[:, 0].set(True)
    return h, mask


@pytest.mark.parametrize("name", SHARED)
def test_shared_aggregators_are_permutation_invariant(name):
    agg = _aggregator(name)
    h, mask = _inputs()
    perm = jnp.array([2, 0, 3, 1])
    q, q_perm = agg(h, mask), agg(h[:, perm], mask[:, perm])
    z = jnp.asarray(rng.normal(size=(4, 3)))
    np.testing.assert_allclose(q.log_prob(z), q_perm.log_prob(z), rtol=1e-10)


@pytest.mark.parametrize("name", SHARED + EQUIVARIANT)
def test_absent_modalities_change_nothing(name):
    private = 3 if name in EQUIVARIANT else 0
    agg = _aggregator(name, private)
    h, mask = _inputs(private=private)
    mask = mask.at[:, 1].set(False)
    poisoned = h.at[:, 1].set(jnp.nan)
    z = jnp.asarray(rng.normal(size=(4, 1, 3 + 4 * private)))
    lp, lp_poisoned = agg(h, mask).log_prob(z), agg(poisoned, mask).log_prob(z)
    np.testing.assert_allclose(lp, lp_poisoned, rtol=1e-12)
    assert np.all(np.isfinite(lp_poisoned))
    # and no NaN leaks into gradients either
    grad = jax.grad(lambda hh: jnp.sum(agg(hh, mask).log_prob(z)))(poisoned)
    assert np.all(np.isfinite(np.asarray(grad)[:, [0, 2, 3]]))


@pytest.mark.parametrize("name", SHARED + EQUIVARIANT)
def test_empty_set_gives_the_prior(name):
    private = 3 if name in EQUIVARIANT else 0
    agg = _aggregator(name, private)
    h, _ = _inputs(private=private)
    mask = jnp.zeros((4, 4), bool)
    z = jnp.asarray(rng.normal(size=(4, 1, 3 + 4 * private)))
    np.testing.assert_allclose(agg(h, mask).log_prob(z), gaussian_log_prob(z, 0.0, 1.0), rtol=1e-10)


@pytest.mark.parametrize("name", EQUIVARIANT)
def test_private_encoders_are_permutation_equivariant(name):
    """Permuting modalities (with their masks) permutes the private latents' distribution:
    log q(z', z~_perm | h_perm) == log q(z', z~ | h) for every z."""
    agg = _aggregator(name, private=2)
    h, mask = _inputs(private=2)
    perm = np.array([2, 0, 3, 1])
    z = rng.normal(size=(4, 1, 3 + 4 * 2))
    z_private = z[..., 3:].reshape(4, 1, 4, 2)
    z_perm = np.concatenate([z[..., :3], z_private[:, :, perm].reshape(4, 1, 8)], axis=-1)
    lp = agg(h, mask).log_prob(jnp.asarray(z))
    lp_perm = agg(h[:, perm], mask[:, perm]).log_prob(jnp.asarray(z_perm))
    np.testing.assert_allclose(lp, lp_perm, rtol=1e-10)


def test_private_latents_outside_s_follow_the_prior():
    agg = _aggregator("SumPooling (equivariant)", private=2)
    h, _ = _inputs(private=2)
    mask = jnp.array([[True, False, True, False]] * 4)
    q = agg(h, mask)
    z = jnp.asarray(rng.normal(size=(4, 1, 11)))
    z_moved = z.at[..., 5:7].add(1.0)  # z~_2 (absent) changes
    delta = q.log_prob(z_moved) - q.log_prob(z)
    expected = gaussian_log_prob(z_moved[..., 5:7], 0.0, 1.0) - gaussian_log_prob(
        z[..., 5:7], 0.0, 1.0
    )
    np.testing.assert_allclose(delta, expected, rtol=1e-10)


def test_unknown_aggregator_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown shared-latent aggregator 'Sum'.*PoE"):
        make_aggregator("Sum", 3, 6, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="private-latent"):
        make_aggregator("PoE", 3, 6, rngs=nnx.Rngs(0), private_dim=2)


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_product_of_experts_properties(m, seed, data):
    """Invariant to any permutation of experts (with their mask); an extra expert can only
    shrink the variance; all-absent gives the prior."""
    gen = np.random.default_rng(seed)
    mean, var = gen.normal(size=(2, m, 3)), gen.uniform(0.1, 5, size=(2, m, 3))
    mask = np.asarray(data.draw(st.lists(st.booleans(), min_size=m, max_size=m)))[None].repeat(2, 0)
    perm = np.asarray(data.draw(st.permutations(range(m))))
    mu, v = product_of_experts(mean, var, mask)
    mu_p, v_p = product_of_experts(mean[:, perm], var[:, perm], mask[:, perm])
    np.testing.assert_allclose(mu, mu_p, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v, v_p, rtol=1e-10)
    assert np.all(v <= 1.0)
    more = mask.copy()
    more[:, 0] = True
    assert np.all(product_of_experts(mean, var, more)[1] <= v + 1e-15)
    mu0, v0 = product_of_experts(mean, var, np.zeros_like(mask))
    np.testing.assert_allclose(mu0, 0.0)
    np.testing.assert_allclose(v0, 1.0)
