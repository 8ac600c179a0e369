"""Training: optax Adam, ``jit`` + ``lax.scan`` over steps and epochs, ``vmap`` over replicas.

Each scan step is ``step.train_step`` on ``step.loss_fn`` (the negative mean bound), the same
step ``streaming.train_streaming`` jits; the optimiser is ``config.optim``'s
(``optim.OptimConfig``; the official code's by default: NaN gradients zeroed, element-wise
clipping of the batch-summed loss's gradient, then Adam at a constant learning rate, App. M).

A replica whose loss becomes non-finite is a result, not a crash: its divergence epoch is kept
(``TrainedModels.diverged_epoch``) and the other replicas train on.

A *replica* is one (data set, seed) pair; the paper repeats each experiment on several data sets
or seeds, and all replicas of a configuration train as one vmapped program. An epoch is one
``lax.scan`` over minibatches drawn from a fresh permutation (a fresh key per step: the official
code reused one key for every minibatch of an epoch, so the subset masks repeated). Every
``epochs_per_call`` epochs are a single jitted call, so a 4000-epoch run is 4000 / 50 Python
dispatches. β and the learning rate are traced, not static, so changing them does not recompile.

Finished runs are cached on disk (``cache``) by the hash of everything that determines them: the
caller's ``cache_key``, the library's code fingerprint, the initial parameters and the training
data; a re-run loads the result, ``force_retrain=True`` overrides. Writes are atomic. A training
in progress is checkpointed every few minutes (``checkpoints``, orbax) and a re-run after a kill
resumes from the checkpoint with the same result as an uninterrupted run (``lifecycle``: the
cache lookup, checkpoints and save the streaming trainers share).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from tqdm.auto import tqdm

from mmvae_nb.storage import default_cache_dir
from mmvae_nb.training.cache import TrainedModels, run_path, tree_digest
from mmvae_nb.training.checkpoints import DEFAULT_EVERY_SECONDS
from mmvae_nb.training.config import TrainConfig
from mmvae_nb.training.lifecycle import Lifecycle, cached_run, group_entry, look_up
from mmvae_nb.training.programs import capturing, offer_step
from mmvae_nb.training.step import configured_step


@functools.partial(
    jax.jit,
    static_argnames=("graphdef", "config", "num_epochs"),
)
def _train_epochs(
    params,
    opt_state,
    consts,
    xs,
    present,
    key,
    beta,
    learning_rate,
    *,
    graphdef,
    config,
    num_epochs,
):
    """``num_epochs`` epochs for every replica (leading axis of every argument but the lr) with
    ``config``'s bound, subset sampler, batch size and clipping (``config`` is static, its
    ``static_part`` with a placeholder learning rate: beta and the learning rate are traced)."""
    batch_size = config.batch_size
    train_one = configured_step(graphdef, config, config.optim.optimizer(batch_size, learning_rate))

    def one_replica(params, opt_state, consts, xs, present, key, beta):
        n = present.shape[0]
        steps = n // batch_size

        def step(carry, inputs):
            params, opt_state = carry
            rows, k = inputs
            batch = [x[rows] for x in xs]
            params, opt_state, loss = train_one(
                params, opt_state, consts, batch, present[rows], k, beta
            )
            return (params, opt_state), loss

        def epoch(carry, k):
            k_perm, k_steps = jax.random.split(k)
            rows = jax.random.permutation(k_perm, n)[: steps * batch_size]
            carry, losses = jax.lax.scan(
                step, carry, (rows.reshape(steps, batch_size), jax.random.split(k_steps, steps))
            )
            return carry, jnp.mean(losses)

        (params, opt_state), losses = jax.lax.scan(
            epoch, (params, opt_state), jax.random.split(key, num_epochs)
        )
        return params, opt_state, losses

    return jax.vmap(one_replica)(params, opt_state, consts, xs, present, key, beta)


def init_replicas(make_model: Callable, keys, replica_args):
    """Build one model per replica, vmapped: ``make_model(key, args) -> nnx.Module``."""
    graphdef = nnx.split(
        nnx.eval_shape(lambda: make_model(keys[0], jax.tree.map(lambda a: a[0], replica_args)))
    )[0]
    state = jax.vmap(lambda k, a: nnx.split(make_model(k, a))[1])(keys, replica_args)
    return graphdef, state


@dataclass(frozen=True)
class ReplicaTraining:
    """One ``train_replicas`` call, prepared but not trained: the initial state of its R
    replicas, their run keys and betas, the float32 training data and where its result is
    cached. Several with the same shapes train as one program (``train_together``)."""

    graphdef: object
    state: object  # nnx.State, leading replica axis R
    run_keys: jax.Array  # (R,) keys of the epochs' draws
    xs: tuple  # (R, N, D_s) float32 per modality
    present: jax.Array  # (R, N, M) bool
    betas: jax.Array  # (R,) float32
    config: TrainConfig
    path: Path | None  # the results-cache entry (None: not cached)
    cache_dir: Path  # the project cache (results, checkpoints, compiled programs)
    description: str

    @property
    def num_replicas(self) -> int:
        return self.present.shape[0]

    @property
    def program_key(self) -> tuple:
        """What the compiled program depends on: trainings with equal keys can be one program
        (beta and the seed are per replica; the learning rate is traced but shared)."""
        config = dataclasses.replace(self.config, beta=1.0, seed=0)
        shapes = [(x.shape[1:], x.dtype) for x in self.xs] + [self.present.shape[1:]]
        return (self.graphdef, config, tuple(shapes))

    def cached(self) -> TrainedModels | None:
        """The finished run from the results cache, or ``None``."""
        return cached_run(self.path, self.graphdef, self.state, self.description)


def prepare_replicas(
    make_model: Callable,
    xs,
    present,
    config: TrainConfig,
    *,
    replica_args=None,
    cache_key: str | None = None,
    cache_dir: Path | None = None,
    description: str = "train",
) -> ReplicaTraining:
    """Check the inputs of ``train_replicas`` and build its replicas' initial state: the
    keywords are ``train_replicas``'s (which forwards them)."""
    if config.optim.schedule != "constant" or config.optim.kl_warmup_steps:
        raise ValueError(
            "train_replicas trains at a constant learning rate without KL warm-up (App. M): "
            f"schedule={config.optim.schedule!r}, kl_warmup_steps={config.optim.kl_warmup_steps}"
        )
    present = jnp.asarray(present, dtype=bool)
    num_replicas, n = present.shape[:2]
    if any(x.shape[:2] != (num_replicas, n) for x in xs):
        raise ValueError(
            f"every modality must have shape (R={num_replicas}, N={n}, D_s); got "
            f"{[tuple(x.shape) for x in xs]}"
        )
    if config.batch_size > n:
        raise ValueError(f"batch_size={config.batch_size} exceeds the {n} training examples")
    for s, x in enumerate(xs):
        observed = np.asarray(present[..., s])[..., None]
        if not np.all(np.isfinite(np.where(observed, np.asarray(x), 0.0))):
            raise ValueError(f"modality {s} has NaN/inf values in present entries")
    if replica_args is None:
        replica_args = jnp.zeros((num_replicas,))
    if np.ndim(config.beta) and np.shape(config.beta) != (num_replicas,):
        raise ValueError(f"{len(config.beta)} betas for {num_replicas} replicas")
    betas = jnp.broadcast_to(jnp.asarray(config.beta, jnp.float32), (num_replicas,))

    keys = jax.random.split(jax.random.key(config.seed), 2 * num_replicas)
    graphdef, state = init_replicas(make_model, keys[:num_replicas], replica_args)
    cache_dir = cache_dir or default_cache_dir()
    path = None
    if cache_key:
        path = run_path(cache_dir, cache_key, tree_digest(state), tree_digest([xs, present]))
    return ReplicaTraining(
        graphdef,
        state,
        keys[num_replicas:],
        tuple(jnp.asarray(x, dtype=jnp.float32) for x in xs),
        present,
        betas,
        config,
        path,
        cache_dir,
        description,
    )


