"""Typed, frozen configurations per section and profile (smoke | quick | paper).

A section's configuration has five groups, each a frozen dataclass:

* ``data``: what data is drawn or loaded (sizes, generator parameters);
* ``model``: the architecture (widths, mixture sizes);
* ``training``: the optimisation (epochs, batch, learning rate, clipping, repetitions);
* ``evaluation``: how trained models are evaluated (Monte Carlo samples, IS particles, sizes);
* ``grid``: which trainings the notebook runs (rows, betas).

A trained model's cache key covers ``data``, ``model`` and ``training`` only (``cache_parts``),
plus the condition that training was run for: changing an evaluation setting or the grid never
retrains a model that exists.

A profile changes sizes, never logic: every profile runs the same code, and
``profile_rules`` lists what each may change (``rehearse``: counts only, so that it runs every
program, row and evaluation path of ``paper`` in minutes on a CPU; ``quick`` and ``smoke``:
sizes, the grid and named stabilisers). ``paper`` follows the
paper (App. M, Tables 17-20, App. P) and, where it is silent, the official code (linear: batch
500, Adam 1e-3, element-wise clipping at 100 of the batch-summed loss's gradient, NaN gradients
zeroed, 4000 epochs; non-linear identifiable models: batch 250, Adam 5e-4, clipping at 1000 the
same way, 4000 epochs). MNIST-SVHN-Text and the relational model have no official JAX code; they
follow MoPoE's PyTorch training (a batch-mean loss, no clipping: ``clip_on="batch_mean"`` with a
threshold that never binds, NaN gradients kept). ``rehearse``, ``quick`` and ``smoke``
are built from ``paper`` with ``dataclasses.replace`` (``SectionConfig.replace``), so every
difference from the paper is written where the profile is defined.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import ClassVar

from mmvae_nb.data.identifiable import (
    IdentifiableData,
    check_cluster_scale,
    sample_auxiliary_label,
    sample_five_modalities,
)
from mmvae_nb.objectives.subsets import get_subset_sampler
from mmvae_nb.training.trainer import TrainConfig

PROFILES = ("smoke", "quick", "rehearse", "paper")
GROUPS = ("data", "model", "training", "evaluation", "grid")


@dataclass(frozen=True)
class SectionConfig:
    """Base class of a section's configuration: the five groups of the module docstring."""

    def replace(self, **overrides) -> SectionConfig:
        """A copy with settings replaced by their (flat) names; an unknown name raises a
        ``ValueError`` listing the known ones."""
        where = {f.name: group for group in GROUPS for f in fields(getattr(self, group))}
        unknown = sorted(set(overrides) - set(where))
        if unknown:
            raise ValueError(f"unknown settings {unknown}; known: {sorted(where)}")
        changes = {}
        for group in GROUPS:
            mine = {k: v for k, v in overrides.items() if where[k] == group}
            if mine:
                changes[group] = dataclasses.replace(getattr(self, group), **mine)
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """Every setting by its flat name (for display)."""
        return {
            k: v for group in GROUPS for k, v in dataclasses.asdict(getattr(self, group)).items()
        }

    def cache_parts(self) -> dict:
        """What determines a trained model: the data, model and training groups."""
        return {g: dataclasses.asdict(getattr(self, g)) for g in ("data", "model", "training")}


def profile_config(profiles: dict, profile: str, **overrides) -> SectionConfig:
    """The configuration of ``profile`` in ``profiles`` with keyword overrides."""
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; choose one of {list(PROFILES)}")
    return profiles[profile].replace(**overrides)


def _nothing():
    return ()


# --------------------------------------------------------------------------------------------
# Linear-Gaussian section (Section 5.1, App. M, Tables 1, 5, 6, Figures 3-5)
@dataclass(frozen=True)
class LinearData:
    num_datasets: int  # independent ground truths (the paper's repetitions)
    n_train: int
    n_test: int
    latent_dim: int  # D (shared latent); the private-latent model uses private_latent_dim
    num_modalities: int
    dim_low: int  # D_s is drawn uniformly from dim_low..dim_high
    dim_high: int


