"""Profiles (smoke | quick | paper) and per-section settings.

A profile changes sizes (data, epochs, widths, repetitions), never logic: every profile runs the
same code. ``paper`` follows the paper (App. M, Table 17) and, where it is silent, the official
code (linear: batch 500, Adam 1e-3, element-wise clipping at 100, 4000 epochs; non-linear
identifiable models: batch 250, Adam 5e-4, element-wise clipping at 1000, 4000 epochs).
"""

from __future__ import annotations

PROFILES = ("smoke", "quick", "paper")

# Linear-Gaussian section (Section 5.1, App. M, Tables 1, 5, 6, Figures 3-5).
LINEAR = {
    "paper": dict(
        num_datasets=5,
        n_train=5000,
        n_test=5000,
        latent_dim=30,
        num_modalities=5,
        dim_low=30,
        dim_high=60,
        epochs=4000,
        batch_size=500,
        learning_rate=1e-3,
        hidden_experts=512,
        hidden_pooling=256,
        hidden_private=128,
        private_latent_dim=10,
        eval_samples=16,
        betas=(0.1, 1.0, 4.0),
    ),
    # quick: fewer and smaller data sets, narrower networks (width 128 instead of 512 / 256)
    # and a 3x larger learning rate, so that all 34 trainings fit in minutes on 2 CPU cores.
    "quick": dict(
        num_datasets=2,
        n_train=2000,
        n_test=500,
        latent_dim=30,
        num_modalities=5,
        dim_low=30,
        dim_high=60,
        epochs=40,
        batch_size=250,
        learning_rate=3e-3,
        hidden_experts=128,
        hidden_pooling=128,
        hidden_private=64,
        private_latent_dim=10,
        eval_samples=4,
        betas=(0.1, 1.0, 4.0),
    ),
    "smoke": dict(
        num_datasets=2,
        n_train=200,
        n_test=100,
        latent_dim=6,
        num_modalities=5,
        dim_low=6,
        dim_high=9,
        epochs=2,
        batch_size=50,
        learning_rate=1e-3,
        hidden_experts=16,
        hidden_pooling=16,
        hidden_private=16,
        private_latent_dim=2,
        eval_samples=2,
        betas=(0.1, 1.0, 4.0),
    ),
}


# Non-linear identifiable models (Section 5.2, App. N, Tables 2, 7, 8, 19, 20). Shared keys:
# repetitions (independent data sets + initialisations, vmapped), n_train/n_test, the
# generator's sizes, optimisation, network widths (encoder hidden width for PoE/MoE and for the
# learned aggregators, aggregator width P = embedding width), K of the GMM prior and of the
# mixture encoders, IS particles for the LLH, and the betas / missing rates trained together.
_IDENTIFIABLE_PAPER = dict(
    repetitions=4,
    n_train=5000,
    n_test=5000,
    epochs=4000,
    batch_size=250,
    learning_rate=5e-4,
    clip_value=1000.0,
    prior_components=5,
    mixture_components=5,
    eval_samples=16,
)
# reduced runs share these: 2 repetitions (smoke: also tiny data and networks)
_IDENTIFIABLE_QUICK = dict(_IDENTIFIABLE_PAPER, repetitions=2)
_IDENTIFIABLE_SMOKE = dict(
    _IDENTIFIABLE_QUICK,
    n_train=100,
    n_test=50,
    epochs=2,
    batch_size=50,
    hidden_experts=8,
    hidden_pooling=8,
    llh_particles=4,
    eval_samples=2,
)
# the label model (Section 5.2): K = 5 labels, D = D_1 = 2, sigma = 0.1; MCC at two betas
_LABEL_MODEL = dict(num_labels=5, latent_dim=2, noise_std=0.1, betas=(1.0, 0.1))
AUX_LABEL = {
    "paper": dict(
        _IDENTIFIABLE_PAPER,
        **_LABEL_MODEL,
        hidden_experts=128,
        hidden_pooling=128,
        llh_particles=64,
    ),
    # quick: 2/5 of the data, 1.25% of the paper's updates (1000 instead of 80,000) at a 4x
    # larger learning rate, half-width networks, 2 repetitions: fits ~6 minutes on 2 CPU cores
    "quick": dict(
        _IDENTIFIABLE_QUICK,
        **_LABEL_MODEL,
        n_train=2000,
        n_test=1000,
        epochs=125,
        learning_rate=2e-3,
        hidden_experts=64,
        hidden_pooling=64,
        llh_particles=64,
        eval_samples=4,
    ),
    "smoke": dict(_IDENTIFIABLE_SMOKE, **_LABEL_MODEL),
}
# five modalities (Section 5.2): M = K = 5, D = 10, D_s = 25, sigma = 0.5; eta = 0 and 0.5
_FIVE_MODEL = dict(
    num_modalities=5,
    latent_dim=10,
    modality_dim=25,
    num_labels=5,
    noise_std=0.5,
    etas=(0.0, 0.5),
)
FIVE_MODALITIES = {
    # Table 20: encoders 512 wide for PoE/MoE, 256 for the learned aggregators; D = 10 (the
    # main text and the official code; Table 20's "D = 25" is the modality dimension)
    "paper": dict(
        _IDENTIFIABLE_PAPER,
        **_FIVE_MODEL,
        hidden_experts=512,
        hidden_pooling=256,
        llh_particles=512,
    ),
    # quick: 300 updates (the paper: 80,000) at a 6x larger learning rate, networks 1/8 as
    # wide, 2 repetitions, 500 test points, 32 particles: fits ~6 minutes on 2 CPU cores
    "quick": dict(
        _IDENTIFIABLE_QUICK,
        **_FIVE_MODEL,
        n_train=1500,
        n_test=500,
        epochs=50,
        learning_rate=3e-3,
        hidden_experts=64,
        hidden_pooling=32,
        llh_particles=32,
        eval_samples=2,
    ),
    # smoke: three small modalities (compilation time grows with M: one encoder and decoder
    # per modality)
    "smoke": dict(
        _IDENTIFIABLE_SMOKE,
        **dict(_FIVE_MODEL, num_modalities=3, latent_dim=3, modality_dim=5),
    ),
}

