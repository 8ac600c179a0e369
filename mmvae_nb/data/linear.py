"""Multi-modal linear-Gaussian data (Section 5.1, Appendix M).

z ~ N(0, I_D),   x_s | z ~ N(W_s z + b_s, sigma^2 I_{D_s}),   s = 1..M.

* dense:  every W_s (D_s x D) has orthonormal columns, from a QR decomposition of a matrix with
  U(-1, 1) entries, so that sum_s W_s^T W_s is diagonal and so is the true posterior covariance;
* sparse: D = (M + 1) D' with D' = D / (M + 1) (= 5 in the paper); W_s = [W'_s, W~_s] (D_s x 2D')
  is orthonormal from one QR decomposition, W'_s loads the shared block z' = z[:D'] and W~_s the
  private block z~_s = z[D'(s+1):D'(s+2)], all other loadings are 0.

b_s ~ N(0, 1) (App. M). The paper also mentions "bias coefficients W_b ~ N(0, 1/d)", which has no
role in the model it defines; we follow the model equations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearGaussianData:
    """Samples and ground truth of the multi-modal linear-Gaussian model."""

    xs: list[np.ndarray]  # M arrays (n, D_s)
    z: np.ndarray  # (n, D)
    W: list[np.ndarray]  # M arrays (D_s, D)
    b: list[np.ndarray]  # M arrays (D_s,)
    noise_std: float
    sparse: bool

    @property
    def modality_dims(self) -> tuple[int, ...]:
        return tuple(x.shape[1] for x in self.xs)

    @property
    def latent_dim(self) -> int:
        return self.z.shape[1]

    def subset(self, rows) -> LinearGaussianData:
        """The same model restricted to the examples ``rows`` (e.g. a train/test split)."""
        return LinearGaussianData(
            [x[rows] for x in self.xs], self.z[rows], self.W, self.b, self.noise_std, self.sparse
        )


def draw_modality_dims(seed: int, num_modalities: int, low: int = 30, high: int = 60):
    """Modality dimensions D_s ~ U{low, ..., high} (App. M: D_s ~ U(30, 60))."""
    rng = np.random.default_rng([seed, 1])
    return tuple(int(d) for d in rng.integers(low, high + 1, size=num_modalities))


def _orthonormal_columns(rng, rows: int, cols: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.uniform(-1.0, 1.0, size=(rows, cols)))
    return q * np.sign(np.diag(r))  # unique QR: positive diagonal of R


def sample_linear_gaussian(
    seed: int,
    n: int,
    latent_dim: int,
    modality_dims,
    noise_std: float = 1.0,
    sparse: bool = False,
) -> LinearGaussianData:
    """Draw ground-truth parameters and ``n`` samples of the linear-Gaussian model (App. M).

    ``sparse=True`` requires ``latent_dim`` divisible by ``M + 1`` (shared block + one private
    block per modality) and every D_s >= 2 * latent_dim / (M + 1).
    """
    modality_dims = tuple(int(d) for d in modality_dims)
    num_modalities = len(modality_dims)
    if num_modalities == 0:
        raise ValueError("modality_dims is empty: need at least one modality")
    if n <= 0 or latent_dim <= 0 or noise_std <= 0:
        raise ValueError(f"need n, latent_dim, noise_std > 0, got {n}, {latent_dim}, {noise_std}")
    block = latent_dim // (num_modalities + 1)
    if sparse and block * (num_modalities + 1) != latent_dim:
        raise ValueError(
            f"sparse model needs latent_dim divisible by M + 1 = {num_modalities + 1}, "
            f"got latent_dim={latent_dim}"
        )
    needed = 2 * block if sparse else latent_dim
    if min(modality_dims) < needed:
        raise ValueError(f"every modality needs D_s >= {needed}, got {modality_dims}")

    rng = np.random.default_rng(seed)
    W = []
    for s, d_s in enumerate(modality_dims):
        if sparse:
            q = _orthonormal_columns(rng, d_s, 2 * block)
            w = np.zeros((d_s, latent_dim))
            w[:, :block] = q[:, :block]
            w[:, block * (s + 1) : block * (s + 2)] = q[:, block:]
        else:
            w = _orthonormal_columns(rng, d_s, latent_dim)
        W.append(w)
    b = [rng.normal(size=d_s) for d_s in modality_dims]
    z = rng.normal(size=(n, latent_dim))
    xs = [z @ w.T + b_s + noise_std * rng.normal(size=(n, w.shape[0])) for w, b_s in zip(W, b)]
    return LinearGaussianData(xs, z, W, b, float(noise_std), bool(sparse))