def train_replicas(
    make_model: Callable,
    xs,
    present,
    config: TrainConfig,
    *,
    force_retrain: bool = False,
    progress: bool = True,
    checkpoint_seconds: float | None = DEFAULT_EVERY_SECONDS,
    devices=None,
    **prepare,
) -> TrainedModels:
    """Train R replicas of a model as one vmapped program, its replica axis split over
    ``devices`` (default: every local device; ``replica_sharding``).

    ``xs``: list of (R, N, D_s) arrays; ``present``: (R, N, M) bool. ``prepare``:
    ``prepare_replicas``'s keywords: ``replica_args``, a pytree with leading axis R passed to
    ``make_model(key, args)`` (per-replica constants such as the decoder noise scale);
    ``cache_key``, with which a finished run is loaded from / saved to the results cache in
    ``cache_dir`` (default: the project's), and the training in progress is checkpointed every
    ``checkpoint_seconds`` (``None``: never) and resumed from its checkpoint when run again
    (``lifecycle``); ``description``, the progress bar's and the warnings' name. Inside
    ``collection.collect_trainings`` the prepared training is handed over instead of trained.
    """
    training = prepare_replicas(make_model, xs, present, config, **prepare)
    if capturing():
        _offer_replica_step(training)
    cached = look_up(training, force_retrain=force_retrain)
    if cached is not None:
        return cached
    (trained,) = train_together(
        [training],
        force_retrain=force_retrain,
        progress=progress,
        checkpoint_seconds=checkpoint_seconds,
        devices=devices,
    )
    return trained


