"""The linear-Gaussian experiment (Section 5.1, App. M): Tables 1, 5, 6 and Figures 3, 4, 5.

``LinearExperiment`` draws the R data sets of a profile (train and held-out test split from the
same ground truth), fits the closed-form MLE on each training split, trains every
aggregator x bound on all R data sets as one vmapped program, and evaluates on the test split:

* LLH gap   = (log p_MLE(x) - log p_theta(x)) / |log p_MLE(x)|, exact log-likelihoods averaged
  over the test set, the learned model's with its learned W, b and the fixed sigma_ML;
* bound gap = (log p_MLE(x) - L(x)) / |log p_MLE(x)|, with L the model's own training bound
  (ours or mixture, beta = 1) estimated on the test set;
* MCC       = weak MCC between the true z and one sample of q(z | x_M) per test point.

Choices where the paper is silent or the official code differs (and why):
* evaluation on a held-out test split of the same model (the official code evaluates on the
  5,000 training points, ``eval_split="train"`` here, and reports the last epoch's running
  training loss as "the bound", ``bound_source="training_loss"``);
* the MLE of sigma uses 1/(D_x - D) (see ``likelihood.linear_gaussian_mle``) and the decoders
  use sigma_ML as the paper says (the official code trains with a fixed 1.001);
* data sets with different D_s are padded to a common width so that all R train as one program
  (padded features are masked out of the likelihood; see ``models.LinearGaussianDecoder``);
* std over data sets is the sample standard deviation (ddof = 1).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mmvae_nb.data.linear import LinearGaussianData, draw_modality_dims, sample_linear_gaussian
from mmvae_nb.evaluation.likelihood import (
    linear_gaussian_log_likelihood,
    linear_gaussian_mle,
    linear_gaussian_posterior,
)
from mmvae_nb.evaluation.metrics import mcc, rate_distortion, unimodal_masks
from mmvae_nb.experiments.base import Experiment, Run, diverged_row
from mmvae_nb.experiments.linear.config import get_config
from mmvae_nb.experiments.table_specs import TableSpec, cell_statistics
from mmvae_nb.models.aggregators import aggregator_spec
from mmvae_nb.models.builders import (
    AggregatorConfig,
    LatentLayout,
    build_vae,
    linear_decoders,
    mlp_encoders,
)
from mmvae_nb.models.distributions import kl_to_full_gaussian
from mmvae_nb.objectives.bounds import BOUND_NAMES, get_bound
from mmvae_nb.training.cache import TrainedModels
from mmvae_nb.training.trainer import TrainConfig, train_replicas

AGGREGATIONS = ("PoE", "MoE", "SumPooling", "SelfAttention")
EQUIVARIANT_AGGREGATIONS = (
    "PoE (equivariant)",
    "SumPooling (equivariant)",
    "SelfAttention (equivariant)",
)


@dataclass
class LinearExperiment(Experiment):
    """Data, models and evaluation of one linear-Gaussian setting (dense or sparse truth)."""

    name = "linear"
    profile: str = "quick"
    sparse: bool = False
    seed: int = 0
    overrides: dict = field(default_factory=dict)

    def __post_init__(self):
        self.config = get_config(self.profile, **self.overrides)
        cfg = self.config
        # Pad every modality to the largest possible D_s, so that dense and sparse settings
        # (and every profile run) share one compiled program per aggregator x bound.
        self.padded_dims = (cfg.data.dim_high,) * cfg.data.num_modalities

    # The data sets and their references are drawn on first use: listing the grid (the
    # launcher, ``--plan``) needs none of them.
    @functools.cached_property
    def _splits(self) -> tuple[list[LinearGaussianData], list[LinearGaussianData]]:
        """(train, test) of each of the R data sets (one ground truth each)."""
        data = self.config.data
        train, test = [], []
        for r in range(data.num_datasets):
            dims = draw_modality_dims(
                self.seed * 1000 + r, data.num_modalities, data.dim_low, data.dim_high
            )
            drawn = sample_linear_gaussian(
                self.seed * 1000 + r,
                data.n_train + data.n_test,
                data.latent_dim,
                dims,
                noise_std=1.0,
                sparse=self.sparse,
            )
            train.append(drawn.subset(slice(0, data.n_train)))
            test.append(drawn.subset(slice(data.n_train, None)))
        return train, test

    @property
    def train_data(self) -> list[LinearGaussianData]:
        return self._splits[0]

    @property
    def test_data(self) -> list[LinearGaussianData]:
        return self._splits[1]

    @functools.cached_property
    def mle(self) -> list[tuple]:
        """The closed-form MLE (W, b, sigma) of each training split (App. M)."""
        return [linear_gaussian_mle(d.xs, self.config.data.latent_dim) for d in self.train_data]

    @functools.cached_property
    def evaluation_data(self) -> list[LinearGaussianData]:
        """The points the metrics are computed on (``evaluation.eval_split``)."""
        return self.split_data(self.config.evaluation.eval_split)

    @functools.cached_property
    def evaluation_llh_mle(self) -> list:
        """The MLE's mean log-likelihood of each data set's evaluation points."""
        return [
            linear_gaussian_log_likelihood(d.xs, *mle).mean()
            for d, mle in zip(self.evaluation_data, self.mle)
        ]

    @functools.cached_property
    def mcc_ceiling(self) -> list[float]:
        """Each data set's MCC of the true posterior (the ceiling of the learned ones)."""
        return [self.true_posterior_mcc(r) for r in range(self.config.data.num_datasets)]

    # ------------------------------------------------------------------ data
    @property
    def num_replicas(self) -> int:
        return self.config.data.num_datasets

    @property
    def batch_size(self) -> int:
        return self.config.training.batch_size

    @property
    def n_train(self) -> int:
        return self.config.data.n_train

    def split_data(self, split: str) -> list[LinearGaussianData]:
        """The R data sets' ``"train"`` or ``"test"`` split."""
        return self.train_data if split == "train" else self.test_data

    def stacked(self, split: str = "train"):
        """``xs`` (list of (R, N, max D_s) zero-padded arrays) and ``present`` (R, N, M)."""
        data = self.split_data(split)
        xs = []
        for m, width in enumerate(self.padded_dims):
            padded = np.zeros((len(data), data[0].z.shape[0], width), np.float32)
            for r, d in enumerate(data):
                padded[r, :, : d.modality_dims[m]] = d.xs[m]
            xs.append(jnp.asarray(padded))
        present = jnp.ones((len(data), data[0].z.shape[0], len(self.padded_dims)), bool)
        return xs, present

    def replica_args(self):
        """Per-data-set constants: decoder noise sigma_ML and the feature masks of the padding."""
        masks = [
            jnp.asarray(np.stack([np.arange(w) < d.modality_dims[m] for d in self.train_data]))
            for m, w in enumerate(self.padded_dims)
        ]
        noise = jnp.asarray([sigma for _, _, sigma in self.mle], jnp.float32)
        return {"noise_std": noise, "feature_masks": masks}

    # ------------------------------------------------------------------ models
    def model_factory(self, aggregation: str):
        """``make(key, replica_args) -> MultimodalVAE`` with the architecture of Table 17
        (shared latents) or Table 18 (``"... (equivariant)"``: shared + private latents)."""
        cfg = self.config
        spec = aggregator_spec(aggregation)
        experts = spec.expert_embedding
        if spec.private_latents:
            # Table 18: shared and private latents of equal size; one encoder per modality
            # outputs both the shared and the private features (the paper's PoE has two).
            shared, private = cfg.model.private_latent_dim, cfg.model.private_latent_dim
            width = cfg.model.hidden_experts if experts else cfg.model.hidden_private
            pooling = cfg.model.hidden_private
        else:
            shared, private = cfg.data.latent_dim, 0
            width = cfg.model.hidden_experts if experts else cfg.model.hidden_pooling
            pooling = cfg.model.hidden_pooling

        options = {"hidden_dim": pooling} if "hidden_dim" in spec.options else {}
        if "mean_weighting" in spec.options:
            options["mean_weighting"] = cfg.model.poe_mean_weighting

        def make(key, args):
            return build_vae(
                mlp_encoders(self.padded_dims, (width, width)),
                linear_decoders(self.padded_dims, args["noise_std"], args["feature_masks"]),
                AggregatorConfig(aggregation, options),
                LatentLayout(shared, private),
                rngs=nnx.Rngs(key),
            )

        return make

    def train_config(self, bound: str, beta: float = 1.0) -> TrainConfig:
        return self.config.training.train_config(bound=bound, beta=beta, seed=self.seed)

    def grid(self, aggregations=AGGREGATIONS, bounds=BOUND_NAMES, betas=(1.0,)) -> list[Run]:
        """Every aggregation x bound x beta (Tables 1, 5: ``AGGREGATIONS``; Table 6 and Figure
        5: ``EQUIVARIANT_AGGREGATIONS`` and ``config.grid.betas``)."""
        return [Run(a, b, beta=beta) for a in aggregations for b in bounds for beta in betas]

    def train(self, run: Run, *, force_retrain=False, progress=True) -> TrainedModels:
        """Train one run on all data sets at once (cached by config hash)."""
        aggregation, bound, beta = run.model, run.bound, run.beta
        config = self.train_config(bound, beta)
        xs, present = self.stacked("train")
        return train_replicas(
            self.model_factory(aggregation),
            xs,
            present,
            config,
            replica_args=self.replica_args(),
            cache_key=self.cache_key(run, config, self.sparse, self.padded_dims),
            force_retrain=force_retrain,
            progress=progress,
            description=f"{aggregation}/{bound}/beta={beta:g}",
        )

    # ------------------------------------------------------------------ evaluation
    def learned_decoder(self, model, replica: int):
        """The learned (W_s, b_s) in the full latent space, without padding, float64."""
        dims = self.test_data[replica].modality_dims
        pairs = model.loading_matrices()
        W = [np.asarray(w, np.float64)[:d] for (w, _), d in zip(pairs, dims)]
        b = [np.asarray(bias, np.float64)[:d] for (_, bias), d in zip(pairs, dims)]
        return W, b

    def evaluate(self, trained: TrainedModels, run: Run) -> pd.DataFrame:
        """Per-data-set metrics on the evaluation split (``evaluation.eval_split``: the test
        split by default): a DataFrame with one row per data set."""
        aggregation, bound, beta = run.model, run.bound, run.beta
        xs, present = self.stacked(self.config.evaluation.eval_split)
        rows = []
        for r in range(trained.num_replicas):
            if (epoch := trained.diverged_epoch(r)) is not None:
                rows.append(diverged_row(run, epoch, replica=r))
                continue
            model = trained.model(r)
            xs_r = [x[r] for x in xs]
            key = jax.random.key(10_000 + r)
            graphdef, state = nnx.split(model)
            values = _evaluate_jit(
                state,
                xs_r,
                present[r],
                key,
                graphdef=graphdef,
                bound=bound,
                subset_sampler=self.config.training.subset_sampler,
                num_samples=self.config.evaluation.eval_samples,
            )
            points = self.evaluation_data[r]
            W, b = self.learned_decoder(model, r)
            sigma = self.mle[r][2]
            ll_model = linear_gaussian_log_likelihood(points.xs, W, b, sigma).mean()
            ll_mle = self.evaluation_llh_mle[r]
            bound_value = self._bound_value(trained, r, values)
            row = {
                "replica": r,
                "aggregation": aggregation,
                "bound": bound,
                "beta": beta,
                "llh": ll_model,
                "llh_mle": ll_mle,
                "bound_value": bound_value,
                "llh_gap": (ll_mle - ll_model) / abs(ll_mle),
                "bound_gap": (ll_mle - bound_value) / abs(ll_mle),
                "mcc": mcc(points.z, np.asarray(values["z_sample"]), "weak"),
                "mcc_strong": mcc(points.z, np.asarray(values["z_sample"]), "strong"),
                "mcc_true_posterior": self.mcc_ceiling[r],
            }
            for name in ("full_reconstruction", "full_rate", "cross_reconstruction", "cross_rate"):
                row[name] = float(values[name])
            if not aggregator_spec(aggregation).private_latents:
                row.update(self._posterior_kls(model, r, xs_r, present[r], W, b, sigma, key))
            rows.append(row)
        return pd.DataFrame(rows)

    def _bound_value(self, trained: TrainedModels, replica: int, values) -> float:
        """The bound of the bound gap (``evaluation.bound_source``): estimated on the evaluation
        points, or minus the last epoch's mean training loss (the official code's "bound";
        beta = 1 rows only, where that loss is the negative bound)."""
        if self.config.evaluation.bound_source == "evaluation":
            return float(values["bound"])
        return -float(trained.loss_history[replica, -1])

    def true_posterior_mcc(self, replica: int) -> float:
        """Weak MCC of one sample of the *true* posterior p(z | x) per evaluation point: the
        ceiling any encoder can reach (noise in z | x caps it below 1)."""
        test = self.evaluation_data[replica]
        mean, cov = linear_gaussian_posterior(test.xs, test.W, test.b, test.noise_std)
        rng = np.random.default_rng(replica)
        sample = mean + rng.normal(size=mean.shape) @ np.linalg.cholesky(cov).T
        return mcc(test.z, sample, "weak")

    def _posterior_kls(self, model, replica, xs, present, W, b, sigma, key):
        """KL(q(z|x_S) || p_theta(z|x_S)) to the learned model's exact posterior (Figs 3-4)."""
        test = self.evaluation_data[replica]
        tokens = model.embed(xs, present)
        mean, cov = linear_gaussian_posterior(test.xs, W, b, sigma)
        samples = 16 * self.config.evaluation.eval_samples  # Monte Carlo only for MoE (mixtures)
        full = kl_to_full_gaussian(model.encode(tokens, present), mean, cov, key, samples).mean()
        uni = []
        for s, mask in enumerate(unimodal_masks(present)):
            mean, cov = linear_gaussian_posterior([test.xs[s]], [W[s]], [b[s]], sigma)
            q_s = model.encode(tokens, mask)
            uni.append(kl_to_full_gaussian(q_s, mean, cov, key, samples).mean())
        return {"full_posterior_kl": float(full), "unimodal_posterior_kl": float(np.mean(uni))}


