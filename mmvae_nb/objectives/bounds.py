"""Multi-modal variational bounds and their sticking-the-landing estimators.

* ``masked_bound`` — the paper's bound (Section 2, eq. 4-5, Algorithm 1):
      L(x) = E_{S ~ rho} [ L_S(x_S) + L_{\\S}(x) ],
      L_S    = E_{q(z|x_S)}[log p(x_S|z)] - beta KL(q(z|x_S) || p(z)),
      L_{\\S} = E_{q(z|x)}[log p(x_{\\S}|z)] - beta KL(q(z|x) || q(z|x_S)).
* ``mixture_bound`` — the mixture-based bound (eq. 1):
      L^Mix(x) = E_{S ~ rho} [ E_{q(z|x_S)}[log p(x|z)] - beta KL(q(z|x_S) || p(z)) ].

Both are per-example Monte-Carlo estimates with one subset S and one reparameterised sample per
mixture component (stratified over components; a single Gaussian has one). KL terms are estimated
as E_q[log q - log p] with the *sticking-the-landing* rule (Roeder et al., 2017; App. K): the
variational density in ``log q`` has its parameters (mixture weights included) stopped, so only
the path through the sample carries gradient. ``log q(z | x_S)`` inside L_{\\S} plays the role of
the prior and keeps its gradient (Algorithm 1). With private latents (App. F) the same code is
Algorithm 2: the posterior's ``stop_gradient`` (``aggregators.equivariant.SharedPrivatePosterior``)
stops the variational parameters of the private head but keeps the path through the sample of z'.

Edge cases are exact: with S empty, q(z|x_S) is the prior, L_S = 0 and L_{\\S} is the full ELBO;
with S = M, L_{\\S} = 0 (its estimator would be 0 in value but pure noise in gradient).

**When is ours a lower bound?** Per example, with q_S = q(z|x_S) and p_S = p(z|x_S),
    L_S + L_{\\S} = log p(x) - KL(q_S || p_S) - KL(q_M || p_M) + E_{q_M}[log q_S - log p_S],
so it is below log p(x) whenever the subset encoders are exact posteriors (any q(z|x)), and it
equals log p(x) when all are; but with inconsistent subset encoders the last term can win and
the estimate exceeds log p(x) (``tests/objectives/test_bounds.py`` shows a case). Proposition 2's
"lower bound" holds under the Bayes-consistency of the encoders it assumes. The mixture bound is
an ELBO with q(z|x_S) as variational distribution and is a lower bound for any encoder.

``x`` here means the modalities that are *present* for the example (the ``present`` mask;
App. I), so S is a subset of the present modalities and x_{\\S} = present minus S.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mmvae_nb.models.distributions import stratified_expectation
from mmvae_nb.objectives.decode_once import masked_terms
from mmvae_nb.objectives.mopoe import mopoe_bound
from mmvae_nb.objectives.relational import relational_elbo
from mmvae_nb.objectives.subsets import get_subset_sampler


def marginal_term(model, xs, q_s, subset, key, beta):
    """L_S (eq. 4) with the STL estimator, given q_s = q(z | x_S); exactly 0 for S empty."""
    q_stop = q_s.stop_gradient()

    def integrand(z):
        rate = q_stop.log_prob(z) - model.prior_log_prob(z)
        return model.log_likelihood(xs, z, subset, reweight=True) - beta * rate

    value = stratified_expectation(q_s, key, integrand)
    return jnp.where(jnp.any(subset, axis=-1), value, 0.0)


def conditional_term(model, xs, q_s, q_full, subset, present, key, beta):
    """L_{\\S} (eq. 5) with the STL estimator, given q(z | x_S) and q(z | x); 0 for S = present."""
    q_full_stop = q_full.stop_gradient()
    rest = present & ~subset

    def integrand(z):
        cross_rate = q_full_stop.log_prob(z) - q_s.log_prob(z)
        return model.log_likelihood(xs, z, rest, reweight=True) - beta * cross_rate

    value = stratified_expectation(q_full, key, integrand)
    return jnp.where(jnp.any(rest, axis=-1), value, 0.0)


def masked_bound(model, xs, present, key, beta=1.0, subset_sampler="hierarchical"):
    """Our bound L(x) (eq. 4-5, Algorithm 1; Algorithm 2 with private latents): one draw of
    S ~ rho per example -> (B,); rho is ``subsets.SUBSET_SAMPLERS[subset_sampler]``.

    A model with ``decode_once`` (MoPoE's: 2^M - 1 strata per term) gets both terms from one
    decoder pass per modality and stratum (``decode_once.masked_terms``): the same estimate
    from half the decoder work. The other models keep the two passes, whose float32 programs
    their committed trainings ran (one pass sums the decoders' gradients in another order)."""
    k_subset, k_marginal, k_conditional = jax.random.split(key, 3)
    subset = get_subset_sampler(subset_sampler)(k_subset, present)
    tokens = model.embed(xs, present)
    q_s, q_full = model.encode(tokens, subset), model.encode(tokens, present)
    if getattr(model, "decode_once", False):
        return masked_terms(
            model, xs, q_s, q_full, subset, present, k_marginal, k_conditional, beta
        )
    return marginal_term(model, xs, q_s, subset, k_marginal, beta) + conditional_term(
        model, xs, q_s, q_full, subset, present, k_conditional, beta
    )


def mixture_bound(model, xs, present, key, beta=1.0, subset_sampler="hierarchical"):
    """The mixture-based bound L^Mix(x) (eq. 1): one draw of S ~ rho per example -> (B,); rho is
    ``subsets.SUBSET_SAMPLERS[subset_sampler]``.

    S = {} is allowed (rho is a distribution on the whole power set, as in the official code);
    then q(z | x_S) is the prior.
    """
    k_subset, k_sample = jax.random.split(key)
    subset = get_subset_sampler(subset_sampler)(k_subset, present)
    q_s = model.encode(model.embed(xs, present), subset)
    q_stop = q_s.stop_gradient()

    def integrand(z):
        rate = q_stop.log_prob(z) - model.prior_log_prob(z)
        return model.log_likelihood(xs, z, present, reweight=True) - beta * rate

    return stratified_expectation(q_s, k_sample, integrand)


BOUNDS = {"ours": masked_bound, "mixture": mixture_bound}
BOUND_LABELS = {
    "ours": "Our bound",
    "mixture": "Mixture bound",
    "mopoe": "MoPoE objective",
    "relational": "mrVAE ELBO",
}
BOUND_NAMES = tuple(BOUNDS)  # every section trains both, in this order
# every objective a training may name: the paper's two bounds and the baselines' own objectives
OBJECTIVES = {**BOUNDS, "mopoe": mopoe_bound, "relational": relational_elbo}


def get_bound(name: str):
    """The objective for a name (``"ours"``, ``"mixture"``, or a baseline's, ``OBJECTIVES``)."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown bound {name!r}; choose one of {sorted(OBJECTIVES)}")
    return OBJECTIVES[name]
