"""Fréchet distance between feature distributions (Heusel et al. 2017), in a chosen feature space.

    FD = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^{1/2})

between Gaussians fitted to two sets of features. The seed paper's FID uses Inception-v3
features, whose weights cannot be loaded offline; the relational section computes the same
distance in the feature space of its own PolyMNIST classifier (``PolyMNISTClassifier.features``),
and says so wherever it reports it: numbers in different feature spaces are not comparable, their
orderings are. ``frechet_distance`` takes any features, e.g. Inception pool features a user
computes with weights of their own.
"""

from __future__ import annotations

import numpy as np


def _psd_sqrt(cov):
    """The symmetric square root of a positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def trace_sqrt_product(cov_a, cov_b) -> float:
    """tr((S_a S_b)^{1/2}) as the sum of the square roots of the eigenvalues of the symmetric
    S_a^{1/2} S_b S_a^{1/2}, which has those of S_a S_b: no general matrix square root, so no
    warning and no complex noise when the covariances are singular (fewer samples than
    features)."""
    root_a = _psd_sqrt(cov_a)
    values = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    return float(np.sqrt(np.clip(values, 0, None)).sum())


def gaussian_frechet_distance(mean_a, cov_a, mean_b, cov_b) -> float:
    """The Fréchet (2-Wasserstein) distance squared between N(mean_a, cov_a), N(mean_b, cov_b)."""
    diff = np.asarray(mean_a) - np.asarray(mean_b)
    trace_root = trace_sqrt_product(cov_a, cov_b)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def frechet_distance(features_a, features_b) -> float:
    """FD between Gaussians fitted (mean, covariance with ddof = 1) to two (n, F) feature sets."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be (n, F) with the same F, got {a.shape}, {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError("need at least two feature vectors per set")
    return gaussian_frechet_distance(a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T))
