"""MoPoE's own objective (Sutter et al. 2021, Section 3), for a mixture posterior over subsets.

With q(z | X) = sum_A w_A q_A(z) (``aggregators.shared.mixture_of_products``: the PoE of every
non-empty subset A of the present modalities, uniform weights), MoPoE trains

    L^MoPoE(X) = E_{A ~ w}[ E_{q_A}[log p(X | z)] ] - beta sum_A w_A KL(q_A || N(0, I)),

the reconstruction from one subset drawn per example (MoPoE's mixture sampling) and the average
of the subsets' KL terms in closed form (an upper bound on KL(q || p) by convexity). At beta = 1
it is the average of the subsets' ELBOs, sum_A w_A (log p(X) - KL(q_A || p(z | X))), so it is a
lower bound on log p(X) for any encoder (``tests/objectives/test_mopoe.py`` checks this against
the exact linear-Gaussian likelihood). It needs the standard-normal prior and a mixture posterior.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mmvae_nb.models.priors import StandardNormalPrior


def gaussian_kl_to_standard(mean, var):
    """KL(N(mean, diag var) || N(0, I)), summed over the last axis."""
    return 0.5 * jnp.sum(var + mean**2 - 1.0 - jnp.log(var), axis=-1)


def mopoe_bound(model, xs, present, key, beta=1.0, subset_sampler="hierarchical"):
    """L^MoPoE(X) per example -> (B,). ``subset_sampler`` is unused: the subsets are MoPoE's
    mixture components, not S ~ rho (accepted so that every bound has one signature)."""
    del subset_sampler
    prior = getattr(model, "prior", None)
    if prior is not None and not isinstance(prior, StandardNormalPrior):
        raise ValueError(f"the MoPoE objective needs the standard-normal prior, not {prior}")
    q = model.encode(model.embed(xs, present), present)  # (B, K) components
    k_component, k_noise = jax.random.split(key)
    component = jax.random.categorical(k_component, q.log_weights)  # (B,) one A per example
    mean = jnp.take_along_axis(q.mean, component[:, None, None], axis=1)[:, 0]
    var = jnp.take_along_axis(q.var, component[:, None, None], axis=1)[:, 0]
    z = mean + jnp.sqrt(var) * jax.random.normal(k_noise, mean.shape, mean.dtype)
    weights = jnp.exp(q.log_weights)
    rate = jnp.sum(
        jnp.where(weights > 0, weights * gaussian_kl_to_standard(q.mean, q.var), 0.0), axis=-1
    )
    reconstruction = model.log_likelihood(xs, z[:, None], present, reweight=True)[:, 0]
    return reconstruction - beta * rate
