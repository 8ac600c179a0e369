"""The relational model (mrVAE): eq. (4) against an exact log p(X), masking, structure draws."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from scipy.stats import multivariate_normal

from mmvae_nb.models.decoders import LinearGaussianDecoder
from mmvae_nb.models.relational import RelationalVAE
from mmvae_nb.objectives.bounds import get_bound

SIGMA, D, DIMS = 0.5, 2, (3, 2)


def small_model(
    seed=0, learned_selection_reverse=True, size_prior="hypergeometric", global_selections=False
):
    """M = 2, D = 2: three subspaces ({0}, {1}, {0, 1}); linear encoders and linear-Gaussian
    decoders, so p(X | n) is Gaussian and log p(X) = log sum_n p(n) N(X; b, G_n G_n^T + s^2 I)
    is exact (y does not enter p(X | u, n))."""
    rngs = nnx.Rngs(seed)
    encoders = [nnx.Linear(d, 2 * D, rngs=rngs) for d in DIMS]
    decoders = [LinearGaussianDecoder(2 * D, d, SIGMA, rngs=rngs) for d in DIMS]
    return RelationalVAE(
        encoders,
        decoders,
        D,
        rngs=rngs,
        hidden=8,
        learned_selection_reverse=learned_selection_reverse,
        size_prior=size_prior,
        global_selections=global_selections,
    )


def exact_log_likelihood(model, xs):
    subsets = model.subsets
    prior = np.asarray(model.size_prior)
    total_dim = sum(DIMS)
    bias = np.concatenate([np.asarray(dec.linear.bias.get_value()) for dec in model.decoders])
    x = np.concatenate([np.asarray(v) for v in xs], axis=1)
    terms = []
    for sizes in itertools.product(range(D + 1), repeat=len(subsets)):
        g = np.zeros((total_dim, len(subsets) * D))
        row = 0
        for j, dec in enumerate(model.decoders):
            w = np.asarray(dec.linear.kernel.get_value()).T  # (d_j, D 2^{M-1})
            for p, a in enumerate(model.decoded_from[j]):
                for r in range(sizes[a]):
                    g[row : row + DIMS[j], a * D + r] = w[:, p * D + r]
            row += DIMS[j]
        cov = g @ g.T + SIGMA**2 * np.eye(total_dim)
        log_prior = sum(prior[n] for n in sizes)
        terms.append(log_prior + multivariate_normal(bias, cov).logpdf(x))
    return np.logaddexp.reduce(np.stack(terms), axis=0)


# one compiled program per call site instead of hundreds of eager per-primitive ones
@nnx.jit
def _sample_structure(model, xs, present, key):
    return model.sample_structure(xs, present, key)


@nnx.jit
def _kl_selections(model, xs, present, keys):
    return jax.vmap(lambda k: model.terms(xs, present, k).kl_selections)(keys)


@pytest.fixture(scope="module")
def setup():
    model = small_model()
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.normal(size=(5, d))) for d in DIMS]
    return model, xs


def test_the_exact_log_likelihood_is_the_models_marginal(setup):
    """The reference itself: log p(X) against a Monte-Carlo average of p(X | u, n) over the
    prior (n ~ p(n), u ~ N(0, I)), through the model's own decoders."""
    model, xs = setup
    draws = 200_000

    @nnx.jit
    def estimate(model, xs, key):
        k_sizes, k_u = jax.random.split(key)
        shape = (draws, len(model.subsets))
        sizes = jax.random.categorical(k_sizes, model.size_prior, shape=shape)
        used = (jnp.arange(D) < sizes[..., None]).astype(jnp.float64)
        u = jax.random.normal(k_u, (draws, len(model.subsets), D))

        def log_p(x0, x1):
            xs_b = [jnp.broadcast_to(x0, (draws, DIMS[0])), jnp.broadcast_to(x1, (draws, DIMS[1]))]
            return model.log_likelihood(xs_b, u, used, jnp.ones((draws, 2), bool))

        values = jax.vmap(log_p)(xs[0], xs[1])  # (5, draws)
        return jax.scipy.special.logsumexp(values, axis=1) - np.log(draws)

    estimate = estimate(model, xs, jax.random.key(7))
    np.testing.assert_allclose(estimate, exact_log_likelihood(model, xs), atol=0.05)


