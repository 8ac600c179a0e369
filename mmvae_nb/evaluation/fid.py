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
from scipy import linalg


def gaussian_frechet_distance(mean_a, cov_a, mean_b, cov_b) -> float:
    """The Fréchet (2-Wasserstein) distance squared between N(mean_a, cov_a), N(mean_b, cov_b)."""
    root = linalg.sqrtm(cov_a @ cov_b)
    if np.iscomplexobj(root):
        root = root.real  # numerical noise of a PSD product's square root
    diff = np.asarray(mean_a) - np.asarray(mean_b)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))


def frechet_distance(features_a, features_b) -> float:
    """FD between Gaussians fitted (mean, covariance with ddof = 1) to two (n, F) feature sets."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be (n, F) with the same F, got {a.shape}, {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError("need at least two feature vectors per set")
    return gaussian_frechet_distance(a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T))