@dataclass(frozen=True)
class LinearModel:
    hidden_experts: int  # encoder width for PoE/MoE (Table 17a)
    hidden_pooling: int  # encoder and aggregator width for SumPooling/SelfAttention
    hidden_private: int  # widths of the private-latent models (Table 18)
    private_latent_dim: int  # shared = private latent size of the private-latent models
    # "variance": the PoE mean of the paper's code (aggregators.shared.product_of_experts), to
    # test whether it explains the paper's Table 1 PoE row; not the product of the experts
    poe_mean_weighting: str = "precision"


@dataclass(frozen=True)
class Training:
    epochs: int
    batch_size: int
    learning_rate: float
    clip_value: float  # element-wise gradient clipping (optax.clip), as the official code
    # the gradient clipped: of the batch-summed loss (the official code, "batch_sum") or of the
    # batch mean ("batch_mean"); ``training.step.make_optimizer``
    clip_on: str = "batch_sum"
    zero_nan_gradients: bool = True  # the official code's optax.zero_nans()
    # S ~ rho in both bounds (objectives.subsets): "hierarchical" is the paper's Remark 1,
    # "independent" the official code's Bernoulli(1/2) per modality
    subset_sampler: str = "hierarchical"

    def __post_init__(self):
        get_subset_sampler(self.subset_sampler)  # an unknown name raises before any training

    def train_config(self, *, bound: str, beta, seed: int) -> TrainConfig:
        """The trainer's settings for one run of ``bound`` at ``beta`` (one float, or one per
        replica) with ``seed``: these optimisation settings, the same for every section."""
        return TrainConfig(
            bound=bound,
            beta=beta,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            clip_value=self.clip_value,
            clip_on=self.clip_on,
            zero_nan_gradients=self.zero_nan_gradients,
            subset_sampler=self.subset_sampler,
            seed=seed,
        )


BOUND_SOURCES = ("evaluation", "training_loss")


@dataclass(frozen=True)
class LinearEvaluation:
    eval_samples: int  # Monte Carlo draws of S ~ rho and z for the bound and rate/distortion
    # the points every metric is computed on: the held-out "test" split, or "train" (the
    # official code evaluates on the training points)
    eval_split: str = "test"
    # the bound of Table 1's bound gap: "evaluation" (estimated on the evaluation points with
    # ``eval_samples`` draws) or "training_loss" (minus the last epoch's mean training loss, what
    # the official code reports)
    bound_source: str = "evaluation"

    def __post_init__(self):
        if self.eval_split not in ("test", "train"):
            raise ValueError(f"unknown eval_split {self.eval_split!r}; choose 'test' or 'train'")
        if self.bound_source not in BOUND_SOURCES:
            raise ValueError(
                f"unknown bound_source {self.bound_source!r}; choose one of {BOUND_SOURCES}"
            )


@dataclass(frozen=True)
class BetaGrid:
    betas: tuple[float, ...]  # betas trained for the beta sweep (Figure 5)


@dataclass(frozen=True)
class LinearConfig(SectionConfig):
    data: LinearData
    model: LinearModel
    training: Training
    evaluation: LinearEvaluation
    grid: BetaGrid


LINEAR_PAPER = LinearConfig(
    LinearData(5, 5000, 5000, 30, 5, 30, 60),
    LinearModel(hidden_experts=512, hidden_pooling=256, hidden_private=128, private_latent_dim=10),
    Training(epochs=4000, batch_size=500, learning_rate=1e-3, clip_value=100.0),
    LinearEvaluation(eval_samples=16),
    BetaGrid((0.1, 1.0, 4.0)),
)
# rehearse (every profile's rehearsal: the paper's grid, widths and data sets, counts cut)
_REHEARSE_SYNTHETIC = dict(n_train=500, n_test=200, epochs=2, batch_size=250, eval_samples=2)
LINEAR = {
    "paper": LINEAR_PAPER,
    "rehearse": LINEAR_PAPER.replace(**_REHEARSE_SYNTHETIC),
    # quick: 2 smaller data sets, width 128, a 3x larger learning rate, 24 epochs (192 steps): all
    # 34 trainings in minutes on 2 CPU cores (history: docs/notes/2026-12-06-make-quick-timings.md)
    "quick": LINEAR_PAPER.replace(
        num_datasets=2,
        n_train=2000,
        n_test=500,
        epochs=24,
        batch_size=250,
        learning_rate=3e-3,
        hidden_experts=128,
        hidden_pooling=128,
        hidden_private=64,
        eval_samples=4,
    ),
    "smoke": LINEAR_PAPER.replace(
        num_datasets=2,
        n_train=200,
        n_test=100,
        latent_dim=6,
        dim_low=6,
        dim_high=9,
        epochs=2,
        batch_size=50,
        hidden_experts=16,
        hidden_pooling=16,
        hidden_private=16,
        private_latent_dim=2,
        eval_samples=2,
    ),
}


