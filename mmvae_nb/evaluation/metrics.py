"""Evaluation metrics: mean correlation coefficient (identifiability) and rate/distortion terms.

* ``mcc`` — mean correlation coefficient between true and inferred latents (Khemakhem et al.,
  2020; Section 5.1): *weak* after an affine alignment by CCA, *strong* after the optimal
  signed permutation of components, and *first_pair_rdc*, the metric of the paper's code for
  Tables 2, 7, 8 (a dependence coefficient of the first canonical pair only, which is why its
  levels exceed the weak MCC's).
* ``rate_distortion`` — the multi-modal rates and distortions of Section 2 (eq. 6, Lemma 3),
  plotted in Figures 2-5, 8, 9 (App. M, Q): full reconstruction -D_M, full rate R_M, cross
  reconstruction, cross rate R_{\\S}, each as a per-example Monte-Carlo estimate. The cross
  reconstruction here is E_{q(z|x_S)} log p(x_{\\S} | z), the reconstruction of the missing
  modalities from S; Lemma 3's D_{\\S} integrates against q(z | x) instead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata
from sklearn.cross_decomposition import CCA

from mmvae_nb.models.distributions import stratified_expectation

# plot labels of the rate / distortion terms (Figures 2-5, 8, 9)
RATE_DISTORTION_TERMS = {
    "full_reconstruction": "Full reconstruction $-D_M$",
    "full_rate": "Full rate $R_M$",
    "full_posterior_kl": "Full posterior KL",
    "cross_reconstruction": "Cross reconstruction $-D^c_{\\setminus S}$",
    "cross_rate": "Cross rate $R_{\\setminus S}$",
    "unimodal_posterior_kl": "Uni-modal posterior KL",
}


def _standardise(a):
    a = np.asarray(a, dtype=np.float64)
    a = a - a.mean(axis=0)
    return a / np.maximum(a.std(axis=0), 1e-12)


def canonical_correlations(a, b) -> np.ndarray:
    """All canonical correlations between the columns of ``a`` (n, p) and ``b`` (n, q).

    Closed form: the singular values of Sigma_aa^{-1/2} Sigma_ab Sigma_bb^{-1/2}, computed with
    thin QR decompositions of the centred data (numerically the stable route).
    """
    qa, _ = np.linalg.qr(np.asarray(a, np.float64) - np.mean(a, axis=0))
    qb, _ = np.linalg.qr(np.asarray(b, np.float64) - np.mean(b, axis=0))
    return np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), 0.0, 1.0)


def _orthonormal_basis(a) -> np.ndarray:
    """An orthonormal basis of the centred columns of ``a`` (numerically rank-deficient
    directions dropped, with NumPy's ``matrix_rank`` tolerance)."""
    a = np.asarray(a, np.float64)
    u, s, _ = np.linalg.svd(a - a.mean(axis=0), full_matrices=False)
    tolerance = s.max(initial=0.0) * max(a.shape) * np.finfo(np.float64).eps
    return u[:, s > tolerance]


def randomized_dependence(x, y, rng: np.random.Generator, features: int = 20, scale=0.5):
    """The randomized dependence coefficient (Lopez-Paz et al., NeurIPS 2013) of two scalar
    samples: the largest canonical correlation between ``features`` random sine features
    sin(w_1 u + w_0), w ~ N(0, scale^2), of their empirical copulas u = rank / n. In [0, 1],
    invariant to monotone transformations of either variable; 1 for a deterministic monotone
    relation, near 0 (up to the finite-sample bias of CCA on ``features`` features) for
    independent ones."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"need two 1-D samples of equal length, got {x.shape}, {y.shape}")

    def sine_features(v):
        copula = rankdata(v, method="ordinal") / len(v)
        weights = rng.normal(0.0, scale, size=(2, features))
        return np.sin(np.column_stack([copula, np.ones_like(copula)]) @ weights)

    qx, qy = _orthonormal_basis(sine_features(x)), _orthonormal_basis(sine_features(y))
    return float(np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False)[0], 0.0, 1.0))


def first_pair_rdc(z_true, z_est, seed: int = 0) -> float:
    """The identifiability metric of the paper's code for Tables 2, 7, 8 (its ``compute_mcc``
    with ``cca_dim=1``, the out-of-sample weak MCC): CCA with one component fitted on the first
    half of the points, both latents projected on it on the second half, and the randomized
    dependence coefficient of that pair (seeded here; the paper's code draws its features
    without a seed)."""
    half = z_true.shape[0] // 2
    cca = CCA(n_components=1).fit(z_true[:half], z_est[:half])
    u, v = cca.transform(z_true[half : 2 * half], z_est[half : 2 * half])
    return randomized_dependence(u[:, 0], v[:, 0], np.random.default_rng(seed))


def mcc(z_true, z_est, kind: str = "weak") -> float:
    """Mean correlation coefficient in [0, 1] between ``z_true`` (n, D) and ``z_est`` (n, D').

    * ``weak``: mean of the min(D, D') canonical correlations, i.e. the correlations between
      true and estimated latents after the best affine alignment (CCA), as in iVAE's weak MCC.
      Computed in sample, in closed form.
    * ``strong``: mean absolute Pearson correlation after matching components one-to-one with
      the assignment that maximises it (signs are free).
    * ``first_pair_rdc``: ``first_pair_rdc`` (the paper's code's metric; not a mean over
      components).
    When D' > D (a model with more latent dimensions than the truth) the extra ones are unused.
    """
    z_true, z_est = np.asarray(z_true), np.asarray(z_est)
    if z_true.ndim != 2 or z_est.ndim != 2 or z_true.shape[0] != z_est.shape[0]:
        raise ValueError(f"need two (n, D) arrays with equal n, got {z_true.shape}, {z_est.shape}")
    if not (np.all(np.isfinite(z_true)) and np.all(np.isfinite(z_est))):
        raise ValueError("mcc got NaN/inf latents")
    if kind == "weak":
        return float(np.mean(canonical_correlations(z_true, z_est)))
    if kind == "strong":
        corr = np.abs(_standardise(z_true).T @ _standardise(z_est) / z_true.shape[0])
        rows, cols = linear_sum_assignment(-corr)
        return float(np.mean(corr[rows, cols]))
    if kind == "first_pair_rdc":
        return first_pair_rdc(z_true, z_est)
    raise ValueError(f"unknown MCC kind {kind!r}; choose 'weak', 'strong' or 'first_pair_rdc'")


def unimodal_masks(present):
    """The M masks of the uni-modal subsets S = {s}, restricted to present modalities: (M, B, M)."""
    eye = jnp.eye(present.shape[-1], dtype=bool)
    return eye[:, None, :] & present[None]


def rate_distortion(model, xs, present, key, num_samples: int = 16):
    """Per-example rate and distortion terms of a trained model (App. M, Figures 3-5).

    Returns a dict of (B,) arrays, Monte-Carlo estimates with ``num_samples`` stratified draws:
      full_reconstruction  E_{q(z|x)} log p(x | z)                          (-D_M)
      full_rate            KL(q(z|x) || p(z))                               (R_M)
      cross_reconstruction mean_s E_{q(z|x_s)} log p(x_{\\s} | z)           (-D^c_{\\S}, S = {s})
      cross_rate           mean_s KL(q(z|x) || q(z|x_s))                    (R_{\\S}, S = {s})
    Cross terms average over the uni-modal subsets S = {s}.
    """
    tokens = model.embed(xs, present)
    q_full = model.encode(tokens, present)

    def expect(q, k, f):
        draws = jax.vmap(lambda kk: stratified_expectation(q, kk, f))
        return jnp.mean(draws(jax.random.split(k, num_samples)), axis=0)

    k_full, k_cross = jax.random.split(key)
    k_rec, k_rate = jax.random.split(k_full)
    full_rec = expect(q_full, k_rec, lambda z: model.log_likelihood(xs, z, present))
    full_rate = expect(q_full, k_rate, lambda z: q_full.log_prob(z) - model.prior_log_prob(z))

    def cross(args):
        mask, k = args
        q_s = model.encode(tokens, mask)
        k1, k2 = jax.random.split(k)
        rec = expect(q_s, k1, lambda z: model.log_likelihood(xs, z, present & ~mask))
        rate = expect(q_full, k2, lambda z: q_full.log_prob(z) - q_s.log_prob(z))
        return rec, rate

    masks = unimodal_masks(present)
    recs, rates = jax.lax.map(cross, (masks, jax.random.split(k_cross, masks.shape[0])))
    return {
        "full_reconstruction": full_rec,
        "full_rate": full_rate,
        "cross_reconstruction": jnp.mean(recs, axis=0),
        "cross_rate": jnp.mean(rates, axis=0),
    }
