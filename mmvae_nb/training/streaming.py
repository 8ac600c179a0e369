"""Training one model on minibatches of a data set that draws them anew each epoch
(MNIST-SVHN-Text, PolyMNIST), on the device when its arrays fit there, else from the host.

MNIST-SVHN-Text has 1.12 M training triples (about 20 GB as float32 minibatches, 285 MB as the
uint8 images and index pairs they are gathered from) whose text is redrawn at every access, so,
unlike ``train.train_replicas``, which scans over fixed device-resident arrays, this loop asks
the data set for each epoch: its arrays go to the device once and the compiled program gathers
the batches of the host's random draws and steps (an epoch one jitted ``lax.scan`` on an
accelerator, a call per step on a CPU), or, for data too large for the device, the host
assembles every minibatch and one jitted step runs per batch (``streamed_epochs``; the choice,
by size: ``placement``). Both paths give the same batches, bit
for bit, from the same random state, and the same training to float rounding.
The learning rate follows ``config.optim`` (``optim.OptimConfig``) over the steps actually
taken, ``epochs * (N // B)``: for the sections, App. P's cosine decay from ``learning_rate`` to
``final_learning_rate`` (5e-4 -> 1e-4 there; ``step.cosine_schedule``). Finished runs are
cached by configuration hash like ``train_replicas`` (``TrainedModels`` with one replica) and
checkpointed at epoch ends while they run (``lifecycle``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from tqdm.auto import tqdm

from mmvae_nb.training.cache import TrainedModels, run_path, tree_digest
from mmvae_nb.training.checkpoints import DEFAULT_EVERY_SECONDS
from mmvae_nb.training.config import TrainConfig
from mmvae_nb.training.lifecycle import Lifecycle, cached_run, look_up
from mmvae_nb.training.placement import choose_placement
from mmvae_nb.training.programs import capturing, offer_step
from mmvae_nb.training.streamed_epochs import DeviceEpochs, HostEpochs, Program

# where the data's placement is said (INFO: the launcher shows it, a notebook does not)
LOG = logging.getLogger(__name__)


def _with_replica_axis(tree):
    """A leading replica axis of size 1, as ``TrainedModels`` holds it."""
    return jax.tree.map(lambda a: a[None], tree)


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Adam steps per epoch of ``train_streaming``: full batches only (a smaller last batch would
    be a new shape, and recompile), so ``num_examples // batch_size``."""
    return num_examples // batch_size


