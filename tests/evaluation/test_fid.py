"""Fréchet distance: closed forms and its estimate from samples."""

import warnings

import numpy as np
import pytest
from scipy import linalg

from mmvae_nb.evaluation.fid import (
    frechet_distance,
    gaussian_frechet_distance,
    trace_sqrt_product,
)


def test_closed_form_for_commuting_covariances():
    """Diagonal covariances: FD = |dmu|^2 + sum (sqrt(a_i) - sqrt(b_i))^2."""
    a, b = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 1.0])
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    value = gaussian_frechet_distance(mu_a, np.diag(a), mu_b, np.diag(b))
    assert value == pytest.approx(expected, rel=1e-10)


def test_zero_for_equal_gaussians_and_symmetric():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 4))
    cov, other = m @ m.T + np.eye(4), np.eye(4) * 2
    assert gaussian_frechet_distance(np.ones(4), cov, np.ones(4), cov) == pytest.approx(0, abs=1e-8)
    ab = gaussian_frechet_distance(np.zeros(4), cov, np.ones(4), other)
    ba = gaussian_frechet_distance(np.ones(4), other, np.zeros(4), cov)
    assert ab == pytest.approx(ba, rel=1e-8)


def test_sample_estimate_converges_to_the_closed_form():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(200_000, 3))
    b = rng.normal(size=(200_000, 3)) * np.array([2.0, 1.0, 0.5]) + np.array([1.0, 0, 0])
    expected = 1.0 + (2 - 1) ** 2 + 0 + (0.5 - 1) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, abs=0.02)


def test_bad_features_are_refused():
    with pytest.raises(ValueError, match="same F"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least two"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def test_the_trace_of_the_root_is_scipys_and_singular_covariances_raise_no_warning():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    cov_a, cov_b = a.T @ a + np.eye(4), b.T @ b + np.eye(4)
    expected = np.trace(linalg.sqrtm(cov_a @ cov_b)).real
    assert trace_sqrt_product(cov_a, cov_b) == pytest.approx(expected, rel=1e-9)
    few = rng.normal(size=(3, 8))  # covariance of rank 2 in 8 dimensions
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_distance(few, few) == pytest.approx(0.0, abs=1e-6)  # tr S ~ 8
