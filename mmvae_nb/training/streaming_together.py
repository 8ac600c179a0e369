"""Same-shape streaming trainings as one program: the beta rows of an MNIST-SVHN-Text
configuration (issue 41).

Trainings that differ only in beta, started from the same seed on the same data set, draw the
same minibatches, text and keys: ``train_streaming`` would run each alone on identical
batches. ``train_streaming_together`` runs them as one program instead, the members' parameters
and optimiser states stacked on a leading axis and ``streamed_epochs._device_steps`` vmapped
over it with the batch shared, each member's KL weight its own. Every member sees what it sees
alone (the same draws, keys and weights), so its result equals its own training's to float
rounding; each is cached under its own entry, where its ``train_streaming`` call finds it.
A member whose loss becomes non-finite keeps its state of that epoch and NaN losses after it,
as alone. The group checkpoints under its own entry (``lifecycle.group_entry``) and resumes.
Data on the device only (``placement``); model selection (``select_on``) is not supported.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
from flax import nnx

from mmvae_nb.training.cache import TrainedModels
from mmvae_nb.training.checkpoints import DEFAULT_EVERY_SECONDS
from mmvae_nb.training.lifecycle import Lifecycle, group_entry
from mmvae_nb.training.placement import has_device_batches
from mmvae_nb.training.streamed_epochs import DeviceEpoch, _device_steps
from mmvae_nb.training.streaming import StreamingTraining, rng_state, set_rng_state


def _stacked(trees):
    return jax.tree.map(lambda *leaves: np.stack(leaves), *trees)


# ``_device_steps``' arguments that carry a member axis: parameters, optimiser state, constants
# and the KL weights; the arrays, draws, mask, key and step count are shared
MEMBER_AXES = (0, 0, 0, None, None, None, None, None, 0)


@functools.partial(jax.jit, static_argnames=("program", "gather", "scan"))
def _member_steps(*args, program, gather, scan):
    """``streamed_epochs._device_steps`` of every member on the shared batches."""
    steps = functools.partial(_device_steps, program=program, gather=gather, scan=scan)
    return jax.vmap(steps, in_axes=MEMBER_AXES)(*args)


def train_streaming_together(
    trainings: list[StreamingTraining],
    *,
    checkpoint_seconds: float | None = DEFAULT_EVERY_SECONDS,
    force_retrain: bool = False,
) -> list[TrainedModels]:
    """Train ``trainings`` (one ``program_key``) as one vmapped program; see the module."""
    trainings = list(trainings)
    first = trainings[0]
    if any(t.program_key != first.program_key for t in trainings):
        raise ValueError(f"not one program: {[t.description for t in trainings]}")
    if any(t.selects for t in trainings) or not has_device_batches(first.data):
        raise ValueError("trained together: data on the device, without model selection")
    config, data, members = first.config, first.data, len(trainings)
    run = Lifecycle(
        group_entry([t.path for t in trainings]),
        first.cache_dir,
        checkpoint_seconds=checkpoint_seconds,
        restart=force_retrain,
    )
    optimizer = first.program.optimizer()
    params = _stacked([t.params for t in trainings])
    consts = _stacked([t.consts for t in trainings])
    rng = np.random.default_rng(config.seed)
    losses = np.zeros((members, config.epochs), np.float64)
    diverged = np.zeros(members, np.int64)  # 1-based epoch, 0: not diverged
    state = run.resume(
        _progress(params, jax.vmap(optimizer.init)(params), losses, diverged, 0, 0, rng)
    )
    params, opt_state = state["params"], state["opt_state"]
    losses, diverged = np.array(state["losses"]), np.array(state["diverged"])
    done, taken = int(state["epochs_done"]), int(state["steps_done"])
    set_rng_state(rng, state["rng"])
    kept = {}  # member -> its parameters of its divergence epoch
    arrays = jax.device_put(data.device_arrays())
    while done < config.epochs:
        epoch = DeviceEpoch.draw(data, arrays, config.batch_size, rng)
        betas = np.asarray([[t.beta_at(s) for s in epoch.counts(taken)] for t in trainings])
        betas = betas.astype(np.float32)
        epoch_losses = []
        for begin, calls, draws in epoch.calls():
            params, opt_state, loss = _member_steps(
                params,
                opt_state,
                consts,
                arrays,
                draws,
                epoch.present,
                first.key_run,
                np.uint32(taken + begin),
                betas[:, calls],
                program=first.program,
                gather=epoch.gather,
                scan=epoch.scan,
            )
            epoch_losses.append(loss)
        taken += epoch.steps
        done += 1
        epoch_losses = np.concatenate(jax.device_get(epoch_losses), axis=1)
        for m in range(members):
            if diverged[m]:
                losses[m, done - 1] = np.nan
                continue
            losses[m, done - 1] = float(np.mean(epoch_losses[m]))
            if not np.isfinite(losses[m, done - 1]):
                diverged[m] = done
                kept[m] = jax.tree.map(lambda a, m=m: np.asarray(a[m]), params)
        if diverged.all():
            losses[:, done:] = np.nan
            break
        if done < config.epochs and run.due():
            run.save_progress(_progress(params, opt_state, losses, diverged, done, taken, rng))
    seconds = run.seconds
    results = []
    for m, training in enumerate(trainings):
        own = kept[m] if m in kept else jax.tree.map(lambda a, m=m: a[m], params)
        own_consts = jax.tree.map(lambda a, m=m: a[m], consts)
        state = jax.tree.map(lambda a: a[None], nnx.merge_state(own, own_consts))
        results.append(TrainedModels(training.graphdef, state, losses[m][None], seconds))
    return run.finish(trainings, results)


def _progress(params, opt_state, losses, diverged, epochs_done, steps_done, rng) -> dict:
    """What a group's checkpoint holds besides the seconds spent (``lifecycle``): the members'
    states, their epochs' losses and divergence epochs, the steps taken and the data order's
    random state."""
    return {
        "params": params,
        "opt_state": opt_state,
        "losses": losses,
        "diverged": diverged,
        "epochs_done": np.asarray(epochs_done),
        "steps_done": np.asarray(steps_done),
        "rng": rng_state(rng),
    }
