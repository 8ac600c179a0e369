"""The optimisation settings of both trainers: ``OptimConfig``.

Two settings of the paper's experiments, each a choice of these fields:

* App. M, the official code (marcelah/MaskedMultimodalVAE): Adam at a constant learning rate on
  the gradient of the loss summed over the batch, clipped element-wise (``optax.clip(100.0)``),
  NaN gradients zeroed (``optax.zero_nans()``): ``schedule="constant"``,
  ``clip_on="batch_sum"``, ``zero_nan_gradients=True`` (the defaults). ``trainer.train_replicas``
  trains at a constant rate only (it traces the rate, so that changing it does not recompile).
* App. P, MoPoE's training of MNIST-SVHN-Text (the streaming trainer's sections): a cosine
  decay from ``learning_rate`` to ``final_learning_rate`` over the steps taken (5e-4 -> 1e-4
  there), optionally after ``warmup_steps`` of linear warm-up (not in the paper), on the
  batch-mean loss without clipping: ``schedule="cosine"``, ``clip_on="batch_mean"`` with a
  ``clip_value`` that never binds, ``zero_nan_gradients=False``.

``kl_warmup_steps`` anneals the KL weight over the first steps (``streaming.kl_annealing``;
in neither paper); ``train_replicas`` has none. The optimiser itself is
``step.make_optimizer``: the chain, its order and the schedules' formulas are there and in
``step.cosine_schedule``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import optax

from mmvae_nb.training.step import check_clip_on, cosine_schedule, make_optimizer


@dataclass(frozen=True)
class OptimConfig:
    """Learning rate and its schedule, KL warm-up and gradient clipping (defaults: App. M)."""

    learning_rate: float = 1e-3
    schedule: str = "constant"  # a name of ``SCHEDULES``
    # the cosine schedule's last rate (None: ``learning_rate``, no decay) and linear warm-up
    final_learning_rate: float | None = None
    warmup_steps: int = 0
    kl_warmup_steps: int = 0  # KL annealing over the first steps (0: none)
    # element-wise gradient clipping (optax.clip), as in the official code, of the gradient of
    # the loss summed over the batch ("batch_sum", the official code) or of its mean
    clip_value: float = 100.0
    clip_on: str = "batch_sum"
    zero_nan_gradients: bool = True  # the official optax.zero_nans()

    def __post_init__(self):
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of {list(SCHEDULES)}")
        final = self.final_learning_rate
        if final is not None and not final > 0:
            raise ValueError(f"final_learning_rate must be positive, got {final}")
        for name in ("warmup_steps", "kl_warmup_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must be >= 0")
        if self.schedule != "cosine" and (final is not None or self.warmup_steps):
            raise ValueError(
                "final_learning_rate and warmup_steps belong to the cosine schedule, "
                f"not to schedule={self.schedule!r}"
            )
        if not self.clip_value > 0:
            raise ValueError(f"clip_value must be positive, got {self.clip_value}")
        check_clip_on(self.clip_on)

    def learning_rates(self, total_steps: int) -> float | optax.Schedule:
        """The learning rate of a training of ``total_steps`` steps: a float (``constant``) or
        an optax schedule of the step (``SCHEDULES``)."""
        return SCHEDULES[self.schedule](self, total_steps)

    def optimizer(self, batch_size: int, learning_rate) -> optax.GradientTransformation:
        """``step.make_optimizer`` with these clipping settings at ``learning_rate`` (a float, a
        traced scalar or ``learning_rates``'s schedule) for batches of ``batch_size``."""
        return make_optimizer(
            self.clip_value,
            learning_rate,
            clip_on=self.clip_on,
            batch_size=batch_size,
            zero_nan_gradients=self.zero_nan_gradients,
        )


def _constant(optim: OptimConfig, total_steps: int) -> float:
    return optim.learning_rate


def _cosine(optim: OptimConfig, total_steps: int) -> optax.Schedule:
    final = optim.learning_rate if optim.final_learning_rate is None else optim.final_learning_rate
    return cosine_schedule(optim.learning_rate, final, total_steps, optim.warmup_steps)


# the learning-rate schedules by name: (settings, total steps) -> rate or optax schedule
SCHEDULES: dict[str, Callable[[OptimConfig, int], float | optax.Schedule]] = {
    "constant": _constant,  # App. M
    "cosine": _cosine,  # App. P (step.cosine_schedule)
}
