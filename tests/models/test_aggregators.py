"""Aggregators: PoE closed form, masking, permutation invariance / equivariance, empty sets."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

from mmvae_nb.models.aggregators import AGGREGATORS, make_aggregator, product_of_experts
from mmvae_nb.models.distributions import Posterior, gaussian_log_prob

rng = np.random.default_rng(1)
SHARED = [
    "PoE",
    "MoE",
    "MoPoE",
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


def test_variance_weighted_mean_is_the_paper_codes_and_not_the_product():
    """``mean_weighting="variance"``: the paper's code's sum mu_s var_s / (1 + sum 1/var_s); the
    variance is the product's, the mean differs unless every var_s = 1; unknown: refused."""
    mean, var = rng.normal(size=(1, 3, 2)), rng.uniform(0.2, 3, size=(1, 3, 2))
    mask = np.array([[True, False, True]])
    mu, v = product_of_experts(mean, var, mask, "variance")
    _, v_product = product_of_experts(mean, var, mask)
    np.testing.assert_allclose(v, v_product)
    np.testing.assert_allclose(mu[0], v[0] * (mean[0, 0] * var[0, 0] + mean[0, 2] * var[0, 2]))
    unit = np.ones_like(var)
    np.testing.assert_allclose(
        product_of_experts(mean, unit, mask, "variance")[0], product_of_experts(mean, unit, mask)[0]
    )
    with pytest.raises(ValueError, match="mean_weighting"):
        product_of_experts(mean, var, mask, "precison")
    with pytest.raises(ValueError, match="mean_weighting"):
        make_aggregator("PoE", 2, 4, rngs=nnx.Rngs(0), mean_weighting="precison")
    assert "mean_weighting" in AGGREGATORS["PoE"].options


def _options(name, **wanted):
    """The subset of ``wanted`` that the registry entry ``name`` accepts."""
    return {k: v for k, v in wanted.items() if k in AGGREGATORS[name].options}