# --------------------------------------------------------------------------------------------
# Non-linear identifiable models (Section 5.2, App. N, Tables 2, 7, 8, 19, 20)
@dataclass(frozen=True)
class LabelData:
    """The label model (Section 5.2): a D-dim continuous modality and its label."""

    repetitions: int  # independent data sets + initialisations, trained as one program
    n_train: int
    n_test: int
    num_labels: int  # K
    latent_dim: int  # D = D_1
    noise_std: float  # sigma of the continuous modality
    etas: tuple[float, ...] = (0.0,)  # missing rates (the label model has none)
    # Lambda_c as the paper's variance, or "std" as the official code uses it
    cluster_scale: str = "variance"

    def __post_init__(self):
        check_cluster_scale(self.cluster_scale)

    # the label model's likelihood is known in closed form up to a 1-D integral (the LLH
    # ceiling of Table 7), and its decoder scale is fixed to the true sigma (the official code)
    has_true_likelihood: ClassVar[bool] = True

    @property
    def decoder_std(self) -> float | None:
        return self.noise_std

    def sample(self, seed: int, eta: float) -> IdentifiableData:
        """``n_train + n_test`` draws of the label model (App. N); ``eta`` is unused."""
        n = self.n_train + self.n_test
        return sample_auxiliary_label(
            seed, n, self.num_labels, self.latent_dim, self.noise_std, self.cluster_scale
        )


@dataclass(frozen=True)
class FiveModalityData:
    """Five continuous modalities (Section 5.2), each missing at rate eta (MCAR, App. I)."""

    repetitions: int
    n_train: int
    n_test: int
    num_modalities: int
    latent_dim: int  # D
    modality_dim: int  # D_s
    num_labels: int  # K, mixture components of the true prior
    noise_std: float
    etas: tuple[float, ...]  # missing rates trained together (Tables 8 and 2)
    # Lambda_c as the paper's variance, or "std" as the official code uses it
    cluster_scale: str = "variance"
    # no closed-form likelihood; decoders learn per-feature scales
    has_true_likelihood: ClassVar[bool] = False
    decoder_std: ClassVar[float | None] = None

    def __post_init__(self):
        check_cluster_scale(self.cluster_scale)

    def sample(self, seed: int, eta: float) -> IdentifiableData:
        """``n_train + n_test`` draws of the five-modality model, missing at rate ``eta``."""
        return sample_five_modalities(
            seed,
            self.n_train + self.n_test,
            self.num_modalities,
            self.latent_dim,
            self.modality_dim,
            self.num_labels,
            self.noise_std,
            eta,
            self.cluster_scale,
        )


@dataclass(frozen=True)
class IdentifiableModel:
    hidden_experts: int  # encoder width for PoE/MoE
    hidden_pooling: int  # encoder output and aggregator width P of the learned aggregators
    prior_components: int  # K of the GMM prior
    mixture_components: int  # K of the Mixture aggregators


@dataclass(frozen=True)
class IdentifiableTraining(Training):
    betas: tuple[float, ...] = (1.0,)  # trained together with the repetitions (Table 7 MCC)


@dataclass(frozen=True)
class IdentifiableEvaluation:
    eval_samples: int  # draws of S ~ rho and z for the lower bound
    llh_particles: int  # importance-sampling particles for the LLH


@dataclass(frozen=True)
class RowGrid:
    pass


