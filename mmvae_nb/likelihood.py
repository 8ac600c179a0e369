"""Log-likelihoods of learned models.

Exact results for the linear-Gaussian model of App. M, in float64 NumPy (independent of JAX's
precision flags): the marginal log p(x_S), the closed-form maximum-likelihood estimate and the
exact posterior p(z | x_S).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, eigh


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
