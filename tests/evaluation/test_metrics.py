"""MCC (weak/strong) and canonical correlations."""

import numpy as np
import pytest
from sklearn.cross_decomposition import CCA

from mmvae_nb.evaluation.metrics import canonical_correlations, mcc

rng = np.random.default_rng(2)


def test_mcc_is_one_under_affine_maps_and_signed_permutations():
    z = rng.normal(size=(2000, 4))
    a = rng.normal(size=(4, 4))
    assert mcc(z, z @ a + 3.0, "weak") == pytest.approx(1.0, abs=1e-9)
    perm = z[:, [2, 0, 3, 1]] * np.array([1, -1, -1, 1]) * 5
    assert mcc(z, perm, "strong") == pytest.approx(1.0, abs=1e-9)
    # a rotation is not a signed permutation: strong MCC drops, weak does not
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    assert mcc(z, z @ rotation, "strong") < 0.9
    assert mcc(z, z @ rotation, "weak") == pytest.approx(1.0, abs=1e-9)


def test_mcc_of_independent_latents_is_small_and_noise_lowers_it():
    z = rng.normal(size=(5000, 3))
    assert mcc(z, rng.normal(size=(5000, 3)), "weak") < 0.05
    noisy = z + rng.normal(size=z.shape)  # corr(z, z + e) = 1 / sqrt(2)
    assert mcc(z, noisy, "strong") == pytest.approx(1 / np.sqrt(2), abs=0.02)


def test_canonical_correlations_match_sklearn_cca():
    a = rng.normal(size=(3000, 3))
    b = a @ rng.normal(size=(3, 3)) + rng.normal(size=(3000, 3))
    ours = canonical_correlations(a, b)
    u, v = CCA(n_components=3, max_iter=2000, tol=1e-10).fit(a, b).transform(a, b)
    theirs = [abs(np.corrcoef(u[:, i], v[:, i])[0, 1]) for i in range(3)]
    np.testing.assert_allclose(np.sort(ours), np.sort(theirs), atol=1e-4)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="equal n"):
        mcc(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        mcc(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="unknown MCC kind"):
        mcc(np.ones((5, 2)), np.ones((5, 2)), "medium")


def test_randomized_dependence_detects_monotone_dependence_and_is_rank_invariant():
    from mmvae_nb.evaluation.metrics import randomized_dependence

    gen = np.random.default_rng(0)
    x, noise = gen.normal(size=2000), gen.normal(size=2000)
    assert randomized_dependence(x, np.exp(x), np.random.default_rng(1)) > 0.99
    assert randomized_dependence(x, noise, np.random.default_rng(1)) < 0.15
    # only ranks enter: a monotone map of either variable changes nothing (same features)
    y = x + 0.5 * noise
    value = randomized_dependence(x, y, np.random.default_rng(2))
    assert randomized_dependence(np.tanh(x), y**3, np.random.default_rng(2)) == value
    with pytest.raises(ValueError, match="1-D samples"):
        randomized_dependence(x[:, None], y, np.random.default_rng(0))


def test_first_pair_rdc_is_high_for_an_affine_map_and_exceeds_the_weak_mcc():
    """The paper's code's MCC reads the first canonical pair only: for latents recovered in
    one direction and lost in the other it stays high while the weak MCC (all pairs) halves."""
    from mmvae_nb.evaluation.metrics import first_pair_rdc

    gen = np.random.default_rng(0)
    z = gen.normal(size=(4000, 2))
    affine = z @ np.array([[2.0, 1.0], [-1.0, 0.5]]) + 3.0 + 0.05 * gen.normal(size=(4000, 2))
    assert first_pair_rdc(z, affine) > 0.98
    half_lost = np.column_stack([z[:, 0], gen.normal(size=4000)])
    assert first_pair_rdc(z, half_lost) > 0.98
    assert mcc(z, half_lost, "weak") < 0.55
    assert first_pair_rdc(z, gen.normal(size=(4000, 2))) < 0.2
