"""The streaming trainer's epochs on this machine: batches from the host or data on the device.

Used by ``bench_mst.py --streaming`` and ``bench_relational.py --streaming``. For one model,
data set and training configuration, three ways to run an epoch, each from the same parameters
and random state:

* ``before``: the loop ``train_streaming`` ran before the data could live on the device (a
  ``jax.jit`` of the step built per training, host batches, the key and beta made per step);
* ``host``: ``streamed_epochs.HostEpochs`` (the same per-step work, one module-level program);
* ``device``: ``streamed_epochs.DeviceEpochs`` (the arrays on the device, the batches gathered
  in the compiled program; on a CPU one call per step);
* ``scanned``: the same with the whole epoch one ``lax.scan`` (what ``DeviceEpochs`` runs on an
  accelerator), to show why a CPU does not scan.

``loop_convolution_ms`` isolates the cause: one strided convolution's gradient step, alone
and inside a ``lax.scan``.

Each path is run once untimed (compilation), then ``repeats`` times in turn (the paths interleaved,
so that load from other processes falls on all of them); the process CPU time
(``time.process_time``: every thread of this process, XLA's included) and the wall time of
each epoch are divided by its steps, and the medians are printed with the ratios to
``before``. Nothing is asserted.
"""

from __future__ import annotations

import time
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mmvae_nb.training import streamed_epochs
from mmvae_nb.training.step import configured_step
from mmvae_nb.training.streamed_epochs import DeviceEpochs, HostEpochs, Program
from mmvae_nb.training.streaming import kl_annealing

PATHS = ("before", "host", "device", "scanned")


class _Before:
    """The epoch loop of ``train_streaming`` before data on the device, as it was."""

    def __init__(self, step, data, batch_size, consts, key_run, beta_at):
        self.step, self.data, self.batch_size = jax.jit(step), data, batch_size
        self.consts, self.key_run, self.beta_at = consts, key_run, beta_at

    def epoch(self, params, opt_state, taken, rng, bar):
        losses = []
        for xs, _ in self.data.batches(self.batch_size, rng):
            if len(xs[0]) < self.batch_size:
                continue
            present = jnp.ones((len(xs[0]), len(xs)), bool)
            key = jax.random.fold_in(self.key_run, taken)
            beta = jnp.float32(self.beta_at(taken))
            params, opt_state, loss = self.step(
                params, opt_state, self.consts, xs, present, key, beta
            )
            losses.append(loss)
            taken += 1
        return params, opt_state, np.asarray(jax.device_get(losses))


class _Scanned(DeviceEpochs):
    """``DeviceEpochs`` scanning whole epochs, as on an accelerator."""

    def epoch(self, *args):
        with mock.patch.object(streamed_epochs, "steps_per_call", lambda platform, steps: steps):
            return super().epoch(*args)


class _NoBar:
    def update(self, steps=1):
        pass


def epoch_seconds(
    make_model,
    data,
    config,
    *,
    total_steps,
    repeats=3,
) -> dict[str, dict[str, float]]:
    """Per path: CPU and wall seconds per step (medians over ``repeats`` epochs of ``data``)
    and the CPU seconds of the first epoch (compilation included); the learning-rate schedule
    spans ``total_steps`` (the profile's training, not these epochs)."""
    key_init, key_run = jax.random.split(jax.random.key(config.seed))
    graphdef, params, consts = nnx.split(make_model(key_init), nnx.Param, ...)
    program = Program.of(graphdef, config, total_steps)
    optimizer = program.optimizer()
    opt_state = optimizer.init(params)

    def beta_at(t):
        return config.beta * kl_annealing(t, config.optim.kl_warmup_steps)

    shared = (data, config.batch_size, program, consts, key_run, beta_at)
    step = configured_step(graphdef, config, optimizer)
    paths = {
        "before": _Before(step, data, config.batch_size, consts, key_run, beta_at),
        "host": HostEpochs(*shared),
        "device": DeviceEpochs(*shared),
        "scanned": _Scanned(*shared),
    }

    def run(path):
        cpu, wall = time.process_time(), time.perf_counter()
        out = paths[path].epoch(params, opt_state, 0, np.random.default_rng(config.seed), _NoBar())
        jax.block_until_ready(out)
        return time.process_time() - cpu, time.perf_counter() - wall, len(out[2])

    first = {path: run(path)[0] for path in PATHS}
    times = {path: [] for path in PATHS}
    for _ in range(repeats):
        for path in PATHS:
            cpu, wall, steps = run(path)
            times[path].append((cpu / steps, wall / steps))
    return {
        path: {
            "cpu_per_step": float(np.median([t[0] for t in times[path]])),
            "wall_per_step": float(np.median([t[1] for t in times[path]])),
            "first_epoch_cpu": first[path],
        }
        for path in PATHS
    }


def report(title: str, seconds: dict[str, dict[str, float]], steps: int) -> None:
    """The table of ``epoch_seconds``: ms per step and the ratios to ``before``."""
    print(f"{title}: {steps} steps per epoch")
    print(
        f"{'path':>8} {'CPU ms/step':>12} {'/ before':>9} {'wall ms/step':>13} {'/ before':>9}"
        f" {'1st epoch CPU s':>16}"
    )
    base = seconds["before"]
    for path, row in seconds.items():
        cpu, wall = row["cpu_per_step"], row["wall_per_step"]
        print(
            f"{path:>8} {1e3 * cpu:12.2f} {cpu / base['cpu_per_step']:9.3f} {1e3 * wall:13.2f}"
            f" {wall / base['wall_per_step']:9.3f} {row['first_epoch_cpu']:16.2f}"
        )


def loop_convolution_ms(steps: int = 8, repeats: int = 5) -> tuple[float, float]:
    """CPU ms per gradient step of one strided convolution (4 x 4, stride 2, 32 -> 64 channels,
    batch 32 of 16 x 16: the MST SVHN encoder's second layer) called alone and inside a
    ``lax.scan`` of ``steps`` steps."""
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.random((steps, 32, 16, 16, 32)), jnp.float32)
    w = jnp.asarray(rng.random((4, 4, 32, 64)) * 0.01, jnp.float32)

    def step(w, x):
        def loss(w):
            y = jax.lax.conv_general_dilated(
                x, w, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            return jnp.sum(y**2)

        value, grad = jax.value_and_grad(loss)(w)
        return w - 1e-3 * grad, value

    alone = jax.jit(step)
    scanned = jax.jit(lambda w, xs: jax.lax.scan(step, w, xs))

    def run_alone():
        weights = w
        for x in xs:
            weights, value = alone(weights, x)
        return value

    def cpu_ms(run):
        jax.block_until_ready(run())
        start = time.process_time()
        for _ in range(repeats):
            jax.block_until_ready(run())
        return 1e3 * (time.process_time() - start) / (repeats * steps)

    return cpu_ms(run_alone), cpu_ms(lambda: scanned(w, xs))
