"""The masked bound (eq. 4-5) and the mixture bound (eq. 1) against the exact log p(x).

On the exact linear-Gaussian model (``exact_model``), for each fixed subset S the masked bound
L_S + L_\\S equals log p(x) when the encoder is the exact posterior, whatever S (Section 3), and
the mixture bound E_{q(z|x_S)}[log p(x|z)] - KL(q(z|x_S) || p(z)) falls short of log p(x) by
KL(p(z|x_S) || p(z|x)) > 0 unless S = M (App. D). ``bound_gaps`` moves the encoder away from
the exact posterior (the experts' mean ``shift``) and averages bound - log p(x) by |S|.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mmvae_nb.data.linear import sample_linear_gaussian
from mmvae_nb.evaluation.likelihood import linear_gaussian_log_likelihood
from mmvae_nb.models.distributions import stratified_expectation
from mmvae_nb.objectives.bounds import conditional_term, marginal_term
from mmvae_nb.teaching.exact_model import SIGMA, ExactPoEModel, TiltedSubsetModel
from mmvae_nb.teaching.subset_masks import size_closed_form


def _mixture_term(model, xs, q_s, present, key):
    """One subset's term of the mixture bound (eq. 1): E_{q_S}[log p(x|z)] - KL(q_S || p)."""
    return stratified_expectation(
        q_s,
        key,
        lambda z: (
            model.log_likelihood(xs, z, present) - (q_s.log_prob(z) - model.prior_log_prob(z))
        ),
    )


def _both_bounds(model, xs, q_s, q_full, subset, present, key):
    """(masked bound L_S + L_\\S, mixture term) for one fixed subset S and one key."""
    k1, k2, k3 = jax.random.split(key, 3)
    masked = marginal_term(model, xs, q_s, subset, k1, 1.0) + conditional_term(
        model, xs, q_s, q_full, subset, present, k2, 1.0
    )
    return masked, _mixture_term(model, xs, q_s, present, k3)


def bound_gaps(
    shifts=(-0.6, -0.3, 0.0, 0.3, 0.6),
    *,
    tilt=0.0,
    mean_weighting="precision",
    num_examples=8,
    modality_dims=(4, 5, 6),
    latent_dim=3,
    draws=200,
    seed=0,
) -> pd.DataFrame:
    """bound - log p(x), averaged over ``draws`` samples, examples and the subsets of each size,
    for the masked bound ("ours", eq. 4-5) and the mixture bound ("mixture", eq. 1) -> one row
    per (shift, |S|, bound) with column ``gap``. ``tilt`` > 0 replaces the encoder by
    ``TiltedSubsetModel`` (then ``shifts`` must be (0.0,)); ``mean_weighting="variance"``
    combines the exact experts with the official code's PoE mean (``product_of_experts``)."""
    shifts = tuple(float(s) for s in shifts)
    if not shifts or draws < 1 or num_examples < 1:
        raise ValueError("need at least one shift, one draw and one example")
    if tilt and shifts != (0.0,):
        raise ValueError("tilt moves the subset encoders of the exact model: use shifts=(0.0,)")
    data = sample_linear_gaussian(seed, num_examples, latent_dim, modality_dims, noise_std=SIGMA)
    xs = [jnp.asarray(x) for x in data.xs]
    log_px = linear_gaussian_log_likelihood(data.xs, data.W, data.b, SIGMA)
    m = len(modality_dims)
    present = jnp.ones((num_examples, m), bool)
    keys = jax.random.split(jax.random.key(seed), draws)
    rows = []
    for shift in shifts:
        if tilt:
            model = TiltedSubsetModel(data, tilt, mean_weighting=mean_weighting)
        else:
            model = ExactPoEModel(data, shift=shift, mean_weighting=mean_weighting)
        tokens = model.embed(xs, present)
        q_full = model.encode(tokens, present)
        for size in range(m + 1):
            ours, mix = [], []
            for members in itertools.combinations(range(m), size):
                subset = jnp.zeros((num_examples, m), bool).at[:, list(members)].set(True)
                q_s = model.encode(tokens, subset)
                both = functools.partial(_both_bounds, model, xs, q_s, q_full, subset, present)
                masked, mixture = jax.vmap(both)(keys)
                ours.append(np.asarray(masked).mean(axis=0) - log_px)
                mix.append(np.asarray(mixture).mean(axis=0) - log_px)
            for bound, gaps in (("ours", ours), ("mixture", mix)):
                rows.append({"shift": shift, "|S|": size, "bound": bound, "gap": np.mean(gaps)})
    return pd.DataFrame(rows)


def plot_bound_gaps(gaps: pd.DataFrame | None = None, **kwargs):
    """One line per (bound, |S| >= 1): bound - log p(x) against the encoder's shift -> Figure."""
    gaps = bound_gaps(**kwargs) if gaps is None else gaps
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (bound, size), part in gaps[gaps["|S|"] > 0].groupby(["bound", "|S|"]):
        style = "-" if bound == "ours" else "--"
        label = f"{'masked (eq. 4-5)' if bound == 'ours' else 'mixture (eq. 1)'}, |S| = {size}"
        ax.plot(part["shift"], part["gap"], style, color=f"C{size - 1}", marker="o", label=label)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xlabel("shift of every expert's mean away from the exact posterior")
    ax.set_ylabel("bound - log p(x)  (mean over examples)")
    ax.set_title("Exact linear-Gaussian model: bounds against log p(x), by |S| >= 1")
    ax.legend(fontsize=7)
    return fig


def rho_averaged(gaps: pd.DataFrame, subset_sampler: str = "hierarchical") -> pd.DataFrame:
    """E_{S ~ rho}[bound - log p(x)] per (shift, bound): the |S| rows of ``bound_gaps`` weighted
    by P(|S|) under rho (given |S|, both rho's are uniform over the subsets of that size)."""
    m = int(gaps["|S|"].max())
    weights = pd.Series(size_closed_form(m, subset_sampler), name="weight")
    weighted = gaps.join(weights, on="|S|")
    weighted["gap"] *= weighted["weight"]
    return weighted.groupby(["shift", "bound"])["gap"].sum().unstack("bound")
