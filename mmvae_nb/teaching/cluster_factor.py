"""App. J's optimal cluster factor for the Gaussian-mixture prior, checked numerically.

With the structured encoder q(c, z | x_S) = q(z | x_S) q(c | z, x_S), the cluster part of the
augmented bound is f_c(z) = sum_c q(c) [-beta log q(c) + beta log p(c, z)] (eq. 16). It equals
beta log p(z) - beta KL(q(c) || p(c | z)), so it is maximised by q*(c | z) = p(c | z), the
prior's responsibilities (Remark 26), where it is beta log p(z): the bounds need only the
mixture's log p(z) (``GaussianMixturePrior.log_prob``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pandas as pd
from flax import nnx

from mmvae_nb.models.priors import GaussianMixturePrior


def cluster_factor_table(num_points=4, latent_dim=2, num_components=5, beta=1.0, seed=0):
    """f_c(z) under three cluster factors q(c | z) (optimal, uniform, one-hot on the least
    likely cluster) and beta log p(z), at ``num_points`` z ~ N(0, I) -> DataFrame."""
    if num_points < 1 or num_components < 2 or beta <= 0:
        raise ValueError("need num_points >= 1, num_components >= 2 and beta > 0")
    prior = GaussianMixturePrior(latent_dim, num_components, rngs=nnx.Rngs(seed))
    z = jax.random.normal(jax.random.key(seed + 1), (num_points, latent_dim))
    optimal = prior.responsibilities(z)
    uniform = jnp.full_like(optimal, 1.0 / num_components)
    worst = jax.nn.one_hot(jnp.argmin(optimal, axis=-1), num_components)
    worst = jnp.clip(worst, 1e-12, 1.0)  # log 0 is -inf; 0 log 0 = 0 in the limit
    worst = worst / worst.sum(-1, keepdims=True)
    return pd.DataFrame(
        {
            "beta log p(z)": beta * prior.log_prob(z),
            "f_c at q* = p(c|z)": prior.cluster_objective(z, optimal, beta),
            "f_c at uniform q(c)": prior.cluster_objective(z, uniform, beta),
            "f_c at one-hot q(c)": prior.cluster_objective(
                z, worst / worst.sum(-1, keepdims=True), beta
            ),
        }
    ).rename_axis("z")
