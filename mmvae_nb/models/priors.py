"""Priors p(z): the standard Gaussian, and a learnable Gaussian mixture (App. J).

The Gaussian-mixture prior is p(z) = sum_c pi_c N(z; mu_c, diag sigma_c^2) with learnable
weights, means and scales. App. J augments the bounds with the cluster variable c and a
structured encoder q(c, z | x_S) = q(z | x_S) q(c | z, x_S). The cluster part of the bound,

    f_c(z) = sum_c q(c | z) [ -beta log q(c | z) + beta log p(c, z) ]            (eq. 16),

is maximised by the *optimal cluster factor* q*(c | z) = p(c | z) (the prior's responsibilities,
Remark 26), where it equals beta log p(z). So the augmented bound with the optimal cluster
encoder is the bound with log p(z) of the mixture marginal: no variational parameters for c and
no discrete sampling. ``cluster_objective`` and ``responsibilities`` expose the pieces so the
tests can check that claim; the bounds only ever call ``log_prob``.

Both priors have the same interface: ``log_prob(z)`` and ``replace_empty(q, mask)``, which makes
q(z | x_S) the prior for examples with S empty (a no-op for N(0, I), which the aggregators
already return there).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx
from jax.scipy.special import logsumexp

from mmvae_nb.models.distributions import MIN_STD, GaussianMixture, gaussian_log_prob, select_where


class StandardNormalPrior(nnx.Module):
    """p(z) = N(0, I_D). The aggregators already return it for an empty S."""

    def __init__(self, latent_dim: int):
        self.latent_dim = latent_dim

    def log_prob(self, z):
        return gaussian_log_prob(z, 0.0, 1.0)

    def replace_empty(self, q: GaussianMixture, mask) -> GaussianMixture:
        return q


class GaussianMixturePrior(nnx.Module):
    """Learnable p(z) = sum_c pi_c N(mu_c, diag sigma_c^2) (Section 5.2, App. J).

    pi = softmax(logits), sigma_c = 1e-3 + exp(log_scale_c): the encoders' floor, which keeps
    every log-density finite (the official code has no floor, but its optimiser zeroes NaN
    gradients). The mixture bound's S = {} term decodes samples of the prior and pulls its
    scales down; a paper-settings run of SumPoolingMixture with that bound still diverged with
    the floor in place (docs/results.md, Table 7 on a GPU). Initialisation: equal weights, unit
    scales and means drawn from N(0, I) so that the components are not symmetric (identical
    components would receive identical gradients and never separate).
    """

    def __init__(self, latent_dim: int, num_components: int, *, rngs: nnx.Rngs):
        if num_components < 1:
            raise ValueError(f"num_components must be >= 1, got {num_components}")
        self.latent_dim = latent_dim
        self.num_components = num_components
        self.logits = nnx.Param(jnp.zeros((num_components,)))
        self.means = nnx.Param(jax.random.normal(rngs.params(), (num_components, latent_dim)))
        self.log_scales = nnx.Param(jnp.zeros((num_components, latent_dim)))

    def log_weights(self):
        return jax.nn.log_softmax(self.logits[...])

    def variances(self):
        return (MIN_STD + jnp.exp(self.log_scales[...])) ** 2

    def joint_log_prob(self, z):
        """log p(c, z) = log pi_c + log N(z; mu_c, sigma_c^2) for every c: (..., D) -> (..., K)."""
        return self.log_weights() + gaussian_log_prob(
            z[..., None, :], self.means[...], self.variances()
        )

    def log_prob(self, z):
        """log p(z) of the mixture marginal (the optimal cluster factor's value / beta)."""
        return logsumexp(self.joint_log_prob(z), axis=-1)

    def responsibilities(self, z):
        """p(c | z), the optimal cluster factor q*(c | z, x_S) of App. J: (..., K)."""
        return jax.nn.softmax(self.joint_log_prob(z), axis=-1)

    def cluster_objective(self, z, q_c, beta=1.0):
        """f_c(z) = sum_c q(c) [-beta log q(c) + beta log p(c, z)] (eq. 16) for a given q(c)."""
        log_q = jnp.log(q_c)
        return jnp.sum(q_c * beta * (self.joint_log_prob(z) - log_q), axis=-1)

    def as_mixture(self, batch_shape=()) -> GaussianMixture:
        """This prior as a ``GaussianMixture`` broadcast to ``batch_shape``."""
        q = GaussianMixture(self.log_weights(), self.means[...], self.variances())
        return jax.tree.map(lambda a: jnp.broadcast_to(a, tuple(batch_shape) + a.shape), q)

    def replace_empty(self, q: GaussianMixture, mask) -> GaussianMixture:
        """q(z | x_S) with the rows of an empty S replaced by this prior (``select_where`` pads
        both to the larger number of components)."""
        empty = ~jnp.any(mask, axis=-1)
        return select_where(empty, self.as_mixture(q.mean.shape[:-2]), q)


PRIORS = ("standard", "gmm")
PRIVATE_GMM_REFUSAL = (
    "a Gaussian-mixture prior with private latents is not supported: App. J's optimal cluster "
    "factor is derived for a shared latent; use prior='standard'"
)


def check_prior(name: str, *, num_components: int = 5, private_dim: int = 0) -> None:
    """The ``ValueError`` that ``make_prior`` (or ``MultimodalVAE``, for a mixture prior with
    private latents) would raise, here without creating anything."""
    if name not in PRIORS:
        raise ValueError(f"unknown prior {name!r}; choose one of {list(PRIORS)}")
    if name == "gmm" and num_components < 1:
        raise ValueError(f"num_components must be >= 1, got {num_components}")
    if name == "gmm" and private_dim > 0:
        raise ValueError(PRIVATE_GMM_REFUSAL)


def make_prior(name: str, latent_dim: int, *, rngs: nnx.Rngs, num_components: int = 5):
    """``"standard"`` -> N(0, I); ``"gmm"`` -> a learnable mixture with ``num_components``."""
    check_prior(name, num_components=num_components)
    if name == "gmm":
        return GaussianMixturePrior(latent_dim, num_components, rngs=rngs)
    return StandardNormalPrior(latent_dim)
