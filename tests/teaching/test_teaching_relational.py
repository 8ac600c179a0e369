import numpy as np
import pytest

from mmvae_nb.teaching import relational_priors as rp


@pytest.mark.parametrize("d,m", [(1, 1), (4, 3), (8, 5)])
def test_size_prior_sums_to_one_with_the_closed_form_mean(d, m):
    pmf, mean, closed = rp.size_prior(d, m)
    assert pmf.shape == (d + 1,)
    np.testing.assert_allclose(pmf.sum(), 1.0, atol=1e-10)
    np.testing.assert_allclose(mean, closed, atol=1e-10)
    np.testing.assert_allclose(closed, d / 2 ** (m - 1))


def test_soft_permutations_are_row_stochastic_and_tend_to_the_hard_sort():
    scores = [0.3, -1.0, 1.2, 0.1]
    soft, hard = rp.soft_permutations(scores, [4.0, 1.0, 0.1, 0.01])
    for p in soft:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-10)
    errors = [np.abs(p - hard).max() for p in soft]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-6
    np.testing.assert_array_equal(hard.argmax(axis=1), np.argsort(scores)[::-1])
    again, _ = rp.soft_permutations(scores, [4.0, 1.0, 0.1, 0.01])
    np.testing.assert_array_equal(np.stack(soft), np.stack(again))


def test_low_temperatures_trade_the_gradient_for_exactness():
    table = rp.temperature_tradeoff([4.0, 1.0, 0.25, 0.05, 0.01], [0.3, -1.0, 1.2, 0.1])
    assert table["max |P - hard sort|"].is_monotonic_decreasing
    assert table["|dP/ds|"].iloc[-1] < 1e-5 < table["|dP/ds|"].iloc[0]


def test_bad_input():
    with pytest.raises(ValueError, match="latent_dim"):
        rp.size_prior(0, 5)
    with pytest.raises(ValueError, match="temperature"):
        rp.soft_permutations([1.0, 2.0], [0.0])
