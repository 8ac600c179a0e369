"""The relational experiment's configuration per profile (Sutter & Vogt, Section 5)."""

from __future__ import annotations

from dataclasses import dataclass

from mmvae_nb.experiments.configs import ExperimentConfig, StreamedTraining, profile_config


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
class RelationalEvaluation:
    classifier_epochs: int
    eval_size: int  # test tuples for coherence, FID and the subspace sizes
    selection_size: int  # test tuples of the test loss that selects the epoch (App. E.3)


@dataclass(frozen=True)
class RelationalGrid:
    rows: tuple[str, ...]  # ``experiments.relational.experiment.ROWS``
    variants: tuple[str, ...]  # "vanilla", "extended"


@dataclass(frozen=True)
class RelationalConfig(ExperimentConfig):
    data: PolyMNISTData
    model: RelationalModel
    training: StreamedTraining
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
    StreamedTraining(
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


def get_config(profile: str, **overrides) -> RelationalConfig:
    """The configuration of ``profile`` with settings replaced by name (``overrides``)."""
    return profile_config(RELATIONAL, profile, **overrides)
