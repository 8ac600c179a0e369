"""Non-linear identifiable models (Section 5.2, App. N): auxiliary label and five modalities.

Both share the latent model of iVAE (Khemakhem et al., 2020) that the paper follows:

    c ~ U{1..K},  z | c ~ N(mu_c, diag Lambda_c),  mu_c ~ U(-5, 5)^D,  Lambda_c ~ U(0.5, 3)^D,

so the marginal p(z) is a K-component Gaussian mixture. Observations are x_s | z ~
N(f_s(z), sigma^2 I) for injective decoders f_s: MLPs with LeakyReLU (slope 0.1) between layers
and full-rank weight matrices with non-decreasing widths and i.i.d. U(-1, 1) entries.

* **Auxiliary label** (``sample_auxiliary_label``): D = D_1 = 2, one hidden layer of width 2,
  sigma = 0.1; the second modality is the label c itself, one-hot (K = 5).
* **Five modalities** (``sample_five_modalities``): D = 10, D_s = 25, sigma = 0.5, K = M = 5; the
  label is not observed. Each modality is missing completely at random with probability eta
  (App. I; ``mcar_mask``).

Choices where the paper and the official code (``iVAE_*_simulation.py``) differ, and why:
* Lambda_c is a *variance* (the paper: Sigma_c = diag(Lambda_c)); the official code multiplies
  standard normals by it, i.e. uses it as a standard deviation. We follow the paper's model;
  ``cluster_scale="std"`` is the official code's (a named option).
* Labels are drawn i.i.d. uniform (the paper's p(x_2) = U([K])); the code uses equal counts.
* f_s has one hidden layer of width D_s (the paper: "constructed as above", i.e. like f_1 with
  its single hidden layer); the official five-modality code uses two hidden layers and reuses
  one matrix. Weights have unit-norm columns and are redrawn until their condition number is
  below the 25th percentile of random draws, as in iVAE's generator, so f_s is well conditioned.
* Missingness is i.i.d. Bernoulli(eta) per example and modality, as the issue and App. I state
  (MCAR); an example can miss every modality (probability eta^M). The code's CPM-Nets sampler
  keeps one modality per example.
* Train and test points are i.i.d. draws of the same model (the official five-modality split is
  ordered by cluster, so its test set holds clusters absent from training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.1


@dataclass(frozen=True)
class IdentifiableData:
    """Samples and ground truth of a non-linear identifiable model."""

    xs: list[np.ndarray]  # M arrays (n, D_s); a label modality is one-hot (n, K)
    z: np.ndarray  # (n, D) true latents
    labels: np.ndarray  # (n,) cluster index c
    present: np.ndarray  # (n, M) bool: observed modalities
    likelihoods: tuple[str, ...]  # "gaussian" | "categorical" per modality
    noise_std: float
    decoder_weights: list[list[np.ndarray]]  # weights of each true f_s (``apply_mlp``)
    cluster_means: np.ndarray  # (K, D) mu_c
    cluster_variances: np.ndarray  # (K, D) Lambda_c

    @property
    def modality_dims(self) -> tuple[int, ...]:
        return tuple(x.shape[1] for x in self.xs)

    @property
    def latent_dim(self) -> int:
        return self.z.shape[1]

    def subset(self, rows) -> IdentifiableData:
        """The examples ``rows`` (e.g. a train/test split) of the same model."""
        return IdentifiableData(
            [x[rows] for x in self.xs],
            self.z[rows],
            self.labels[rows],
            self.present[rows],
            self.likelihoods,
            self.noise_std,
            self.decoder_weights,
            self.cluster_means,
            self.cluster_variances,
        )


CLUSTER_SCALES = ("variance", "std")


def check_cluster_scale(cluster_scale: str) -> None:
    """Refuse a reading of Lambda_c other than ``CLUSTER_SCALES``."""
    if cluster_scale not in CLUSTER_SCALES:
        raise ValueError(f"unknown cluster_scale {cluster_scale!r}; choose one of {CLUSTER_SCALES}")


def sample_cluster_latents(
    rng,
    n: int,
    num_labels: int,
    latent_dim: int,
    mean_range=(-5.0, 5.0),
    var_range=(0.5, 3.0),
    cluster_scale: str = "variance",
):
    """Labels c ~ U{0..K-1} and z | c ~ N(mu_c, diag Lambda_c): returns
    (z, labels, means mu, the variances of z | c).

    ``cluster_scale="std"`` is the official code's reading, Lambda_c ~ U(0.5, 3) as a standard
    deviation (z = mu_c + Lambda_c eps), so the variances returned are Lambda_c^2; the same
    random draws either way."""
    check_cluster_scale(cluster_scale)
    means = rng.uniform(*mean_range, size=(num_labels, latent_dim))
    lam = rng.uniform(*var_range, size=(num_labels, latent_dim))
    variances = lam if cluster_scale == "variance" else lam**2
    labels = rng.integers(0, num_labels, size=n)
    z = means[labels] + np.sqrt(variances[labels]) * rng.normal(size=(n, latent_dim))
    return z, labels, means, variances


def _well_conditioned(rng, rows: int, cols: int, num_draws: int = 1000) -> np.ndarray:
    """A (rows, cols) U(-1, 1) matrix with unit-norm columns whose condition number is below the
    25th percentile of ``num_draws`` such random matrices (iVAE's ``generate_mixing_matrix``)."""

    def draw():
        w = rng.uniform(-1.0, 1.0, size=(rows, cols))
        return w / np.linalg.norm(w, axis=0, keepdims=True)

    threshold = np.percentile([np.linalg.cond(draw()) for _ in range(num_draws)], 25)
    while True:
        w = draw()
        if np.linalg.cond(w) <= threshold:
            return w


def random_injective_mlp(rng, dims) -> list[np.ndarray]:
    """Weights of an injective MLP R^{dims[0]} -> R^{dims[-1]}: full-rank (d_out, d_in) layers
    with non-decreasing widths (App. N; Khemakhem et al., 2020)."""
    dims = [int(d) for d in dims]
    if any(b < a for a, b in zip(dims[:-1], dims[1:])):
        raise ValueError(f"widths must be non-decreasing for injectivity, got {dims}")
    return [_well_conditioned(rng, d_out, d_in) for d_in, d_out in zip(dims[:-1], dims[1:])]


def apply_mlp(weights, z):
    """f(z) = W_L LeakyReLU(... LeakyReLU(W_1 z)): (n, D) -> (n, D_s)."""
    x = np.asarray(z, dtype=np.float64)
    for i, w in enumerate(weights):
        x = x @ w.T
        if i < len(weights) - 1:
            x = np.where(x > 0, x, LEAKY_SLOPE * x)
    return x


def mlp_jacobian(weights, z) -> np.ndarray:
    """The Jacobian df/dz of ``apply_mlp`` at each row of ``z``: (n, D_s, D)."""
    x = np.asarray(z, dtype=np.float64)
    jac = np.broadcast_to(np.eye(x.shape[1]), (x.shape[0], x.shape[1], x.shape[1]))
    for i, w in enumerate(weights):
        x = x @ w.T
        jac = np.einsum("od,ndk->nok", w, jac)
        if i < len(weights) - 1:
            slope = np.where(x > 0, 1.0, LEAKY_SLOPE)
            x, jac = x * slope, jac * slope[..., None]
    return jac


def mcar_mask(rng, n: int, num_modalities: int, eta: float) -> np.ndarray:
    """Each modality of each example observed independently with probability 1 - eta (App. I)."""
    if not 0.0 <= eta < 1.0:
        raise ValueError(f"missing rate eta must be in [0, 1), got {eta}")
    return rng.uniform(size=(n, num_modalities)) >= eta


def _check(n, num_labels, latent_dim, noise_std):
    if n <= 0 or num_labels < 1 or latent_dim <= 0 or noise_std <= 0:
        raise ValueError(
            f"need n, num_labels, latent_dim, noise_std > 0; got n={n}, num_labels={num_labels}, "
            f"latent_dim={latent_dim}, noise_std={noise_std}"
        )


def sample_auxiliary_label(
    seed: int,
    n: int,
    num_labels: int = 5,
    latent_dim: int = 2,
    noise_std: float = 0.1,
    cluster_scale: str = "variance",
) -> IdentifiableData:
    """Bi-modal data (x_1, c): x_1 = f_1(z) + sigma eps in R^D with f_1: D -> D -> D, and the
    one-hot label c (Section 5.2, "Auxiliary labels as modalities"); ``cluster_scale``: how
    Lambda_c enters (``sample_cluster_latents``)."""
    _check(n, num_labels, latent_dim, noise_std)
    rng = np.random.default_rng([seed, 2])
    z, labels, means, variances = sample_cluster_latents(
        rng, n, num_labels, latent_dim, cluster_scale=cluster_scale
    )
    weights = random_injective_mlp(rng, [latent_dim, latent_dim, latent_dim])
    x = apply_mlp(weights, z) + noise_std * rng.normal(size=(n, latent_dim))
    onehot = np.eye(num_labels)[labels]
    present = np.ones((n, 2), dtype=bool)
    likelihoods = ("gaussian", "categorical")
    return IdentifiableData(
        [x, onehot], z, labels, present, likelihoods, noise_std, [weights], means, variances
    )


def sample_five_modalities(
    seed: int,
    n: int,
    num_modalities: int = 5,
    latent_dim: int = 10,
    modality_dim: int = 25,
    num_labels: int = 5,
    noise_std: float = 0.5,
    eta: float = 0.0,
    cluster_scale: str = "variance",
) -> IdentifiableData:
    """M modalities x_s = f_s(z) + sigma eps, f_s: D -> D_s -> D_s, each missing with
    probability ``eta`` (Section 5.2, "Multiple modalities"; App. I); ``cluster_scale``: how
    Lambda_c enters (``sample_cluster_latents``)."""
    _check(n, num_labels, latent_dim, noise_std)
    if modality_dim < latent_dim:
        raise ValueError(f"injectivity needs modality_dim >= latent_dim, got {modality_dim}")
    rng = np.random.default_rng([seed, 5])
    z, labels, means, variances = sample_cluster_latents(
        rng, n, num_labels, latent_dim, cluster_scale=cluster_scale
    )
    decoders = [
        random_injective_mlp(rng, [latent_dim, modality_dim, modality_dim])
        for _ in range(num_modalities)
    ]
    xs = [apply_mlp(w, z) + noise_std * rng.normal(size=(n, modality_dim)) for w in decoders]
    present = mcar_mask(rng, n, num_modalities, eta)
    likelihoods = ("gaussian",) * num_modalities
    return IdentifiableData(
        xs, z, labels, present, likelihoods, noise_std, decoders, means, variances
    )


def invert_mlp(weights, x):
    """f^{-1}(x) for a square injective ``apply_mlp`` network (every layer D x D)."""
    y = np.asarray(x, dtype=np.float64)
    for i, w in enumerate(reversed(weights)):
        if i > 0:
            y = np.where(y > 0, y, y / LEAKY_SLOPE)
        y = np.linalg.solve(w, y.T).T
    return y


def label_model_log_likelihood(data: IdentifiableData, num_particles: int = 4000, seed: int = 0):
    """log p(x_1, c) under the *true* label model, per example: the reference that a learned
    model's importance-sampled LLH can approach (the data's own log-likelihood).

    log p(x_1, c) = log p(c) + log E_{N(z; mu_c, Lambda_c)} N(x_1; f_1(z), sigma^2 I), by
    multiple importance sampling with half the particles from N(z*, 4 sigma^2 (J^T J)^{-1})
    around the noiseless pre-image z* = f_1^{-1}(x_1) (J: the Jacobian of f_1 at z*; f_1 is
    piecewise linear, so the likelihood is Gaussian in z near z*) and half from the prior
    N(mu_c, Lambda_c), which covers the mass across a kink of the LeakyReLU; weights use the
    balance heuristic (the equal mixture of both densities).
    """
    if len(data.decoder_weights) != 1 or data.likelihoods != ("gaussian", "categorical"):
        raise ValueError("label_model_log_likelihood needs data from sample_auxiliary_label")
    weights, sigma = data.decoder_weights[0], data.noise_std
    x, labels = data.xs[0], data.labels
    dim = x.shape[1]
    z_star = invert_mlp(weights, x)
    jac = mlp_jacobian(weights, z_star)
    chol = np.linalg.cholesky(4 * sigma**2 * np.linalg.inv(np.einsum("nod,noe->nde", jac, jac)))
    mean, var = data.cluster_means[labels], data.cluster_variances[labels]
    rng = np.random.default_rng(seed)
    half = num_particles // 2
    eps = rng.normal(size=(2 * half, *z_star.shape))
    z = np.concatenate(
        [
            z_star + np.einsum("nde,pne->pnd", chol, eps[:half]),
            mean + np.sqrt(var) * eps[half:],
        ]
    )  # (P, n, D)
    fx = apply_mlp(weights, z.reshape(-1, dim)).reshape(z.shape)
    log_lik = -0.5 * np.sum(np.log(2 * np.pi * sigma**2) + (x - fx) ** 2 / sigma**2, axis=-1)
    log_prior = -0.5 * np.sum(np.log(2 * np.pi * var) + (z - mean) ** 2 / var, axis=-1)
    white = np.linalg.solve(chol[None], (z - z_star)[..., None])[..., 0]
    log_det = np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    log_local = -0.5 * np.sum(white**2, axis=-1) - log_det - 0.5 * dim * np.log(2 * np.pi)
    log_q = np.logaddexp(log_local, log_prior) - np.log(2.0)
    log_w = log_lik + log_prior - log_q
    top = log_w.max(axis=0)
    log_mean = top + np.log(np.mean(np.exp(log_w - top), axis=0))
    return log_mean - np.log(data.cluster_means.shape[0])
