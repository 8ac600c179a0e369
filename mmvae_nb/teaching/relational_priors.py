"""mrVAE's size prior (Definition 1 of the relational paper) and NeuralSort's relaxation
(eq. 36-38, Grover et al. 2019 eq. 4) as pictures for notebook 05.

The prior on n_A is ``models.hypergeometric.subspace_size_log_prior``, the one
``models.relational`` uses: the marginal of the central multivariate hypergeometric for one
subspace, D draws from the 2^{M-1} D factors of the subspaces a modality belongs to, D of which
are S_A's; its mean is D * D / (2^{M-1} D).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mmvae_nb.models.hypergeometric import subspace_size_log_prior
from mmvae_nb.models.relaxations import neural_sort

EXAMPLE_SCORES = (0.3, -1.0, 1.2, 0.1)  # the scores notebook 05 sorts, distinct and unsorted


def size_prior(latent_dim: int, num_modalities: int):
    """(pmf over n_A = 0..D, its mean, the closed-form mean D / 2^{M-1})."""
    if latent_dim < 1 or num_modalities < 1:
        raise ValueError(
            f"need latent_dim >= 1 and num_modalities >= 1, got {latent_dim}, {num_modalities}"
        )
    pmf = np.exp(np.asarray(subspace_size_log_prior(latent_dim, num_modalities)))
    mean = float(np.sum(np.arange(latent_dim + 1) * pmf))
    return pmf, mean, latent_dim / 2 ** (num_modalities - 1)


def soft_permutations(scores, temperatures):
    """NeuralSort's relaxed permutation matrices for each temperature and the hard one."""
    scores = jnp.asarray(scores)
    if scores.ndim != 1 or any(t <= 0 for t in temperatures):
        raise ValueError("scores must be one vector and every temperature positive")
    hard = np.eye(len(scores))[np.argsort(-np.asarray(scores))]
    return [np.asarray(neural_sort(scores, t)) for t in temperatures], hard


def temperature_tradeoff(temperatures, scores=EXAMPLE_SCORES) -> pd.DataFrame:
    """What NeuralSort's temperature trades, per tau: the relaxation's bias (the largest entry of
    |P_tau - P_hard|) against the size of its gradient (the Frobenius norm of dP_tau / ds, which
    vanishes as tau -> 0 for distinct scores, so the straight-through gradient carries nothing)."""
    soft, hard = soft_permutations(scores, temperatures)
    scores = jnp.asarray(scores)
    jacobian_norms = [
        float(jnp.linalg.norm(jax.jacobian(lambda s, t=t: neural_sort(s, t))(scores)))
        for t in temperatures
    ]
    return pd.DataFrame(
        {
            "max |P - hard sort|": [float(np.abs(p - hard).max()) for p in soft],
            "|dP/ds|": jacobian_norms,
        },
        index=pd.Index(list(temperatures), name="tau"),
    )


def plot_priors(
    latent_dim: int,
    num_modalities: int,
    scores=EXAMPLE_SCORES,
    temperatures=(4.0, 1.0, 0.25, 0.05),
):
    """The notebook-05 picture: the size prior with its mean, and soft permutations by tau."""
    pmf, mean, _ = size_prior(latent_dim, num_modalities)
    soft, hard = soft_permutations(scores, temperatures)
    panels, columns = len(temperatures) + 2, 3  # rows of three panels fit a page
    rows = -(-panels // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(9, 2.8 * rows), squeeze=False)
    axes = list(grid.flat)
    for ax in axes[panels:]:
        ax.set_visible(False)
    axes[0].bar(np.arange(latent_dim + 1), pmf)
    axes[0].axvline(mean, color="red", label=f"mean {mean:.2f}")
    axes[0].set(
        xlabel="$n_A$",
        ylabel="prior probability",
        title=f"size prior, D={latent_dim}, M={num_modalities}",
    )
    axes[0].legend()
    titles = [*temperatures, "hard sort"]
    for ax, p, t in zip(axes[1:panels], [*soft, hard], titles, strict=True):
        ax.imshow(p, vmin=0, vmax=1, cmap="viridis")
        ax.set(title=f"tau = {t}" if not isinstance(t, str) else t, xticks=[], yticks=[])
    axes[1].set(xlabel="element j", ylabel="place i")
    fig.tight_layout()
    return fig, {"pmf": pmf, "mean": mean, "soft": soft, "hard": hard}
