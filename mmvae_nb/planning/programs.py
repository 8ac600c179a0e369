"""Which paper trainings are one program, and how many Adam steps each takes.

A job here is a ``jobs.Job`` (section, setting, run); this module sits below the
launcher, so it reads those fields without importing the class.

* ``cost_class(job)``: what sets a training's step cost (its shapes and bound); trainings that
  differ only in beta, data values or seed share one, so one compiled step per class is costed.
* ``program_key(job)``: trainings that run as ONE vmapped program: those of a cost class, and
  for MNIST-SVHN-Text of the same repetition, for the relational section of the same PolyMNIST
  variant (the registry's ``program_per``). The single definition of what groups, for the plan
  and the launcher (``trainer.train_together``, ``streaming_together.train_streaming_together``).
* ``paper_steps(job)``: Adam steps of the training at the paper's settings.
"""

from __future__ import annotations

import functools

import numpy as np

from mmvae_nb.experiments.registry import EXPERIMENTS
from mmvae_nb.training.streaming import steps_per_epoch

# What splits a cost class's trainings into several programs is the registry's ``program_per``:
# MNIST-SVHN-Text's repetitions (each another seed and data order; the beta rows of one share
# their batches) and relational's PolyMNIST variants (other data, and each selects its epoch by
# its own test loss, which ``training.streaming_together`` does not do).
PROGRAM_FIELDS = {
    "repetition": lambda job: str(job.run.repetition),
    "setting": lambda job: job.setting,
}


@functools.cache
def paper_mst_triples(dups: int = 20, max_per_label: int = 10_000) -> int:
    """Training triples of the paper profile: ``dups`` x sum over labels of
    min(#MNIST, #SVHN, ``max_per_label``), as ``pair_indices`` matches them (the label counts
    of the real SVHN training split, ``street_numbers.SVHN_CLASS_COUNTS``)."""
    from mmvae_nb.data.mnist_svhn_text import load_mnist
    from mmvae_nb.data.street_numbers import SVHN_CLASS_COUNTS

    mnist = np.bincount(load_mnist("train")[1], minlength=10)
    return dups * int(
        sum(min(a, b, max_per_label) for a, b in zip(mnist, SVHN_CLASS_COUNTS["train"]))
    )


def cost_class(job) -> str:
    """What sets a training's cost: section, aggregation, prior, bound, private latents, and for
    the linear section's equivariant models their setting (dense and sparse data have the same
    shapes; beta changes no shape)."""
    run = job.run
    setting = job.setting if "equivariant" in run.model else ""
    parts = (job.section, setting, run.model, run.prior, run.bound)
    return "/".join(p for p in parts if p) + ("/private" if run.private else "")


def program_key(job) -> tuple[str, str]:
    """The program ``job`` trains in: its cost class and, where its experiment splits it
    (``registry.ExperimentSpec.program_per``), the job's repetition or setting (else "")."""
    field = EXPERIMENTS[job.section].program_per
    return cost_class(job), PROGRAM_FIELDS[field](job) if field else ""


def paper_steps(job) -> int:
    """Adam steps of ``job`` at the paper's settings (from the paper profile's configuration)."""
    config = EXPERIMENTS[job.section].profiles["paper"]
    training = config.training
    if job.section == "mnist_svhn_text":
        return training.epochs * steps_per_epoch(paper_mst_triples(), training.batch_size)
    if job.section == "relational":
        return training.epochs * steps_per_epoch(config.data.train_size, training.batch_size)
    return training.epochs * (config.data.n_train // training.batch_size)
