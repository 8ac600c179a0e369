"""mrVAE's speed on this machine: one gradient of eq. (4) per selection posterior and D.

    python benchmarks/bench_relational.py [--repeats 5] [--dims 8 64]
    python benchmarks/bench_relational.py --streaming [--steps 20] [--repeats 3]

For each subspace size D and each selection posterior of ``models.relational`` (eq. 36-38's
amortised scores, one NeuralSort per example, subset and modality; the global scores, one per
subset and modality for the whole batch), the quick profile's mrVAE (its networks, batch 32,
every modality present) is timed on one jitted gradient of the relational ELBO. Prints ms per
gradient and the ratio to the quick profile's setting (when ``--dims`` includes its D), all
measured in one run; nothing is asserted. The evidence behind the quick profile's
``subspace_dim`` and ``global_selections`` (docs/results.md, "Relational model").

``--streaming`` instead times the streaming trainer's epochs at the quick profile's shapes (its
rows, batch 32, random images of ``--steps`` batches) on host batches and with the data on the
device (``bench_streaming``; benchmarks/results/bench_relational_streaming_quick.txt).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from bench_mst import timed
from flax import nnx

from mmvae_nb.data.polymnist import NUM_MODALITIES
from mmvae_nb.experiments.relational.config import RELATIONAL
from mmvae_nb.experiments.relational.experiment import make_relational_model
from mmvae_nb.models.polymnist_nets import NUM_PIXELS
from mmvae_nb.training.step import loss_fn


def gradient_seconds(d: int, global_selections: bool, repeats: int) -> float:
    quick = RELATIONAL["quick"]
    config = quick.replace(subspace_dim=d, global_selections=global_selections).model
    model = make_relational_model("mrVAE", config, rngs=nnx.Rngs(0))
    batch = quick.training.batch_size
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.uniform(size=(batch, NUM_PIXELS)), jnp.float32)] * NUM_MODALITIES
    present = jnp.ones((batch, NUM_MODALITIES), bool)
    graph, params, consts = nnx.split(model, nnx.Param, ...)
    # the trainer's loss (``training.step.loss_fn``) at the full KL weight
    gradient = jax.jit(
        jax.grad(lambda p, key: loss_fn(p, consts, graph, "relational", xs, present, key, 1.0))
    )
    return timed(gradient, params, jax.random.key(1), repeats=repeats)


def streaming_table(steps: int, repeats: int) -> None:
    """The streaming trainer's epochs, host batches against data on the device (quick profile:
    ``RELATIONAL["quick"]``), on random PolyMNIST-shaped images."""
    from bench_streaming import epoch_seconds, report

    from mmvae_nb.data.polymnist import IMAGE_SHAPE, PolyMNIST
    from mmvae_nb.experiments.relational.experiment import ROWS

    quick = RELATIONAL["quick"]
    training = quick.training
    n = steps * training.batch_size
    rng = np.random.default_rng(0)
    images = tuple(rng.random((n, *IMAGE_SHAPE), dtype=np.float32) for _ in range(NUM_MODALITIES))
    data = PolyMNIST(
        "vanilla", "train", images, rng.integers(0, 10, n), np.full((n, NUM_MODALITIES), -1)
    )
    for row in quick.grid.rows:
        config = training.train_config(bound=ROWS[row].run.bound, beta=1.0, seed=0)
        seconds = epoch_seconds(
            lambda key, row=row: make_relational_model(row, quick.model, rngs=nnx.Rngs(key)),
            data,
            config,
            total_steps=config.epochs * (quick.data.train_size // config.batch_size),
            repeats=repeats,
        )
        report(f"\n{row}, batch {config.batch_size}", seconds, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--dims", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--streaming", action="store_true")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if args.streaming:
        print(f"jax {jax.__version__} on {jax.devices()[0].platform}")
        streaming_table(args.steps, args.repeats or 3)
        return
    args.repeats = args.repeats or 5
    quick = RELATIONAL["quick"].model
    seconds = {
        (d, global_selections): gradient_seconds(d, global_selections, args.repeats)
        for d in args.dims
        for global_selections in (False, True)
    }
    reference = seconds.get((quick.subspace_dim, quick.global_selections))
    print(f"mrVAE, one gradient of eq. (4), batch {RELATIONAL['quick'].training.batch_size}")
    print(f"{'D':>4} {'selections':>10} {'ms':>8} {'/ quick':>8}")
    for (d, global_selections), value in seconds.items():
        name = "global" if global_selections else "amortised"
        ratio = f"{value / reference:8.2f}" if reference else f"{'-':>8}"
        print(f"{d:>4} {name:>10} {1e3 * value:8.1f} {ratio}")


if __name__ == "__main__":
    main()
