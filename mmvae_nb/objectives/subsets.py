"""The subset distribution rho of our bound and of the mixture bound (Remark 1).

Both bounds average over one draw S ~ rho per example, with S a subset of the example's present
modalities (App. I). Two rho's, by name in ``SUBSET_SAMPLERS``:

* ``"hierarchical"`` (the paper, Remark 1; the default): gamma ~ U(0, 1) per example, then
  m_s ~ Bernoulli(gamma) iid over the modalities, S = {s : m_s = 1}. |S| is uniform on
  {0, ..., M} (with every modality present).
* ``"independent"`` (the official code, ``MaskedMultimodalVAE``): gamma drawn independently per
  modality, i.e. m_s ~ Bernoulli(1/2) iid: S is uniform on the power set and |S| is
  Binomial(M, 1/2), so the full set and the empty set are drawn 2^-M of the time each.
"""

from __future__ import annotations

import jax


def hierarchical_subset_mask(key, present):
    """S ~ rho of Remark 1: one gamma ~ U(0, 1) per example, m_s ~ Bernoulli(gamma) iid;
    ``present`` (B, M) bool -> (B, M) bool, a subset of the present modalities."""
    k_gamma, k_bern = jax.random.split(key)
    gamma = jax.random.uniform(k_gamma, present.shape[:-1] + (1,))
    return (jax.random.uniform(k_bern, present.shape) < gamma) & present


def independent_subset_mask(key, present):
    """S with m_s ~ Bernoulli(1/2) iid (the official code's draw of gamma per modality);
    ``present`` (B, M) bool -> (B, M) bool, a subset of the present modalities."""
    return jax.random.bernoulli(key, 0.5, present.shape) & present


SUBSET_SAMPLERS = {"hierarchical": hierarchical_subset_mask, "independent": independent_subset_mask}


def get_subset_sampler(name: str):
    """The subset sampler rho registered as ``name``."""
    if name not in SUBSET_SAMPLERS:
        raise ValueError(
            f"unknown subset sampler {name!r}; choose one of {sorted(SUBSET_SAMPLERS)}"
        )
    return SUBSET_SAMPLERS[name]