@pytest.mark.parametrize(
    "reverse, size_prior",
    [
        ("learned, random", "hypergeometric"),
        ("uniform", "hypergeometric"),
        ("learned, random", "uniform"),
        ("global, learned", "hypergeometric"),
        ("global, uniform", "uniform"),
    ],
)
def test_eq4_is_below_the_exact_log_likelihood(setup, reverse, size_prior):
    """For any reverse model rho(y | n) of the selections (y is auxiliary: it does not enter
    p(X | u, n)), Definition 2's uniform or Plackett-Luce with any scores, and for either size
    prior (log p(X) is the marginal under the model's own); also for global selections with
    rho = r (no selection term) or the uniform rho, at random scores."""
    _, xs = setup
    model = small_model(
        learned_selection_reverse="uniform" not in reverse,
        size_prior=size_prior,
        global_selections=reverse.startswith("global"),
    )
    if model.global_selections:
        shape = model.global_selection_scores[...].shape
        model.global_selection_scores[...] = 3 * jax.random.normal(jax.random.key(8), shape)
    if reverse == "learned, random":
        shape = model.selection_reverse_scores[...].shape
        model.selection_reverse_scores[...] = 3 * jax.random.normal(jax.random.key(9), shape)
    present = jnp.ones((5, 2), bool)
    elbo = get_bound("relational")
    draw = nnx.jit(lambda m, keys: jax.vmap(lambda k: elbo(m, xs, present, k))(keys))
    draws = np.asarray(draw(model, jax.random.split(jax.random.key(0), 4000)))
    mean, stderr = draws.mean(0), draws.std(0) / np.sqrt(len(draws))
    exact = exact_log_likelihood(model, xs)
    assert np.all(np.isfinite(draws))
    assert np.all(mean + 3 * stderr < exact)


def test_structure_draws_are_hard_and_sizes_follow_r(setup):
    model, xs = setup
    present = jnp.ones((5, 2), bool)
    sample, _ = _sample_structure(model, xs, present, jax.random.key(1))
    used = np.asarray(sample.used)
    assert set(np.unique(used)) <= {0.0, 1.0}
    np.testing.assert_array_equal(used.sum(-1), np.asarray(sample.sizes))
    # a used coordinate is a prefix: 1 ... 1 0 ... 0
    assert np.all(np.diff(used, axis=-1) <= 0)


def test_the_closed_form_rate_terms_are_the_means_of_their_single_draw_values(setup):
    """Rao-Blackwellisation over n: E_n[used] = P(n_A > r), E_n[log r(n) - log p(n)] =
    KL(r || p), E_n[sum_r used_r KL_r] = sum_r P(n_A > r) KL_r, against 4,000 draws."""
    model, xs = setup
    present = jnp.ones((5, 2), bool)
    keys = jax.random.split(jax.random.key(4), 4000)

    def draw(key):
        sample, _ = model.sample_structure(xs, present, key)
        kl_r = 0.5 * (sample.var + sample.mean**2 - 1.0 - jnp.log(sample.var))
        log_r = jnp.take_along_axis(sample.size_log_probs, sample.sizes[..., None], -1)[..., 0]
        prior = model.size_prior[sample.sizes]
        single = (jnp.sum(log_r - prior, -1), jnp.sum(sample.used * kl_r, (1, 2)))
        return sample.used, sample.expected_used, single, model.terms(xs, present, key)

    used, expected_used, (sizes_single, latent_single), terms = jax.jit(jax.vmap(draw))(keys)

    def assert_mean(values, target):
        values = np.asarray(values)
        stderr = values.std(0) / np.sqrt(len(values)) + 1e-12
        assert np.all(np.abs(values.mean(0) - np.asarray(target)) < 4 * stderr + 1e-9)

    assert_mean(used, expected_used[0])  # r does not depend on the key
    assert_mean(sizes_single, terms.kl_sizes[0])
    np.testing.assert_allclose(terms.kl_sizes, terms.kl_sizes[:1].repeat(len(keys), 0))
    assert np.all(np.asarray(terms.kl_sizes) >= 0)
    # the latent term's mean over draws of n and y: single draws vs the closed form over n
    difference = np.asarray(latent_single - terms.kl_latent)
    assert abs(difference.mean()) < 4 * difference.std() / np.sqrt(len(keys))
    assert np.any(np.abs(difference) > 1e-6)  # the two estimators do differ draw by draw


