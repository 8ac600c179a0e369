"""One epoch of ``streaming.train_streaming``: host batches stepped one at a time, or data on the
device gathered inside the compiled program.

* ``HostEpochs``: the data set assembles each minibatch on the host (``data.batches(batch_size,
  rng)``) and one jitted optimisation step runs per full batch (the last, smaller one is
  dropped: a new shape would recompile).
* ``DeviceEpochs``: the data set's arrays (``data.device_arrays()``) are put on the device once;
  each epoch, the host draws what ``batches`` would draw (``data.epoch_draws(batch_size, rng)``:
  the permutation, and for MNIST-SVHN-Text the text offsets), so ``rng``, which checkpoints
  hold, evolves as on the host path, and the compiled program gathers every batch on the device
  (``data.device_batch``, bit for bit the host's batch) and steps: on an accelerator the whole
  epoch is one jitted ``lax.scan`` (as ``trainer._train_epochs`` scans the linear and
  identifiable models' data), on a CPU each step is its own call (``steps_per_call``). No batch
  is assembled or copied by the host.

Both take step t's key as ``fold_in(key_run, t)`` and its KL weight as the host's float32
``beta_at(t)``, so the two paths train the same model to float rounding (the same batches, keys
and weights; XLA may fuse the step otherwise inside the scan). The compiled programs are
module-level jitted functions whose static arguments are what they depend on (``Program``: the
model's graphdef, the training configuration without beta, seed and KL warm-up, with its
optimisation settings, and the steps its learning-rate schedule spans), compiled once per
configuration and reused by every training of it, another seed or beta included.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mmvae_nb.training.step import configured_step


class Program(NamedTuple):
    """What a compiled step of ``train_streaming`` depends on (a static, hashable argument):
    ``config`` is a ``TrainConfig.static_part`` (beta is traced, the KL warm-up is in the
    host's weights) and ``total_steps`` the steps its learning-rate schedule spans."""

    graphdef: Any
    config: Any
    total_steps: int

    @classmethod
    def of(cls, graphdef, config, total_steps: int) -> Program:
        return cls(graphdef, config.static_part(kl_warmup_steps=0), total_steps)

    def optimizer(self):
        """``config.optim``'s optimiser over ``total_steps`` (the cosine schedule: App. P)."""
        optim = self.config.optim
        return optim.optimizer(self.config.batch_size, optim.learning_rates(self.total_steps))

    def step(self) -> Callable:
        """``step.configured_step`` with ``optimizer()``."""
        return configured_step(self.graphdef, self.config, self.optimizer())


@functools.partial(jax.jit, static_argnames=("program",))
def _host_step(params, opt_state, consts, xs, present, key, beta, *, program):
    return program.step()(params, opt_state, consts, xs, present, key, beta)


@functools.partial(jax.jit, static_argnames=("program", "gather", "scan"))
def _device_steps(
    params,
    opt_state,
    consts,
    arrays,
    draws,
    present,
    key_run,
    first_step,
    betas,
    *,
    program,
    gather,
    scan,
):
    """The steps ``first_step``, ... over ``draws`` (leading axis: steps), each batch
    ``gather(arrays, draw)``, as one ``lax.scan`` or (``scan=False``) one after the other in
    straight-line code: (params, opt_state, the steps' losses)."""
    step = program.step()

    def one(carry, inputs):
        draw, count, beta = inputs
        key = jax.random.fold_in(key_run, count)
        params, opt_state, loss = step(*carry, consts, gather(arrays, draw), present, key, beta)
        return (params, opt_state), loss

    counts = first_step + jnp.arange(betas.shape[0], dtype=jnp.uint32)
    if scan:
        (params, opt_state), losses = jax.lax.scan(one, (params, opt_state), (draws, counts, betas))
        return params, opt_state, losses
    losses = []
    for t in range(betas.shape[0]):
        inputs = jax.tree.map(lambda a, t=t: a[t], (draws, counts, betas))
        (params, opt_state), loss = one((params, opt_state), inputs)
        losses.append(loss)
    return params, opt_state, jnp.stack(losses)


def steps_per_call(platform: str, steps: int) -> int:
    """How many of an epoch's ``steps`` one call of ``_device_steps`` runs: all of them, scanned,
    on an accelerator; one on a CPU, where XLA computes the weight gradients' convolutions
    inside a loop naively (uncanonicalised, not by its convolution library): in a ``lax.scan``,
    even of one step, the MST step takes 3x the CPU time, one strided convolution's gradient
    60x (``benchmarks/bench_streaming.py``)."""
    return 1 if platform == "cpu" else steps


@dataclasses.dataclass
class Epochs:
    """The epochs of one training: ``epoch(params, opt_state, taken, rng, bar)`` -> (params,
    opt_state, float32 losses of its steps), ``taken`` being the steps before it; ``bar`` (tqdm)
    counts the steps."""

    data: Any
    batch_size: int
    program: Program
    consts: Any
    key_run: jax.Array
    beta_at: Callable[[int], float]


@dataclasses.dataclass
class HostEpochs(Epochs):
    """Epochs over ``data.batches``, one jitted step per full batch."""

    def epoch(self, params, opt_state, taken: int, rng, bar):
        losses = []
        for xs, _ in self.data.batches(self.batch_size, rng):
            if len(xs[0]) < self.batch_size:
                continue
            present = np.ones((len(xs[0]), len(xs)), bool)
            key = jax.random.fold_in(self.key_run, taken + len(losses))
            beta = np.float32(self.beta_at(taken + len(losses)))
            params, opt_state, loss = _host_step(
                params, opt_state, self.consts, xs, present, key, beta, program=self.program
            )
            losses.append(loss)
            bar.update()
        return params, opt_state, np.asarray(jax.device_get(losses))


@dataclasses.dataclass
class DeviceEpochs(Epochs):
    """Epochs over ``data.device_arrays()``, put on the device when built: one jitted scan per
    epoch on an accelerator, one call per step on a CPU (``steps_per_call``)."""

    def __post_init__(self):
        self.arrays = jax.device_put(self.data.device_arrays())

    def epoch(self, params, opt_state, taken: int, rng, bar):
        epoch = DeviceEpoch.draw(self.data, self.arrays, self.batch_size, rng)
        betas = np.asarray([self.beta_at(t) for t in epoch.counts(taken)], np.float32)
        losses = []
        for start, calls, draws in epoch.calls():
            params, opt_state, loss = _device_steps(
                params,
                opt_state,
                self.consts,
                self.arrays,
                draws,
                epoch.present,
                self.key_run,
                np.uint32(taken + start),
                betas[calls],
                program=self.program,
                gather=epoch.gather,
                scan=epoch.scan,
            )
            losses.append(loss)
            bar.update(epoch.per_call)
        return params, opt_state, np.concatenate(jax.device_get(losses))


@dataclasses.dataclass(frozen=True)
class DeviceEpoch:
    """One epoch of device-gathered batches: the host's draws (``data.epoch_draws``), the
    gather, the all-present mask of its batches and how its steps split into calls
    (``steps_per_call``)."""

    draws: dict
    steps: int
    gather: Callable
    present: np.ndarray
    per_call: int

    @classmethod
    def draw(cls, data, arrays, batch_size: int, rng) -> DeviceEpoch:
        draws = data.epoch_draws(batch_size, rng)
        gather = type(data).device_batch
        steps = len(jax.tree.leaves(draws)[0])
        modalities = len(jax.eval_shape(gather, arrays, jax.tree.map(lambda a: a[0], draws)))
        present = np.ones((batch_size, modalities), bool)
        per_call = steps_per_call(jax.devices()[0].platform, steps)
        return cls(draws, steps, gather, present, per_call)

    @property
    def scan(self) -> bool:
        return self.per_call > 1

    def counts(self, taken: int) -> range:
        """The global step counts of this epoch's steps after ``taken`` steps."""
        return range(taken, taken + self.steps)

    def calls(self):
        """(first step in the epoch, its slice of the steps, its draws) of each call."""
        for start in range(0, self.steps, self.per_call):
            calls = slice(start, start + self.per_call)
            yield start, calls, {name: draw[calls] for name, draw in self.draws.items()}
