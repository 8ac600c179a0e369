"""Profiles (smoke | quick | paper) and per-section settings.

A profile changes sizes (data, epochs, widths, repetitions), never logic: every profile runs the
same code. ``paper`` follows the paper (App. M, Table 17) and, where it is silent, the official
code (batch 500, Adam 1e-3, element-wise clipping at 100, 4000 epochs).
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
