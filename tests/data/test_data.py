"""Linear-Gaussian data generator (App. M)."""

import numpy as np
import pytest

from mmvae_nb.data.linear import draw_modality_dims, sample_linear_gaussian


def test_dense_loadings_are_orthonormal_and_data_follow_the_model():
    data = sample_linear_gaussian(0, 20_000, 5, (8, 9, 10), noise_std=0.5)
    assert [x.shape for x in data.xs] == [(20_000, 8), (20_000, 9), (20_000, 10)]
    for w in data.W:
        np.testing.assert_allclose(w.T @ w, np.eye(5), atol=1e-12)
    x = np.concatenate(data.xs, axis=1)
    w = np.concatenate(data.W)
    np.testing.assert_allclose(np.cov(x.T), w @ w.T + 0.25 * np.eye(27), atol=0.05)
    np.testing.assert_allclose(x.mean(0), np.concatenate(data.b), atol=0.05)


def test_sparse_loadings_have_one_shared_and_one_private_block():
    data = sample_linear_gaussian(1, 10, 12, (6, 7, 8), sparse=True)  # D' = 12 / 4 = 3
    for s, w in enumerate(data.W):
        used = np.flatnonzero(np.abs(w).sum(0) > 0)
        np.testing.assert_array_equal(used, [0, 1, 2, *range(3 * (s + 1), 3 * (s + 2))])
        np.testing.assert_allclose(w[:, used].T @ w[:, used], np.eye(6), atol=1e-12)


def test_same_seed_same_data_and_dims_in_range():
    a, b = (sample_linear_gaussian(7, 50, 3, (4, 5)) for _ in range(2))
    np.testing.assert_array_equal(a.xs[1], b.xs[1])
    assert not np.array_equal(a.xs[1], sample_linear_gaussian(8, 50, 3, (4, 5)).xs[1])
    dims = draw_modality_dims(0, 1000, 30, 60)
    assert min(dims) >= 30 and max(dims) <= 60 and dims == draw_modality_dims(0, 1000, 30, 60)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(modality_dims=()), "empty"),
        (dict(modality_dims=(2, 5)), "D_s >= 3"),
        (dict(modality_dims=(6, 6, 6), sparse=True), "divisible by M \\+ 1"),
        (dict(modality_dims=(6, 6), noise_std=0.0), "must be > 0|> 0"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_linear_gaussian(0, 10, 3, **kwargs)