def test_the_size_prior_pulls_r(setup):
    """The closed-form KL(r || p) gives the size networks the prior's gradient: without the
    reconstruction and the other terms, gradient steps on it alone bring r to the prior."""
    model, xs = setup
    present = jnp.ones((5, 2), bool)
    loss = lambda m: jnp.mean(m.terms(xs, present, jax.random.key(0)).kl_sizes)  # noqa: E731
    start = float(nnx.jit(loss)(model))
    trained = nnx.clone(model)
    optimizer = nnx.Optimizer(trained, optax.adam(0.05), wrt=nnx.Param)
    step = nnx.jit(lambda m, opt: opt.update(m, nnx.grad(loss)(m)))
    for _ in range(200):
        step(trained, optimizer)
    end = float(nnx.jit(loss)(trained))
    assert start > 0.05 and 0 <= end < 0.01 * start, (start, end)
    sample, _ = _sample_structure(trained, xs, present, jax.random.key(1))
    r = np.exp(np.asarray(sample.size_log_probs))
    prior = np.broadcast_to(np.exp(np.asarray(model.size_prior)), r.shape)
    np.testing.assert_allclose(r, prior, atol=0.02)


def test_a_reverse_model_matching_an_input_independent_selection_costs_nothing(setup):
    """With selection scores that do not depend on X, the learned rho can equal the posterior
    and the selection term vanishes in every draw; Definition 2's uniform rho charges the same
    selection a KL > 0 on average over draws (a single draw can be below 0)."""
    _, xs = setup
    present = jnp.ones((5, 2), bool)
    keys = jax.random.split(jax.random.key(5), 1000)
    values = {}
    for learned in (True, False):
        model = small_model(learned_selection_reverse=learned)
        model.selection_net.w_out[...] = jnp.zeros_like(model.selection_net.w_out[...])
        if learned:
            model.selection_reverse_scores[...] = model.selection_net.b_out[...]
        values[learned] = np.asarray(_kl_selections(model, xs, present, keys))
    np.testing.assert_allclose(values[True], 0.0, atol=1e-12)
    uniform = values[False]
    assert np.all(uniform.mean(0) - 4 * uniform.std(0) / np.sqrt(len(keys)) > 0.1)


def test_global_selections_cost_nothing_and_learn_from_the_reconstruction(setup):
    """Global selections with rho = r: the selection term is 0 in every draw and has no
    gradient; the scores still receive the reconstruction's (NeuralSort) gradient; one order
    serves the whole batch, so equal inputs get equal posteriors of u."""
    _, xs = setup
    model = small_model(global_selections=True)
    assert model.selection_net is None and model.selection_reverse_scores is None
    present = jnp.ones((5, 2), bool)
    keys = jax.random.split(jax.random.key(5), 200)
    selection = _kl_selections(model, xs, present, keys)
    np.testing.assert_array_equal(np.asarray(selection), 0.0)

    @nnx.jit
    def parts(m):
        def part(name):
            def loss(m):
                terms = m.terms(xs, present, jax.random.key(3))
                return jnp.sum(getattr(terms, name))

            return nnx.grad(loss)(m).global_selection_scores[...]

        return part("kl_selections"), part("reconstruction")

    from_selections, from_reconstruction = parts(model)
    np.testing.assert_array_equal(np.asarray(from_selections), 0.0)
    assert float(jnp.sum(from_reconstruction**2)) > 0
    same = [jnp.repeat(x[:1], 5, axis=0) for x in xs]
    sample, _ = _sample_structure(model, same, present, jax.random.key(4))
    np.testing.assert_allclose(sample.mean, jnp.repeat(sample.mean[:1], 5, axis=0))
    amortised, _ = _sample_structure(small_model(), same, present, jax.random.key(4))
    assert not np.allclose(amortised.mean, amortised.mean[:1])  # a Gumbel draw per example


