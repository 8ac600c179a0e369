"""Checkpoints of a training in progress (orbax), so that a killed training resumes.

A training that has a results-cache entry to write (a ``cache_key``) saves its whole state —
parameters, optimiser state, the random keys still to be split, the losses so far, the epochs
done and the seconds spent — every ``every_seconds`` of wall time, under
``<cache>/checkpoints/<entry>``, next to the entry it will become. Run again with the same
configuration, it restores that state and continues: the chunks that follow are the same
programs on the same state and keys, so it ends with the parameters an uninterrupted run ends
with, bit for bit (``tests/training/test_checkpoints.py`` kills and resumes). The checkpoint is
removed once the finished run is in the cache. Saving is orbax's atomic write (a temporary folder,
renamed when complete); a checkpoint that cannot be restored into the training's structure is
reported and the training starts over. The trainers reach their checkpoint through
``lifecycle.Lifecycle``.

Checkpointing never changes what is computed, only what a kill loses, so its frequency is not
part of the cache key.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path

import jax
import orbax.checkpoint as ocp

# wall seconds between checkpoints: a killed paper-profile training loses at most this much
DEFAULT_EVERY_SECONDS = 300.0


def checkpoint_dir(entry: Path) -> Path:
    """Where the checkpoint of the training that will write cache ``entry`` lives."""
    return entry.parent.parent / "checkpoints" / entry.stem


class TrainingCheckpoint:
    """Save a training's state at most every ``every_seconds`` and restore it on a re-run."""

    def __init__(self, directory: Path, every_seconds: float = DEFAULT_EVERY_SECONDS):
        if every_seconds < 0:
            raise ValueError(f"every_seconds must be >= 0, got {every_seconds}")
        self.directory = Path(directory).absolute()
        self.every_seconds = every_seconds
        self._last = time.perf_counter()
        self._checkpointer = ocp.StandardCheckpointer()

    def restore(self, like: dict) -> dict | None:
        """The saved state in the structure of ``like`` (same tree, shapes and dtypes), or
        ``None`` when there is none or it does not fit (then a warning names it)."""
        if not self.directory.exists():
            return None
        target = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        try:
            return self._checkpointer.restore(self.directory, target)
        except Exception as error:  # noqa: BLE001 (orbax raises many kinds; all mean "start over")
            warnings.warn(
                f"checkpoint {self.directory} cannot be restored, training from the start: "
                f"{type(error).__name__}: {error}",
                stacklevel=2,
            )
            return None

    def due(self) -> bool:
        """Whether ``every_seconds`` have passed since the last save (or the start)."""
        return time.perf_counter() - self._last >= self.every_seconds

    def save(self, state: dict) -> None:
        """Save ``state`` (orbax's atomic write) and restart the clock of ``due``."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self._checkpointer.save(self.directory, state, force=True)
        self._checkpointer.wait_until_finished()
        self._last = time.perf_counter()

    def remove(self) -> None:
        """Delete the checkpoint (the finished run is cached)."""
        shutil.rmtree(self.directory, ignore_errors=True)
