"""PoE, MoE and SumPooling posteriors q(z | x_S) in 2-D for S = {1}, {2}, {1, 2} (Section 3).

The experts are those of the exact linear-Gaussian model (``exact_model``) with a 2-D latent:
N(W_s^T (x_s - b_s), sigma^2 I). PoE multiplies them with the prior expert N(0, I)
(``product_of_experts``), MoE mixes them uniformly (``mixture_of_experts``), SumPooling maps
rho(sum_{s in S} chi(h_s)) to a Gaussian (``SumPooling``, Example 6), here *untrained* (random
initialisation), with h_s = (expert mean, expert log-std): its posterior is a function of the
set, not a product, until training makes it one.
"""

from __future__ import annotations

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from flax import nnx

from mmvae_nb.data.linear import sample_linear_gaussian
from mmvae_nb.models.aggregators.shared import SumPooling, mixture_of_experts, product_of_experts
from mmvae_nb.models.distributions import gaussian_log_prob
from mmvae_nb.teaching.exact_model import SIGMA, ExactPoEModel

SUBSETS = {"{1}": (True, False), "{2}": (False, True), "{1, 2}": (True, True)}


def posteriors(seed=0, hidden_dim=32):
    """{aggregator: {S: (log_weights (K,), means (K, 2), variances (K, 2))}} for one example."""
    data = sample_linear_gaussian(seed, 1, 2, (3, 3), noise_std=SIGMA)
    model = ExactPoEModel(data)
    xs = [jnp.asarray(x) for x in data.xs]
    mean, var = model.embed(xs, jnp.ones((1, 2), bool))
    h = jnp.concatenate([mean, 0.5 * jnp.log(var)], axis=-1)
    pooling = SumPooling(2, 4, rngs=nnx.Rngs(seed), hidden_dim=hidden_dim)
    out = {}
    for name, members in SUBSETS.items():
        mask = jnp.asarray([members])
        mu, v = product_of_experts(mean, var, mask)
        moe = mixture_of_experts(mean, var, mask)
        pool = pooling(h.astype(jnp.float32), mask)
        comps = {
            "PoE (prior expert)": (jnp.zeros(1), mu, v),
            "MoE": (moe.log_weights[0], moe.mean[0], moe.var[0]),
            "SumPooling (untrained)": (pool.log_weights[0], pool.mean[0], pool.var[0]),
        }
        for agg, (lw, m, s2) in comps.items():
            out.setdefault(agg, {})[name] = tuple(
                np.asarray(a, float).reshape(-1, *shape)
                for a, shape in ((lw, ()), (m, (2,)), (s2, (2,)))
            )
    return out


def _density(log_w, means, variances, grid):
    """sum_k w_k N(grid; m_k, diag v_k) on a (..., 2) grid, skipping components of weight 0."""
    return sum(
        np.exp(lw + np.asarray(gaussian_log_prob(grid, m, v)))
        for lw, m, v in zip(log_w, means, variances)
        if np.isfinite(lw)
    )


def plot_posteriors(seed=0):
    """One panel per aggregator, the contours of q(z | x_S) for the three subsets -> Figure."""
    posts = posteriors(seed)
    lim = 1.2 + max(np.abs(m).max() for agg in posts.values() for _, m, _ in agg.values())
    axis = np.linspace(-lim, lim, 160)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1)
    fig, axes = plt.subplots(1, len(posts), figsize=(12, 4), sharex=True, sharey=True)
    for ax, (agg, by_subset) in zip(axes, posts.items()):
        for colour, (name, comps) in zip(("C0", "C1", "C2"), by_subset.items()):
            ax.contour(axis, axis, _density(*comps, grid), levels=4, colors=colour)
            ax.plot([], [], color=colour, label=f"S = {name}")
        ax.set_title(agg)
        ax.set_xlabel("z_1")
        ax.set_aspect("equal")
    axes[0].set_ylabel("z_2")
    axes[0].legend(fontsize=8)
    fig.suptitle("q(z | x_S) on one example of a 2-D linear-Gaussian model")
    fig.tight_layout()
    return fig


def spread(seed=0) -> pd.DataFrame:
    """Total variance tr Cov q(z | x_S) per aggregator (rows) and subset (columns); for a
    mixture, Cov = sum_k w_k (diag v_k + m_k m_k^T) - m m^T with m = sum_k w_k m_k."""
    table = {}
    for agg, by_subset in posteriors(seed).items():
        for name, (log_w, means, variances) in by_subset.items():
            w = np.where(np.isfinite(log_w), np.exp(log_w), 0.0)
            mean = w @ means
            second = np.sum(w[:, None] * (variances + means**2), axis=0)
            table.setdefault(name, {})[agg] = float(np.sum(second - mean**2))
    return pd.DataFrame(table)
