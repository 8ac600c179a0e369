"""Our bound's two terms with one decoder pass per modality and stratum (Section 2, eq. 4-5).

``bounds.marginal_term`` estimates L_S under q(z | x_S) and ``bounds.conditional_term`` L_{\\S}
under q(z | x), each with one sample per mixture component (stratum k): L_S reads
log p(x_s | z_k^S) for s in S, L_{\\S} reads log p(x_s | z_k) for s in present \\ S. The two sets
of modalities are disjoint, so for every example, stratum k and modality s at most one term
reads decoder s, and decoding

    z_{k,s} = z_k^S if s in S else z_k

once per modality gives both terms' likelihoods: the same estimate, in value and gradients,
from half the decoder passes (q(z | x_S) and q(z | x) have the same K, the aggregator's, padded
alike by the prior). The passes left out are those the two-pass form multiplies by 0: decoder s
in L_S for s not in S, and in L_{\\S} for s in S.

For MoPoE (K = 2^M - 1 = 31 at M = 5) that is 31 instead of 62 decoder passes per modality and
example. L_S's strata A not within S have weight 0 too (2^|S| - 1 of the 31 have weight > 0),
but no static shape can skip them: decoder s needs all 31 of L_{\\S}'s samples whenever
s is not in S (every s for S empty), and all 31 of L_S's for S = M.
"""

from __future__ import annotations

import jax.numpy as jnp

from mmvae_nb.models.distributions import stratified_samples, stratified_sum


def masked_terms(model, xs, q_s, q_full, subset, present, k_marginal, k_conditional, beta):
    """L_S + L_{\\S} per example -> (B,): ``bounds.marginal_term(model, xs, q_s, subset,
    k_marginal, beta) + bounds.conditional_term(model, xs, q_s, q_full, subset, present,
    k_conditional, beta)``, with the same samples, decoding each modality once."""
    z_s, w_s = stratified_samples(q_s, k_marginal)  # (B, K, D), (B, K)
    z_full, w_full = stratified_samples(q_full, k_conditional)
    rest = present & ~subset
    marginal_ll = conditional_ll = 0.0
    for s in range(len(xs)):
        z = jnp.where(subset[:, s, None, None], z_s, z_full)  # the sample the term reading s uses
        ll = model.log_likelihood(xs, z, present, reweight=True, modalities=(s,))
        marginal_ll = marginal_ll + jnp.where(subset[:, s, None], ll, 0.0)
        conditional_ll = conditional_ll + jnp.where(rest[:, s, None], ll, 0.0)
    # the rates of the two terms' STL estimators, as in ``bounds``
    rate = q_s.stop_gradient().log_prob(z_s) - model.prior_log_prob(z_s)
    cross_rate = q_full.stop_gradient().log_prob(z_full) - q_s.log_prob(z_full)
    marginal = stratified_sum(w_s, marginal_ll - beta * rate)
    conditional = stratified_sum(w_full, conditional_ll - beta * cross_rate)
    return jnp.where(jnp.any(subset, axis=-1), marginal, 0.0) + jnp.where(
        jnp.any(rest, axis=-1), conditional, 0.0
    )
