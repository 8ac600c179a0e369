"""MNIST-SVHN-Text's configuration per profile (Section 5.3, App. O-Q)."""

from __future__ import annotations

from dataclasses import dataclass

from mmvae_nb.experiments.configs import ExperimentConfig, StreamedTraining, profile_config


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
    """The architectures are fixed by Tables 21-22 (``experiments.mnist_svhn_text.experiment``)."""


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
class MSTConfig(ExperimentConfig):
    data: MSTData
    model: MSTModel
    training: StreamedTraining
    evaluation: MSTEvaluation
    grid: MSTGrid


MNIST_SVHN_TEXT_PAPER = MSTConfig(
    MSTData(svhn="real", svhn_size=None, svhn_test_size=None, dups=20, train_size=None),
    MSTModel(),
    # App. P: Adam with a cosine decay 5e-4 -> 1e-4, batch 250, 100 epochs
    StreamedTraining(
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
    # steps: smoke coherences mean nothing; tests/evaluation/test_classifiers.py checks learning)
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


def get_config(profile: str, **overrides) -> MSTConfig:
    """The configuration of ``profile`` with settings replaced by name (``overrides``)."""
    return profile_config(MNIST_SVHN_TEXT, profile, **overrides)