def train_together(
    trainings,
    *,
    force_retrain: bool = False,
    progress: bool = True,
    checkpoint_seconds: float | None = DEFAULT_EVERY_SECONDS,
    devices=None,
) -> list[TrainedModels]:
    """Train prepared trainings of one ``program_key`` (e.g. a configuration's dense and sparse
    data sets, or its betas) as ONE vmapped program of all their replicas, and cache each
    under its own entry: every replica sees the keys, data and beta it has when trained alone,
    so each result equals its separate training's to float rounding. The checkpoint of a group
    is its own (one training alone keeps its entry's: ``lifecycle.group_entry``). Returns one
    ``TrainedModels`` per training, each with the group's wall seconds."""
    trainings = list(trainings)
    first = trainings[0]
    if any(t.program_key != first.program_key for t in trainings):
        raise ValueError(
            "trainings of different shapes or settings cannot be one program: "
            f"{[t.description for t in trainings]}"
        )
    config, optim = first.config, first.config.optim
    run = Lifecycle(
        group_entry([t.path for t in trainings]),
        first.cache_dir,
        checkpoint_seconds=checkpoint_seconds,
        restart=force_retrain,
    )
    joined = _concatenated([(t.state, t.run_keys, t.xs, t.present, t.betas) for t in trainings])
    state, run_keys, xs, present, betas = joined
    num_replicas = present.shape[0]
    _, params, consts = nnx.split(nnx.merge(first.graphdef, state), nnx.Param, ...)
    optimizer = optim.optimizer(config.batch_size, optim.learning_rate)
    losses = np.zeros((num_replicas, config.epochs), np.float32)
    progress_state = run.resume(
        _progress(params, jax.vmap(optimizer.init)(params), run_keys, losses, 0)
    )
    # the replica axis split over the local devices (one program; each device trains its
    # replicas, no communication): the numbers are those of one device
    on_devices = functools.partial(jax.device_put, device=replica_sharding(num_replicas, devices))
    params, opt_state = (
        on_devices(progress_state["params"]),
        on_devices(progress_state["opt_state"]),
    )
    consts, xs, present = on_devices(consts), on_devices(list(xs)), on_devices(present)
    betas = on_devices(betas)
    run_keys = on_devices(jax.random.wrap_key_data(progress_state["keys"]))
    loss_history = np.array(progress_state["losses"])
    done = int(progress_state["epochs_done"])
    chunk = _chunk_size(config.epochs, config.epochs_per_call)
    # what the compiled program depends on: beta, the learning rate and the seed are traced
    program_config = config.static_part(learning_rate=1.0)
    description = " + ".join(t.description for t in trainings)
    with tqdm(
        total=config.epochs, initial=done, desc=description, disable=not progress, leave=False
    ) as bar:
        while done < config.epochs:
            chunk = min(chunk, config.epochs - done)
            run_keys, chunk_keys = _split_rows(run_keys)
            params, opt_state, losses = _train_epochs(
                params,
                opt_state,
                consts,
                xs,
                present,
                chunk_keys,
                betas,
                jnp.float32(optim.learning_rate),
                graphdef=first.graphdef,
                config=program_config,
                num_epochs=chunk,
            )
            loss_history[:, done : done + chunk] = np.asarray(losses)
            done += chunk
            bar.update(chunk)
            bar.set_postfix(loss=f"{float(np.mean(loss_history[:, done - 1])):.3f}")
            if done < config.epochs and run.due():
                run.save_progress(_progress(params, opt_state, run_keys, loss_history, done))
    seconds = run.seconds
    state = nnx.merge_state(params, consts)
    results, offset = [], 0
    for training in trainings:
        rows = slice(offset, offset + training.num_replicas)
        offset = rows.stop
        own_state = jax.tree.map(lambda a, rows=rows: a[rows], state)
        results.append(TrainedModels(first.graphdef, own_state, loss_history[rows], seconds))
    return run.finish(trainings, results)


