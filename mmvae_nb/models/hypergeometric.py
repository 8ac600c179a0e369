"""The relational model's priors on subspace sizes and selections (Definitions 1-2).

Definition 1: for modality j with latent size D_j, the numbers n_j = (n_A)_{A containing j} of
its factors given to each subspace S_A follow the central multivariate hypergeometric
distribution: D_j draws without replacement from an urn with |S_A| balls of colour A,
    P(n_j) = prod_A C(|S_A|, n_A) / C(N, D_j),   N = sum_A |S_A|,  sum_A n_A = D_j.
Its marginal for one subspace is the univariate hypergeometric (two colours: A and the rest).
Definition 2: the selection of which factors go to S_A is uniform; the r-th place of an ordered
selection is then any of the d - r factors not yet chosen, and an ordered selection of n of d
factors has probability prod_{r < n} 1 / (d - r) = (d - n)! / d!.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import gammaln


def log_binomial(n, k):
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def multivariate_hypergeometric_log_pmf(counts, sizes):
    """log P(counts) for counts (..., C) drawn (sum counts draws) from an urn with ``sizes``
    (C,) balls per colour; -inf outside the support (a count above its colour's size)."""
    counts = jnp.asarray(counts, jnp.result_type(float))
    sizes = jnp.asarray(sizes, counts.dtype)
    inside = jnp.all((counts >= 0) & (counts <= sizes), axis=-1)
    safe = jnp.clip(counts, 0, sizes)
    value = jnp.sum(log_binomial(sizes, safe), axis=-1) - log_binomial(
        jnp.sum(sizes), jnp.sum(safe, axis=-1)
    )
    return jnp.where(inside, value, -jnp.inf)


def hypergeometric_marginal_log_pmf(size: int, total: int, draws: int):
    """log P(n_A = k), k = 0..size: the marginal of one colour of ``size`` balls among ``total``
    when ``draws`` are drawn (Definition 1's prior for one subspace) -> (size + 1,)."""
    k = jnp.arange(size + 1, dtype=jnp.result_type(float))
    counts = jnp.stack([k, draws - k], axis=-1)
    return multivariate_hypergeometric_log_pmf(counts, jnp.array([size, total - size]))


def subspace_size_log_prior(subspace_dim: int, num_modalities: int):
    """Definition 1's prior on one subspace's size n_A = 0..D, with |S_A| = D for every A: the
    marginal of D draws from the D 2^{M-1} factors of a modality's subspaces, D of which are
    S_A's (mean D / 2^{M-1}) -> (D + 1,)."""
    total = subspace_dim * 2 ** (num_modalities - 1)
    return hypergeometric_marginal_log_pmf(subspace_dim, total, subspace_dim)


def uniform_subspace_size_log_prior(subspace_dim: int, num_modalities: int):
    """Beyond the seed: every size n_A = 0..D equally likely a priori (mean D / 2), the
    alternative that shows how much Definition 1's prior keeps the subspaces small -> (D + 1,)."""
    del num_modalities
    return jnp.full(subspace_dim + 1, -jnp.log(subspace_dim + 1.0))


SUBSPACE_SIZE_PRIORS = {
    "hypergeometric": subspace_size_log_prior,  # Definition 1 (the seed's)
    "uniform": uniform_subspace_size_log_prior,
}


def get_subspace_size_prior(name: str):
    """The prior on n_A registered as ``name`` (``SUBSPACE_SIZE_PRIORS``)."""
    if name not in SUBSPACE_SIZE_PRIORS:
        raise ValueError(
            f"unknown subspace size prior {name!r}; choose one of {list(SUBSPACE_SIZE_PRIORS)}"
        )
    return SUBSPACE_SIZE_PRIORS[name]


def uniform_selection_place_log_probs(d: int, dtype=None):
    """log 1 / (d - r), r = 0..d-1: each place of a uniform ordered selection of d factors given
    the places before it (Definition 2) -> (d,)."""
    return -jnp.log(d - jnp.arange(d, dtype=dtype or jnp.result_type(float)))