# MNIST-SVHN-Text (Section 5.3, App. O-Q): data and evaluation classifiers. ``svhn`` is "real"
# (downloaded, checksummed) or "standin" (synthetic street numbers, offline); ``svhn_size`` /
# ``svhn_test_size`` keep the first SVHN images of each split (None: all); ``dups`` is MoPoE's
# number of random matchings per label (20: ~1.12 M training and 200 k test triples).
# Models (App. P): Adam with a cosine decay 5e-4 -> 1e-4, batch 250, 100 epochs; evaluation on
# ``eval_size`` test triples (IS with ``llh_particles``), latent classifiers fitted on
# ``latent_train_size`` training triples. ``rows`` / ``private_rows`` are the aggregations
# trained by default (any subset of ``experiments.mnist_svhn_text.SHARED_ROWS`` /
# ``PRIVATE_ROWS``), ``beta_rows`` those also trained with beta in ``betas`` (Tables 9, 13, 14).
_MST_MODELS_PAPER = dict(
    train_size=None,  # None: every training triple; a number: a random subset of that size
    epochs=100,
    batch_size=250,
    learning_rate=5e-4,
    final_learning_rate=1e-4,
    clip_value=1e6,
    repetitions=1,
    rows=("PoE", "PoE+", "MoE", "MoE+", "SumPooling", "SelfAttention"),
    private_rows=("PoE+", "SumPooling", "SelfAttention"),
    beta_rows=("PoE+", "SumPooling"),
    betas=(0.1, 4.0),
    eval_size=10_000,
    latent_train_size=10_000,
    llh_particles=512,
    particles_per_chunk=16,
)
MNIST_SVHN_TEXT = {
    "paper": dict(
        svhn="real",
        svhn_size=None,
        svhn_test_size=None,
        dups=20,
        classifier_epochs=5,
        **_MST_MODELS_PAPER,
    ),
    # quick: the offline stand-in (30,000 / 5,000 rendered images, ~30 s once, then cached);
    # classifiers see the 30,000 images of each modality the triples use (3 epochs gave 97.9 %
    # on MNIST, 90.9 % on the stand-in; 5 epochs for >= 98 %)
    "quick": dict(
        svhn="standin",
        svhn_size=30_000,
        svhn_test_size=5_000,
        dups=1,
        classifier_epochs=5,
        **dict(
            _MST_MODELS_PAPER,
            epochs=2,
            learning_rate=1e-3,
            final_learning_rate=2e-4,
            rows=("PoE", "SumPooling", "SelfAttention"),
            private_rows=(),
            beta_rows=(),
            eval_size=1000,
            latent_train_size=2000,
            llh_particles=16,
        ),
    ),
    # smoke: 6,000 / 500 stand-in images; the SVHN classifier (dropout after every
    # convolution) needs ~300 steps to leave chance level, hence 8 short epochs
    "smoke": dict(
        svhn="standin",
        svhn_size=6_000,
        svhn_test_size=500,
        dups=1,
        classifier_epochs=8,
        **dict(
            _MST_MODELS_PAPER,
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
    ),
}


def profile_settings(section: dict, profile: str, **overrides) -> dict:
    """The settings of ``profile`` for a section, with keyword overrides (unknown keys raise)."""
    if profile not in section:
        raise ValueError(f"unknown profile {profile!r}; choose one of {list(PROFILES)}")
    settings = dict(section[profile])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(settings)}")
    settings.update(overrides)
    return settings