def _aggregator(name, private=0):
    return make_aggregator(
        name,
        3,
        2 * (3 + private),
        rngs=nnx.Rngs(0),
        private_dim=private,
        **_options(name, hidden_dim=16),
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


def test_registry_lists_every_aggregator_once():
    assert set(AGGREGATORS) == set(SHARED) | set(EQUIVARIANT)
    assert {n for n, spec in AGGREGATORS.items() if spec.private_latents} == set(EQUIVARIANT)
    # fixed aggregations: nothing to learn, so nothing to size; PoE can use the paper's code's mean
    assert AGGREGATORS["MoE"].options == AGGREGATORS["MoPoE"].options == ()
    assert AGGREGATORS["PoE"].options == ("mean_weighting",)
    for name in SHARED[3:] + EQUIVARIANT[1:]:
        assert "hidden_dim" in AGGREGATORS[name].options


def test_unknown_aggregator_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown aggregator 'Sum'.*PoE.*SelfAttention") as err:
        make_aggregator("Sum", 3, 6, rngs=nnx.Rngs(0))
    assert all(repr(name) in str(err.value) for name in AGGREGATORS)
    with pytest.raises(ValueError, match="private-latent"):
        make_aggregator("PoE", 3, 6, rngs=nnx.Rngs(0), private_dim=2)
    with pytest.raises(ValueError, match="shared-latent"):
        make_aggregator("SumPooling (equivariant)", 3, 6, rngs=nnx.Rngs(0))


def test_unknown_option_is_a_clear_error():
    """Constructors swallow nothing: an option the entry does not take is refused, naming the
    accepted ones."""
    with pytest.raises(ValueError, match=r"PoE takes no option\(s\) \['hidden_dim'\]"):
        make_aggregator("PoE", 3, 6, rngs=nnx.Rngs(0), hidden_dim=16)
    with pytest.raises(ValueError, match=r"\['widht'\]; accepted: .*hidden_dim") as err:
        make_aggregator("SumPooling", 3, 6, rngs=nnx.Rngs(0), widht=16)
    for option in AGGREGATORS["SumPooling"].options:
        assert repr(option) in str(err.value)
    with pytest.raises(ValueError, match="accepted: .*num_heads"):
        make_aggregator("SelfAttention (equivariant)", 3, 8, rngs=nnx.Rngs(0), private_dim=1, k=5)


def test_expert_aggregators_need_an_expert_embedding():
    with pytest.raises(ValueError, match="embedding_dim = 2 x latent = 6"):
        make_aggregator("PoE", 3, 8, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="embedding_dim = 2 x latent = 10"):
        make_aggregator("PoE (equivariant)", 3, 6, rngs=nnx.Rngs(0), private_dim=2)


@pytest.mark.parametrize("name", list(AGGREGATORS))
def test_every_output_is_a_posterior(name):
    """Every registry entry returns a ``distributions.Posterior`` whose expected value is a
    point in the full latent space, (B, D') or (B, D' + M D~)."""
    private = 2 if AGGREGATORS[name].private_latents else 0
    agg = _aggregator(name, private)
    h, mask = _inputs(batch=5, private=private)
    q = agg(h, mask)
    assert isinstance(q, Posterior)
    assert isinstance(q.stop_gradient(), Posterior)
    mean = q.expected_value()
    assert mean.shape == (5, 3 + 4 * private)
    assert np.all(np.isfinite(mean))
    assert q.sample_stratified(jax.random.key(0)).shape[::2] == (5, 3 + 4 * private)
    assert q.log_weights.shape[0] == 5
    # a mixture exactly where the registry declares one (default options; MoE: M = 4 experts)
    assert (q.log_weights.shape[-1] > 1) == AGGREGATORS[name].mixture_output


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


# --------------------------------------------------------------------------- Algorithm 2
HIERARCHICAL = ["SumPooling (equivariant)", "SelfAttention (equivariant)"]


@pytest.fixture
def x64():
    """Exact zeros and float64 comparisons below (conftest enables x64 too; be explicit)."""
    jax.config.update("jax_enable_x64", True)
    assert jnp.zeros(()).dtype == jnp.float64


def _hierarchical_case(name):
    """An aggregator with private latents (D' = 3, D~ = 2, M = 4), float64 parameters,
    embeddings, a mask with an absent modality and a fixed z (B, 1, D' + M D~)."""
    graphdef, params, rest = nnx.split(_aggregator(name, private=2), nnx.Param, ...)
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), params)
    h, _ = _inputs(private=2)
    mask = jnp.array([[True, False, True, True]] * 4)
    z = jnp.asarray(rng.normal(size=(4, 1, 3 + 4 * 2)))
    return graphdef, params, rest, h, mask, z


def _log_q(graphdef, params, rest, h, mask, z, stop):
    q = nnx.merge(graphdef, params, rest)(h, mask)
    return jnp.sum((q.stop_gradient() if stop else q).log_prob(z))


def _private_part(graphdef, params, rest, h, mask, z, stop):
    """log q(z~ | z', x_S) alone: the private head's contribution, a function of z'."""
    q = nnx.merge(graphdef, params, rest)(h, mask)
    q = q.stop_gradient() if stop else q
    return jnp.sum(q.log_prob(z) - q.shared.log_prob(z[..., :3]))


def _leaves(tree):
    return [np.asarray(a) for a in jax.tree.leaves(tree)]


@pytest.mark.parametrize("name", HIERARCHICAL)
def test_stop_gradient_keeps_the_density(x64, name):
    graphdef, params, rest, h, mask, z = _hierarchical_case(name)
    live = _log_q(graphdef, params, rest, h, mask, z, stop=False)
    stopped = _log_q(graphdef, params, rest, h, mask, z, stop=True)
    assert np.isfinite(live)
    np.testing.assert_array_equal(stopped, live)


