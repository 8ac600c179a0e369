"""Trainings collected instead of run, so that same-shape ones can train as one program.

Inside ``collect_trainings()``, a trainer prepares its training (initial state, keys, data,
cache entry) and hands it to ``offer_training``, which records it and stops the call by raising
``TrainingCollected``, as ``programs.capture_step_programs`` does for step programs. Any
section's ``train(run)`` thus yields the exact training it would run; the launcher collects
those of a program's jobs and trains them together (``trainer.train_together``), each cached
under the entry its own ``train(run)`` looks up afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_collected: list | None = None


class TrainingCollected(Exception):
    """Raised by ``offer_training`` inside ``collect_trainings``: the training stops there."""


@contextmanager
def collect_trainings() -> Iterator[list]:
    """Within the block a trainer records its prepared training and raises
    ``TrainingCollected`` instead of training; the list yielded holds what was recorded."""
    global _collected
    previous, _collected = _collected, []
    try:
        yield _collected
    finally:
        _collected = previous


def offer_training(training) -> None:
    """Called by the trainers once their training is prepared: inside ``collect_trainings``
    record it and stop; otherwise do nothing."""
    if _collected is None:
        return
    _collected.append(training)
    raise TrainingCollected(getattr(training, "description", ""))


def collected_training(train: Callable[[], object]):
    """The prepared training ``train()`` would run (e.g. ``lambda: section.train(run,
    progress=False)``)."""
    with collect_trainings() as trainings:
        try:
            train()
        except TrainingCollected:
            return trainings[-1]
    raise RuntimeError("the call finished without offering its training")