@dataclass(frozen=True)
class AuxLabelConfig(SectionConfig):
    data: LabelData
    model: IdentifiableModel
    training: IdentifiableTraining
    evaluation: IdentifiableEvaluation
    grid: RowGrid = RowGrid()


@dataclass(frozen=True)
class FiveModalitiesConfig(SectionConfig):
    data: FiveModalityData
    model: IdentifiableModel
    training: IdentifiableTraining
    evaluation: IdentifiableEvaluation
    grid: RowGrid = RowGrid()


_IDENTIFIABLE_TRAINING = IdentifiableTraining(
    epochs=4000, batch_size=250, learning_rate=5e-4, clip_value=1000.0
)
# smoke: tiny data and networks, 2 epochs (shared by both sections)
_SMOKE = dict(
    repetitions=2,
    n_train=100,
    n_test=50,
    epochs=2,
    batch_size=50,
    hidden_experts=8,
    hidden_pooling=8,
    llh_particles=4,
    eval_samples=2,
)
AUX_LABEL_PAPER = AuxLabelConfig(
    LabelData(repetitions=4, n_train=5000, n_test=5000, num_labels=5, latent_dim=2, noise_std=0.1),
    IdentifiableModel(
        hidden_experts=128, hidden_pooling=128, prior_components=5, mixture_components=5
    ),
    dataclasses.replace(_IDENTIFIABLE_TRAINING, betas=(1.0, 0.1)),
    IdentifiableEvaluation(eval_samples=16, llh_particles=64),
)
AUX_LABEL = {
    "paper": AUX_LABEL_PAPER,
    "rehearse": AUX_LABEL_PAPER.replace(**_REHEARSE_SYNTHETIC, llh_particles=8),
    # quick: 2/5 of the data, 1000 of the paper's 80,000 updates at a 4x larger learning rate,
    # half-width networks, 2 repetitions: ~6 minutes on 2 CPU cores; not fewer updates, for with
    # 480 our bound loses to the mixture bound in LLH on the SelfAttention rows
    # (history: docs/notes/2026-12-06-make-quick-timings.md)
    "quick": AUX_LABEL_PAPER.replace(
        repetitions=2,
        n_train=2000,
        n_test=1000,
        epochs=125,
        learning_rate=2e-3,
        hidden_experts=64,
        hidden_pooling=64,
        eval_samples=4,
    ),
    "smoke": AUX_LABEL_PAPER.replace(**_SMOKE),
}
FIVE_MODALITIES_PAPER = FiveModalitiesConfig(
    # D = 10 (the main text and the official code; Table 20's "D = 25" is the modality size)
    FiveModalityData(
        repetitions=4,
        n_train=5000,
        n_test=5000,
        num_modalities=5,
        latent_dim=10,
        modality_dim=25,
        num_labels=5,
        noise_std=0.5,
        etas=(0.0, 0.5),
    ),
    # Table 20: encoders 512 wide for PoE/MoE, 256 for the learned aggregators
    IdentifiableModel(
        hidden_experts=512, hidden_pooling=256, prior_components=5, mixture_components=5
    ),
    _IDENTIFIABLE_TRAINING,
    IdentifiableEvaluation(eval_samples=16, llh_particles=512),
)
FIVE_MODALITIES = {
    "paper": FIVE_MODALITIES_PAPER,
    "rehearse": FIVE_MODALITIES_PAPER.replace(**_REHEARSE_SYNTHETIC, llh_particles=8),
    # quick: 180 of the paper's 80,000 updates at a 6x larger learning rate, networks 1/8 as wide,
    # 2 repetitions, 500 test points, 32 particles, so that make quick fits 30 minutes;
    # compilation is most of its time (history: docs/notes/2026-12-06-make-quick-timings.md)
    "quick": FIVE_MODALITIES_PAPER.replace(
        repetitions=2,
        n_train=1500,
        n_test=500,
        epochs=30,
        learning_rate=3e-3,
        hidden_experts=64,
        hidden_pooling=32,
        llh_particles=32,
        eval_samples=2,
    ),
    # smoke: three small modalities (compilation time grows with M: one encoder and decoder
    # per modality)
    "smoke": FIVE_MODALITIES_PAPER.replace(
        **_SMOKE, num_modalities=3, latent_dim=3, modality_dim=5
    ),
}


# --------------------------------------------------------------------------------------------
# MNIST-SVHN-Text (Section 5.3, App. O-Q)
@dataclass(frozen=True)
class MSTData:
    svhn: str  # "real" (downloaded, checksummed) or "standin" (synthetic street numbers)
    svhn_size: int | None  # keep the first SVHN training images (None: all)
    svhn_test_size: int | None  # keep the first SVHN test images (None: all)
    dups: int  # MoPoE's random matchings per label (20: ~1.12 M training triples)
    train_size: int | None  # None: every training triple; a number: a random subset


@dataclass(frozen=True)
class MSTModel:
    """The architectures are fixed by Tables 21-22 (``sections.mnist_svhn_text``)."""


@dataclass(frozen=True)
class MSTTraining(Training):
    final_learning_rate: float = 1e-4  # end of the cosine decay (App. P: 5e-4 -> 1e-4)
    repetitions: int = 1  # seeds per configuration
    # linear warm-up from 0 before the cosine decay (App. P has none; step.cosine_schedule)
    warmup_steps: int = 0


@dataclass(frozen=True)
class MSTEvaluation:
    classifier_epochs: int  # epochs of each modality's coherence classifier
    eval_size: int  # test triples for the log-likelihoods, coherence and latent accuracy
    latent_train_size: int  # training triples the latent classifiers are fitted on
    llh_particles: int  # importance-sampling particles
    particles_per_chunk: int  # particles per decoder pass (memory bound)


@dataclass(frozen=True)
class MSTGrid:
    rows: tuple[str, ...]  # shared-latent rows trained (``ROWS``)
    private_rows: tuple[str, ...]  # private-latent rows trained (``PRIVATE_ROWS``)
    beta_rows: tuple[str, ...]  # rows also trained at each of ``betas`` (Tables 9, 13, 14)
    betas: tuple[float, ...]


@dataclass(frozen=True)
class MSTConfig(SectionConfig):
    data: MSTData
    model: MSTModel
    training: MSTTraining
    evaluation: MSTEvaluation
    grid: MSTGrid