@pytest.mark.parametrize("name", HIERARCHICAL)
def test_stop_gradient_stops_every_variational_parameter(x64, name):
    """Algorithm 2: log q_{phi'}(z~ | z', x_S) with phi' = stop_grad(phi) has zero gradient
    with respect to the aggregator's parameters and to the embeddings (hence the encoders),
    while the unstopped density has a gradient with respect to both."""
    graphdef, params, rest, h, mask, z = _hierarchical_case(name)
    for stop in (True, False):
        grad_params, grad_h = jax.grad(_log_q, argnums=(1, 3))(
            graphdef, params, rest, h, mask, z, stop
        )
        leaves = _leaves(grad_params) + [np.asarray(grad_h)]
        assert all(np.all(np.isfinite(g)) for g in leaves)
        if stop:
            assert all(np.all(g == 0.0) for g in leaves)
        else:
            assert any(np.any(g != 0.0) for g in _leaves(grad_params))
            assert np.any(np.asarray(grad_h) != 0.0)
    # the private head alone: stopped too (the shared part's stop is GaussianMixture's)
    grad_private = jax.grad(_private_part, argnums=1)(graphdef, params, rest, h, mask, z, True)
    assert all(np.all(g == 0.0) for g in _leaves(grad_private))
    head = jax.grad(_private_part, argnums=1)(graphdef, params, rest, h, mask, z, False)["head"]
    assert any(np.any(g != 0.0) for g in _leaves(head))


@pytest.mark.parametrize("name", HIERARCHICAL)
def test_stop_gradient_keeps_the_path_through_the_shared_latent(x64, name):
    """Only the parameters are stopped: as a function of z, in particular of z' through the
    private head's conditioning, the stopped density is the same, so its gradient in z
    (what carries the reparameterised path of Algorithm 2) is unchanged and non-zero."""
    graphdef, params, rest, h, mask, z = _hierarchical_case(name)
    for fn in (_log_q, _private_part):
        grad_stop = jax.grad(fn, argnums=5)(graphdef, params, rest, h, mask, z, True)
        grad_live = jax.grad(fn, argnums=5)(graphdef, params, rest, h, mask, z, False)
        np.testing.assert_allclose(grad_stop, grad_live, rtol=1e-12, atol=1e-14)
        assert np.all(np.abs(np.asarray(grad_stop)[..., :3]).sum(-1) > 0)  # z' part, per example
    # the private head depends on z' (hierarchical q), and its private latents of absent
    # modalities (slot 1) do not: their density is the prior's
    grad_private = jax.grad(_private_part, argnums=5)(graphdef, params, rest, h, mask, z, True)
    np.testing.assert_allclose(grad_private[..., 5:7], -z[..., 5:7], rtol=1e-12)


@pytest.mark.parametrize("name", HIERARCHICAL)
def test_stl_gradient_flows_through_the_sample_only(x64, name):
    """With z = t(phi, eps) live and log q_{phi'} stopped, the parameter gradient is the path
    term d log q(z) / dz * dz / dphi alone: it equals the full gradient minus the score term."""
    graphdef, params, rest, h, mask, _ = _hierarchical_case(name)
    key = jax.random.key(3)

    def stl(p, stop, sample_stop):
        q = nnx.merge(graphdef, p, rest)(h, mask)
        z = q.sample_stratified(key)
        z_eval = jax.lax.stop_gradient(z) if sample_stop else z
        return jnp.sum((q.stop_gradient() if stop else q).log_prob(z_eval))

    path = jax.grad(stl)(params, True, False)
    full = jax.grad(stl)(params, False, False)
    score = jax.grad(stl)(params, False, True)
    assert any(np.any(g != 0.0) for g in _leaves(path))
    for p, f, s in zip(_leaves(path), _leaves(full), _leaves(score)):
        np.testing.assert_allclose(p, f - s, rtol=1e-8, atol=1e-10)


def test_mixture_output_is_what_the_registry_declares():
    """A plain SumPooling cannot be turned into a mixture, and a Mixture entry cannot be one
    Gaussian: ``mixture_output`` tells the truth for every accepted option."""
    with pytest.raises(ValueError, match="takes no option"):
        make_aggregator("SumPooling", 3, 6, rngs=nnx.Rngs(0), hidden_dim=8, num_components=5)
    with pytest.raises(ValueError, match="num_components must be >= 2"):
        make_aggregator("SumPoolingMixture", 3, 6, rngs=nnx.Rngs(0), num_components=1)
    assert "num_components" in AGGREGATORS["SelfAttentionMixture"].options
    assert "num_components" not in AGGREGATORS["SelfAttention"].options