@functools.partial(jax.jit, static_argnames=("graphdef", "bound", "subset_sampler", "num_samples"))
def _evaluate_jit(state, xs, present, key, *, graphdef, bound, subset_sampler, num_samples):
    model = nnx.merge(graphdef, state)
    k_bound, k_rd, k_z = jax.random.split(key, 3)
    bound_fn = get_bound(bound)
    draws = jax.vmap(lambda k: bound_fn(model, xs, present, k, 1.0, subset_sampler))(
        jax.random.split(k_bound, num_samples)
    )
    terms = rate_distortion(model, xs, present, k_rd, num_samples)
    q_full = model.encode(model.embed(xs, present), present)
    out = {name: jnp.mean(v) for name, v in terms.items()}
    out["bound"] = jnp.mean(draws)
    out["z_sample"] = q_full.sample(k_z)
    return out


_LINEAR_METRICS = ("llh_gap", "bound_gap", "mcc")
# Tables 1, 5, 6 (App. M); the runs are the trainings at beta = 1
TABLES = {
    "table01_linear_dense": TableSpec(
        1, "Multi-modal Gaussian model with dense decoders", _LINEAR_METRICS, {"beta": 1.0}
    ),
    "table05_linear_sparse": TableSpec(
        5, "Multi-modal Gaussian model with sparse decoders", _LINEAR_METRICS, {"beta": 1.0}
    ),
    "table06_linear_sparse_equivariant": TableSpec(
        6,
        "Sparse decoders, permutation-equivariant encoders with private latents",
        _LINEAR_METRICS,
        {"beta": 1.0},
    ),
}


TABLE_NAMES = {
    1: "table01_linear_dense",
    5: "table05_linear_sparse",
    6: "table06_linear_sparse_equivariant",
}


def training_time(*per_run: pd.DataFrame) -> pd.DataFrame:
    """Training wall time per aggregation and bound (the conclusion's cost claims): one value
    per trained configuration (its replicas train together), mean and std over the settings
    given (dense, sparse), in the tables' schema with ``metric = "train_seconds"``. Times are
    this machine's, including compilation, and kept with each cached model."""
    configs = pd.concat(
        [runs.drop_duplicates(["aggregation", "bound", "beta"]) for runs in per_run]
    )
    configs = configs[np.isclose(configs["beta"], 1.0)].rename(columns={"train_seconds": "value"})
    out = cell_statistics(configs, ["aggregation", "bound"])
    return out.assign(metric="train_seconds")[
        ["aggregation", "bound", "metric", "mean", "std", "n_runs"]
    ]
