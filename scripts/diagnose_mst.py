"""Why do the quick MNIST-SVHN-Text models collapse? Train-time diagnostics (not a test).

    python scripts/diagnose_mst.py [--rows PoE SumPooling] [--steps 240] [--every 20]
        [--set batch_size=250 epochs=2 warmup_steps=0]

Trains each row with our bound on the quick profile's data and schedule (the same model and
``train_step`` as notebook 04; ``--set`` replaces profile settings by name, as the notebook's
overrides do) and prints, at the first five steps and every ``--every`` steps, on a fixed batch
of 250 training triples with every modality present:

* ``loss``: the training loss (negative bound, likelihood-weighted);
* ``rate``: KL(q(z|x) || p(z)) of the full posterior (nats), and ``active``: the latent
  dimensions whose posterior means vary across the batch more than 1e-2 of the prior's variance
  (Burda et al.'s activity): 0 means q ignores its inputs;
* ``std``: the mean posterior std (1 = the prior's), ``max_std`` its largest entry (a learnable
  aggregator's is unbounded: PoE's prior expert bounds its variance by 1);
* ``|r_S|``: the SVHN decoder's mean absolute residual at the posterior mean;
* ``b_M``, ``b_S``: the mean Laplace scales of the MNIST and SVHN decoders (1e-3 + exp(s)); the
  Adam step bounds how fast s can move (about one learning rate per step).

Nothing is asserted; the output is the evidence for the MNIST-SVHN-Text findings in docs/results.md
(``scripts/results/diagnose_mst_quick.txt``): without warm-up SumPooling's ``max_std`` blows
up within its first steps, and the SVHN scales ``b_S`` then stop moving (one gradient spike keeps
Adam's second-moment estimate large for thousands of steps), with warm-up they move at the Adam
step bound like MNIST's.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
from diagnosis_cli import diagnosis_parser, profile_overrides
from flax import nnx

from mmvae_nb.experiments.mnist_svhn_text.experiment import MSTExperiment, make_mst_model
from mmvae_nb.training.step import train_step
from mmvae_nb.training.streaming import steps_per_epoch


def diagnostics(model, xs) -> dict:
    present = jnp.ones((xs[0].shape[0], len(xs)), bool)
    q = model.encode(model.embed(xs, present), present)
    mean, var = q.mean[..., 0, :], q.var[..., 0, :]  # one component
    rate = 0.5 * jnp.sum(var + mean**2 - 1.0 - jnp.log(var), axis=-1)
    residual = jnp.abs(model.decoders[1].mean(mean) - xs[1])
    activity = jnp.var(mean, axis=0)
    scales = [float(jnp.mean(1e-3 + jnp.exp(d.log_scale[...]))) for d in model.decoders[:2]]
    return {
        "rate": float(jnp.mean(rate)),
        "active": int(jnp.sum(activity > 1e-2)),
        "std": float(jnp.mean(jnp.sqrt(var))),
        "max_std": float(jnp.max(jnp.sqrt(var))),
        "|r_S|": float(jnp.mean(residual)),
        "b_M": scales[0],
        "b_S": scales[1],
    }


def run(row: str, steps: int, every: int, setup: MSTExperiment) -> None:
    cfg = setup.config
    config = setup.train_config("ours", 1.0, 0)
    data = setup.training_data
    key_init, key_run = jax.random.split(jax.random.key(config.seed))  # as train_streaming
    model = make_mst_model(row, rngs=nnx.Rngs(key_init))
    graphdef, params, consts = nnx.split(model, nnx.Param, ...)
    total = cfg.training.epochs * steps_per_epoch(len(data), config.batch_size)
    training = cfg.training
    optimizer = config.optim.optimizer(config.batch_size, config.optim.learning_rates(total))
    opt_state = optimizer.init(params)
    step = jax.jit(
        functools.partial(train_step, graphdef=graphdef, bound="ours", optimizer=optimizer)
    )
    probe, _ = data.subset(250).batch(np.arange(250), np.random.default_rng(1))
    probe = [jnp.asarray(x) for x in probe]
    rng, taken, start = np.random.default_rng(config.seed), 0, None
    print(
        f"\n{row}, our bound, batch {config.batch_size}, {training.warmup_steps} warm-up steps: "
        f"{total} scheduled steps; printing the first {min(steps, total)}"
    )
    print(
        f"{'step':>5} {'loss':>9} {'rate':>7} {'active':>6} {'std':>6} {'max_std':>9} "
        f"{'|r_S|':>6} {'b_M':>6} {'b_S':>6}"
    )
    steps = min(steps, total)
    while taken < steps:
        for xs, _ in data.batches(config.batch_size, rng):
            if len(xs[0]) < config.batch_size or taken >= steps:
                continue
            present = jnp.ones((len(xs[0]), len(xs)), bool)
            params, opt_state, loss = step(
                params,
                opt_state,
                consts,
                [jnp.asarray(x) for x in xs],
                present,
                jax.random.fold_in(key_run, taken),
                jnp.float32(1.0),
            )
            start = start or time.perf_counter()
            taken += 1
            if taken % every == 0 or taken <= 5:
                d = diagnostics(nnx.merge(graphdef, params, consts), probe)
                print(
                    f"{taken:5d} {float(loss):9.1f} {d['rate']:7.2f} {d['active']:6d} "
                    f"{d['std']:6.3f} {d['max_std']:9.3g} {d['|r_S|']:6.3f} {d['b_M']:6.3f} "
                    f"{d['b_S']:6.3f}"
                )
    print(f"{(time.perf_counter() - start) / max(taken - 1, 1):.2f} s per step")


def main():
    parser = diagnosis_parser(
        __doc__, ["PoE", "SumPooling"], 240, 20, "batch_size=250 epochs=2 warmup_steps=0"
    )
    args = parser.parse_args()
    overrides = profile_overrides(args.set)
    setup = MSTExperiment(args.profile, 0, overrides, progress=False)
    for row in args.rows:
        run(row, args.steps, args.every, setup)


if __name__ == "__main__":
    main()
