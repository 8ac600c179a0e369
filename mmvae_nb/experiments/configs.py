"""Typed, frozen configurations per experiment and profile (smoke | quick | rehearse | paper): the
shared base; each experiment's own are in its package's ``config``.

An experiment's configuration has five groups, each a frozen dataclass:

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
are built from ``paper`` with ``dataclasses.replace`` (``ExperimentConfig.replace``), so every
difference from the paper is written where the profile is defined.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from mmvae_nb.objectives.subsets import get_subset_sampler
from mmvae_nb.training.optim import OptimConfig
from mmvae_nb.training.trainer import TrainConfig

PROFILES = ("smoke", "quick", "rehearse", "paper")
GROUPS = ("data", "model", "training", "evaluation", "grid")


@dataclass(frozen=True)
class ExperimentConfig:
    """Base class of an experiment's configuration: the five groups of the module docstring."""

    def replace(self, **overrides) -> ExperimentConfig:
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


def profile_config(profiles: dict, profile: str, **overrides) -> ExperimentConfig:
    """The configuration of ``profile`` in ``profiles`` with keyword overrides."""
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; choose one of {list(PROFILES)}")
    return profiles[profile].replace(**overrides)


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

    def optim_config(self) -> OptimConfig:
        """The optimiser's settings (``training.optim``): a constant learning rate (App. M)."""
        return OptimConfig(
            learning_rate=self.learning_rate,
            clip_value=self.clip_value,
            clip_on=self.clip_on,
            zero_nan_gradients=self.zero_nan_gradients,
        )

    def train_config(self, *, bound: str, beta, seed: int) -> TrainConfig:
        """The trainer's settings for one run of ``bound`` at ``beta`` (one float, or one per
        replica) with ``seed``: these settings, the same for every experiment."""
        return TrainConfig(
            bound=bound,
            beta=beta,
            epochs=self.epochs,
            batch_size=self.batch_size,
            subset_sampler=self.subset_sampler,
            seed=seed,
            optim=self.optim_config(),
        )


@dataclass(frozen=True)
class StreamedTraining(Training):
    """The streamed experiments' optimisation (MNIST-SVHN-Text, relational; MoPoE's training,
    App. P): a cosine decay to ``final_learning_rate`` after a linear warm-up of
    ``warmup_steps`` (``step.cosine_schedule``; App. P has none), KL annealing over the first
    ``kl_warmup_steps`` (in neither paper; ``train_streaming``: without it the quick relational
    trainings collapse to the prior, ``scripts/diagnose_collapse.py``), and ``repetitions``
    separate trainings, a seed each, per configuration."""

    final_learning_rate: float = 1e-4  # App. P: 5e-4 -> 1e-4
    warmup_steps: int = 0
    kl_warmup_steps: int = 0
    repetitions: int = 1

    def optim_config(self) -> OptimConfig:
        return dataclasses.replace(
            super().optim_config(),
            schedule="cosine",
            final_learning_rate=self.final_learning_rate,
            warmup_steps=self.warmup_steps,
            kl_warmup_steps=self.kl_warmup_steps,
        )


# rehearse (every profile's rehearsal: the paper's grid, widths and data sets, counts cut)
REHEARSE_SYNTHETIC = dict(n_train=500, n_test=200, epochs=2, batch_size=250, eval_samples=2)