def _concatenated(parts: list):
    """The trainings' pytrees joined along the replica axis (one of them: unchanged)."""
    if len(parts) == 1:
        return parts[0]
    return jax.tree.map(lambda *leaves: jnp.concatenate(leaves), *parts)


def _offer_replica_step(training: ReplicaTraining) -> None:
    """``programs.offer_step`` with one vmapped step of every replica on its first rows (the
    step ``_train_epochs`` scans, without the minibatch gather)."""
    config = training.config
    _, params, consts = nnx.split(nnx.merge(training.graphdef, training.state), nnx.Param, ...)
    optimizer = config.optim.optimizer(config.batch_size, config.optim.learning_rate)
    step = jax.vmap(configured_step(training.graphdef, config, optimizer))
    rows = config.batch_size
    batch = [x[:, :rows] for x in training.xs]
    opt_state = jax.vmap(optimizer.init)(params)
    args = (params, opt_state, consts, batch, training.present[:, :rows], training.run_keys)
    args = (*args, training.betas)
    steps = config.epochs * (training.present.shape[1] // rows)
    offer_step(training.description, step, args, replicas=training.num_replicas, total_steps=steps)


def _progress(params, opt_state, run_keys, losses, epochs_done: int) -> dict:
    """What a checkpoint of ``train_replicas`` holds (the keys as raw data, for orbax), besides
    the seconds spent (``lifecycle``)."""
    return {
        "params": params,
        "opt_state": opt_state,
        "keys": jax.random.key_data(run_keys),
        "losses": losses,
        "epochs_done": np.asarray(epochs_done),
    }


def replica_sharding(num_replicas: int, devices=None) -> jax.sharding.Sharding:
    """The replica axis (the leading one) split evenly over as many of ``devices`` (default:
    ``jax.local_devices()``) as divide ``num_replicas``: 8 replicas on 4 GPUs train 2 per
    device; 5 on 4 train on one. Other axes are replicated."""
    devices = list(devices or jax.local_devices())
    used = devices_used(num_replicas, len(devices))
    mesh = jax.sharding.Mesh(np.array(devices[:used]), ("replica",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("replica"))


def devices_used(num_replicas: int, num_devices: int) -> int:
    """The most devices, at most ``num_devices``, that split ``num_replicas`` evenly."""
    return max(d for d in range(1, num_devices + 1) if num_replicas % d == 0)


def _chunk_size(epochs: int, epochs_per_call: int) -> int:
    """Epochs per jitted call: the largest divisor of ``epochs`` up to ``epochs_per_call``, so
    that every call has the same length and one program is compiled (a remainder call would
    compile a second one); ``epochs_per_call`` itself when no divisor comes close."""
    divisor = max(d for d in range(1, min(epochs, epochs_per_call) + 1) if epochs % d == 0)
    return divisor if 2 * divisor >= min(epochs, epochs_per_call) else epochs_per_call


def _split_rows(keys):
    pairs = jax.vmap(jax.random.split)(keys)
    return pairs[:, 0], pairs[:, 1]