def test_the_learned_reverse_model_starts_at_the_uniform(setup):
    """rho's scores start at 0: eq. (4) at initialisation is Definition 2's, draw by draw."""
    _, xs = setup
    present, key = jnp.ones((5, 2), bool), jax.random.key(6)
    elbo = nnx.jit(lambda m: get_bound("relational")(m, xs, present, key))
    learned, uniform = small_model(), small_model(learned_selection_reverse=False)
    np.testing.assert_allclose(elbo(learned), elbo(uniform))


def test_absent_modalities_change_nothing(setup):
    """A NaN in an absent modality's slot changes no value and no gradient, and subspaces
    without a present modality keep their prior."""
    model, xs = setup
    present = jnp.array([[True, False]] * 5)
    poisoned = [xs[0], jnp.full_like(xs[1], jnp.nan)]
    elbo = get_bound("relational")
    key = jax.random.key(2)

    @nnx.jit
    def values_and_grads(m, xs, poisoned):
        grads = nnx.grad(lambda m: jnp.sum(elbo(m, poisoned, present, key)))(m)
        return elbo(m, xs, present, key), elbo(m, poisoned, present, key), grads

    clean, dirty, grads = values_and_grads(model, xs, poisoned)
    np.testing.assert_allclose(clean, dirty)
    assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    sample, _ = _sample_structure(model, xs, present, key)
    only_second = [k for k, a in enumerate(model.subsets) if not a[0]]  # the subset {1}
    np.testing.assert_array_equal(sample.mean[:, only_second], 0.0)
    np.testing.assert_array_equal(sample.var[:, only_second], 1.0)


def test_gradients_reach_every_network(setup):
    model, xs = setup
    present = jnp.ones((5, 2), bool)
    loss = lambda m: jnp.sum(get_bound("relational")(m, xs, present, jax.random.key(3)))  # noqa: E731
    grads = nnx.jit(nnx.grad(loss))(model)
    norms = {
        name: float(sum(jnp.sum(g**2) for g in jax.tree.leaves(part)))
        for name, part in (
            ("encoders", grads.encoders),
            ("decoders", grads.decoders),
            ("size_net", grads.size_net),
            ("selection_net", grads.selection_net),
            ("selection reverse model", grads.selection_reverse_scores),
        )
    }
    assert all(v > 0 for v in norms.values()), norms


def test_mismatched_modalities_are_refused():
    rngs = nnx.Rngs(0)
    with pytest.raises(ValueError, match="one encoder and one decoder"):
        RelationalVAE([nnx.Linear(3, 4, rngs=rngs)], [], 2, rngs=rngs)


def test_an_unknown_size_prior_is_refused():
    with pytest.raises(ValueError, match="unknown subspace size prior 'flat'.*hypergeometric"):
        small_model(size_prior="flat")


def test_initial_selections_are_stable_and_differ_across_subsets():
    """At initialisation the Gumbel-perturbed selection keeps the order its bias prefers (so the
    decoders do not see their inputs permuted at random each step), and that order is not the
    same for every (subset, modality)."""
    from mmvae_nb.models.relaxations import gumbel_top_k_st

    rngs = nnx.Rngs(3)
    d = 6
    model = RelationalVAE(
        [nnx.Linear(4, 2 * d, rngs=rngs) for _ in range(3)],
        [LinearGaussianDecoder(d * 4, 4, SIGMA, rngs=rngs) for _ in range(3)],
        d,
        rngs=rngs,
    )
    x = jnp.asarray(np.random.default_rng(0).normal(size=(64, 4)))
    present = jnp.ones((64, 3), bool)

    @nnx.jit
    def first_choices(model, x):
        mean, _ = model.encode([x, x, x], present)
        inputs = jnp.asarray(model.subsets)[None] & present[:, None, :]
        scores = model.selection_net(mean, inputs)  # (B, K, M, D)
        _, order = gumbel_top_k_st(jax.random.key(0), scores, model.temperature)
        return order[..., 0]

    preferred = np.asarray(jnp.argmax(model.selection_net.b_out[...], -1))  # (K, M)
    first = np.asarray(first_choices(model, x))  # (B, K, M) the factor chosen for coordinate 0
    member = np.asarray(model.subsets, bool)[None]
    agreement = np.mean((first == preferred[None])[np.broadcast_to(member, first.shape)])
    assert agreement > 0.85
    assert len(np.unique(preferred[np.asarray(model.subsets, bool)])) > 1
