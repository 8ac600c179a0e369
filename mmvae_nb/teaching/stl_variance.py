"""Sticking the landing (Roeder, Wu & Duvenaud 2017; the paper's STL estimator, App. K) on an
exact model.

Model: z ~ N(0, 1), x | z ~ N(a z, s^2), so p(z | x) = N(mu*, v*) with v* = 1 / (1 + a^2 / s^2)
and mu* = v* a x / s^2. Variational q = N(m, exp(2 l)), z = m + exp(l) eps. The per-sample ELBO
gradient w.r.t. (m, l) is the full (total-derivative) estimator; STL drops the score term by
evaluating log q with stop_gradient on q's parameters, as ``objectives.bounds`` does with
``q.stop_gradient()``. At q = p(z | x), log p(x, z) - log q(z) = log p(x) for every z, so the
STL gradient is exactly 0 while the full one keeps the score term's variance.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt

from mmvae_nb.models.distributions import gaussian_log_prob


def exact_posterior(x, a, s):
    """(mu*, v*) of z | x for z ~ N(0, 1), x | z ~ N(a z, s^2)."""
    if s <= 0:
        raise ValueError(f"noise scale s must be positive, got {s}")
    var = 1.0 / (1.0 + a**2 / s**2)
    return var * a * x / s**2, var


def per_sample_gradients(key, params, x, a, s, num_samples: int, stl: bool):
    """Per-sample gradients of log p(x, z) - log q(z) w.r.t. params = (m, l): (num_samples, 2)."""
    if num_samples < 2:
        raise ValueError(f"need at least 2 samples for a variance, got {num_samples}")
    params = jnp.asarray(params)
    eps = jax.random.normal(key, (num_samples,), params.dtype)

    def elbo(p, e):
        m, log_sd = p[0], p[1]
        z = m + jnp.exp(log_sd) * e
        q_m, q_l = (jax.lax.stop_gradient(m), jax.lax.stop_gradient(log_sd)) if stl else (m, log_sd)
        log_q = gaussian_log_prob(z[None], q_m[None], jnp.exp(2 * q_l)[None])
        log_joint = gaussian_log_prob(z[None], 0.0, jnp.ones(1, p.dtype)) + gaussian_log_prob(
            jnp.asarray(x, p.dtype)[None], a * z[None], jnp.full(1, s**2, p.dtype)
        )
        return log_joint - log_q

    return jax.vmap(jax.grad(elbo), in_axes=(None, 0))(params, eps)


def variance_curve(distances, x=1.0, a=2.0, s=1.0, num_samples=2000, seed=0):
    """Total per-sample gradient variance (trace of the covariance) of both estimators for q with
    mean mu* + t sd* and sd (1 + t) sd*, t in ``distances`` -> {"full": [...], "stl": [...]}."""
    mu, var = exact_posterior(x, a, s)
    sd = var**0.5
    key = jax.random.key(seed)
    out = {"full": [], "stl": []}
    for t in distances:
        params = jnp.array([mu + t * sd, jnp.log((1 + t) * sd)])
        for name in out:
            g = per_sample_gradients(key, params, x, a, s, num_samples, stl=name == "stl")
            out[name].append(float(jnp.sum(jnp.var(g, axis=0))))
    return out


def plot_variance(distances=(0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6), **kwargs):
    """The notebook-04 picture: gradient variance against the distance t from the posterior."""
    curve = variance_curve(distances, **kwargs)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(distances, curve["full"], "o-", label="full (total derivative)")
    ax.plot(distances, curve["stl"], "s-", label="STL (score term dropped)")
    ax.set_xlabel("distance t of q from p(z | x) (posterior sds)")
    ax.set_ylabel("per-sample gradient variance")
    ax.set_title("Sticking the landing on a linear-Gaussian model")
    ax.legend()
    fig.tight_layout()
    return fig, curve
