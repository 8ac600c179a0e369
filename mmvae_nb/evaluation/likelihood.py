"""Log-likelihoods of learned models.

* ``importance_sampled_log_likelihood`` — the estimator of App. L for any model:
      log p(x_S) ~ log (1/K) sum_k p(z_k, x_S) / q(z_k | x_S),   z_k ~ q(z | x_S),
  with the encoder of the same subset as proposal.
* Exact results for the linear-Gaussian model of App. M, in float64 NumPy (independent of JAX's
  precision flags): the marginal log p(x_S), the closed-form maximum-likelihood estimate and the
  exact posterior p(z | x_S).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp
from scipy.linalg import cho_factor, cho_solve, eigh


def importance_sampled_log_likelihood(
    model, xs, subset, key, num_particles: int = 64, particles_per_chunk: int = 16, modalities=None
):
    """Importance-sampled log p(x_S) per example (App. L) -> (B,).

    ``subset`` (B, M) marks the modalities in S (e.g. the present ones for log p(x^o), App. I);
    the proposal is q(z | x_S), sampled ancestrally (component, then Gaussian) when it is a
    mixture. Particles are drawn ``particles_per_chunk`` at a time (``lax.map``), so memory is
    bounded by B x ``particles_per_chunk`` decoder evaluations whatever ``num_particles`` is.
    For an empty S the estimate is exactly 0 = log 1. The estimate is a lower bound in
    expectation (Jensen) that increases to log p(x_S) as ``num_particles`` grows, and is exact
    for any K when q(z | x_S) is the true posterior. ``modalities`` (static, optional) lists
    every modality ``subset`` can mark; only their decoders run (``log_likelihood``).
    """
    if num_particles % particles_per_chunk:
        raise ValueError(
            f"num_particles={num_particles} must be a multiple of "
            f"particles_per_chunk={particles_per_chunk}"
        )
    q = model.encode(model.embed(xs, subset), subset)

    def log_weights(chunk_key):
        z = jax.vmap(q.sample)(jax.random.split(chunk_key, particles_per_chunk))
        z = jnp.moveaxis(z, 0, 1)  # (B, C, D)
        log_joint = model.log_likelihood(xs, z, subset, modalities=modalities)
        log_joint = log_joint + model.prior_log_prob(z)
        return log_joint - q.log_prob(z)  # (B, C)

    chunks = jax.lax.map(log_weights, jax.random.split(key, num_particles // particles_per_chunk))
    chunks = jnp.moveaxis(chunks, 0, 1).reshape(chunks.shape[1], -1)  # (B, K)
    return logsumexp(chunks, axis=-1) - jnp.log(num_particles)


def _stack(xs, W, b):
    x = np.concatenate([np.asarray(a, dtype=np.float64) for a in xs], axis=1)
    w = np.concatenate([np.asarray(a, dtype=np.float64) for a in W], axis=0)
    bias = np.concatenate([np.asarray(a, dtype=np.float64) for a in b], axis=0)
    if x.shape[1] != w.shape[0] or w.shape[0] != bias.shape[0]:
        raise ValueError(
            f"dimension mismatch: data has {x.shape[1]} features, W has {w.shape[0]} rows, "
            f"b has {bias.shape[0]} entries"
        )
    return x, w, bias


def linear_gaussian_log_likelihood(xs, W, b, noise_std) -> np.ndarray:
    """Exact log p(x) = log N(x; b, W W^T + sigma^2 I) of the stacked modalities ``xs``.

    ``xs``, ``W``, ``b`` are lists over the modalities to include (any subset S gives
    log p(x_S), App. M). Returns an (n,) float64 array.
    """
    x, w, bias = _stack(xs, W, b)
    cov = w @ w.T + float(noise_std) ** 2 * np.eye(w.shape[0])
    chol, lower = cho_factor(cov, lower=True)
    centred = x - bias
    maha = np.sum(centred * cho_solve((chol, lower), centred.T).T, axis=1)
    logdet = 2.0 * np.sum(np.log(np.diag(chol)))
    return -0.5 * (maha + logdet + x.shape[1] * np.log(2.0 * np.pi))


def linear_gaussian_mle(xs, latent_dim: int):
    """Closed-form maximum-likelihood estimate of probabilistic PCA (Tipping & Bishop, 1999).

    With the sample covariance S of the stacked data (D_x features) and its eigenvalues
    lambda_1 >= ... >= lambda_{D_x}:
        b_ML = mean(x),  sigma^2_ML = 1 / (D_x - D) * sum_{j > D} lambda_j,
        W_ML = U_D (Lambda_D - sigma^2_ML I)^{1/2}.
    App. M prints the normaliser of sigma^2_ML as 1 / (N - D); the sum runs over the D_x - D
    discarded eigenvalues, so the MLE (the average discarded variance) divides by D_x - D.
    W_ML is identified up to a rotation. Returns ``(W_list, b_list, noise_std)`` split per modality.
    """
    dims = [np.shape(a)[1] for a in xs]
    x = np.concatenate([np.asarray(a, dtype=np.float64) for a in xs], axis=1)
    total = x.shape[1]
    if not 0 < latent_dim < total:
        raise ValueError(f"latent_dim must be in (0, {total}), got {latent_dim}")
    bias = x.mean(axis=0)
    centred = x - bias
    cov = centred.T @ centred / x.shape[0]
    eigval, eigvec = eigh(cov)
    eigval, eigvec = eigval[::-1], eigvec[:, ::-1]
    sigma2 = eigval[latent_dim:].mean()
    w = eigvec[:, :latent_dim] * np.sqrt(np.maximum(eigval[:latent_dim] - sigma2, 0.0))
    splits = np.cumsum(dims)[:-1]
    return np.split(w, splits, axis=0), np.split(bias, splits), float(np.sqrt(sigma2))


def linear_gaussian_posterior(xs, W, b, noise_std):
    """Exact posterior p(z | x_S) = N(K^{-1} W_S^T (x_S - b_S), sigma^2 K^{-1}), K = W^T W + s^2 I.

    ``xs``, ``W``, ``b`` list the modalities in S. Returns ``(mean (n, D), cov (D, D))``.
    """
    x, w, bias = _stack(xs, W, b)
    s2 = float(noise_std) ** 2
    k = w.T @ w + s2 * np.eye(w.shape[1])
    mean = np.linalg.solve(k, w.T @ (x - bias).T).T
    return mean, s2 * np.linalg.inv(k)


def subset_log_likelihoods(
    model,
    xs,
    subsets,
    key,
    *,
    num_particles: int = 512,
    particles_per_chunk: int = 16,
    batch_size: int = 250,
    letters=("M", "S", "T"),
):
    """Mean importance-sampled log p(x_S) over the examples of ``xs`` for each subset S (App. L;
    Tables 3 and 9: M+S+T and each marginal, 512 particles in the paper) -> a DataFrame with
    columns ``target`` (e.g. "M+S+T"), ``metric`` = "loglik", ``value``. Examples are processed
    ``batch_size`` at a time, so memory is bounded by batch x ``particles_per_chunk``
    decoder evaluations. Each subset is its own program that runs only the decoders of S (a
    marginal log p(x_s) evaluates one decoder, not all of them)."""
    import pandas as pd
    from flax import nnx

    from mmvae_nb.evaluation.coherence import subset_name

    # an nnx model's parameters are arguments, not compile-time constants: every model of one
    # architecture shares the compiled programs; another model is a static argument itself
    model, state = nnx.split(model) if isinstance(model, nnx.Module) else (model, None)
    estimate = functools.partial(
        _subset_log_likelihood,
        state,
        model=model,
        num_particles=num_particles,
        particles_per_chunk=particles_per_chunk,
    )
    n, rows = len(xs[0]), []
    for subset in subsets:
        total, modalities = 0.0, tuple(sorted(subset))
        for i, start in enumerate(range(0, n, batch_size)):
            batch = [jnp.asarray(x[start : start + batch_size]) for x in xs]
            mask = jnp.zeros((len(batch[0]), len(xs)), bool).at[:, list(subset)].set(True)
            values = estimate(batch, mask, jax.random.fold_in(key, i), modalities=modalities)
            total += float(jnp.sum(values))
        rows.append((subset_name(subset, letters), total / n))
    return pd.DataFrame(rows, columns=["target", "value"]).assign(metric="loglik")[
        ["target", "metric", "value"]
    ]


@functools.partial(
    jax.jit, static_argnames=("model", "num_particles", "particles_per_chunk", "modalities")
)
def _subset_log_likelihood(
    state, batch, mask, key, *, model, num_particles, particles_per_chunk, modalities
):
    """``importance_sampled_log_likelihood`` of ``model`` (an nnx graphdef merged with
    ``state``, or a model object when ``state`` is None), one program per configuration."""
    from flax import nnx

    model = model if state is None else nnx.merge(model, state)
    return importance_sampled_log_likelihood(
        model, batch, mask, key, num_particles, particles_per_chunk, modalities
    )