def train_streaming(
    make_model: Callable,
    data,
    config: TrainConfig,
    *,
    cache_key: str | None = None,
    cache_dir: Path | None = None,
    force_retrain: bool = False,
    progress: bool = True,
    description: str = "train",
    checkpoint_seconds: float | None = DEFAULT_EVERY_SECONDS,
    select_on: Callable | None = None,
    data_on_device: bool | None = None,
) -> TrainedModels:
    """Train ``make_model(key)`` on ``data`` (anything with ``len`` and ``batches(batch_size,
    rng)`` yielding (list of (B, D_s) arrays, labels)) with every modality present.

    ``data_on_device``: whether ``data`` (when it has device batches: ``placement``) is put on
    the device and its batches gathered there; ``None`` decides by its size. The choice and its
    reason are logged once (``LOG``, INFO).

    ``config.beta`` must be one float; the loss history is the mean loss (negative bound) of
    each epoch; an epoch's last, smaller batch is dropped (a new shape would recompile). With
    ``cache_key`` set a finished run is loaded from / saved to disk, and the training in
    progress is checkpointed at the end of an epoch once ``checkpoint_seconds`` have passed
    (``None``: never; ``checkpoints``), with the data order's random state, and resumed from
    there when run again.

    ``select_on(model) -> float``, when given, is evaluated after every epoch (e.g. the test
    loss) and the parameters of the epoch where it was lowest are returned instead of the last
    ones (model selection; the relational paper's App. E.3); the values and the selected epoch
    are kept in ``TrainedModels.selection`` (and in the cache and the checkpoints).

    ``config.optim.kl_warmup_steps`` > 0 (KL annealing, Bowman et al. 2016; in neither paper)
    multiplies ``config.beta`` by min(1, t / kl_warmup_steps) at step t: Adam's first steps
    otherwise drive the encoders to the prior before the decoders read the latent (posterior
    collapse; the evidence for PolyMNIST is ``benchmarks/diagnose_collapse.py``). Only the
    trained objective is annealed: the bound at beta is what the selection and the tables
    evaluate.
    """
    if np.ndim(config.beta):
        raise ValueError("train_streaming trains one model: beta must be a single float")
    if config.batch_size > len(data):
        raise ValueError(f"batch_size={config.batch_size} exceeds the {len(data)} examples")
    key_init, key_run = jax.random.split(jax.random.key(config.seed))
    graphdef, state = nnx.split(make_model(key_init))
    _, params, consts = nnx.split(nnx.merge(graphdef, state), nnx.Param, ...)
    # the steps actually taken: the last, smaller batch of an epoch is skipped, so a schedule
    # must span N // B steps per epoch (ceil(N / B) never reached the cosine's final rate)
    total_steps = config.epochs * steps_per_epoch(len(data), config.batch_size)
    program = Program.of(graphdef, config, total_steps)
    optimizer = program.optimizer()
    if capturing():
        xs, _ = next(iter(data.batches(config.batch_size, np.random.default_rng(config.seed))))
        present = jnp.ones((len(xs[0]), len(xs)), bool)
        args = (params, optimizer.init(params), consts, xs, present, key_run, config.beta)
        offer_step(description, program.step(), args, replicas=1, total_steps=total_steps)
    path = run_path(cache_dir, cache_key, tree_digest(state)) if cache_key else None
    training = StreamingTraining(
        graphdef,
        params,
        consts,
        data,
        config,
        program,
        key_run,
        path,
        cache_dir,
        description,
        selects=select_on is not None,
    )
    cached = look_up(training, force_retrain=force_retrain)
    if cached is not None:
        return cached

    run = Lifecycle(path, cache_dir, checkpoint_seconds=checkpoint_seconds, restart=force_retrain)
    placement = choose_placement(data, data_on_device)
    LOG.info("%s: %s", description, placement.reason)
    epochs = (DeviceEpochs if placement.on_device else HostEpochs)(
        data,
        config.batch_size,
        program,
        consts,
        key_run,
        training.beta_at,
    )
    rng = np.random.default_rng(config.seed)
    selection = None if select_on is None else _selection(params, [], config.epochs)
    initial = _progress(params, optimizer.init(params), [], config.epochs, 0, rng, selection)
    progress_state = run.resume(initial)
    params, opt_state = progress_state["params"], progress_state["opt_state"]
    selection = progress_state.get("selection")
    history = list(np.asarray(progress_state["losses"])[: int(progress_state["epochs_done"])])
    taken = int(progress_state["steps_done"])
    set_rng_state(rng, progress_state["rng"])
    with tqdm(
        total=total_steps, initial=taken, desc=description, disable=not progress, leave=False
    ) as bar:
        for _ in range(len(history), config.epochs):
            params, opt_state, losses = epochs.epoch(params, opt_state, taken, rng, bar)
            taken += len(losses)
            history.append(float(np.mean(losses)))
            bar.set_postfix(loss=f"{history[-1]:.1f}")
            if not np.isfinite(history[-1]):  # diverged: a result, the rest is meaningless
                history += [np.nan] * (config.epochs - len(history))
                break
            if select_on is not None:
                selection = _select(selection, params, consts, graphdef, select_on, len(history))
            if len(history) < config.epochs and run.due():
                run.save_progress(
                    _progress(params, opt_state, history, config.epochs, taken, rng, selection)
                )
    seconds = run.seconds
    summary = None
    if selection is not None and int(selection["epoch"]) > 0:
        params = selection["params"]
        summary = {
            "epoch": int(selection["epoch"]),
            "values": [float(v) for v in np.asarray(selection["values"])[: len(history)]],
        }
    state = _with_replica_axis(nnx.merge_state(params, consts))
    loss_history = np.asarray(history)[None]
    trained = TrainedModels(graphdef, state, loss_history, seconds, selection=summary)
    return run.finish([training], [trained])[0]