MNIST_SVHN_TEXT_PAPER = MSTConfig(
    MSTData(svhn="real", svhn_size=None, svhn_test_size=None, dups=20, train_size=None),
    MSTModel(),
    # App. P: Adam with a cosine decay 5e-4 -> 1e-4, batch 250, 100 epochs
    MSTTraining(
        epochs=100,
        batch_size=250,
        learning_rate=5e-4,
        clip_value=1e6,
        clip_on="batch_mean",
        zero_nan_gradients=False,
        final_learning_rate=1e-4,
        repetitions=3,
    ),
    MSTEvaluation(
        classifier_epochs=5,
        eval_size=10_000,
        latent_train_size=10_000,
        llh_particles=512,
        particles_per_chunk=16,
    ),
    MSTGrid(
        rows=("PoE", "PoE+", "MoE", "MoE+", "SumPooling", "SelfAttention"),
        private_rows=("PoE+", "SumPooling", "SelfAttention"),
        beta_rows=("PoE+", "SumPooling"),
        betas=(0.1, 4.0),
    ),
)
MNIST_SVHN_TEXT = {
    "paper": MNIST_SVHN_TEXT_PAPER,
    "rehearse": MNIST_SVHN_TEXT_PAPER.replace(
        svhn="standin",
        svhn_size=3_000,
        svhn_test_size=500,
        dups=1,
        train_size=600,
        epochs=1,
        batch_size=100,
        classifier_epochs=1,
        eval_size=100,
        latent_train_size=200,
        llh_particles=4,
        particles_per_chunk=4,
    ),
    # quick: the offline stand-in (30,000 / 5,000 rendered images, ~30 s once, then cached);
    # classifiers see the 30,000 images of each modality the triples use for 3 epochs, so that
    # make quick fits 30 minutes (accuracies: tables/quick/mst_classifiers.csv; history:
    # docs/notes/2026-12-06-make-quick-timings.md)
    "quick": MNIST_SVHN_TEXT_PAPER.replace(
        svhn="standin",
        svhn_size=30_000,
        svhn_test_size=5_000,
        dups=1,
        repetitions=1,
        classifier_epochs=3,
        # batches of 32 (the paper: 250): 4x the Adam steps of batches of 250 in 0.6x the CPU
        # time, and the Laplace scales move about one learning rate per step; 100 warm-up steps
        # keep SumPooling's posterior scale from blowing up in its first steps, which freezes the
        # SVHN scales (history: docs/notes/2026-12-05-mst-collapse.md)
        epochs=1,
        batch_size=32,
        warmup_steps=100,
        learning_rate=1e-3,
        final_learning_rate=2e-4,
        # PoE and SumPooling with both bounds; SelfAttention (about 3 of the 12 minutes the
        # notebook took with it, and no claim rests on it alone: the learnable-aggregation
        # claims take the best of SumPooling and SelfAttention) is left to the paper profile
        rows=("PoE", "SumPooling"),
        private_rows=(),
        beta_rows=(),
        # 500 test triples: evaluation is much of the models' cell, and make quick fits 30
        # minutes (history: docs/notes/2026-12-06-make-quick-timings.md)
        eval_size=500,
        latent_train_size=2000,
        llh_particles=16,
    ),
    # smoke: 6,000 / 500 stand-in images, every cell once; one classifier epoch (the SVHN
    # classifier, dropout after every convolution, stays at chance level for its first ~300
    # steps: smoke coherences mean nothing; tests/test_classifiers.py checks learning)
    "smoke": MNIST_SVHN_TEXT_PAPER.replace(
        svhn="standin",
        svhn_size=6_000,
        svhn_test_size=500,
        dups=1,
        repetitions=1,
        classifier_epochs=1,
        train_size=1000,
        epochs=1,
        batch_size=100,
        learning_rate=1e-3,
        final_learning_rate=1e-3,
        rows=("PoE",),
        private_rows=("SumPooling",),
        beta_rows=(),
        eval_size=200,
        latent_train_size=300,
        llh_particles=4,
        particles_per_chunk=4,
    ),
}


# --------------------------------------------------------------------------------------------
# The relational model on PolyMNIST (Sutter & Vogt, Section 5; notebook 05)
@dataclass(frozen=True)
class PolyMNISTData:
    train_size: int  # tuples of the training split (<= 60,000)
    test_size: int  # tuples of the test split (<= 10,000)


@dataclass(frozen=True)
class RelationalModel:
    """The seed paper gives no sizes ("the same architectures and capacities for encoder and
    decoder in all experiments, as well as the latent space dimensionalities")."""

    subspace_dim: int  # mrVAE's D: every subspace S_A holds up to D coordinates
    latent_dim: int  # the shared latent of the one-latent-space models (MoPoE, SumPooling, ...)
    private_dim: int  # private latent per modality of the permutation-equivariant rows
    relation_hidden: int  # width of mrVAE's r networks (eq. 34-38)
    pooling_hidden: int  # width of SumPooling / SelfAttention
    temperature: float  # Gumbel-softmax and NeuralSort temperature (straight-through)
    conv_channels: tuple[int, int] = (32, 64)  # widths of the encoders' / decoders' convolutions
    # mrVAE's reverse model of the selections: learned Plackett-Luce scores (True) or
    # Definition 2's uniform (False); ``models.relational``
    learned_selection_reverse: bool = True
    # mrVAE's prior on the subspace sizes n_A (``models.hypergeometric.SUBSPACE_SIZE_PRIORS``):
    # Definition 1's "hypergeometric", or "uniform" (beyond the seed)
    size_prior: str = "hypergeometric"
    # mrVAE's selection posterior: eq. 36-38's scores from the inputs (False), or learned scores
    # per (subset, modality) that do not depend on the input (True, beyond the seed), whose
    # selection term is then 0 (``models.relational``)
    global_selections: bool = False


