"""A training's settings, read by both trainers (``trainer``, ``streaming``): ``TrainConfig``,
with the optimisation's in ``optim.OptimConfig``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from mmvae_nb.objectives.bounds import get_bound
from mmvae_nb.objectives.subsets import get_subset_sampler
from mmvae_nb.training.optim import OptimConfig


@dataclass(frozen=True)
class TrainConfig:
    """A training's settings, both trainers' (defaults: the official code's linear-Gaussian
    run, App. M): the objective, the epochs and batches, the seed, and the optimisation
    (``optim``: learning rate and schedule, KL warm-up, clipping)."""

    bound: str = "ours"
    # S ~ rho (objectives.subsets): the paper's Remark 1 or the official code's Bernoulli(1/2)
    subset_sampler: str = "hierarchical"
    # one beta for every replica, or a tuple with one per replica (trained as one program)
    beta: float | tuple[float, ...] = 1.0
    epochs: int = 4000
    batch_size: int = 500
    seed: int = 0
    epochs_per_call: int = 50
    optim: OptimConfig = OptimConfig()

    def __post_init__(self):
        get_bound(self.bound)  # raises on an unknown bound
        get_subset_sampler(self.subset_sampler)  # and on an unknown subset sampler
        if self.epochs <= 0 or self.batch_size <= 0 or self.epochs_per_call <= 0:
            raise ValueError(f"epochs, batch_size, epochs_per_call must be positive: {self}")
        if not np.all(np.asarray(self.beta) > 0):
            raise ValueError(f"beta must be positive: {self}")

    def static_part(self, **optim) -> TrainConfig:
        """What a compiled program reads of this configuration: beta, the seed and the epochs
        replaced by placeholders (beta is traced, the others are the loop's), and ``optim``'s
        fields replaced (e.g. a traced learning rate by a placeholder)."""
        optim = dataclasses.replace(self.optim, **optim)
        return dataclasses.replace(self, beta=1.0, seed=0, epochs=1, epochs_per_call=1, optim=optim)
