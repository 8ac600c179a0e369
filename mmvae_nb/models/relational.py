"""The Multimodal Relational VAE (mrVAE; Sutter & Vogt, Sections 2-3, Appendices B-E).

The seed paper gives the idea and the ELBO, not a complete model (its Appendix C repeats lines,
and latent sizes and architectures are not given). What this module implements, with each choice
the paper leaves open marked **choice**:

* **Subspaces.** Every non-empty subset A of the M modalities has a latent subspace S_A with
  |S_A| = min_{j in A} D_j coordinates; **choice**: D_j = D for every modality (PolyMNIST's
  modalities are alike), so |S_A| = D. The subspace's latent u_A in R^D has prior N(0, I); only
  its first n_A coordinates are used (n_A in {0..D}). Modality j is decoded from the subspaces
  that contain it, p(x_j | {u_A[:n_A]}_{A containing j}) (eq. 26): **choice**: the decoder input
  is the concatenation over A containing j, in ``subsets`` order, of u_A with the coordinates
  n_A..D-1 set to 0.
* **Sizes n** (Definition 1, eq. 1, App. E.1): r(n_A | z_A) is categorical over {0..D} with
  logits c_A = FC(mean_{j in A} ReLU(FC_{A,j}(z_j))) (eq. 33-35; **choice**: no ReLU on the
  logits, which would clip them at 0), drawn by the Gumbel-max trick with the straight-through
  Gumbel-softmax gradient (``relaxations.gumbel_softmax_st``). The prior on n_A is the marginal of
  Definition 1's central multivariate hypergeometric for one subspace (D draws from the
  2^{M-1} D factors of the subspaces a modality belongs to; ``hypergeometric``). **choice**: the
  product of these marginals over A, since independent categoricals r(n_A) do not respect the
  joint constraint sum_{A containing j} n_A = D_j of Definition 1 (under which the KL would be
  infinite almost surely). ``size_prior="uniform"`` (beyond the seed) puts every n_A = 0..D
  equally likely instead (``hypergeometric.SUBSPACE_SIZE_PRIORS``).
* **Selections y** (Definition 2, eq. 2, App. E.2): for each A and j in A, scores
  w_{j,A} = FC(mean_{i in A} ReLU(FC_{A,j,i}(z_i))) in R^D (eq. 36-38; no final ReLU, as above)
  choose, by Gumbel-perturbed NeuralSort (``relaxations.gumbel_top_k_st``), which of modality j's
  D encoder factors enter u_A, in order: the r-th chosen factor of every j in A is an expert on
  u_A's coordinate r. Posterior: Plackett-Luce(w_{j,A}).
  **choice** (initialisation, which the paper does not give): the output bias of w_{j,A} starts
  at -``SELECTION_GAP`` times a random rank of the D factors, fixed per (A, j). With zero biases
  the scores are nearly equal, so every Gumbel draw picks a different factor for coordinate r:
  the decoders see their inputs permuted at random each step, cannot read them, and the
  posteriors collapse (at the quick profile the generated x_0 was constant and the subspace
  sizes did not depend on the input). A gap of 3 makes the initial order stable (two adjacent
  factors swap with probability logistic(-3) ~ 0.05) and different across subsets; it is a
  learnable bias like any other.
* **The reverse model of y** (**choice**; ``learned_selection_reverse``). In this model y does
  not enter the generative model p(n) p(u) p(X | u, n): it only says which encoder factors are
  the experts of q(u | n, y, X). It is an auxiliary variable of the posterior, and eq. (4) is the
  hierarchical bound of Ranganath et al. (2016), which the seed cites for it: for *any*
  distribution rho(y | n) in the place of p(y), E[log p(X, u, n) + log rho(y | n) - log q(n, y, u
  | X)] <= E[log p(X, u, n) - log q(n, u | X)] <= log p(X). Definition 2's uniform rho charges a
  selection that is the same for every input log (D! / (D - n_A)!) nats per example, per subspace
  and modality, for information that no example carries: about log D per used coordinate and
  modality (docs/results.md, "Relational model"). By default rho is therefore Plackett-Luce with
  learned, input-independent scores per (A, j), initialised at 0, i.e. at Definition 2's
  uniform, from which training tightens it (still a bound);
  ``learned_selection_reverse=False`` keeps the uniform. Not at the selection scores' sharp
  initial order: the posterior's order drifts as the decoders learn, a sharp rho then charges
  each displaced place about ``SELECTION_GAP`` nats per rank, and the selection term grew to
  18,000 nats per tuple at D = 64 (a probe). The selection term has no gradient on the
  posterior scores in expectation (the drawn order is an integer; its score-function part is
  not estimated), as with the uniform rho before.
* **Global selections** (beyond the seed; ``global_selections=True``). Which of modality j's
  factors encode what it shares with the other modalities of A is a property of the data, not
  of one example, so the posterior of y may be Plackett-Luce with learned scores per (A, j) that
  do not depend on X (initialised like the amortised scores' biases). Then the best reverse
  model is the posterior itself, rho(y | n) = r(y | n), and the selection term is exactly 0 in
  every draw: the bound is E_y[ELBO(X | y)] with no price for y and no missing score-function
  gradient, and the scores learn from the reconstruction through NeuralSort's straight-through
  gradient alone. One order is drawn per batch (an unbiased draw for every example), so the
  relaxed sort is (K, M, D, D) per step instead of (B, K, M, D, D).
  ``learned_selection_reverse=False`` keeps Definition 2's uniform rho in this mode too.
* **Posterior of u** (eq. 3, "precise aggregation between latent factors which encode the same
  information"): q(u_A[r] | n, y, X_S) = the product of the N(0, 1) prior expert with the chosen
  factors' uni-modal Gaussians q(z_j | x_j) of the j in A and S (``product_of_experts``);
  a subspace with no modality of S keeps its prior (and n_A its prior).
* **z_A in eq. (33) and (36)**: **choice**: the uni-modal encoders' means, so that
  q(n, y | X) = r(n, y | mu(X)) is a tractable density and eq. (4) is an exact ELBO (a sampled
  z would need a second reverse model to keep the bound).

The ELBO (eq. 4, ``objectives.relational``) is then
    E[ log p(X | u, n) ] - KL(q(u | n, y, X) || p(u)) - E[log r(n | X) - log p(n)]
    - E[log r(y | n, X) - log rho(y | n)],
with (n, y) drawn from r. Eq. (4) prints the last two terms as -log q(n, y) / r(n, y | z) under
an expectation over q; with (n, y) drawn from r, as App. E.1-E.2 draw them, the bound carries
the ratio the other way up (a KL of r to the prior), which is what makes it <= log p(X)
(``tests/models/test_relational.py`` checks this on a model whose log p(X) is exact).

**Estimator** (Rao-Blackwellisation over n; the paper gives none). Given the drawn order y and
u's posterior, the three rate terms depend on n only through the indicators 1[r < n_A], and
linearly: the latent KL is sum_r 1[r < n_A] KL_r, the selection term sum_r 1[r < n_A]
(log r(y_r | y_<r) - log rho(y_r | y_<r)), and the size term log r(n_A) - log p(n_A). Their
expectation over n ~ r is therefore computed exactly, with P(n_A > r) in place of the
indicators and KL(r(n_A) || p(n_A)) in closed form; only the reconstruction keeps the
straight-through draw. The bound's value in expectation is unchanged, its variance is lower,
and the size networks receive the prior's gradient: evaluated at the drawn n (a single-draw
estimator), log p(n_A) would be a constant to the gradient (no path reaches an integer index), so
the hypergeometric prior would exert no pull on r at all, and the selection term's cost of n
would be invisible too (``tests/models/test_relational.py`` checks the closed forms against
averages of the single-draw terms).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mmvae_nb.models.aggregators.shared import (
    gaussian_from_embedding,
    nonempty_subsets,
    product_of_experts,
)
from mmvae_nb.models.hypergeometric import (
    get_subspace_size_prior,
    uniform_selection_place_log_probs,
)
from mmvae_nb.models.relaxations import (
    gumbel_softmax_st,
    gumbel_top_k_st,
    plackett_luce_place_log_probs,
)

SELECTION_GAP = 3.0  # initial score gap between a subset's consecutive preferred factors


class RelationalTerms(NamedTuple):
    """The per-example terms of eq. (4), each (B,)."""

    reconstruction: jax.Array  # log p(X_S | u, n)
    kl_latent: jax.Array  # E_n KL(q(u | n, y, X_S) || N(0, I)), over the used coordinates
    kl_sizes: jax.Array  # KL(r(n | X_S) || p(n)), in closed form
    kl_selections: jax.Array  # E_n [log r(y | n, X_S) - log rho(y | n)] at the drawn order


class RelationalSample(NamedTuple):
    """One draw of the latent structure and the subspace latents."""

    sizes: jax.Array  # (B, K) n_A
    size_log_probs: jax.Array  # (B, K, D + 1) log r(n_A | X_S) (the prior where uninformed)
    used: jax.Array  # (B, K, D) 1 for the coordinates r < n_A (straight-through)
    expected_used: jax.Array  # (B, K, D) P(n_A > r) under r(n_A | X_S): the mean of ``used``
    mean: jax.Array  # (B, K, D) q(u_A) mean (prior where unused or uninformed)
    var: jax.Array  # (B, K, D)
    u: jax.Array  # (B, K, D) a sample of u


def _tail_sums(probabilities):
    """(..., D + 1) probabilities of n = 0..D -> (..., D) the sums over n > r, r = 0..D-1:
    P(n > r), which for a one-hot draw is the prefix indicator 1[r < n]."""
    return jnp.flip(jnp.cumsum(jnp.flip(probabilities, -1), -1), -1)[..., 1:]


class _SubsetMLP(nnx.Module):
    """Per (subset A, target) a two-layer net on the mean over the modalities i in A and S of
    ReLU(FC_{A,target,i}(z_i)) (eq. 34-35 and 37-38), as stacked weights with masks."""

    def __init__(self, subsets, targets: int, latent_dim: int, hidden: int, out: int, *, rngs):
        k, m = subsets.shape
        scale_in, scale_hidden = 1 / np.sqrt(latent_dim), 1 / np.sqrt(hidden)
        self.w_in = nnx.Param(
            jax.random.normal(rngs.params(), (k, targets, m, latent_dim, hidden)) * scale_in
        )
        self.b_in = nnx.Param(jnp.zeros((k, targets, m, hidden)))
        self.w_out = nnx.Param(
            jax.random.normal(rngs.params(), (k, targets, hidden, out)) * scale_hidden
        )
        self.b_out = nnx.Param(jnp.zeros((k, targets, out)))

    def __call__(self, z, inputs):
        """z (B, M, D); inputs (B, K, M) which modalities feed each subset -> (B, K, T, out)."""
        h = jax.nn.relu(jnp.einsum("bmd,ktmdh->bktmh", z, self.w_in) + self.b_in)
        weights = inputs[:, :, None, :, None]
        count = jnp.maximum(jnp.sum(inputs, axis=-1), 1)[:, :, None, None]
        pooled = jnp.sum(jnp.where(weights, h, 0.0), axis=3) / count
        return jnp.einsum("bkth,ktho->bkto", pooled, self.w_out) + self.b_out


class RelationalVAE(nnx.Module):
    """mrVAE with uni-modal encoders x_j -> (mean, log-std) of z_j in R^D and decoders with
    ``log_prob(x_j, latent)`` on latents of width D 2^{M-1} (see the module docstring)."""

    def __init__(
        self,
        encoders,
        decoders,
        latent_dim: int,
        *,
        rngs: nnx.Rngs,
        hidden: int = 64,
        temperature: float = 0.5,
        learned_selection_reverse: bool = True,
        size_prior: str = "hypergeometric",
        global_selections: bool = False,
    ):
        if len(encoders) != len(decoders) or len(encoders) < 2:
            raise ValueError("mrVAE needs one encoder and one decoder per modality, M >= 2")
        size_log_prior = get_subspace_size_prior(size_prior)  # fails before any weight is drawn
        self.encoders, self.decoders = nnx.List(encoders), nnx.List(decoders)
        self.latent_dim, self.temperature = latent_dim, temperature
        m = len(encoders)
        subsets = np.asarray(nonempty_subsets(m))
        self.subsets = subsets  # (K, M) static
        self.size_net = _SubsetMLP(subsets, 1, latent_dim, hidden, latent_dim + 1, rngs=rngs)
        ranks = jnp.argsort(jax.random.uniform(rngs.params(), (len(subsets), m, latent_dim)), -1)
        initial_scores = -SELECTION_GAP * ranks  # (K, M, D), the default float dtype
        self.learned_selection_reverse = learned_selection_reverse
        if global_selections:  # r(y) = Plackett-Luce(scores per (A, j)), rho = r or uniform
            self.selection_net = None
            self.global_selection_scores = nnx.Param(initial_scores)
            self.selection_reverse_scores = None
        else:  # eq. 36-38; rho(y | n): scores per (A, j) from 0 (Definition 2's uniform) or None
            self.selection_net = _SubsetMLP(subsets, m, latent_dim, hidden, latent_dim, rngs=rngs)
            self.selection_net.b_out[...] = initial_scores
            self.global_selection_scores = None
            self.selection_reverse_scores = (
                nnx.Param(jnp.zeros_like(initial_scores)) if learned_selection_reverse else None
            )
        # the subsets each modality is decoded from, in ``subsets`` order: (M, 2^{M-1})
        self.decoded_from = np.stack([np.flatnonzero(subsets[:, j]) for j in range(m)])
        self.size_prior = size_log_prior(latent_dim, m)

    @property
    def num_modalities(self) -> int:
        return len(self.encoders)

    @property
    def decoder_latent_dim(self) -> int:
        return self.latent_dim * self.decoded_from.shape[1]

    @property
    def global_selections(self) -> bool:
        return self.global_selection_scores is not None

    def selection_scores(self, mean, inputs):
        """The Plackett-Luce scores of r(y | X_S): (B, K, M, D) from eq. 36-38, or the global
        (K, M, D)."""
        if self.global_selections:
            return self.global_selection_scores[...]
        return self.selection_net(mean, inputs)

    def reverse_place_log_probs(self, order):
        """log rho(place r of ``order`` | places < r) of the selections' reverse model: orders
        (..., K, M, D) -> the same shape (see the module docstring)."""
        if not self.learned_selection_reverse:
            return jnp.broadcast_to(uniform_selection_place_log_probs(self.latent_dim), order.shape)
        # a learned rho of global selections is at its optimum, the posterior itself
        global_ = self.global_selections
        reverse = self.global_selection_scores if global_ else self.selection_reverse_scores
        scores = jnp.broadcast_to(reverse[...], order.shape)
        return plackett_luce_place_log_probs(scores, order)

    def encode(self, xs, present):
        """Uni-modal Gaussians q(z_j | x_j): means and variances (B, M, D); absent slots are
        replaced by N(0, 1) so that nothing absent enters any arithmetic."""
        stats = []
        for s, (enc, x) in enumerate(zip(self.encoders, xs)):
            clean = jnp.where(present[:, s].reshape((-1,) + (1,) * (x.ndim - 1)), x, 0.0)
            stats.append(gaussian_from_embedding(enc(clean), self.latent_dim))
        mean = jnp.stack([m for m, _ in stats], axis=1)
        var = jnp.stack([v for _, v in stats], axis=1)
        mask = present[..., None]
        return jnp.where(mask, mean, 0.0), jnp.where(mask, var, 1.0)

    def sample_structure(self, xs, present, key, hard: bool = False):
        """Draw (n, y) from r and u from q(u | n, y, X_S): (``RelationalSample``, the terms'
        log-ratios (kl_sizes, kl_selections) in expectation over n ~ r, see the module
        docstring). ``hard``: the most probable n and y instead (for evaluation)."""
        k_sizes, k_select, k_u = jax.random.split(key, 3)
        mean, var = self.encode(xs, present)
        d = self.latent_dim
        subsets = jnp.asarray(self.subsets)
        inputs = subsets[None] & present[:, None, :]  # (B, K, M): j in A and S
        informed = jnp.any(inputs, axis=-1)  # (B, K)

        logits = self.size_net(mean, inputs)[:, :, 0]  # (B, K, D + 1)
        log_r = jax.nn.log_softmax(logits, axis=-1)
        log_r = jnp.where(informed[..., None], log_r, self.size_prior)
        if hard:
            sizes = jnp.argmax(log_r, axis=-1)
            one_hot = jax.nn.one_hot(sizes, d + 1, dtype=mean.dtype)
        else:
            one_hot, sizes = gumbel_softmax_st(k_sizes, log_r, self.temperature)
        used = _tail_sums(one_hot)  # exact 0/1 forward, relaxed backward
        size_probs = jnp.exp(log_r)
        expected_used = _tail_sums(size_probs)
        kl_sizes = jnp.sum(size_probs * (log_r - self.size_prior), axis=(1, 2))

        scores = self.selection_scores(mean, inputs)  # (B, K, M, D), or (K, M, D) if global
        if hard:
            order = jnp.argsort(-scores, axis=-1)
            perm = jax.nn.one_hot(order, d, dtype=mean.dtype)
        else:
            perm, order = gumbel_top_k_st(k_select, scores, self.temperature)
        perm = perm if perm.ndim == 5 else perm[None]  # a global order: one for the batch
        chosen_mean = jnp.einsum("bkmrd,bmd->bkmr", perm, mean)
        chosen_var = jnp.einsum("bkmrd,bmd->bkmr", perm, var)
        # log r(y | n) - log rho(y | n) = the sum over the places r < n_A of the drawn order
        places = plackett_luce_place_log_probs(scores, order) - self.reverse_place_log_probs(order)
        selected = jnp.where(inputs[..., None], expected_used[:, :, None, :] * places, 0.0)
        kl_selections = jnp.sum(selected, axis=(1, 2, 3))

        # product of the prior expert and the chosen experts of A and S, per coordinate r
        to_poe = jnp.moveaxis  # (B, K, M, D) -> (B, K, D, M) experts on the modality axis
        u_mean, u_var = product_of_experts(
            to_poe(chosen_mean, 2, 3)[..., None],
            to_poe(chosen_var, 2, 3)[..., None],
            jnp.broadcast_to(inputs[:, :, None, :], chosen_mean.shape[:2] + (d, inputs.shape[-1])),
        )
        u_mean, u_var = u_mean[..., 0], u_var[..., 0]  # (B, K, D)
        u = u_mean + jnp.sqrt(u_var) * jax.random.normal(k_u, u_mean.shape, u_mean.dtype)
        sample = RelationalSample(sizes, log_r, used, expected_used, u_mean, u_var, u)
        return sample, (kl_sizes, kl_selections)

    def decoder_latents(self, u, used, modality: int):
        """Modality j's decoder input: u_A with its unused coordinates at 0, for every A
        containing j, concatenated -> (B, D 2^{M-1})."""
        chosen = (u * used)[:, self.decoded_from[modality]]
        return chosen.reshape(chosen.shape[0], -1)

    def log_likelihood(self, xs, u, used, mask):
        total = 0.0
        for s, (dec, x) in enumerate(zip(self.decoders, xs)):
            clean = jnp.where(mask[:, s].reshape((-1,) + (1,) * (x.ndim - 1)), x, 0.0)
            term = dec.log_prob(clean, self.decoder_latents(u, used, s))
            total = total + jnp.where(mask[:, s], term, 0.0)
        return total

    def terms(self, xs, present, key) -> RelationalTerms:
        """One Monte-Carlo draw of the terms of eq. (4) for the modalities ``present``."""
        sample, (kl_sizes, kl_selections) = self.sample_structure(xs, present, key)
        kl = 0.5 * (sample.var + sample.mean**2 - 1.0 - jnp.log(sample.var))
        kl_latent = jnp.sum(sample.expected_used * kl, axis=(1, 2))
        reconstruction = self.log_likelihood(xs, sample.u, sample.used, present)
        return RelationalTerms(reconstruction, kl_latent, kl_sizes, kl_selections)

    def generate(self, xs, inputs, key, hard: bool = True):
        """Decoder means of every modality from the modalities ``inputs`` (B, M) marks:
        u from q(u | n, y, X_inputs) (the prior for subspaces without an input)."""
        sample, _ = self.sample_structure(xs, inputs, key, hard=hard)
        return [
            dec.mean(self.decoder_latents(sample.u, sample.used, s))
            for s, dec in enumerate(self.decoders)
        ]
