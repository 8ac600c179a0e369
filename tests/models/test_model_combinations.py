"""Every aggregator x prior x bound either trains (one finite Adam step) or is refused at
construction with a ``ValueError``; the refused set is spelled out, so a combination cannot
break, or start being refused, silently."""

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mmvae_nb.models.aggregators import AGGREGATORS
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.models.priors import PRIORS
from mmvae_nb.objectives.bounds import BOUNDS

MODALITY_DIMS = (3, 4)
BATCH = 8
# tiny widths; K = 2 mixture components wherever there is a mixture (MoE has M = 2, the GMM
# prior 2, the Mixture aggregators 2), so the eager steps below share most compiled kernels
HIDDEN, COMPONENTS = 8, 2
# private latents + a Gaussian-mixture prior: refused by design (MultimodalVAE, App. J's
# optimal cluster factor is derived for a shared latent); everything else must train
REFUSED = {
    ("PoE (equivariant)", "gmm"),
    ("SumPooling (equivariant)", "gmm"),
    ("SelfAttention (equivariant)", "gmm"),
}
COMBINATIONS = list(itertools.product(AGGREGATORS, PRIORS, BOUNDS))


def _build(name, prior):
    """The tiny model of ``name`` with ``prior`` (built afresh: construction is under test)."""
    spec = AGGREGATORS[name]
    options = {"hidden_dim": HIDDEN} if "hidden_dim" in spec.options else {}
    if spec.mixture_output and "num_components" in spec.options:
        options["num_components"] = COMPONENTS
    return mlp_vae(
        MODALITY_DIMS,
        2,
        name,
        rngs=nnx.Rngs(0),
        encoder_hidden=(8,),
        aggregator_options=options,
        private_latent_dim=1 if spec.private_latents else 0,
        prior=prior,
        prior_components=COMPONENTS,
    )


@functools.cache
def _split(name, prior):
    """(graphdef, params, rest) of ``_build``, shared by the two bounds' tests: nothing below
    mutates a model (the step is functional: ``nnx.merge`` of new parameters)."""
    return nnx.split(_build(name, prior), nnx.Param, ...)


def _batch():
    gen = np.random.default_rng(0)
    xs = [jnp.asarray(gen.normal(size=(BATCH, d)), jnp.float32) for d in MODALITY_DIMS]
    # both present, and each one missing (App. I), so every code path of the bounds runs
    present = jnp.asarray([[True, True], [True, False], [False, True], [True, True]] * 2)
    return xs, present


def test_the_refused_combinations_are_the_private_latent_entries_with_the_gmm_prior():
    assert set(PRIORS) == {"standard", "gmm"} and set(BOUNDS) == {"ours", "mixture"}
    private = {name for name, spec in AGGREGATORS.items() if spec.private_latents}
    assert REFUSED == {(name, "gmm") for name in private}


@pytest.mark.parametrize(("name", "prior", "bound"), COMBINATIONS)
def test_combination_trains_or_is_refused(name, prior, bound):
    if (name, prior) in REFUSED:
        with pytest.raises(ValueError, match="Gaussian-mixture prior with private latents"):
            _build(name, prior)
        return
    graphdef, params, rest = _split(name, prior)
    bound_fn = BOUNDS[bound]
    xs, present = _batch()

    # eager, not jit: the arrays are tiny, and a whole-step compilation per combination costs
    # more than the per-primitive ones, which the combinations share
    def loss(p):
        return -jnp.mean(bound_fn(nnx.merge(graphdef, p, rest), xs, present, jax.random.key(1)))

    loss_value, grads = jax.value_and_grad(loss)(params)
    assert np.isfinite(loss_value), f"{name} / {prior} / {bound}: loss {loss_value}"
    grad_leaves = jax.tree.leaves(grads)
    assert all(np.all(np.isfinite(g)) for g in grad_leaves)
    assert any(np.any(g != 0) for g in grad_leaves)
    optimiser = optax.adam(1e-2)
    updates, _ = optimiser.update(grads, optimiser.init(params), params)
    new_params = optax.apply_updates(params, updates)
    assert all(np.all(np.isfinite(p)) for p in jax.tree.leaves(new_params))
    assert any(np.any(a != b) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(new_params)))
