"""The compiled programs of trainings, without training: XLA's cost and memory analyses of a
training's step at its real shapes (issue 37).

Inside ``capture_step_programs()``, both trainers (``trainer.train_replicas``,
``streaming.train_streaming``) hand their jitted optimisation step, with the arguments of its
first step, to ``offer_step`` before they train, which records it as a ``StepProgram`` and stops
the training by raising ``ProgramCaptured``. Any section's ``train(run)`` thus yields the exact
program its training would run, so that the paper profile's steps can be costed (FLOPs),
compiled (memory, compile time) and timed on whatever device is at hand, on a CPU for the
rehearsal and on a GPU for ``make gpu-slice``, without the data or the hours of a paper run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import jax
import numpy as np

_captured: list | None = None


class ProgramCaptured(Exception):
    """Raised by ``offer_step`` inside ``capture_step_programs``: the training stops there."""


@dataclass
class StepProgram:
    """One training's optimisation step: the jitted function, the arguments of its first step,
    how many replicas it trains at once and how many such steps the training takes."""

    description: str
    step: Callable
    args: tuple
    replicas: int
    total_steps: int
    _lowered: object = field(default=None, repr=False)
    _compiled: object = field(default=None, repr=False)
    compile_seconds: float = float("nan")

    @property
    def lowered(self):
        if self._lowered is None:
            self._lowered = jax.jit(self.step).lower(*self.args)
        return self._lowered

    def flops(self) -> float:
        """XLA's count of floating-point operations of one step (all replicas)."""
        analysis = self.lowered.cost_analysis()
        if isinstance(analysis, list):  # older JAX: one dict per device
            analysis = analysis[0]
        return float((analysis or {}).get("flops", np.nan))

    def compile(self):
        """The compiled step (timed once in ``compile_seconds``)."""
        if self._compiled is None:
            start = time.perf_counter()
            self._compiled = self.lowered.compile()
            self.compile_seconds = time.perf_counter() - start
        return self._compiled

    def memory_bytes(self) -> dict:
        """The compiled step's buffers, from XLA's memory analysis: arguments, outputs,
        temporaries and their peak sum (what the device must hold for one step)."""
        analysis = self.compile().memory_analysis()
        if analysis is None:
            return {}
        sizes = {
            "argument_bytes": analysis.argument_size_in_bytes,
            "output_bytes": analysis.output_size_in_bytes,
            "temp_bytes": analysis.temp_size_in_bytes,
            "alias_bytes": analysis.alias_size_in_bytes,
        }
        sizes["peak_bytes"] = (
            sizes["argument_bytes"]
            + sizes["output_bytes"]
            + sizes["temp_bytes"]
            - sizes["alias_bytes"]
        )
        return sizes

    def seconds_per_step(self, repeats: int = 3) -> float:
        """The compiled step's wall seconds, the median of ``repeats`` runs on the captured
        arguments after one warm-up run (results blocked on)."""
        compiled = self.compile()
        jax.block_until_ready(compiled(*self.args))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            jax.block_until_ready(compiled(*self.args))
            times.append(time.perf_counter() - start)
        return float(np.median(times))


@contextmanager
def capture_step_programs() -> Iterator[list[StepProgram]]:
    """Within the block, a training records its step program and raises ``ProgramCaptured``
    instead of training; the list yielded holds the programs recorded."""
    global _captured
    previous, _captured = _captured, []
    try:
        yield _captured
    finally:
        _captured = previous


def capturing() -> bool:
    return _captured is not None


def offer_step(
    description: str, step: Callable, args: tuple, *, replicas: int, total_steps: int
) -> None:
    """Called by the trainers before they train: inside ``capture_step_programs`` record the
    step and stop the training; otherwise do nothing."""
    if _captured is None:
        return
    _captured.append(StepProgram(description, step, args, replicas, total_steps))
    raise ProgramCaptured(description)


def capture_training(train: Callable[[], object]) -> StepProgram:
    """The step program of the training ``train()`` would run (e.g. ``lambda:
    section.train(run, force_retrain=True, progress=False)``)."""
    with capture_step_programs() as programs:
        try:
            train()
        except ProgramCaptured:
            return programs[-1]
    raise RuntimeError("the training finished without offering its step program")
