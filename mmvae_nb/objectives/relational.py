"""The relational model's ELBO (Sutter & Vogt, eq. 4; ``models.relational``):

    L(X) = E[log p(X | u, n)] - beta (KL(q(u | n, y, X) || p(u))
           + E[log r(n | X) - log p(n)] + E[log r(y | n, X) - log p(y)]),

one draw of (n, y, u) per example; at beta = 1 a lower bound on log p(X) for any parameters.
"""

from __future__ import annotations


def relational_elbo(model, xs, present, key, beta=1.0, subset_sampler="hierarchical"):
    """L(X) per example -> (B,) for the modalities ``present``; ``subset_sampler`` is unused
    (accepted so that every objective has one signature)."""
    del subset_sampler
    terms = model.terms(xs, present, key)
    rate = terms.kl_latent + terms.kl_sizes + terms.kl_selections
    return terms.reconstruction - beta * rate
