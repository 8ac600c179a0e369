"""Our bound with one decoder pass per modality and stratum (``objectives.decode_once``): the
same estimate as the two-pass form, in value and gradients (float64), and the passes it leaves
out are those the two-pass form gives weight 0."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.models.aggregators.shared import nonempty_subsets
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.objectives.bounds import conditional_term, marginal_term, masked_bound
from mmvae_nb.objectives.decode_once import masked_terms

DIMS = (5, 4, 6)
# every kind of example: S empty, S = present, missing modalities, S a proper subset
PRESENT = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 1, 0], [1, 1, 1]], bool)
SUBSET = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1]], bool)


def _model(aggregator, prior="standard", private=0):
    model = mlp_vae(
        DIMS,
        2,
        aggregator,
        rngs=nnx.Rngs(0),
        encoder_hidden=(8,),
        embedding_dim=None if private == 0 else 8,
        decoder="mlp",
        noise_std=0.5,
        prior=prior,
        prior_components=4,
        private_latent_dim=private,
    )
    graph, params, rest = nnx.split(model, nnx.Param, ...)
    return graph, jax.tree.map(lambda a: a.astype(jnp.float64), params), rest


def _data():
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.normal(size=(len(PRESENT), d))) for d in DIMS]
    xs[1] = xs[1].at[2].set(jnp.nan)  # an absent slot's content must not leak
    return xs


def _two_pass(model, xs, q_s, q_full, k_marginal, k_conditional):
    subset, present = jnp.asarray(SUBSET), jnp.asarray(PRESENT)
    return marginal_term(model, xs, q_s, subset, k_marginal, 0.7) + conditional_term(
        model, xs, q_s, q_full, subset, present, k_conditional, 0.7
    )


def _one_pass(model, xs, q_s, q_full, k_marginal, k_conditional):
    subset, present = jnp.asarray(SUBSET), jnp.asarray(PRESENT)
    return masked_terms(model, xs, q_s, q_full, subset, present, k_marginal, k_conditional, 0.7)


@pytest.mark.parametrize(
    "aggregator,prior,private",
    [("MoPoE", "standard", 0), ("MoE", "gmm", 0), ("SumPooling (equivariant)", "standard", 2)],
)
def test_one_decoder_pass_gives_the_two_pass_estimate_and_gradients(aggregator, prior, private):
    """MoPoE (the model that uses it), MoE with a mixture prior that pads both posteriors to
    more components, and private latents (Algorithm 2)."""
    graph, params, rest = _model(aggregator, prior, private)
    xs = _data()

    def estimate(form, params, key):
        model = nnx.merge(graph, params, rest)
        tokens = model.embed(xs, jnp.asarray(PRESENT))
        q_s = model.encode(tokens, jnp.asarray(SUBSET))
        q_full = model.encode(tokens, jnp.asarray(PRESENT))
        return form(model, xs, q_s, q_full, *jax.random.split(key))

    @jax.jit
    def values_and_gradients(params, key):
        return [
            (
                estimate(f, params, key),
                jax.grad(lambda q, f=f: jnp.sum(estimate(f, q, key)))(params),
            )
            for f in (_two_pass, _one_pass)
        ]

    for key in jax.random.split(jax.random.key(0), 2):
        (want, want_grad), (got, got_grad) = values_and_gradients(params, key)
        assert np.all(np.isfinite(want))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        for g, w in zip(jax.tree.leaves(got_grad), jax.tree.leaves(want_grad)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_masked_bound_decodes_once_for_mopoe_only(monkeypatch):
    import mmvae_nb.objectives.bounds as bounds
    from mmvae_nb.objectives.subsets import hierarchical_subset_mask

    calls = []
    monkeypatch.setattr(bounds, "masked_terms", lambda *a: calls.append(1) or masked_terms(*a))
    graph, params, rest = _model("MoPoE")
    model, xs, present = nnx.merge(graph, params, rest), _data(), jnp.asarray(PRESENT)
    assert model.decode_once and not nnx.merge(*_model("PoE")).decode_once

    @jax.jit
    def both(key):
        k_subset, k_marginal, k_conditional = jax.random.split(key, 3)
        subset = hierarchical_subset_mask(k_subset, present)
        tokens = model.embed(xs, present)
        q_s, q_full = model.encode(tokens, subset), model.encode(tokens, present)
        two_pass = marginal_term(model, xs, q_s, subset, k_marginal, 1.0) + conditional_term(
            model, xs, q_s, q_full, subset, present, k_conditional, 1.0
        )
        return masked_bound(model, xs, present, key), two_pass

    np.testing.assert_allclose(*both(jax.random.key(3)), rtol=1e-12)
    assert calls == [1]


def _within(mask):
    """(B, K): whether MoPoE's component subset A_k lies within the mask of example b."""
    return ~np.any(np.asarray(nonempty_subsets(mask.shape[-1])) & ~mask[:, None], axis=-1)


class _Probe:
    """The model with decoder s's term for example b and stratum k multiplied by e[b, k, s]:
    the gradient of an estimate at e = 1 is the weight it gives each decoder pass (times its
    log-likelihood, which is not 0 here)."""

    def __init__(self, model, e):
        self.model, self.e = model, e

    def log_likelihood(self, xs, z, mask, reweight=False):
        terms = [
            self.model.log_likelihood(xs, z, mask, reweight, modalities=(s,))
            for s in range(len(xs))
        ]
        return jnp.sum(self.e * jnp.stack(terms, axis=-1), axis=-1)

    def prior_log_prob(self, z):
        return self.model.prior_log_prob(z)


def test_the_passes_left_out_have_weight_zero():
    """For MoPoE, the two-pass form's decoder pass (b, k, s) has weight > 0 in L_S only for
    s in S and the component's subset A_k within S, in L_{\\S} only for s in present \\ S and
    A_k within the present modalities: never in both, so one pass per (b, k, s) holds all the
    work of weight > 0, and decode-once leaves out only passes of weight 0."""
    graph, params, rest = _model("MoPoE")
    model, xs = nnx.merge(graph, params, rest), _data()
    subset, present = jnp.asarray(SUBSET), jnp.asarray(PRESENT)
    tokens = model.embed(xs, present)
    q_s, q_full = model.encode(tokens, subset), model.encode(tokens, present)
    k_marginal, k_conditional = jax.random.split(jax.random.key(1))
    ones = jnp.ones(SUBSET.shape[:1] + (q_s.num_components, len(DIMS)))
    marginal = jax.jit(
        jax.grad(
            lambda e: jnp.sum(marginal_term(_Probe(model, e), xs, q_s, subset, k_marginal, 1.0))
        )
    )(ones)
    conditional = jax.jit(
        jax.grad(
            lambda e: jnp.sum(
                conditional_term(
                    _Probe(model, e), xs, q_s, q_full, subset, present, k_conditional, 1.0
                )
            )
        )
    )(ones)
    s_in = SUBSET[:, None, :]
    rest = (PRESENT & ~SUBSET)[:, None, :]
    np.testing.assert_array_equal(marginal != 0, _within(SUBSET)[..., None] & s_in)
    np.testing.assert_array_equal(conditional != 0, _within(PRESENT)[..., None] & rest)
    assert not np.any((marginal != 0) & (conditional != 0))
    # decode-once decodes, for (b, k, s), L_S's sample where s in S and L_{\S}'s elsewhere
    left_out = np.where(s_in, conditional, marginal)
    np.testing.assert_array_equal(left_out, 0.0)
