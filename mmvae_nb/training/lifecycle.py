"""What every training does around its loop, whichever trainer runs it.

``trainer.train_together`` (and ``train_replicas`` through it), ``streaming.train_streaming``
and ``streaming_together.train_streaming_together`` differ only in how their batches arrive and
what their loop carries. Around the loop they all

1. look the run up (``look_up``): inside ``collection.collect_trainings`` hand the prepared
   training over instead, else load the finished run from the results cache (``cached_run``,
   warning of its diverged replicas as when it was trained);
2. turn on JAX's persistent compilation cache in the project's cache (``Lifecycle``);
3. resume from the checkpoint of the entry they will write, if one is there
   (``Lifecycle.resume``; a group of trainings has its own entry, ``group_entry``);
4. checkpoint their state while they run (``Lifecycle.due``, ``Lifecycle.save_progress``), the
   wall seconds spent so far included;
5. cache each finished run under its entry, warning of diverged replicas
   (``warn_divergence``), then remove the checkpoint (``Lifecycle.finish``).
"""

from __future__ import annotations

import hashlib
import time
import warnings
from pathlib import Path

import numpy as np

from mmvae_nb.training.cache import (
    TrainedModels,
    enable_compilation_cache,
    load_cached_run,
    save_run,
)
from mmvae_nb.training.checkpoints import TrainingCheckpoint, checkpoint_dir
from mmvae_nb.training.collection import offer_training


def look_up(training, *, force_retrain: bool) -> TrainedModels | None:
    """Hand the prepared ``training`` to ``collection.offer_training`` (inside
    ``collect_trainings`` this stops the call), then its finished run from the results cache
    (``training.cached()``): ``None`` when there is none, or with ``force_retrain``."""
    offer_training(training)
    return None if force_retrain else training.cached()


def cached_run(path: Path | None, graphdef, state, description: str) -> TrainedModels | None:
    """The finished run at ``path`` in the results cache (``None``: none), its diverged
    replicas warned about as when it was trained (``warn_divergence``)."""
    cached = load_cached_run(path, graphdef, state)
    if cached is not None:
        warn_divergence(cached, description)
    return cached


def group_entry(paths: list[Path | None]) -> Path | None:
    """The cache entry whose checkpoint a group of trainings uses: a training's own entry when
    it trains alone, else one named by the hash of every member's entry (``None`` if any member
    is uncached)."""
    if any(p is None for p in paths):
        return None
    if len(paths) == 1:
        return paths[0]
    name = hashlib.sha256("\n".join(p.name for p in paths).encode()).hexdigest()[:16]
    return paths[0].parent / f"group-{name}.npz"


def warn_divergence(trained: TrainedModels, description: str) -> None:
    """A warning per replica that diverged. Divergence is a result, not an error: the other
    replicas are kept, the run is cached like any other (a re-run diverges again), and the
    sections report the replica as diverged instead of evaluating it."""
    for replica in range(trained.num_replicas):
        epoch = trained.diverged_epoch(replica)
        if epoch is not None:
            warnings.warn(
                f"{description}: replica {replica} diverged (non-finite loss from epoch "
                f"{epoch}); recorded as diverged",
                stacklevel=3,
            )


class Lifecycle:
    """One training (or group) from its start to its cached result: built before anything
    compiles, it turns the compilation cache on in ``cache_dir``; it checkpoints under the cache
    ``entry`` every ``checkpoint_seconds`` (neither ``None``; else never), and ``restart``
    ignores a checkpoint that is there."""

    def __init__(
        self,
        entry: Path | None,
        cache_dir: Path | None,
        *,
        checkpoint_seconds: float | None,
        restart: bool = False,
    ):
        enable_compilation_cache(cache_dir)
        self.checkpoint = None
        if entry is not None and checkpoint_seconds is not None:
            self.checkpoint = TrainingCheckpoint(checkpoint_dir(entry), checkpoint_seconds)
        self.restart = restart
        self._spent, self._start = 0.0, time.perf_counter()

    def resume(self, initial: dict) -> dict:
        """The state to start from, with the ``"seconds"`` spent before: the checkpoint's,
        restored in the structure of ``initial``, or ``initial`` itself (none, or ``restart``).
        The training's clock (``seconds``) runs from here."""
        initial = {**initial, "seconds": np.asarray(0.0)}
        restored = None
        if self.checkpoint is not None and not self.restart:
            restored = self.checkpoint.restore(initial)
        state = initial if restored is None else restored
        self._spent, self._start = float(state["seconds"]), time.perf_counter()
        return state

    @property
    def seconds(self) -> float:
        """Wall seconds of the training so far, those before a resumption included."""
        return self._spent + time.perf_counter() - self._start

    def due(self) -> bool:
        """Whether a checkpoint is to be saved now (``save_progress``)."""
        return self.checkpoint is not None and self.checkpoint.due()

    def save_progress(self, state: dict) -> None:
        """Checkpoint ``state`` (the structure ``resume`` was given) with the seconds so far."""
        self.checkpoint.save({**state, "seconds": np.asarray(self.seconds)})

    def finish(self, trainings, results: list[TrainedModels]) -> list[TrainedModels]:
        """Warn of the diverged replicas of each result, cache it under its training's entry
        (``path``; ``None``: not cached), then remove the checkpoint; returns ``results``."""
        for training, trained in zip(trainings, results, strict=True):
            warn_divergence(trained, training.description)
            if training.path is not None:
                save_run(
                    training.path,
                    trained.state,
                    trained.loss_history,
                    trained.train_seconds,
                    selection=trained.selection,
                )
        if self.checkpoint is not None:
            self.checkpoint.remove()
        return results