@dataclass(frozen=True)
class RelationalTraining(Training):
    final_learning_rate: float = 1e-4  # end of a cosine decay
    warmup_steps: int = 0
    # KL annealing over the first steps (neither paper; ``train_streaming``): without it the
    # quick trainings collapse to the prior (``benchmarks/diagnose_collapse.py``)
    kl_warmup_steps: int = 0
    repetitions: int = 1  # seeds per configuration


@dataclass(frozen=True)
class RelationalEvaluation:
    classifier_epochs: int
    eval_size: int  # test tuples for coherence, FID and the subspace sizes
    selection_size: int  # test tuples of the test loss that selects the epoch (App. E.3)


@dataclass(frozen=True)
class RelationalGrid:
    rows: tuple[str, ...]  # ``sections.relational.ROWS``
    variants: tuple[str, ...]  # "vanilla", "extended"


@dataclass(frozen=True)
class RelationalConfig(SectionConfig):
    data: PolyMNISTData
    model: RelationalModel
    training: RelationalTraining
    evaluation: RelationalEvaluation
    grid: RelationalGrid


RELATIONAL_PAPER = RelationalConfig(
    PolyMNISTData(train_size=60_000, test_size=10_000),
    # MoPoE's PolyMNIST latent is 512; mrVAE's 31 subspaces of 16 hold 496 coordinates
    RelationalModel(
        subspace_dim=16,
        latent_dim=512,
        private_dim=32,
        relation_hidden=64,
        pooling_hidden=256,
        temperature=0.5,
    ),
    # MoPoE's PolyMNIST settings (Sutter et al. 2021): Adam 5e-4, batch 256, 300 epochs
    RelationalTraining(
        epochs=300,
        batch_size=256,
        learning_rate=5e-4,
        clip_value=1e6,
        clip_on="batch_mean",
        zero_nan_gradients=False,
        final_learning_rate=5e-4,
    ),
    RelationalEvaluation(classifier_epochs=20, eval_size=10_000, selection_size=2_000),
    RelationalGrid(
        rows=("mrVAE", "MoPoE", "MoPoE (our bound)", "SumPooling", "SumPooling (private)"),
        variants=("vanilla", "extended"),
    ),
)
RELATIONAL = {
    "paper": RELATIONAL_PAPER,
    "rehearse": RELATIONAL_PAPER.replace(
        train_size=192,
        test_size=100,
        epochs=1,
        batch_size=32,
        classifier_epochs=1,
        eval_size=100,
        selection_size=50,
    ),
    # quick: 10,000 / 2,000 tuples, 6 epochs of batch 32 (1,872 Adam steps: the digit is learned
    # by Adam steps, not by batch size), half-width convolutions, small latents, the KL weight
    # raised over the first 300 steps (with the full weight every row collapses to the prior);
    # the two rows the seed compares (SumPooling with private latents, beyond the seed, stays at
    # chance at these sizes: paper profile only). mrVAE: subspaces of D = 64 with global
    # selections (beyond the seed), with which its generated x_0 learns the digit and with
    # eq. 36-38's selections does not (history: docs/notes/2026-12-06-relational-probes.md)
    "quick": RELATIONAL_PAPER.replace(
        train_size=10_000,
        test_size=2_000,
        subspace_dim=64,
        global_selections=True,
        latent_dim=64,
        private_dim=8,
        pooling_hidden=128,
        conv_channels=(16, 32),
        epochs=6,
        batch_size=32,
        learning_rate=2e-3,
        final_learning_rate=2e-4,
        warmup_steps=50,
        kl_warmup_steps=300,
        classifier_epochs=4,
        eval_size=1000,
        selection_size=500,
        rows=("mrVAE", "MoPoE"),
    ),
    "smoke": RELATIONAL_PAPER.replace(
        train_size=600,
        test_size=200,
        subspace_dim=4,
        global_selections=True,
        latent_dim=16,
        private_dim=4,
        relation_hidden=16,
        pooling_hidden=32,
        epochs=1,
        batch_size=100,
        learning_rate=1e-3,
        final_learning_rate=1e-3,
        kl_warmup_steps=3,
        classifier_epochs=1,
        eval_size=200,
        selection_size=100,
        rows=("mrVAE", "MoPoE", "SumPooling (private)"),
    ),
}