@dataclass(frozen=True)
class StreamingTraining:
    """One ``train_streaming`` call, prepared but not trained: what ``collection`` hands over
    and ``streaming_together.train_streaming_together`` trains with others of its key."""

    graphdef: object
    params: object
    consts: object
    data: object
    config: TrainConfig
    program: Program
    key_run: jax.Array
    path: Path | None
    cache_dir: Path | None
    description: str
    selects: bool  # whether it selects an epoch's parameters (``select_on``)

    @property
    def program_key(self) -> tuple:
        """Equal keys: the same program, seed, data set (object) and KL warm-up, so the same
        batches, text and keys; only beta differs."""
        return (self.program, self.config.seed, id(self.data), self.config.optim.kl_warmup_steps)

    def beta_at(self, step: int) -> float:
        """The KL weight of ``step`` (``kl_annealing``), as ``train_streaming`` computes it."""
        return self.config.beta * kl_annealing(step, self.config.optim.kl_warmup_steps)

    def cached(self) -> TrainedModels | None:
        """The finished run from the results cache, or ``None``."""
        state = _with_replica_axis(nnx.merge_state(self.params, self.consts))
        return cached_run(self.path, self.graphdef, state, self.description)


def kl_annealing(step: int, warmup_steps: int) -> float:
    """The KL weight's factor at ``step``: min(1, step / warmup_steps), 1 without warm-up."""
    return min(1.0, step / warmup_steps) if warmup_steps else 1.0


def _selection(params, values, epochs: int, epoch: int = 0) -> dict:
    """The model selection's state: the selected parameters and epoch (1-based; 0: none yet)
    and every epoch's ``select_on`` value so far (padded with +inf to ``epochs``)."""
    padded = [*values, *[np.inf] * (epochs - len(values))]
    return {"params": params, "epoch": np.asarray(epoch), "values": np.asarray(padded)}


def _select(selection: dict, params, consts, graphdef, select_on, epoch: int) -> dict:
    """Evaluate ``select_on`` after ``epoch`` and keep these parameters if it is the lowest."""
    value = float(select_on(nnx.merge(graphdef, params, consts)))
    values = np.asarray(selection["values"]).copy()
    values[epoch - 1] = value
    best = int(selection["epoch"])
    if best == 0 or value < values[best - 1]:
        return {"params": params, "epoch": np.asarray(epoch), "values": values}
    return {**selection, "values": values}


def _progress(params, opt_state, history, epochs, steps_done, rng, selection) -> dict:
    """What a checkpoint of ``train_streaming`` holds besides the seconds spent (``lifecycle``):
    the epochs' losses so far (padded to ``epochs``), the steps taken (each step's key is
    key_run folded with this count), the data order's random state and any model selection."""
    progress = {
        "params": params,
        "opt_state": opt_state,
        "losses": np.asarray([*history, *[0.0] * (epochs - len(history))], np.float64),
        "epochs_done": np.asarray(len(history)),
        "steps_done": np.asarray(steps_done),
        "rng": rng_state(rng),
    }
    if selection is not None:
        progress["selection"] = selection
    return progress


def rng_state(rng: np.random.Generator) -> np.ndarray:
    """A PCG64 generator's state as uint64 words (its 128-bit state and increment, split)."""
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise ValueError(f"only PCG64 generators are checkpointed, got {state['bit_generator']}")
    words = [state["state"]["state"], state["state"]["inc"]]
    halves = [w >> 64 for w in words] + [w & (2**64 - 1) for w in words]
    return np.asarray([*halves, state["has_uint32"], state["uinteger"]], np.uint64)


def set_rng_state(rng: np.random.Generator, words) -> None:
    """Put ``rng_state``'s words back into ``rng``."""
    hi_state, hi_inc, lo_state, lo_inc, has_uint32, uinteger = (int(w) for w in words)
    rng.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": (hi_state << 64) | lo_state, "inc": (hi_inc << 64) | lo_inc},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }
