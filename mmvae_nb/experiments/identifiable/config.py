"""The identifiable-model experiments' configurations per profile: the auxiliary label
(Table 7) and five modalities (Tables 2, 8) of Section 5.2, App. N."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from mmvae_nb.data.identifiable import (
    IdentifiableData,
    check_cluster_scale,
    sample_auxiliary_label,
    sample_five_modalities,
)
from mmvae_nb.experiments.configs import (
    REHEARSE_SYNTHETIC,
    ExperimentConfig,
    Training,
    profile_config,
)


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
class AuxLabelConfig(ExperimentConfig):
    data: LabelData
    model: IdentifiableModel
    training: IdentifiableTraining
    evaluation: IdentifiableEvaluation
    grid: RowGrid = RowGrid()


@dataclass(frozen=True)
class FiveModalitiesConfig(ExperimentConfig):
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
    "rehearse": AUX_LABEL_PAPER.replace(**REHEARSE_SYNTHETIC, llh_particles=8),
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
    "rehearse": FIVE_MODALITIES_PAPER.replace(**REHEARSE_SYNTHETIC, llh_particles=8),
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


CONFIGS = {"aux_label": AUX_LABEL, "five_modalities": FIVE_MODALITIES}


def get_config(name: str, profile: str, **overrides) -> AuxLabelConfig | FiveModalitiesConfig:
    """The configuration of experiment ``name`` (``aux_label`` or ``five_modalities``) at
    ``profile``, with settings replaced by name (``overrides``)."""
    if name not in CONFIGS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {list(CONFIGS)}")
    return profile_config(CONFIGS[name], profile, **overrides)
