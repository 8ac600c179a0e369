"""The linear-Gaussian experiment's configuration per profile (Section 5.1, App. M)."""

from __future__ import annotations

from dataclasses import dataclass

from mmvae_nb.experiments.configs import (
    REHEARSE_SYNTHETIC,
    ExperimentConfig,
    Training,
    profile_config,
)


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
class LinearConfig(ExperimentConfig):
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
LINEAR = {
    "paper": LINEAR_PAPER,
    "rehearse": LINEAR_PAPER.replace(**REHEARSE_SYNTHETIC),
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


def get_config(profile: str, **overrides) -> LinearConfig:
    """The configuration of ``profile`` with settings replaced by name (``overrides``)."""
    return profile_config(LINEAR, profile, **overrides)
