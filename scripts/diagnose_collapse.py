"""Why do the quick PolyMNIST models collapse to the prior? Train-time diagnostics (not a test).

    python scripts/diagnose_collapse.py [--rows MoPoE mrVAE] [--steps 300] [--every 25]
        [--variant vanilla] [--set kl_warmup_steps=0 learning_rate=3e-4]

Trains each row of the relational section (``experiments.relational.experiment.ROWS``) on the
quick profile's data and schedule (the same model, ``train_step`` and KL annealing as notebook
05; ``--set`` replaces profile settings by name, as the notebook's overrides do) and prints,
every ``--every`` steps, on 500 fixed test tuples with every modality present:

* ``loss``: the training loss (negative objective at the step's KL weight ``beta``);
* ``active``: the latent coordinates the decoders read whose posterior means vary across the
  tuples by more than 1e-2 (Burda et al.'s activity; 0: the encoders ignore their inputs), and
  ``std``: their mean posterior std (1 = the prior's). For the multi-modal VAEs the posterior
  given every modality (MoPoE: the PoE of all five; with private latents the shared z'), for
  mrVAE the subspace coordinates u_A that its most probable structure uses;
* ``b``: the decoders' mean Laplace scale;
* ``probe``: the test accuracy of a logistic regression that reads the main digit from those
  posterior means (fitted on 250 of the tuples, scored on the other 250; chance 0.1): whether
  the active coordinates hold the digit that coherence needs, or only the backgrounds.

Nothing is asserted; the output is the evidence for the quick profile's ``kl_warmup_steps``
(``scripts/results/diagnose_collapse_quick.txt``): with the full KL weight from the first
step the posteriors reach the prior (active 0, std 1) within about 25 Adam steps, before any
decoder reads its latent, and never leave it; with the weight raised over the first steps the
latents stay active. Active latents are not yet a learned digit: the ``probe`` column shows how
much of the digit they hold as training goes on.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
from diagnosis_cli import diagnosis_parser, profile_overrides
from flax import nnx

from mmvae_nb.experiments.relational.experiment import (
    ROWS,
    RelationalExperiment,
    make_relational_model,
)
from mmvae_nb.models.relational import RelationalVAE
from mmvae_nb.training.step import train_step
from mmvae_nb.training.streaming import kl_annealing, steps_per_epoch


def posterior(model, xs):
    """Means and variances (B, D) of the latent coordinates the decoders read, given all of
    ``xs``."""
    present = jnp.ones((xs[0].shape[0], len(xs)), bool)
    if isinstance(model, RelationalVAE):
        sample, _ = model.sample_structure(xs, present, jax.random.key(0), hard=True)
        used = sample.used.reshape(len(present), -1) > 0
        return (
            jnp.where(used, sample.mean.reshape(used.shape), 0.0),
            jnp.where(used, sample.var.reshape(used.shape), 1.0),
        )
    q = model.encode(model.embed(xs, present), present)
    q = getattr(q, "shared", q)  # with private latents: the shared latent z'
    return q.mean[:, -1], q.var[:, -1]  # the last component: every modality (or the only one)


@nnx.jit
def diagnostics(model, xs):
    mean, var = posterior(model, xs)
    active = jnp.var(mean, axis=0) > 1e-2
    std = jnp.sum(jnp.where(active, jnp.mean(jnp.sqrt(var), 0), 0.0)) / jnp.maximum(
        jnp.sum(active), 1
    )
    scale = jnp.mean(
        jnp.stack([jnp.mean(1e-3 + jnp.exp(d.log_scale[...])) for d in model.decoders])
    )
    return jnp.sum(active), std, scale, mean


def digit_probe(mean, labels) -> float:
    """Held-out accuracy of a logistic regression from posterior means to the main digit."""
    from sklearn.linear_model import LogisticRegression

    half = len(labels) // 2
    fitted = LogisticRegression(max_iter=1000).fit(mean[:half], labels[:half])
    return float(fitted.score(mean[half:], labels[half:]))


def run(row: str, steps: int, every: int, setup: RelationalExperiment) -> None:
    training, bound = setup.config.training, ROWS[row].bound
    config = training.train_config(bound=bound, beta=1.0, seed=setup.seed)
    data = setup.train_data
    key_init, key_run = jax.random.split(jax.random.key(config.seed))  # as train_streaming
    model = make_relational_model(row, setup.config.model, rngs=nnx.Rngs(key_init))
    graphdef, params, consts = nnx.split(model, nnx.Param, ...)
    total = training.epochs * steps_per_epoch(len(data), config.batch_size)
    optimizer = config.optim.optimizer(config.batch_size, config.optim.learning_rates(total))
    opt_state = optimizer.init(params)
    step = jax.jit(
        functools.partial(train_step, graphdef=graphdef, bound=bound, optimizer=optimizer)
    )
    probe = [jnp.asarray(setup.test_data.flat(m)[:500]) for m in range(len(data.images))]
    labels = setup.test_data.labels[:500]
    warmup = training.kl_warmup_steps
    print(
        f"\n{row} ({bound}) on {setup.variant}, batch {config.batch_size}, KL warm-up {warmup} "
        f"steps: {total} scheduled steps; printing the first {min(steps, total)}"
    )
    print(f"{'step':>5} {'beta':>5} {'loss':>9} {'active':>6} {'std':>6} {'b':>6} {'probe':>5}")
    rng, taken, start, steps = np.random.default_rng(config.seed), 0, None, min(steps, total)
    while taken < steps:
        for xs, _ in data.batches(config.batch_size, rng):
            if len(xs[0]) < config.batch_size or taken >= steps:
                continue
            beta = kl_annealing(taken, warmup)
            params, opt_state, loss = step(
                params,
                opt_state,
                consts,
                [jnp.asarray(x) for x in xs],
                jnp.ones((len(xs[0]), len(xs)), bool),
                jax.random.fold_in(key_run, taken),
                jnp.float32(beta),
            )
            start = start or time.perf_counter()
            taken += 1
            if taken % every == 0 or taken == 1:
                model = nnx.merge(graphdef, params, consts)
                active, std, scale, mean = diagnostics(model, probe)
                accuracy = digit_probe(np.asarray(mean), labels)
                print(
                    f"{taken:5d} {beta:5.2f} {float(loss):9.1f} {int(active):6d} "
                    f"{float(std):6.3f} {float(scale):6.3f} {accuracy:5.2f}",
                    flush=True,
                )
    print(f"{(time.perf_counter() - start) / max(taken - 1, 1):.2f} s per step")


def main():
    parser = diagnosis_parser(
        __doc__, ["MoPoE", "mrVAE"], 300, 25, "kl_warmup_steps=0 learning_rate=3e-4"
    )
    parser.add_argument("--variant", default="vanilla")
    args = parser.parse_args()
    overrides = profile_overrides(args.set)
    setup = RelationalExperiment(args.profile, args.variant, overrides=overrides, progress=False)
    for row in args.rows:
        run(row, args.steps, args.every, setup)


if __name__ == "__main__":
    main()
