"""mrVAE's speed on this machine: one gradient of eq. (4) per selection posterior and D.

    python benchmarks/bench_relational.py [--repeats 5] [--dims 8 64]

For each subspace size D and each selection posterior of ``models.relational`` (eq. 36-38's
amortised scores, one NeuralSort per example, subset and modality; the global scores, one per
subset and modality for the whole batch), the quick profile's mrVAE (its networks, batch 32,
every modality present) is timed on one jitted gradient of the relational ELBO. Prints ms per
gradient and the ratio to the quick profile's setting (when ``--dims`` includes its D), all
measured in one run; nothing is asserted. The evidence behind the quick profile's
``subspace_dim`` and ``global_selections`` (docs/results.md, "Relational model").
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from bench_mst import timed
from flax import nnx

from mmvae_nb.data.polymnist import NUM_MODALITIES
from mmvae_nb.models.polymnist_nets import NUM_PIXELS
from mmvae_nb.sections.config import RELATIONAL
from mmvae_nb.sections.relational import make_relational_model
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dims", type=int, nargs="+", default=[8, 64])
    args = parser.parse_args()
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
