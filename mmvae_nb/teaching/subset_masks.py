"""Masks S ~ rho and the distribution of |S| (Remark 1), against its closed form.

The paper's rho (``"hierarchical"``): gamma ~ U(0, 1), m_s ~ Bernoulli(gamma) iid, so
P(|S| = k) = C(M, k) int_0^1 g^k (1 - g)^(M - k) dg = 1 / (M + 1): |S| is uniform on
{0, ..., M} and, given |S|, S is uniform. The official code's rho (``"independent"``):
m_s ~ Bernoulli(1/2) iid, so |S| ~ Binomial(M, 1/2).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import binom

from mmvae_nb.objectives.subsets import get_subset_sampler


def size_closed_form(num_modalities: int, subset_sampler: str = "hierarchical") -> np.ndarray:
    """P(|S| = k), k = 0..M, under rho ``subset_sampler`` with every modality present."""
    get_subset_sampler(subset_sampler)  # a clear error for an unknown name
    if num_modalities < 1:
        raise ValueError(f"num_modalities must be >= 1, got {num_modalities}")
    k = np.arange(num_modalities + 1)
    if subset_sampler == "hierarchical":
        return np.full(num_modalities + 1, 1.0 / (num_modalities + 1))
    return binom.pmf(k, num_modalities, 0.5)


def draw_masks(num_modalities: int, draws: int, subset_sampler="hierarchical", seed=0):
    """``draws`` masks S ~ rho over M modalities, all present -> (draws, M) bool array."""
    if num_modalities < 1 or draws < 1:
        raise ValueError(f"need num_modalities >= 1 and draws >= 1, got {num_modalities}, {draws}")
    present = jnp.ones((draws, num_modalities), bool)
    return np.asarray(get_subset_sampler(subset_sampler)(jax.random.key(seed), present))


def _size_frequencies(masks, num_modalities: int) -> np.ndarray:
    """The fraction of the (N, M) ``masks`` with |S| = k, k = 0..M."""
    return np.bincount(masks.sum(axis=1), minlength=num_modalities + 1) / len(masks)


def size_distribution(num_modalities, draws=20_000, subset_sampler="hierarchical", seed=0):
    """Empirical and closed-form P(|S| = k) -> DataFrame with columns |S|, drawn, closed form."""
    masks = draw_masks(num_modalities, draws, subset_sampler, seed)
    drawn = _size_frequencies(masks, num_modalities)
    return pd.DataFrame(
        {
            "|S|": np.arange(num_modalities + 1),
            "drawn": drawn,
            "closed form": size_closed_form(num_modalities, subset_sampler),
        }
    )


def plot_subset_masks(num_modalities=5, subset_sampler="hierarchical", shown=40, seed=0):
    """Left: ``shown`` masks drawn from rho (one row each); right: the distribution of |S|
    from 20,000 draws against its closed form -> Figure."""
    masks = draw_masks(num_modalities, shown, subset_sampler, seed)
    sizes = size_distribution(num_modalities, subset_sampler=subset_sampler, seed=seed + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.imshow(masks.T, aspect="auto", cmap="Greys", interpolation="nearest")
    left.set_xlabel("draw")
    left.set_ylabel("modality s")
    left.set_title(f"masks S ~ rho ({subset_sampler}); black: s in S")
    right.bar(sizes["|S|"], sizes["drawn"], alpha=0.6, label="20,000 draws")
    right.plot(sizes["|S|"], sizes["closed form"], "ko", label="closed form")
    right.set_xlabel("|S|")
    right.set_ylabel("P(|S|)")
    right.set_title("distribution of |S|")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def observed_size_distribution(present, subset_sampler="hierarchical", seed=0) -> pd.Series:
    """P(|S| = k) of one draw S ~ rho per row of ``present`` (N, M) bool: with missing modalities
    S is a subset of the observed ones (App. I), so |S| <= |present|."""
    present = jnp.asarray(present, bool)
    if present.ndim != 2:
        raise ValueError(f"present must be an (N, M) array, got shape {present.shape}")
    masks = np.asarray(get_subset_sampler(subset_sampler)(jax.random.key(seed), present))
    frequencies = _size_frequencies(masks, present.shape[1])
    return pd.Series(frequencies, name=f"P(|S|), {subset_sampler}").rename_axis("|S|")
