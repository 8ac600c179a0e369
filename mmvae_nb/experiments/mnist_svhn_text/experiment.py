"""MNIST-SVHN-Text (Section 5.3, App. O-Q): the rows of its tables, their models (Tables
21-22), and ``MSTExperiment``, which trains every row (one model per repetition, streamed) and
evaluates it: IS log-likelihoods (Table 3), conditional coherence (Tables 4, 10), latent
classification (Table 15), rates and distortions (Figure 2). Its data and classifiers:
``setup.MSTSetup``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property, partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mmvae_nb.data.mnist_svhn_text import (
    LIKELIHOOD_WEIGHTS,
    MODALITIES,
    MnistSvhnText,
)
from mmvae_nb.evaluation.coherence import (
    conditional_coherence,
    input_subsets,
    latent_classification,
    vae_encoder,
    vae_generator,
)
from mmvae_nb.evaluation.likelihood import subset_log_likelihoods
from mmvae_nb.evaluation.metrics import rate_distortion
from mmvae_nb.experiments.base import Experiment, Run, diverged_row
from mmvae_nb.experiments.mnist_svhn_text.setup import MSTSetup
from mmvae_nb.experiments.table_specs import TableSpec
from mmvae_nb.models.aggregators import aggregator_spec
from mmvae_nb.models.builders import AggregatorConfig, LatentLayout, build_vae
from mmvae_nb.models.mst_nets import (
    MNISTDecoder,
    MNISTEncoder,
    SVHNDecoder,
    SVHNEncoder,
    TextDecoder,
    TextEncoder,
)
from mmvae_nb.objectives.bounds import BOUND_NAMES
from mmvae_nb.training.streaming import train_streaming
from mmvae_nb.training.trainer import TrainConfig


@dataclass(frozen=True)
class MSTRow:
    """A row of the MNIST-SVHN-Text tables: its aggregation and how many extra Dense(256)-ReLU
    layers every encoder gets (the paper's "+" rows, PoE+ and MoE+: four)."""

    aggregation: str
    extra_encoder_layers: int = 0


ROW_SPECS = {
    "PoE": MSTRow("PoE"),
    "PoE+": MSTRow("PoE", 4),
    "MoE": MSTRow("MoE"),
    "MoE+": MSTRow("MoE", 4),
    "SumPooling": MSTRow("SumPooling"),
    "SelfAttention": MSTRow("SelfAttention"),
}
SHARED_ROWS = ROWS = tuple(ROW_SPECS)  # Tables 3, 4, 15
PRIVATE_ROWS = ("PoE+", "SumPooling", "SelfAttention")  # Tables 3, 11, 12, 15 (App. F)


def make_mst_model(
    aggregation: str,
    *,
    rngs,
    private: bool = False,
    latent_dim: int = 40,
    shared_dim: int = 10,
    private_dim: int = 10,
    fast: bool | None = None,
):
    """An MNIST-SVHN-Text model (Section 5.3, Tables 21-22) for a row of the paper's tables.

    ``aggregation`` is a paper row name; a trailing "+" (PoE+, MoE+) adds four Dense(256)-ReLU
    layers to every encoder. Shared latents: z in R^40 (``latent_dim``); embedding D_E = 2D for
    PoE/MoE and 256 for SumPooling/SelfAttention (2 transformer layers). Private latents
    (``private=True``): 10 shared + 10 private per modality (App. F) with the permutation-
    equivariant aggregators and D_E = 128. Likelihoods: Laplace (images), categorical (text),
    re-weighted in the bounds by ``LIKELIHOOD_WEIGHTS``. ``fast=False`` computes the strided
    and transposed convolutions with XLA's kernels (same function, slower on CPU); ``None``
    chooses by backend (``mst_nets.cpu_tuned``: XLA's kernels off CPU).
    """
    if aggregation not in ROW_SPECS:
        raise ValueError(
            f"unknown MNIST-SVHN-Text row {aggregation!r}; choose one of {SHARED_ROWS}"
        )
    row = ROW_SPECS[aggregation]
    extra = row.extra_encoder_layers
    name = f"{row.aggregation} (equivariant)" if private else row.aggregation
    spec = aggregator_spec(name)
    latents = LatentLayout(shared_dim, private_dim) if private else LatentLayout(latent_dim)
    pooling = 128 if private else 256  # D_E of the learned aggregators (Table 21)
    options = {"hidden_dim": pooling} if spec.learnable else {}
    if "num_layers" in spec.options:
        options["num_layers"] = 2
    return build_vae(
        [
            partial(MNISTEncoder, extra_layers=extra),
            partial(SVHNEncoder, extra_layers=extra, fast=fast),
            partial(TextEncoder, extra_layers=extra),
        ],
        [MNISTDecoder, *(partial(b, fast=fast) for b in (SVHNDecoder, TextDecoder))],
        AggregatorConfig(name, options, pooling),
        latents,
        rngs=rngs,
        likelihood_weights=LIKELIHOOD_WEIGHTS,
    )


# ----------------------------------------------------------------------------- models
MARGINALS = [(0, 1, 2), (0,), (1,), (2,)]  # M+S+T, M, S, T (Tables 3, 9, 15, 16)


@dataclass
class MSTExperiment(MSTSetup, Experiment):
    """Trains and evaluates the MNIST-SVHN-Text models of one profile (Section 5.3)."""

    name = "mnist_svhn_text"

    force_retrain: bool = False

    def train_config(self, bound: str, beta: float, repetition: int) -> TrainConfig:
        seed = 1000 * self.seed + repetition
        return self.config.training.train_config(bound=bound, beta=float(beta), seed=seed)

    @cached_property
    def training_data(self) -> MnistSvhnText:
        size = self.config.data.train_size
        return self.train_data if size is None else self.train_data.subset(size, seed=self.seed)

    def grid(self, rows=None, private_rows=None, bounds=BOUND_NAMES, betas=None, beta_rows=None):
        """Every training of the profile (``config.grid``, or the given rows): shared-latent
        rows at beta 1, private-latent rows at beta 1, and ``beta_rows`` at each beta; each
        row once per repetition (``config.training.repetitions``, a seed each)."""
        g = self.config.grid
        runs = [Run(a, b) for a in (g.rows if rows is None else rows) for b in bounds]
        runs += [
            Run(a, b, private=True)
            for a in (g.private_rows if private_rows is None else private_rows)
            for b in bounds
        ]
        runs += [
            Run(a, b, beta=float(beta))
            for a in (g.beta_rows if beta_rows is None else beta_rows)
            for beta in (g.betas if betas is None else betas)
            for b in bounds
        ]
        repetitions = range(self.config.training.repetitions)
        return [dataclasses.replace(run, repetition=k) for run in runs for k in repetitions]

    def train(self, run: Run, *, force_retrain=False, progress=True):
        """One trained model (cached by configuration hash): ``TrainedModels`` with 1 replica;
        repetitions (``run.repetition``) are separate trainings with their own seed."""
        aggregation, bound, beta, private = run.model, run.bound, run.beta, run.private
        config = self.train_config(bound, beta, run.repetition)
        block = "private" if private else "shared"
        return train_streaming(
            lambda k: make_mst_model(aggregation, rngs=nnx.Rngs(k), private=private),
            self.training_data,
            config,
            cache_key=self.cache_key(run, config, self.dataset),
            force_retrain=force_retrain or self.force_retrain,
            progress=progress and self.progress,
            description=f"{aggregation} ({block}), {bound}, beta={beta}",
        )

    @cached_property
    def evaluation_data(self):
        """(test inputs, labels) on ``eval_size`` test triples and (train inputs, labels) on
        ``latent_train_size`` training triples; fixed text draws."""
        rng = np.random.default_rng(self.seed)
        test = self.test_data.subset(
            min(self.config.evaluation.eval_size, len(self.test_data)), self.seed
        )
        train = self.train_data.subset(
            min(self.config.evaluation.latent_train_size, len(self.train_data))
        )
        return test.batch(np.arange(len(test)), rng), train.batch(np.arange(len(train)), rng)

    def evaluate_model(self, model, key) -> pd.DataFrame:
        """Every MST metric of one model as tidy rows: IS log-likelihoods (Table 3), conditional
        coherence from every uni- and bi-modal subset (Tables 4, 10), latent classification
        (Table 15), and the rate and distortion terms (Figure 2), unweighted."""
        cfg = self.config
        (xs, labels), train = self.evaluation_data
        k_llh, k_coh, k_lat = jax.random.split(key, 3)
        loglik = subset_log_likelihoods(
            model,
            xs,
            MARGINALS,
            k_llh,
            num_particles=cfg.evaluation.llh_particles,
            particles_per_chunk=cfg.evaluation.particles_per_chunk,
        )
        classifiers = [self.classifiers[m].predict for m in MODALITIES]
        coherence = conditional_coherence(
            vae_generator(model), classifiers, xs, labels, input_subsets(3), k_coh
        )
        latent = latent_classification(vae_encoder(model), train, (xs, labels), MARGINALS, k_lat)
        terms = _rate_distortion_means(model, xs, jax.random.fold_in(key, 1))
        rate_distortion = pd.DataFrame(
            {"metric": list(terms), "value": list(terms.values()), "target": "", "inputs": ""}
        )
        return pd.concat(
            [loglik.assign(inputs=""), coherence, latent.assign(target=""), rate_distortion],
            ignore_index=True,
        )

    def evaluate(self, trained, run: Run) -> pd.DataFrame:
        """The tidy metrics (``evaluate_model``) of one trained repetition of ``run`` (none,
        and its ``diverged_epoch``, if it diverged)."""
        block = "private" if run.private else "shared"
        if (epoch := trained.diverged_epoch(0)) is not None:
            row = diverged_row(run, epoch, block=block, repetition=run.repetition)
            return pd.DataFrame([row])
        metrics = self.evaluate_model(
            trained.model(0), jax.random.key(1000 * self.seed + run.repetition)
        )
        return metrics.assign(
            aggregation=run.model,
            bound=run.bound,
            beta=float(run.beta),
            block=block,
            repetition=run.repetition,
        )


def _rate_distortion_means(model, xs, key, batch_size: int = 250, num_samples: int = 4):
    """Test-set means of ``metrics.rate_distortion``'s four terms (all modalities present)."""
    graphdef, state = nnx.split(model)

    @jax.jit
    def terms(state, batch, key):
        present = jnp.ones((len(batch[0]), len(batch)), bool)
        return rate_distortion(nnx.merge(graphdef, state), batch, present, key, num_samples)

    sums, n = {}, len(xs[0])
    for i, start in enumerate(range(0, n, batch_size)):
        batch = [jnp.asarray(x[start : start + batch_size]) for x in xs]
        for name, values in terms(state, batch, jax.random.fold_in(key, i)).items():
            sums[name] = sums.get(name, 0.0) + float(jnp.sum(values))
    return {name: total / n for name, total in sums.items()}


UNIMODAL, BIMODAL = ("M", "S", "T"), ("M+S", "M+T", "S+T")
SHARED_AT_ONE = {"block": "shared", "beta": 1.0}  # the rows most tables and claims read
# which results make which paper table; Tables 3 and 15 keep the shared / private block, the
# others print the paper's "main" block; beta tables show the aggregations trained at several
TABLES = {
    "table03_mst_loglik": TableSpec(
        3,
        "Test log-likelihoods (M+S+T and marginals)",
        ("loglik",),
        {"beta": 1.0},
        None,
        columns=("target",),
    ),
    "table04_mst_coherence_unimodal": TableSpec(
        4,
        "Conditional coherence, shared latents, uni-modal inputs",
        ("coherence",),
        {**SHARED_AT_ONE, "inputs": UNIMODAL},
        columns=("target", "inputs"),
    ),
    "table09_mst_loglik_beta": TableSpec(
        9,
        "Test log-likelihoods for varying beta",
        ("loglik",),
        {"block": "shared"},
        beta_sweep=True,
        columns=("target",),
    ),
    "table10_mst_coherence_bimodal": TableSpec(
        10,
        "Conditional coherence, shared latents, bi-modal inputs",
        ("coherence",),
        {**SHARED_AT_ONE, "inputs": BIMODAL},
        columns=("target", "inputs"),
    ),
    "table11_mst_private_coherence_unimodal": TableSpec(
        11,
        "Conditional coherence, private latents, uni-modal inputs",
        ("coherence",),
        {"block": "private", "beta": 1.0, "inputs": UNIMODAL},
        columns=("target", "inputs"),
    ),
    "table12_mst_private_coherence_bimodal": TableSpec(
        12,
        "Conditional coherence, private latents, bi-modal inputs",
        ("coherence",),
        {"block": "private", "beta": 1.0, "inputs": BIMODAL},
        columns=("target", "inputs"),
    ),
    "table13_mst_coherence_beta_unimodal": TableSpec(
        13,
        "Conditional coherence for varying beta, uni-modal inputs",
        ("coherence",),
        {"block": "shared", "inputs": UNIMODAL},
        beta_sweep=True,
        columns=("target", "inputs"),
    ),
    "table14_mst_coherence_beta_bimodal": TableSpec(
        14,
        "Conditional coherence for varying beta, bi-modal inputs",
        ("coherence",),
        {"block": "shared", "inputs": BIMODAL},
        beta_sweep=True,
        columns=("target", "inputs"),
    ),
    "table15_mst_latent_classification": TableSpec(
        15,
        "Unsupervised latent classification",
        ("latent_accuracy",),
        {"beta": 1.0},
        None,
        columns=("inputs",),
    ),
    "table16_mst_latent_classification_beta": TableSpec(
        16,
        "Unsupervised latent classification for varying beta",
        ("latent_accuracy",),
        {"block": "shared"},
        beta_sweep=True,
        columns=("inputs",),
    ),
}
