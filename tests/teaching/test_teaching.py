"""The teaching pictures' claims, in float64: the identities the notebooks' idea sections show."""

import numpy as np
import pytest
from scipy import stats

from mmvae_nb.teaching import bound_gap, cluster_factor, posteriors, subset_masks


@pytest.fixture(scope="module")
def gaps():
    return bound_gap.bound_gaps(shifts=(-0.3, 0.0, 0.3), draws=100)


def test_masked_bound_is_log_likelihood_at_the_exact_posterior_for_every_size(gaps):
    exact = gaps[(gaps["shift"] == 0.0) & (gaps["bound"] == "ours")]
    np.testing.assert_allclose(exact["gap"], 0.0, atol=1e-8)


def test_mixture_bound_is_strictly_below_unless_s_is_m(gaps):
    mix = gaps[(gaps["shift"] == 0.0) & (gaps["bound"] == "mixture")].set_index("|S|")["gap"]
    assert np.all(mix.drop(mix.index.max()) < -0.1)
    assert abs(mix[mix.index.max()]) < 1e-8
    assert np.all(np.diff(mix.to_numpy()) > 0)  # more modalities seen, a smaller gap


def test_both_bounds_peak_at_the_exact_posterior(gaps):
    for _, part in gaps[gaps["|S|"] > 0].groupby(["bound", "|S|"]):
        assert part.loc[part["gap"].idxmax(), "shift"] == 0.0


def test_tilted_subset_encoders_overshoot_log_likelihood():
    tilted = bound_gap.bound_gaps(shifts=(0.0,), tilt=0.5, draws=200).set_index(["bound", "|S|"])
    assert tilted.loc[("ours", 1), "gap"] > 0.05  # the README's finding
    assert np.all(tilted.xs("mixture")["gap"].drop(3) < 0)


def test_the_official_poe_mean_moves_exact_experts_off_the_posterior():
    """Exact experts (variance sigma^2 = 0.49) combined with the official code's PoE mean:
    the mean is not the posterior's, so both bounds fall below log p(x) for every S, the
    masked bound included (it equals log p(x) with the product of experts)."""
    official = bound_gap.bound_gaps(shifts=(0.0,), mean_weighting="variance", draws=5)
    official = official.set_index(["bound", "|S|"])["gap"]
    assert np.all(official.xs("ours").drop(0) < -1.0)
    assert np.all(official.xs("mixture").drop(0) < -1.0)


def test_rho_averaged_gap_weights_sizes_by_rho(gaps):
    exact = gaps[gaps["shift"] == 0.0]
    for sampler in ("hierarchical", "independent"):
        averaged = bound_gap.rho_averaged(exact, sampler)
        mix = exact[exact["bound"] == "mixture"]["gap"].to_numpy()
        expected = mix @ subset_masks.size_closed_form(3, sampler)
        np.testing.assert_allclose(averaged.loc[0.0, "mixture"], expected)


def test_bound_gaps_rejects_bad_arguments():
    with pytest.raises(ValueError, match="shifts"):
        bound_gap.bound_gaps(shifts=(0.0, 0.3), tilt=0.5)
    with pytest.raises(ValueError, match="at least one"):
        bound_gap.bound_gaps(shifts=())
    with pytest.raises(ValueError, match="tilt"):
        bound_gap.TiltedSubsetModel(None, tilt=2.0)


@pytest.mark.parametrize("sampler", ["hierarchical", "independent"])
def test_subset_sizes_follow_the_closed_form(sampler):
    sizes = subset_masks.size_distribution(4, draws=40_000, subset_sampler=sampler, seed=3)
    counts = sizes["drawn"].to_numpy() * 40_000
    assert stats.chisquare(counts, sizes["closed form"].to_numpy() * 40_000).pvalue > 1e-3
    np.testing.assert_allclose(sizes["closed form"].sum(), 1.0)


def test_hierarchical_rho_is_uniform_on_sizes_and_binomial_for_independent():
    np.testing.assert_allclose(subset_masks.size_closed_form(5), np.full(6, 1 / 6))
    np.testing.assert_allclose(
        subset_masks.size_closed_form(5, "independent"), np.array([1, 5, 10, 10, 5, 1]) / 32
    )


def test_masks_are_deterministic_under_a_seed_and_respect_missingness():
    np.testing.assert_array_equal(
        subset_masks.draw_masks(5, 100, seed=7), subset_masks.draw_masks(5, 100, seed=7)
    )
    present = np.ones((1000, 4), bool)
    present[:, 3] = False
    sizes = subset_masks.observed_size_distribution(present)
    assert sizes.iloc[4] == 0.0 and np.isclose(sizes.sum(), 1.0)


def test_subset_masks_reject_bad_arguments():
    with pytest.raises(ValueError, match="unknown subset sampler"):
        subset_masks.size_closed_form(3, "bernoulli")
    with pytest.raises(ValueError, match="num_modalities"):
        subset_masks.draw_masks(0, 10)
    with pytest.raises(ValueError, match="shape"):
        subset_masks.observed_size_distribution(np.ones(4, bool))


def test_poe_narrows_with_more_modalities_and_moe_widens():
    spread = posteriors.spread()
    poe, moe = spread.loc["PoE (prior expert)"], spread.loc["MoE"]
    assert poe["{1, 2}"] < min(poe["{1}"], poe["{2}"])
    assert moe["{1, 2}"] >= min(moe["{1}"], moe["{2}"])


def test_optimal_cluster_factor_attains_beta_log_prior():
    table = cluster_factor.cluster_factor_table(beta=0.5)
    np.testing.assert_allclose(table["f_c at q* = p(c|z)"], table["beta log p(z)"], rtol=1e-10)
    assert np.all(table["f_c at uniform q(c)"] < table["beta log p(z)"])
    assert np.all(table["f_c at one-hot q(c)"] < table["beta log p(z)"])
    with pytest.raises(ValueError, match="beta"):
        cluster_factor.cluster_factor_table(beta=0.0)
